"""A full recompute fanned out over Celery workers, each pair scored once, written once as a full run writes.

The plan (``services.recompute_chunks``): the matchable firms of the row country (``engine.blocks``: the one
a full ranking scans as rows) in chunks, pk order. Each chunk task ranks its firms against every firm of the
other country on the run's corpus, which each worker process reads and builds once per run: its firms' lists
are then complete, and every firm of the other country gets its best among the chunk. Both go to a store
the workers share. The task that finishes the last chunk merges the other country's lists in chunk order
(ties fall as in one full ranking), builds every firm's suggestions and writes them in one transaction
through what ``services.recompute_matches`` uses for a full run (``_wanted_pairs``, ``_save``): the same
rows as one full run. Running it again changes nothing.

The store is Redis (the broker's server, keys of their own that expire after ``RUN_SECONDS``), or this
process's memory when tasks run in-process (no broker). Not a chord: the project runs Celery without a
result backend, and a chord's body would land on any process, one that may not hold the run's corpus,
where the last chunk's task holds it already. What a chunk stores is numbers, K per firm (about 12 MB per
chunk at 100,000 firms); the merge reads one chunk at a time, so it holds K per firm too.
"""

from __future__ import annotations

import io
import logging
import threading
import time
import uuid
from collections.abc import Iterator

import numpy as np
import redis
from django.conf import settings

from matchmaking import services
from matchmaking.engine import blocks
from matchmaking.engine.corpus import Corpus
from matchmaking.selectors import matchable_profiles

logger = logging.getLogger(__name__)

RUN_SECONDS = 24 * 3600  # a run's partial lists are kept this long at most (a run that failed leaves them)
KEY_PREFIX = "matchmaking:fanout:"


def new_run() -> str:
    return uuid.uuid4().hex


# --- the store the chunk tasks share ---------------------------------------------------------------------


class _MemoryStore:
    """Tasks run in this process, one after another: the partial lists stay in memory."""

    runs: dict[str, dict] = {}

    def _run(self, run: str) -> dict:
        return self.runs.setdefault(run, {"started": set(), "done": set(), "parts": {}})

    def claim(self, run: str, number: int) -> None:
        self._run(run)["started"].add(number)

    def started(self, run: str) -> int:
        return len(self._run(run)["started"])

    def put(self, run: str, number: int, part: bytes) -> None:
        self._run(run)["parts"][number] = part

    def finish(self, run: str, number: int) -> int:
        done = self._run(run)["done"]
        done.add(number)
        return len(done)

    def get(self, run: str, number: int) -> bytes | None:
        return self._run(run)["parts"].get(number)

    def drop(self, run: str) -> None:
        self.runs.pop(run, None)


class _RedisStore:
    """Worker processes anywhere: the partial lists on the Redis server the broker uses."""

    def __init__(self, url: str) -> None:
        self.server = redis.Redis.from_url(url)

    @staticmethod
    def _key(run: str, what: str) -> str:
        return f"{KEY_PREFIX}{run}:{what}"

    def claim(self, run: str, number: int) -> None:
        key = self._key(run, "started")
        self.server.pipeline().sadd(key, number).expire(key, RUN_SECONDS).execute()

    def started(self, run: str) -> int:
        return self.server.scard(self._key(run, "started"))

    def put(self, run: str, number: int, part: bytes) -> None:
        self.server.set(self._key(run, f"part:{number}"), part, ex=RUN_SECONDS)

    def finish(self, run: str, number: int) -> int:
        # One transaction: two chunks finishing at once each see their own count, so one merges.
        key = self._key(run, "done")
        _, done, _ = (
            self.server.pipeline(transaction=True).sadd(key, number).scard(key).expire(key, RUN_SECONDS).execute()
        )
        return done

    def get(self, run: str, number: int) -> bytes | None:
        return self.server.get(self._key(run, f"part:{number}"))

    def drop(self, run: str) -> None:
        keys = list(self.server.scan_iter(self._key(run, "*")))
        if keys:
            self.server.delete(*keys)


def _store(in_process: bool) -> _MemoryStore | _RedisStore:
    return _MemoryStore() if in_process or not settings.REDIS_URL else _RedisStore(settings.REDIS_URL)


