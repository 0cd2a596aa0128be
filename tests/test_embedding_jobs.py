"""Embedding new texts ahead of a recompute: chunked, resumable, idempotent."""

import pytest
from django.core.management import call_command

from matchmaking import services
from matchmaking.engine import default_embedder
from matchmaking.models import TextEmbedding
from tests.factories import CompanyFactory, ListingFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _model():
    if default_embedder() is None:
        pytest.skip("the embedding model cannot load on this machine")


def test_texts_are_embedded_once_in_chunks_and_a_rerun_has_nothing_left(capsys):
    firm = CompanyFactory()
    for n in range(3):
        ListingFactory(company=firm, text=f"Rapid test kits, batch {n}, for clinics in Hanoi")
    ListingFactory(company=firm, direction="need", text="Distributors of medical devices in Moscow")
    ListingFactory(company=CompanyFactory(status="draft"), text="A draft's offer is not embedded")

    plan = services.plan_embedding(chunk_size=2)
    assert (plan.missing, [len(texts) for _, texts in plan.chunks]) == (4, [1, 2, 1])

    call_command("embed_texts", "--chunk", "2", verbosity=0)
    assert TextEmbedding.objects.count() == 4
    assert "Embedded 4 new texts." in capsys.readouterr().out
    call_command("embed_texts", verbosity=0)
    assert "4 texts cached, 0 to embed in 0 chunks." in capsys.readouterr().out


def test_a_chunk_run_twice_embeds_nothing_the_second_time():
    assert services.embed_chunk("passage", ["Frozen shrimp, 140 t a day"]) == 1
    assert services.embed_chunk("passage", ["Frozen shrimp, 140 t a day"]) == 0
