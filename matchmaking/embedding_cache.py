"""The engine's embedding cache, kept in PostgreSQL so every process and every run shares it."""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Sequence

import numpy as np
from django.db import connection

from matchmaking.engine.embedding import Embedder, text_key
from matchmaking.models import TextEmbedding

# Keys per query: keeps each `IN (...)` list and the rows it returns to a few MB.
CHUNK_SIZE = 5000
VECTOR_DTYPE = np.dtype("<f4")  # float32, little-endian, as documented on TextEmbedding.vector
# Rows per INSERT: one statement per thousand vectors (1.5 MB of parameters).
INSERT_BATCH = 1000


class DatabaseEmbeddingStore:
    """Implements ``matchmaking.engine.EmbeddingStore`` over the TextEmbedding table."""

    def get_many(self, keys: Sequence[str]) -> dict[str, np.ndarray]:
        keys = list(keys)
        found: dict[str, np.ndarray] = {}
        table = TextEmbedding._meta.db_table
        with connection.cursor() as cursor:
            for start in range(0, len(keys), CHUNK_SIZE):
                # Plain rows and one array parameter: model instances and a list of 5,000 placeholders took
                # 2.5 times as long (a second of a recompute at 25,000 firms).
                cursor.execute(
                    f"SELECT key, vector FROM {table} WHERE key = ANY(%s)",  # noqa: S608 - the table name is ours
                    [keys[start : start + CHUNK_SIZE]],
                )
                found.update((key, np.frombuffer(vector, dtype=VECTOR_DTYPE)) for key, vector in cursor.fetchall())
        return found

    def put_many(self, vectors: dict[str, np.ndarray]) -> int:
        """Cache the vectors; returns how many rows this call wrote. A key another process cached meanwhile is
        left as it is (ON CONFLICT DO NOTHING: same key, same text, same vector), so when two workers race on a
        text the table gets one row and only one of them counts it."""
        table = TextEmbedding._meta.db_table
        items = list(vectors.items())
        written = 0
        with connection.cursor() as cursor:
            for start in range(0, len(items), INSERT_BATCH):
                batch = items[start : start + INSERT_BATCH]
                cursor.execute(
                    f"INSERT INTO {table} (key, vector, created_at) "  # noqa: S608 - the table name is ours
                    "SELECT key, vector, now() FROM unnest(%s::varchar[], %s::bytea[]) AS new (key, vector) "
                    "ON CONFLICT (key) DO NOTHING",
                    [
                        [key for key, _ in batch],
                        [np.asarray(vector, dtype=VECTOR_DTYPE).tobytes() for _, vector in batch],
                    ],
                )
                written += cursor.rowcount
        return written

    def cached_keys(self, keys: Collection[str]) -> set[str]:
        """Which of the keys are cached (their vectors are not read)."""
        keys = list(keys)
        found: set[str] = set()
        for start in range(0, len(keys), CHUNK_SIZE):
            found.update(
                TextEmbedding.objects.filter(key__in=keys[start : start + CHUNK_SIZE]).values_list("key", flat=True)
            )
        return found

    def count(self) -> int:
        return TextEmbedding.objects.count()


def wait_until_cached(
    keys: Collection[str],
    *,
    progress: Callable[[int], None],
    poll: float = 1.0,
    stalled: Callable[[float], None] | None = None,
    stall_after: float = 300.0,
) -> None:
    """Return once every key is cached (by workers in other processes), calling ``progress`` with how many of
    them are cached so far. Each poll only counts the table's rows (nearly every new row is one of ours while
    the workers run); the pending keys themselves are read back when that count says they may all be there, and
    every 30 polls in case other rows came or went. Polls are spaced to at least 20 times what the last one took,
    so that following the workers takes at most a twentieth of a core from them (the database's share included).
    ``stalled`` is called once (with the seconds since the last progress) when nothing was cached for
    ``stall_after`` seconds: no worker may be running."""
    store = DatabaseEmbeddingStore()
    total, pending = len(keys), set(keys)
    polls, checked_at, last_done, last_change, warned = 0, 0, -1, time.monotonic(), False
    while True:
        polled = time.monotonic()
        # Counted before the check: a row written in between counts once too often (the next check comes
        # sooner), and is never missed.
        rows = store.count()
        if polls % 30 == 0 or rows - checked_at >= len(pending):
            pending -= store.cached_keys(pending)
            checked_at = rows
        done = total - len(pending) + min(max(rows - checked_at, 0), len(pending))
        progress(done)
        if not pending:
            return
        if done != last_done:
            last_done, last_change, warned = done, time.monotonic(), False
        elif stalled and not warned and time.monotonic() - last_change > stall_after:
            stalled(time.monotonic() - last_change)
            warned = True
        polls += 1
        time.sleep(max(poll, 20 * (time.monotonic() - polled)))


# Texts per call of the model in embed_missing: the cache is read again before each call.
EMBED_BATCH = 64


def embed_missing(embedder: Embedder, role: str, texts: Sequence[str]) -> int:
    """Embed and cache the texts the cache lacks; returns how many rows this call wrote. The cache is checked
    again before each batch of the model, so a text another worker cached meanwhile is not embedded again, and
    when two workers do race on a text it is written once and counted once: every call's count adds up to the
    rows cached."""
    store, written = DatabaseEmbeddingStore(), 0
    keyed = {text_key(embedder.name, role, text): text for text in texts}
    keys = list(keyed)
    for start in range(0, len(keys), EMBED_BATCH):
        batch = keys[start : start + EMBED_BATCH]
        have = store.cached_keys(batch)
        new = [key for key in batch if key not in have]
        if new:
            vectors = embedder.embed([keyed[key] for key in new], role)
            written += store.put_many(dict(zip(new, vectors, strict=True)))
    return written


def equal_parts(items: list[str], size: int) -> list[list[str]]:
    """As few parts of ``items`` as ``size`` allows, their lengths differing by one at most (longer ones first)."""
    count = -(-len(items) // size)
    if not count:
        return []
    bounds = [index * (len(items) // count) + min(index, len(items) % count) for index in range(count + 1)]
    return [items[start:end] for start, end in zip(bounds, bounds[1:], strict=False)]
