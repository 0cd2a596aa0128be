"""Partial recomputes on a worker's warm index: edits are ranked as a fresh full read would rank them."""

from dataclasses import replace

import numpy as np
import pytest
from django.utils import timezone

from companies.languages import detect_language
from companies.models import Company, Listing
from companies.services import change_status
from matchmaking import services, warm_index
from matchmaking.engine import DEFAULT_WEIGHTS, NEED, OFFER, rank_counterparts
from matchmaking.engine import Listing as EngineListing
from matchmaking.engine.incremental import MatchingIndex
from matchmaking.models import Match
from matchmaking.services import recompute_matches
from tests.factories import CompanyFactory, ListingFactory
from tests.test_matching_engine import HashedVectors


def _generated(n: int) -> list:
    """Firms from the generator behind ``generate_companies``: texts as varied as a chamber's members write."""
    from companies.synthetic import generate_profiles
    from matchmaking.engine import Profile

    return [
        Profile(
            key=f"{p.country}-{i}",
            country=p.country,
            sectors=tuple(p.sectors),
            activity_division=p.activity_code[:2] or None,
            languages=tuple(p.languages),
            listings=tuple(
                EngineListing(x.direction, x.text, tuple(x.cooperation), language=detect_language(x.text))
                for x in p.listings
            ),
        )
        for i, p in enumerate(generate_profiles(n, 3))
    ]


@pytest.mark.parametrize("vectors", [HashedVectors(), None], ids=["embeddings", "lexical only"])
def test_an_index_updated_in_place_ranks_as_a_fresh_fit(vectors):
    """Edited, added and withdrawn firms: the index's lists are a fresh ranking's, within the drift of the
    fit's statistics (IDF, language means), which the next full build brings back."""
    profiles = _generated(300)
    # The lists by score: the confidence's reordering is compared pair by pair below, since a drift in the
    # statistics may swap two candidates of nearly equal confidence.
    index = MatchingIndex(profiles, vectors, replace(DEFAULT_WEIGHTS, confidence=False))
    learned = MatchingIndex(profiles, vectors)
    edited = list(profiles)
    edited[3] = replace(
        profiles[3],
        listings=profiles[3].listings
        + (EngineListing(NEED, "Frozen pangasius fillets, 40 tonnes a month", ("supply",), language="en"),),
    )
    edited[8] = replace(
        profiles[8], listings=(EngineListing(OFFER, "Калийные удобрения, 5000 т", ("supply",), language="ru"),)
    )
    added = replace(
        profiles[20], key="new-firm", listings=(EngineListing(OFFER, "Cà phê robusta Đắk Lắk", (), language="vi"),)
    )
    gone = profiles[5].key
    for each in (index, learned):
        each.replace([edited[3], edited[8], added])
        each.remove([gone])
    fresh_profiles = [p for p in edited if p.key != gone] + [added]
    keys = [edited[3].key, edited[8].key, added.key, profiles[0].key, profiles[1].key]
    got = index.rank(keys, top_k=5)
    fresh = rank_counterparts(
        fresh_profiles, top_k=5, embedder=vectors, only=set(keys), weights=replace(DEFAULT_WEIGHTS, confidence=False)
    )
    for key in keys:
        ours = [s.score for s in got.suggestions[key]]
        theirs = [s.score for s in fresh.suggestions[key]]
        np.testing.assert_allclose(ours, theirs, atol=5e-3)
        assert gone not in {s.counterpart for s in got.suggestions[key]}

    got = learned.rank(keys, top_k=5)
    fresh = rank_counterparts(fresh_profiles, top_k=15, embedder=vectors, only=set(keys))
    for key in keys:
        theirs = {s.counterpart: s.confidence for s in fresh.suggestions[key]}
        for s in got.suggestions[key]:
            assert s.counterpart != gone
            if s.confidence is not None and s.counterpart in theirs:
                assert s.confidence == pytest.approx(theirs[s.counterpart], abs=0.02)


def test_a_warm_index_is_not_kept_for_a_small_market(db, settings):
    settings.MATCHING_INDEX_MIN_FIRMS = 10
    warm_index.forget()
    CompanyFactory(country="VN")
    assert warm_index.ready_index({1}, lambda: None) is None


@pytest.fixture
def warm(settings, monkeypatch):
    """Every partial recompute uses the index; ranked on the lexical signal alone, which these texts decide."""
    settings.MATCHING_INDEX_MIN_FIRMS = 0
    settings.MATCHING_RECOMPUTE_ON_SAVE = False  # each test runs its recomputes itself
    monkeypatch.setattr(services, "matching_embedder", lambda progress=None: None)
    warm_index.forget()
    yield
    warm_index.forget()


