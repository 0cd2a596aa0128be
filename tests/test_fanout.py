"""A full recompute fanned out in chunks (matchmaking/fanout.py) writes what one full run writes, row for row."""

import time
from io import StringIO

import numpy as np
import pytest
from django.core.management import call_command

from companies.models import Company, Listing
from matchmaking import fanout, services, tasks
from matchmaking.embedding_cache import DatabaseEmbeddingStore
from matchmaking.engine import CachedEmbedder, MemoryStore, default_embedder, rank
from matchmaking.engine.embedding import PASSAGE, QUERY, text_key
from matchmaking.models import Match
from tests.factories import MatchFactory
from tests.test_matching_engine import HashedVectors

ROW_FIELDS = ("company_vn", "company_ru", "status", "score", "fit_for_vn", "fit_for_ru", "score_parts", "reasons")
CHUNK_TASK = "matchmaking.tasks.recompute_fanout_chunk"


def rows() -> list[tuple]:
    """Every match as a user of the review queue sees it: pairs, status, scores, fits, parts and reasons."""
    return sorted(Match.objects.values_list(*ROW_FIELDS, "engine_version"), key=lambda row: row[:2])


def market(firms: int, seed: int) -> None:
    call_command("generate_companies", str(firms), "--seed", str(seed), stdout=StringIO(), stderr=StringIO())


def earlier_matches() -> None:
    """What a full run finds in place: a suggestion nobody wants any more, and a match staff approved."""
    vn = Company.objects.filter(country="VN").order_by("pk")
    ru = Company.objects.filter(country="RU").order_by("pk")
    MatchFactory(company_vn=vn[0], company_ru=ru[0], score=0.01)
    services.approve([MatchFactory(company_vn=vn[1], company_ru=ru[1], score=0.02)], by=None)


@pytest.fixture
def small_blocks(monkeypatch, settings):
    """Blocks of 3 firms, so that a small market makes several chunks."""
    settings.MATCHING_RECOMPUTE_ON_SAVE = False
    monkeypatch.setattr(rank, "BLOCK", 3)


@pytest.mark.django_db
@pytest.mark.parametrize("vectors", [HashedVectors(), None], ids=["embeddings", "lexical only"])
def test_chunks_in_process_write_what_one_full_run_writes(small_blocks, monkeypatch, vectors):
    monkeypatch.setattr(
        services, "matching_embedder", lambda progress=None: vectors and CachedEmbedder(vectors, MemoryStore())
    )
    market(40, seed=5)
    earlier_matches()
    full = services.recompute_matches()
    expected = rows()
    Match.objects.all().delete()
    earlier_matches()

    queued = tasks.recompute_in_chunks(6)  # no broker in tests: the chunks and the merge run here
    assert queued["chunks"] == 4 and queued["firms"] == Company.objects.matchable().filter(country="RU").count()
    assert rows() == expected
    assert len(expected) > 100 and any(row[2] == Match.Status.APPROVED for row in expected)

    before = list(Match.objects.values_list("pk", "updated_at"))
    tasks.recompute_in_chunks(9)  # other chunks, same rows: nothing is written again
    assert list(Match.objects.values_list("pk", "updated_at")) == before
    assert full.created > 100


@pytest.mark.django_db
def test_chunks_finishing_in_any_order_or_twice_write_the_same(small_blocks, monkeypatch):
    """Workers finish chunks in any order and a chunk may run twice (redelivered): the merge reads the chunks in
    their order, so the result is a full run's all the same."""
    monkeypatch.setattr(
        services, "matching_embedder", lambda progress=None: CachedEmbedder(HashedVectors(), MemoryStore())
    )
    market(30, seed=8)
    services.recompute_matches()
    expected = rows()
    Match.objects.all().delete()

    chunks = services.recompute_chunks(3)
    run = fanout.new_run()
    order = [*range(len(chunks) - 1, 0, -1), len(chunks) - 2, 0]  # backwards, one twice, the first last
    summaries = [fanout.run_chunk(run, n, chunks[n], total=len(chunks), top_k=10, in_process=True) for n in order]
    assert [bool(s.get("merged")) for s in summaries] == [False] * (len(order) - 1) + [True]
    assert rows() == expected


@pytest.mark.django_db
def test_a_market_of_one_country_drops_every_suggestion(small_blocks, monkeypatch):
    monkeypatch.setattr(services, "matching_embedder", lambda progress=None: None)
    market(10, seed=2)
    services.recompute_matches()
    assert Match.objects.exists()
    Company.objects.filter(country="RU").update(status=Company.Status.SUSPENDED)
    chunks = services.recompute_chunks(3)
    firms = Company.objects.filter(pk__in=[pk for chunk in chunks for pk in chunk])
    assert set(firms.values_list("country", flat=True)) == {"VN"}
    tasks.recompute_in_chunks(3)
    assert not Match.objects.exists()
    Company.objects.update(status=Company.Status.SUSPENDED)
    assert services.recompute_chunks(3) == [[]]  # nobody: still one task, which merges and writes
    tasks.recompute_in_chunks(3)


# --- through a real worker ------------------------------------------------------------------------------


def stand_in_embeddings() -> None:
    """Vectors of the model's size for every text in the database cache, so the worker embeds nothing."""
    model = default_embedder()
    if model is None:
        return  # both sides then rank without the model, alike
    store = DatabaseEmbeddingStore()
    for direction, role in ((Listing.Direction.NEED, QUERY), (Listing.Direction.OFFER, PASSAGE)):
        texts = set(Listing.objects.filter(direction=direction).values_list("text", flat=True))
        vectors = HashedVectors().embed(sorted(texts), role)
        vectors = np.tile(vectors, (1, 24))  # 16 × 24 = 384, the model's size
        store.put_many(
            {text_key(model.name, role, text): vector for text, vector in zip(sorted(texts), vectors, strict=True)}
        )


@pytest.mark.celery_worker
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_writes_what_one_full_run_writes(worker):
    """Whole blocks of the engine (512 firms): a market of about 600 Russian firms makes two chunks."""
    market(1200, seed=4)
    stand_in_embeddings()
    chunks = services.recompute_chunks(512)
    assert len(chunks) == 2

    worker.send("matchmaking.tasks.recompute_in_chunks", 512)
    deadline = time.monotonic() + 300
    while worker.runs_finished(CHUNK_TASK) < len(chunks):
        assert time.monotonic() < deadline, worker.log.read_text()[-3000:]
        time.sleep(0.5)
    assert " raised " not in worker.log.read_text()
    fanned_out = rows()

    Match.objects.all().delete()
    services.recompute_matches()
    assert fanned_out == rows()
    assert len(fanned_out) > 5000
