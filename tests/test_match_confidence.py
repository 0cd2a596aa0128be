"""The engine's confidence and competitor warning reach chamber staff: stored on the match, abstained on below
the threshold, worded for each reader, shown in the admin; and the firms left without a confident counterpart.

The engine's output is written by hand here (Suggestion objects with exact confidences and reasons), so these
tests hold whatever the engine's model decides."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from companies.models import Company, Listing
from companies.services import make_chamber_staff
from matchmaking import services, warm_index
from matchmaking.engine import Ranking, Reason, Suggestion
from matchmaking.explain import explain
from matchmaking.models import Match
from matchmaking.services import recompute_matches
from tests.factories import ChamberFactory, CompanyFactory, ListingFactory, MatchFactory, UserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/matchmaking/match/"
TO_IMPROVE = "/admin/matchmaking/firmtoimprove/"

VN_OFFER = "Cà phê hoà tan 3 trong 1, đóng gói 20 g"
VN_NEED = "Nhà phân phối cà phê tại Nga"
RU_OFFER = "Растворимый кофе, сублимированный, фасовка 100 г"
RU_NEED = "Дистрибьюторы кофе во Вьетнаме"


def rivals_reason(*, from_vn: bool) -> Reason:
    """The engine's rivals reason, written from the ranked firm's side (its own texts are "offer" and "need")."""
    own, theirs = ((VN_OFFER, VN_NEED), (RU_OFFER, RU_NEED)) if from_vn else ((RU_OFFER, RU_NEED), (VN_OFFER, VN_NEED))
    return Reason(
        "rivals",
        {
            "offer": own[0],
            "counterpart_offer": theirs[0],
            "need": own[1],
            "counterpart_need": theirs[1],
            "similarity": 0.93,
        },
    )


STORED_RIVALS = {
    "kind": "rivals",
    "data": {
        "offer": VN_OFFER,
        "counterpart_offer": RU_OFFER,
        "need": VN_NEED,
        "counterpart_need": RU_NEED,
        "similarity": 0.93,
    },
}


def suggestion(counterpart: Company, confidence: float | None, *, reasons=(), in_parts: bool = True) -> Suggestion:
    parts = {"forward": 0.4, "backward": 0.6}
    if confidence is not None and in_parts:
        parts["confidence"] = confidence
    return Suggestion(
        counterpart=counterpart.pk,
        score=0.5,
        score_forward=0.4,
        score_backward=0.6,
        parts=parts,
        reasons=list(reasons),
        confidence=confidence,
        rivals=any(reason.kind == "rivals" for reason in reasons),
    )


@pytest.fixture
def engine(monkeypatch):
    """Replaces the engine by the ranking a test sets in ``engine.ranking``."""

    class Engine:
        ranking: dict = {}

    def rank(profiles, **options) -> Ranking:
        return Ranking(Engine.ranking, engine_version="test-16")

    monkeypatch.setattr(services, "matching_embedder", lambda progress=None: None)
    monkeypatch.setattr(services, "rank_counterparts", rank)
    return Engine


def confidences() -> dict[tuple[int, int], float | None]:
    return {(m.company_vn_id, m.company_ru_id): m.confidence for m in Match.objects.all()}


def shown(response) -> list[Match]:
    return list(response.context["cl"].result_list)


# --- stored and sortable -----------------------------------------------------------------------------------------


def test_the_confidence_is_stored_with_the_match_and_sorts_the_review_queue(engine, superuser_client):
    vn = CompanyFactory(country="VN")
    sure, fair, unrated = (CompanyFactory(country="RU") for _ in range(3))
    engine.ranking = {
        vn.pk: [
            suggestion(sure, 0.9137),
            suggestion(fair, 0.55, in_parts=False),
            suggestion(unrated, None),
        ]
    }
    recompute_matches()
    assert confidences() == {(vn.pk, sure.pk): 0.9137, (vn.pk, fair.pk): 0.55, (vn.pk, unrated.pk): None}
    assert Match.objects.get(company_ru=fair).score_parts["confidence"] == 0.55
    assert recompute_matches().updated == 0  # a rerun finds nothing changed

    page = superuser_client.get(CHANGELIST)
    column = page.context["cl"].list_display.index("confidence_display")
    assert "91%" in page.content.decode() and "55%" in page.content.decode()
    best_first = superuser_client.get(f"{CHANGELIST}?o=-{column}")
    assert [match.confidence for match in shown(best_first)] == [0.9137, 0.55, None]
    worst_first = superuser_client.get(f"{CHANGELIST}?o={column}")
    assert [match.confidence for match in shown(worst_first)] == [None, 0.55, 0.9137]


# --- abstention --------------------------------------------------------------------------------------------------


def test_pairs_below_the_confidence_threshold_are_kept_with_it_for_the_review(engine, settings):
    settings.MATCHING_MIN_CONFIDENCE = 0.3
    vn = CompanyFactory(country="VN")
    good, weak = CompanyFactory(country="RU"), CompanyFactory(country="RU")
    lonely = CompanyFactory(country="VN")
    engine.ranking = {
        vn.pk: [suggestion(good, 0.3), suggestion(weak, 0.29)],
        lonely.pk: [suggestion(weak, 0.05)],
        weak.pk: [suggestion(vn, 0.29), suggestion(lonely, 0.05)],
    }
    recompute_matches()
    assert confidences() == {(vn.pk, good.pk): 0.3, (vn.pk, weak.pk): 0.29, (lonely.pk, weak.pk): 0.05}

    # The next run stores the engine's new view of a pair.
    engine.ranking = {vn.pk: [suggestion(good, 0.1), suggestion(weak, 0.8)]}
    recompute_matches()
    assert confidences()[(vn.pk, weak.pk)] == 0.8 and confidences()[(vn.pk, good.pk)] == 0.1


def test_without_the_learned_model_every_ranked_pair_is_still_suggested(engine, settings):
    settings.MATCHING_MIN_CONFIDENCE = 0.9
    vn, ru = CompanyFactory(country="VN"), CompanyFactory(country="RU")
    engine.ranking = {vn.pk: [suggestion(ru, None)]}
    recompute_matches()
    assert confidences() == {(vn.pk, ru.pk): None}


def test_a_recompute_on_the_warm_index_stores_the_confidence_too(engine, settings, monkeypatch):
    settings.MATCHING_MIN_CONFIDENCE = 0.5
    vn = CompanyFactory(country="VN")
    good, weak = CompanyFactory(country="RU"), CompanyFactory(country="RU")
    countries = {vn.pk: "VN", good.pk: "RU", weak.pk: "RU"}

    class WarmIndex:
        def rank(self, keys, top_k):
            return Ranking({vn.pk: [suggestion(good, 0.7), suggestion(weak, 0.2)]}, engine_version="test-16")

        def countries(self, keys):
            return {key: countries[key] for key in keys}

    monkeypatch.setattr(warm_index, "ready_index", lambda company_ids, embedder: WarmIndex())
    recompute_matches([vn.pk])
    assert confidences() == {(vn.pk, good.pk): 0.7, (vn.pk, weak.pk): 0.2}


# --- the rivals reason -------------------------------------------------------------------------------------------


def test_a_rivals_reason_is_stored_from_the_vietnamese_side_whichever_firm_was_ranked(engine):
    vn_ranked, ru_other = CompanyFactory(country="VN"), CompanyFactory(country="RU")
    vn_other, ru_ranked = CompanyFactory(country="VN"), CompanyFactory(country="RU")
    engine.ranking = {
        vn_ranked.pk: [suggestion(ru_other, 0.6, reasons=[rivals_reason(from_vn=True)])],
        ru_ranked.pk: [suggestion(vn_other, 0.6, reasons=[rivals_reason(from_vn=False)])],
    }
    recompute_matches()
    assert Match.objects.get(company_vn=vn_ranked).reasons == [STORED_RIVALS]
    assert Match.objects.get(company_ru=ru_ranked).reasons == [STORED_RIVALS]


def test_the_rivals_reason_is_worded_for_each_reader():
    match = Match(reasons=[STORED_RIVALS])
    assert explain(match, "vn") == [
        f"Both firms offer alike things (yours “{VN_OFFER}”, theirs “{RU_OFFER}”) and look for alike things "
        f"(yours “{VN_NEED}”, theirs “{RU_NEED}”): they may be competitors."
    ]
    assert explain(match, "ru") == [
        f"Both firms offer alike things (yours “{RU_OFFER}”, theirs “{VN_OFFER}”) and look for alike things "
        f"(yours “{RU_NEED}”, theirs “{VN_NEED}”): they may be competitors."
    ]
    assert explain(match, "staff") == [
        f"Both firms offer alike things (the Vietnamese firm’s “{VN_OFFER}”, the Russian firm’s “{RU_OFFER}”) "
        f"and look for alike things (the Vietnamese firm’s “{VN_NEED}”, the Russian firm’s “{RU_NEED}”): "
        "they may be competitors."
    ]
    offers_only = Match(reasons=[{"kind": "rivals", "data": {**STORED_RIVALS["data"], "need": None}}])
    assert explain(offers_only, "vn") == [
        f"Both firms offer alike things (yours “{VN_OFFER}”, theirs “{RU_OFFER}”): they may be competitors."
    ]


# --- one full stop -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("ending", [".", "!", "?", "…"])
def test_a_quoted_text_ending_a_sentence_gets_no_second_full_stop(ending):
    need = f"Transit of fertiliser through Ust-Luga{ending}"
    match = Match(reasons=[{"kind": "need_met", "data": {"offer": "Port forwarding. Rail and sea.", "need": need}}])
    assert explain(match, "vn") == [f"Their offer “Port forwarding. Rail and sea.” meets your need “{need}”"]
    with translation.override("ru"):
        assert explain(match, "vn")[0].endswith(f"«{need}»")
    plain = Match(reasons=[{"kind": "need_met", "data": {"offer": "Port forwarding", "need": "Transit"}}])
    assert explain(plain, "vn") == ["Their offer “Port forwarding” meets your need “Transit”."]


# --- the admin ---------------------------------------------------------------------------------------------------


def test_the_admin_shows_the_confidence_and_warns_of_competitors(superuser_client):
    rivals = MatchFactory(score_parts={"confidence": 0.874}, reasons=[STORED_RIVALS])
    partners = MatchFactory(score_parts={"confidence": 0.42})
    unrated = MatchFactory()

    page = superuser_client.get(CHANGELIST).content.decode()
    assert "87%" in page and "42%" in page
    assert page.count('<span title="may be competitors">⚠</span>') == 1  # a sign in the list, its words in its title

    def pks(query: str) -> set[int]:
        return {match.pk for match in shown(superuser_client.get(CHANGELIST + query))}

    assert pks("?confidence=high") == {rivals.pk}
    assert pks("?confidence=low") == {partners.pk}
    assert pks("?confidence=none") == {unrated.pk}
    assert pks("?confidence=medium") == pks("?confidence=lowest") == set()
    assert pks("?rivals=yes") == {rivals.pk}
    assert pks("?rivals=no") == {partners.pk, unrated.pk}

    detail = superuser_client.get(reverse("admin:matchmaking_match_change", args=[rivals.pk])).content.decode()
    assert "87%" in detail
    assert "they may be competitors." in detail and f"the Russian firm’s “{RU_OFFER}”" in detail


def test_staff_see_their_chambers_firms_without_a_confident_counterpart(staff_client, vcci, client, settings):
    settings.MATCHING_MIN_CONFIDENCE = 0.5
    other = ChamberFactory(slug="other-chamber")
    confident = CompanyFactory(name="Sure Coffee", chamber=vcci)
    MatchFactory(company_vn=confident, score_parts={"confidence": 0.7}, company_ru__chamber=other)
    unsure = CompanyFactory(name="Unsure Coffee", chamber=vcci)
    MatchFactory(company_vn=unsure, score_parts={"confidence": 0.31})
    bare = CompanyFactory(name="Bare Profile", country="RU", city="Moscow", chamber=vcci)
    CompanyFactory(name="Draft Firm", chamber=vcci, status=Company.Status.DRAFT)
    introduced = CompanyFactory(name="Introduced Before", chamber=vcci)  # staff vouched for its match
    MatchFactory(company_vn=introduced, status=Match.Status.INTRODUCED)
    rejected = CompanyFactory(name="Rejected Pair", chamber=vcci)  # staff turned its only good match down
    MatchFactory(company_vn=rejected, score_parts={"confidence": 0.9}, status=Match.Status.REJECTED)
    CompanyFactory(name="Their Firm", chamber=other)

    assert TO_IMPROVE in staff_client.get(CHANGELIST).content.decode()  # linked from the review queue
    response = staff_client.get(TO_IMPROVE)
    page = response.content.decode()
    assert {firm.name for firm in shown(response)} == {"Unsure Coffee", "Bare Profile", "Rejected Pair"}
    assert "31%" in page
    assert "Add at least one offer: firms that need what you make or do can then find you." in page
    assert reverse("admin:companies_company_change", args=[bare.pk]) in page

    theirs = UserFactory(username="other-staff")
    make_chamber_staff(theirs, other)
    client.force_login(theirs)
    assert {firm.name for firm in shown(client.get(TO_IMPROVE))} == {"Their Firm"}


def test_the_list_of_firms_to_improve_costs_the_same_for_2_or_12_firms(superuser_client, vcci):
    def add(count: int) -> None:
        for _ in range(count):
            firm = CompanyFactory(chamber=vcci, sectors=["10"])
            ListingFactory(company=firm, text="Coffee")
            ListingFactory(company=firm, direction=Listing.Direction.NEED, text="Distributors")
            MatchFactory(company_vn=firm, score_parts={"confidence": 0.1})

    def queries() -> int:
        with CaptureQueriesContext(connection) as context:
            response = superuser_client.get(TO_IMPROVE)
            assert response.status_code == 200
        return len(context.captured_queries)

    add(2)
    few = queries()
    add(10)
    assert queries() == few