def firm_with_offer_and_need(country: str, offer: str, need: str) -> Company:
    company = CompanyFactory(country=country)
    ListingFactory(company=company, direction=Listing.Direction.OFFER, text=offer)
    ListingFactory(company=company, direction=Listing.Direction.NEED, text=need)
    return company


def best_match(firm: Company) -> Match:
    return Match.objects.filter(company_vn=firm).order_by("-score").first()


@pytest.mark.django_db
def test_an_edited_need_finds_its_new_counterpart_through_the_warm_index(warm):
    buyer = firm_with_offer_and_need("VN", "Garment sewing for export", "Cotton fabric")
    firm_with_offer_and_need("RU", "Cotton and linen fabric", "Sewing subcontractors")
    seller = firm_with_offer_and_need("RU", "Frozen pangasius fillets from a partner farm", "Importers of fish")
    firm_with_offer_and_need("RU", "Tractors", "Dealers in Asia")
    recompute_matches()
    recompute_matches([buyer.pk])  # builds this process's index
    assert warm_index._state.get("index") is not None

    need = buyer.listings.get(direction=Listing.Direction.NEED)
    need.text = "Frozen pangasius fillets from a partner farm"
    need.save()
    recompute_matches([buyer.pk])

    best = best_match(buyer)
    assert best.company_ru == seller
    assert best.fit_for_vn > 0.15  # the new need is met word for word (lexical weight 0.2, less the bias)


@pytest.mark.django_db
def test_edits_saved_by_another_process_are_read_before_ranking(warm):
    buyer = firm_with_offer_and_need("VN", "Garment sewing for export", "Diagnostic test kits")
    other = firm_with_offer_and_need("RU", "Accounting software", "Coffee importers")
    firm_with_offer_and_need("RU", "Tractors", "Dealers in Asia")
    recompute_matches([buyer.pk])  # the index now holds the old offer of `other`
    # Another worker saved this edit: no task reaches this process for it.
    Listing.objects.filter(company=other, direction=Listing.Direction.OFFER).update(
        text="Diagnostic test kits", updated_at=timezone.now()
    )
    recompute_matches([buyer.pk])
    assert best_match(buyer).company_ru == other


@pytest.mark.django_db
def test_a_withdrawn_firm_leaves_the_warm_index(warm):
    buyer = firm_with_offer_and_need("VN", "Garment sewing", "Diagnostic test kits")
    kits = firm_with_offer_and_need("RU", "Diagnostic test kits", "Garment sewing")
    firm_with_offer_and_need("RU", "Tractors", "Dealers in Asia")
    recompute_matches([buyer.pk])
    assert Match.objects.filter(company_vn=buyer, company_ru=kits).exists()
    change_status(kits, Company.Status.SUSPENDED, by=None, note="left the chamber")
    recompute_matches([kits.pk])
    recompute_matches([buyer.pk])
    assert not Match.objects.filter(company_ru=kits).exists()
    assert Match.objects.filter(company_vn=buyer).exists()


@pytest.mark.django_db
def test_a_recompute_fanned_out_in_chunks_writes_what_one_full_run_writes(warm):
    """Chunks of two firms each, run as tasks (in-process here): the same suggestions as one full run,
    and running the chunks again changes nothing."""
    from django.core.management import call_command

    firm_with_offer_and_need("VN", "Garment sewing for export", "Cotton fabric")
    firm_with_offer_and_need("VN", "Frozen pangasius fillets", "Reefer containers")
    firm_with_offer_and_need("VN", "Robusta coffee beans", "Coffee roasting machines")
    firm_with_offer_and_need("RU", "Cotton and linen fabric", "Sewing subcontractors")
    firm_with_offer_and_need("RU", "Reefer containers", "Frozen fish importers")
    firm_with_offer_and_need("RU", "Coffee roasting machines", "Green coffee beans")
    firm_with_offer_and_need("RU", "Tractors", "Dealers in Asia")

    def table():
        return sorted(Match.objects.values_list("company_vn", "company_ru", "score"))

    recompute_matches()
    full = table()
    Match.objects.all().delete()
    call_command("recompute_matches", chunks=2, verbosity=0)
    assert [(vn, ru) for vn, ru, _ in table()] == [(vn, ru) for vn, ru, _ in full]
    np.testing.assert_allclose([s for _, _, s in table()], [s for _, _, s in full], atol=1e-5)
    before = table()
    call_command("recompute_matches", chunks=3, verbosity=0)
    assert table() == before
