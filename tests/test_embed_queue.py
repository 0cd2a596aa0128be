"""`embed_texts --queue`: the chunks go to a real Celery worker on Redis, the command follows the cache until every
text is in it, each missing text is written once, and a rerun has nothing left to do.

The command runs as a user runs it, in a process of its own with the worker's settings (database, broker),
so these tests are transactional: the worker and the command must see the rows the test creates.
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
from django.db import connection

from matchmaking import services
from matchmaking.embedding_cache import DatabaseEmbeddingStore, embed_missing, wait_until_cached
from matchmaking.engine import default_embedder
from matchmaking.engine.embedding import PASSAGE, text_key
from matchmaking.models import TextEmbedding
from tests.factories import CompanyFactory, ListingFactory
from tests.workers import ROOT, Worker

CHUNK_TASK = "matchmaking.tasks.embed_texts_chunk"
OFFERS = [f"Frozen pangasius fillets, {size} g, IQF, for retail chains" for size in range(120, 420, 20)]
NEEDS = [f"Importer of seafood for {city}" for city in ("Moscow", "Kazan", "Omsk", "Perm", "Tver")]


@pytest.fixture(autouse=True)
def _model():
    if default_embedder() is None:
        pytest.skip("the embedding model cannot load on this machine")


def market() -> int:
    """Published firms with 15 distinct offers and 5 distinct needs (one offer listed twice), and a draft whose
    offer is not embedded. Returns the number of texts to embed."""
    for n, text in enumerate(OFFERS):
        ListingFactory(company=CompanyFactory(country="VN"), text=text)
        if n == 0:
            ListingFactory(company=CompanyFactory(country="VN"), text=text)
    for text in NEEDS:
        ListingFactory(company=CompanyFactory(country="RU"), direction="need", text=text)
    ListingFactory(company=CompanyFactory(status="draft"), text="A draft's offer is not embedded")
    return len(OFFERS) + len(NEEDS)


def embed_texts(worker, *args: str) -> str:
    """`manage.py embed_texts` in a process of its own, on the worker's database and broker."""
    done = subprocess.run(
        [sys.executable, "manage.py", "embed_texts", *args],
        cwd=ROOT,
        env=worker.env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout + done.stderr


def rows_written_by_chunks(worker) -> list[int]:
    """What each finished chunk task returned (the rows it wrote), from the worker's log."""
    log = worker.log.read_text().split("ready.", 1)[-1]
    return [int(n) for n in re.findall(rf"Task {re.escape(CHUNK_TASK)}\[[^\]]+\] succeeded in [\d.]+s: (\d+)", log)]


@pytest.mark.celery_worker
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_the_workers_embed_every_missing_text_once_and_a_rerun_embeds_nothing(worker):
    texts = market()
    services.embed_chunk(PASSAGE, OFFERS[:3])  # cached before: a run stopped early, resumed with --queue

    output = embed_texts(worker, "--queue")

    assert f"3 texts cached, {texts - 3} to embed in " in output
    assert f"All {texts - 3} new texts are embedded and cached." in output  # it waited for the workers
    assert "No Celery worker answered" not in output
    assert TextEmbedding.objects.count() == texts
    written = rows_written_by_chunks(worker)
    assert sum(written) == texts - 3 and len(written) >= 2  # every missing text written once, in several chunks

    output = embed_texts(worker, "--queue")

    assert f"{texts} texts cached, 0 to embed in 0 chunks." in output
    assert len(rows_written_by_chunks(worker)) == len(written)  # nothing was queued
    assert TextEmbedding.objects.count() == texts


@pytest.mark.celery_worker
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_no_wait_returns_once_queued_and_chunks_queued_twice_write_each_text_once(worker):
    texts = market()
    chunks = services.plan_embedding(at_least=services.EMBED_QUEUE_CHUNKS).chunks  # what the command queues

    output = embed_texts(worker, "--queue", "--no-wait")
    assert f"Queued {len(chunks)} chunks for the workers." in output and "new texts are embedded" not in output
    for role, chunk in chunks:
        worker.send(CHUNK_TASK, role, chunk)  # the same chunks again, as a second run would queue them

    deadline = time.monotonic() + 120
    while worker.runs_finished(CHUNK_TASK) < 2 * len(chunks):
        assert time.monotonic() < deadline, worker.log.read_text()
        time.sleep(0.2)
    assert TextEmbedding.objects.count() == texts
    assert sum(rows_written_by_chunks(worker)) == texts  # the second copies found every text cached


@pytest.mark.celery_worker
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_without_a_worker_the_command_says_the_chunks_wait(sectors_loaded, redis_url, tmp_path, settings):
    settings.MATCHING_RECOMPUTE_ON_SAVE = False  # no recompute queued for nobody by the firms saved here
    market()
    nobody = Worker(redis_url, 0, tmp_path)  # its settings only: no worker process is started
    try:
        output = embed_texts(nobody, "--queue", "--no-wait")
    finally:
        nobody.forget()  # the queued chunks
    assert "No Celery worker answered: the chunks wait in the queue until one starts" in output
    assert TextEmbedding.objects.count() == 0


# --- the parts, in this process ------------------------------------------------------------------------------


class CountingEmbedder:
    """Stand-in vectors, counting the texts it embeds; waits at a barrier so two callers race."""

    name = "counting"

    def __init__(self, barrier: threading.Barrier | None = None) -> None:
        self.embedded, self.barrier = 0, barrier

    def embed(self, texts, role):
        if self.barrier:
            self.barrier.wait(timeout=10)  # both callers have read the cache before either writes
        self.embedded += len(texts)
        return np.ones((len(texts), 4), dtype=np.float32)


@pytest.mark.django_db
def test_a_second_call_embeds_nothing():
    first, second = CountingEmbedder(), CountingEmbedder()
    assert embed_missing(first, PASSAGE, OFFERS) == len(OFFERS)
    assert embed_missing(second, PASSAGE, OFFERS) == 0
    assert (first.embedded, second.embedded) == (len(OFFERS), 0)


@pytest.mark.django_db(transaction=True)
def test_two_workers_racing_on_the_same_texts_write_each_once():
    barrier = threading.Barrier(2)
    written = []

    def worker():
        try:
            written.append(embed_missing(CountingEmbedder(barrier), PASSAGE, OFFERS[:5]))
        finally:
            connection.close()  # this thread's own connection, before the test database is flushed

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert TextEmbedding.objects.count() == 5
    assert len(written) == 2 and sum(written) == 5  # one row per text, counted by whichever wrote it


@pytest.mark.django_db
def test_queued_texts_are_cut_in_equal_chunks():
    for n in range(40):
        ListingFactory(text=f"Rice paper, lot {n}")
    for n in range(3):
        ListingFactory(direction="need", text=f"Rice importer {n}")

    plan = services.plan_embedding(at_least=4)  # 43 texts: chunks of at most 16 (the smallest size)
    assert [(role, len(texts)) for role, texts in plan.chunks] == [
        ("query", 3),
        ("passage", 14),
        ("passage", 13),
        ("passage", 13),
    ]
    assert plan.missing == len(plan.keys) == 43
    assert [len(texts) for _, texts in services.plan_embedding(chunk_size=256).chunks] == [3, 40]


@pytest.mark.django_db
def test_following_the_workers_warns_once_when_nothing_comes_and_ends_when_all_is_cached():
    keys = [text_key("counting", PASSAGE, text) for text in OFFERS[:4]]
    seen, warnings = [], []

    def a_worker_starts_late(seconds: float) -> None:
        warnings.append(seconds)
        DatabaseEmbeddingStore().put_many({key: np.ones(4, dtype=np.float32) for key in keys})

    wait_until_cached(keys, progress=seen.append, poll=0.05, stalled=a_worker_starts_late, stall_after=0.3)

    assert len(warnings) == 1 and warnings[0] >= 0.3
    assert seen[0] == 0 and seen[-1] == 4