def _pack(**arrays: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def _unpack(data: bytes) -> dict[str, np.ndarray]:
    with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
        return {name: arrays[name] for name in arrays.files}


# --- the run's corpus, once per process -----------------------------------------------------------------

_lock = threading.Lock()
_corpus: dict = {}  # "run", "corpus": the corpus of the run this process last worked on


def _run_corpus(run: str) -> Corpus:
    """The corpus of ``run`` in this process, read and built at its first chunk here (each process of a run
    builds its own from the same profiles, so every process scores a pair alike)."""
    with _lock:
        if _corpus.get("run") != run:
            _corpus.clear()  # a former run's first: a worker holds one corpus at a time
            corpus = blocks.build_corpus(matchable_profiles(), services.matching_embedder())
            _corpus.update(run=run, corpus=corpus)
        return _corpus["corpus"]


def _forget(run: str) -> None:
    with _lock:
        if _corpus.get("run") == run:
            _corpus.clear()


# --- a chunk, and the merge ---------------------------------------------------------------------------


def run_chunk(run: str, number: int, company_ids: list[int], *, total: int, top_k: int, in_process: bool) -> dict:
    """Rank chunk ``number`` of ``total`` and store its lists; the task finishing the last chunk merges them all
    and writes the whole ranking. Running a chunk again (a redelivered task) stores the same lists."""
    started = time.monotonic()
    store = _store(in_process)
    store.claim(run, number)
    corpus = _run_corpus(run)
    keys = np.asarray(corpus.keys, dtype=np.int64)
    rows, _ = blocks.sides(corpus)
    wanted = np.isin(keys[rows], np.asarray(company_ids, dtype=np.int64))
    block = blocks.rank_block(corpus, rows[wanted], top_k=top_k)
    store.put(
        run,
        number,
        _pack(
            firms=keys[block.firms],
            firm_top=_keys(keys, block.firm_top),
            others=keys[block.others],
            other_values=block.other_values,
            other_top=_keys(keys, block.other_top),
        ),
    )
    summary = {"chunk": number, "firms": len(block.firms), "seconds": round(time.monotonic() - started, 2)}
    if store.finish(run, number) == total:
        written = merge(run, total, top_k=top_k, corpus=corpus, store=store)
        store.drop(run)
        summary["merged"] = {
            "created": written.created,
            "updated": written.updated,
            "dropped": written.dropped,
            "kept_reviewed": written.kept_reviewed,
            "seconds": round(written.seconds, 2),
            "notes": written.notes,
        }
        _forget(run)
    elif store.started(run) == total:
        _forget(run)  # every chunk is taken: none will come to this process, the corpus can go
    return summary


def _keys(keys: np.ndarray, firms: np.ndarray) -> np.ndarray:
    """Corpus indices as company pks (-1 stays -1): another process's corpus may order firms otherwise."""
    return np.where(firms >= 0, keys[np.maximum(firms, 0)], -1) if keys.size else firms


def _parts(store, run: str, total: int) -> Iterator[dict[str, np.ndarray]]:
    for number in range(total):
        data = store.get(run, number)
        if data is None:
            raise RuntimeError(f"recompute run {run}: chunk {number}'s lists are missing (expired?); run it again")
        yield _unpack(data)


def merge(run: str, total: int, *, top_k: int, corpus: Corpus, store) -> services.RecomputeResult:
    """Merge the chunks' lists (in chunk order) into every firm's candidates, build the suggestions and write
    them once, as a full ``recompute_matches`` does."""
    started = time.monotonic()
    keys = np.asarray(corpus.keys, dtype=np.int64)
    position = {key: i for i, key in enumerate(corpus.keys)}
    rows, others = blocks.sides(corpus)
    other_row = {key: n for n, key in enumerate(keys[others].tolist())}
    values = top = None
    lists: dict[int, list[int]] = {}
    for part in _parts(store, run, total):
        lists.update(zip(part["firms"].tolist(), part["firm_top"].tolist(), strict=True))
        if values is None:
            k = part["other_values"].shape[1]
            values = np.full((len(others), k), -np.inf, dtype=np.float32)
            top = np.full((len(others), k), -1, dtype=np.int64)
        # The part's rows put in this corpus's order of the other country (a firm it lacks is left out).
        at = np.array([other_row.get(key, -1) for key in part["others"].tolist()], dtype=np.int64)
        known = at >= 0
        more_values = np.full_like(values, -np.inf)
        more_top = np.full_like(top, -1)
        more_values[at[known]] = part["other_values"][known]
        more_top[at[known]] = part["other_top"][known]
        values, top = blocks.merge_top(values, top, more_values, more_top)

    # The row country's firms, then the other's, each in corpus order: the order of a full ranking.
    chosen = {int(i): [position[c] for c in lists.get(int(keys[i]), []) if c in position] for i in rows}
    if top is not None:
        chosen.update(
            (int(i), [position[c] for c in candidates if c in position])
            for i, candidates in zip(others.tolist(), top.tolist(), strict=True)
        )
    ranking = blocks.rank_chosen(corpus, chosen, top_k=top_k)
    country = dict(zip(corpus.keys, corpus.country.tolist(), strict=True))
    result = services.RecomputeResult(notes=list(ranking.notes))
    services._save(result, services._wanted_pairs(ranking, country), ranking.engine_version, None, None)
    result.seconds = time.monotonic() - started
    logger.info("recompute run %s merged %d chunks: %s", run, total, result)
    return result
