"""The review workbench (issue 17, items 1–4 and 6): one pair at a time with both firms side by side, the queue's
order and filters, one firm's suggestions with "approve the top N", bulk approval above a confidence, undo, and a
Matches list that fits a laptop. Staff see and decide only pairs with a firm of their chamber."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from companies.services import make_chamber_staff
from matchmaking.models import Match, MatchEvent
from matchmaking.review_queue import ReviewFilters, review_queue
from tests.factories import ChamberFactory, CompanyFactory, ListingFactory, MatchFactory, UserFactory

pytestmark = pytest.mark.django_db

WORKBENCH = "/admin/matchmaking/match/review/"
CHANGELIST = "/admin/matchmaking/match/"
NEED = "Rapid test kits for provincial hospitals in the Red River Delta"
OFFER = "Экспресс-тесты для диагностики инфекций, сертификат ЕАЭС"
RIVAL_OFFER = "Medical gloves and masks, wholesale"
RIVAL_COUNTER = "Медицинские перчатки и маски оптом"


@pytest.fixture(autouse=True)
def _no_recompute(settings):
    settings.MATCHING_RECOMPUTE_ON_SAVE = False  # the pairs are built by hand


@pytest.fixture
def other_chamber():
    return ChamberFactory(slug="dr-test", name="Delovaya Rossiya test", country="RU")


@pytest.fixture
def other_client(client, other_chamber):
    """A signed-in staff member of another chamber."""
    from django.test import Client

    user = UserFactory(username="dr-staff")
    make_chamber_staff(user, other_chamber)
    other = Client()
    other.force_login(user)
    other.user = user
    return other


def pair(vn=None, ru=None, confidence: float | None = 0.5, **kwargs) -> Match:
    parts = {"forward": 0.7, "backward": 0.4, "sectors": 1.0, "cooperation": 0.5, "language": 1.0}
    if confidence is not None:
        parts["confidence"] = confidence
    fields = {"score_parts": parts, "score": kwargs.pop("score", 0.6), **kwargs}
    if vn is not None:
        fields["company_vn"] = vn
    if ru is not None:
        fields["company_ru"] = ru
    match = MatchFactory(**fields)
    match.refresh_from_db()
    return match


def vn(**kwargs):
    return CompanyFactory(country="VN", **kwargs)


def ru(**kwargs):
    return CompanyFactory(**{"country": "RU", "city": "Moscow", **kwargs})


def shown(response) -> Match | None:
    return response.context.get("match")


def decide(client, match: Match, action: str, query: str = "", **data):
    url = reverse("admin:matchmaking_match_review_decide", args=[match.pk]) + (f"?{query}" if query else "")
    return client.post(url, {"action": action, **data})


def redirected_pair(response) -> int | None:
    found = re.search(r"/review/(\d+)/", response["Location"])
    return int(found.group(1)) if found else None


def queue_order(user, **filters) -> list[int]:
    queue = review_queue(user, filters=ReviewFilters(**filters))
    order, found = [], queue.first()
    while found is not None:
        order.append(found)
        found = queue.after(queue.place(found))
        assert len(order) < 100
    return order


# --- one pair, both firms side by side -----------------------------------------------------------------------


def test_the_workbench_shows_both_firms_side_by_side_with_the_quoted_texts_marked(staff_client, vcci):
    firm_vn = vn(name="Công ty Y tế Hồng Hà", city="Hải Phòng", chamber=vcci, sectors=["21"], size="medium")
    firm_ru = ru(name="ООО «ДиаТест»", city="Казань")
    ListingFactory(company=firm_vn, direction="need", text=NEED, cooperation=["distribution"])
    ListingFactory(company=firm_vn, direction="offer", text="Pharmacy chain in 12 provinces", cooperation=[])
    ListingFactory(company=firm_vn, direction="offer", text=RIVAL_OFFER, cooperation=[])
    ListingFactory(company=firm_ru, direction="offer", text=OFFER, cooperation=["supply"])
    ListingFactory(company=firm_ru, direction="offer", text=RIVAL_COUNTER, cooperation=[])
    reasons = [
        {
            "kind": "rivals",
            "data": {
                "offer": RIVAL_OFFER,
                "counterpart_offer": RIVAL_COUNTER,
                "need": None,
                "counterpart_need": None,
                "similarity": 0.9,
            },
        },
        {"kind": "need_met", "data": {"need": NEED, "offer": OFFER, "similarity": 0.8}},
    ]
    match = pair(firm_vn, firm_ru, confidence=0.83, reasons=reasons)
    earlier = pair(firm_vn, ru(name="Earlier Partner"), status="connected", outcome_vn="agreement")

    page = staff_client.get(WORKBENCH).content.decode()

    assert "Công ty Y tế Hồng Hà" in page and "ООО «ДиаТест»" in page
    assert "Vietnam, Hải Phòng" in page and "Russia, Казань" in page
    assert "Medium" in page and "Manufacture of basic pharmaceutical products" in page
    assert "Vietnamese, English" in page and "Russian, English" in page and "VCCI test" in page
    assert "Published" in page
    assert f"<mark>{NEED}</mark>" in page and f"<mark>{OFFER}</mark>" in page
    assert f'<mark class="rival">{RIVAL_OFFER}</mark>' in page
    assert "Pharmacy chain in 12 provinces" in page and "<mark>Pharmacy" not in page
    assert "83%" in page  # the confidence
    assert 'style="width: 70%"' in page and 'style="width: 40%"' in page  # fit bars
    assert "⚠ Both firms offer alike things" in page  # the competitor warning
    assert "Earlier Partner" in page and "Connected" in page and "Agreement signed" in page
    assert reverse("admin:matchmaking_match_review_pair", args=[earlier.pk]) in page
    assert reverse("admin:matchmaking_match_review_decide", args=[match.pk]) in page


def test_keys_are_shown_on_the_page_and_the_actions_work_without_a_script(staff_client, vcci):
    pair(vn(chamber=vcci))
    page = staff_client.get(WORKBENCH).content.decode()
    for key, name in [("a", "approve"), ("r", "reject"), ("s", "skip"), ("i", "introduce now"), ("u", "undo")]:
        assert f"<kbd>{key}</kbd> {name}" in page
    assert "<kbd>j</kbd>/<kbd>k</kbd> next/previous" in page and "<kbd>?</kbd> help" in page
    # Plain forms and links: approve, skip and introduce are buttons of a POST form; reject has its reasons.
    assert 'name="action" value="approve"' in page and 'name="action" value="introduce"' in page
    for reason in ("Competitors", "Already in contact", "Profile too thin"):
        assert reason in page
    assert 'name="csrfmiddlewaretoken"' in page


def test_the_page_says_when_nothing_waits(staff_client):
    response = staff_client.get(WORKBENCH)
    assert response.status_code == 200
    assert "No suggestion is waiting for review with these filters." in response.content.decode()


# --- the queue's order and filters ---------------------------------------------------------------------------


def test_each_firms_best_suggestion_comes_before_any_firms_second(superuser_client):
    a, b, c = vn(name="A"), vn(name="B"), vn(name="C")
    x, y, z = ru(name="X"), ru(name="Y"), ru(name="Z")
    ax = pair(a, x, 0.95)
    ay = pair(a, y, 0.90)  # A's second and Y's second
    by = pair(b, y, 0.92)
    bx = pair(b, x, 0.85)  # B's second and X's second
    cz = pair(c, z, 0.30)  # C's only pair: C's best, low as it is
    assert queue_order(superuser_client.user) == [ax.pk, by.pk, cz.pk, ay.pk, bx.pk]

    # The page starts there, and j walks the same order.
    assert shown(superuser_client.get(WORKBENCH)).pk == ax.pk
    response = superuser_client.get(reverse("admin:matchmaking_match_review_next", args=[by.pk]))
    assert redirected_pair(response) == cz.pk
    response = superuser_client.get(reverse("admin:matchmaking_match_review_previous", args=[cz.pk]))
    assert redirected_pair(response) == by.pk


def test_a_firm_that_had_an_introduction_waits_behind_one_that_had_none(superuser_client):
    d, e, c = vn(name="D"), vn(name="E"), vn(name="C")
    u, z = ru(name="U"), ru(name="Z")
    pair(d, ru(), 0.9, status="approved")  # D has had its introduction
    du = pair(d, u, 0.99)
    eu = pair(e, u, 0.995)  # U's best
    cz = pair(c, z, 0.30)
    assert queue_order(superuser_client.user) == [eu.pk, cz.pk, du.pk]


def test_pairs_alike_in_confidence_are_taken_in_the_order_they_have_waited(superuser_client):
    newer = pair(vn(), ru(), 0.801)
    older = pair(vn(), ru(), 0.799)
    Match.objects.filter(pk=older.pk).update(created_at=timezone.now() - timedelta(days=20))
    assert queue_order(superuser_client.user) == [older.pk, newer.pk]  # both shown as 80 %


def test_the_filters_pick_chamber_country_sector_confidence_band_and_waiting_time(superuser_client, vcci):
    ours = pair(vn(chamber=vcci), ru(), 0.9)
    textiles = pair(vn(), ru(sectors=["13"]), 0.6)
    low = pair(vn(), ru(), 0.1)
    old = pair(vn(), ru(), 0.4)
    Match.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=40))
    user = superuser_client.user
    assert set(queue_order(user)) == {ours.pk, textiles.pk, low.pk, old.pk}
    assert queue_order(user, chamber=vcci.pk) == [ours.pk]
    assert queue_order(user, chamber=vcci.pk, country="RU") == []  # VCCI's firm is the Vietnamese one
    assert queue_order(user, sector="13") == [textiles.pk]
    assert queue_order(user, sector="13", country="VN") == []
    assert queue_order(user, band="high") == [ours.pk]
    assert queue_order(user, band="lowest") == [low.pk]
    assert queue_order(user, waiting_days=30) == [old.pk]
    # Through the page: the filters narrow the pair shown and stay on its links.
    response = superuser_client.get(WORKBENCH + "?sector=13")
    assert shown(response).pk == textiles.pk
    assert "?sector=13" in response.context["decide_url"]


def test_a_filter_on_one_side_ranks_by_that_sides_list(superuser_client):
    a = vn(name="A")
    x, y = ru(name="X"), ru(name="Y")
    ax = pair(a, x, 0.9)
    ay = pair(a, y, 0.5)  # A's second, Y's first
    assert queue_order(superuser_client.user) == [ax.pk, ay.pk]
    assert queue_order(superuser_client.user, country="VN") == [ax.pk, ay.pk]
    other = vn(name="B")
    bx = pair(other, x, 0.3)  # B's first, X's second
    assert queue_order(superuser_client.user, country="RU") == [ax.pk, ay.pk, bx.pk]
    assert queue_order(superuser_client.user, country="VN") == [ax.pk, bx.pk, ay.pk]


# --- decisions -------------------------------------------------------------------------------------------------


def test_approve_and_reject_are_recorded_with_the_reviewer_and_lead_to_the_next_pair(staff_client, vcci):
    first = pair(vn(chamber=vcci), ru(), 0.9)
    second = pair(vn(chamber=vcci), ru(), 0.8)
    third = pair(vn(chamber=vcci), ru(), 0.7)

    response = decide(staff_client, first, "approve")
    assert response.status_code == 302 and redirected_pair(response) == second.pk
    response = decide(staff_client, second, "reject", reason="competitors", note="they sell the same gloves")
    assert redirected_pair(response) == third.pk
    response = decide(staff_client, third, "reject", note="")
    assert response["Location"].endswith(WORKBENCH)

    first.refresh_from_db(), second.refresh_from_db(), third.refresh_from_db()
    assert (first.status, first.reviewed_by) == ("approved", staff_client.user)
    assert (second.status, second.review_note) == ("rejected", "Competitors — they sell the same gloves")
    assert third.status == "rejected"
    events = MatchEvent.objects.filter(match__in=[first, second, third])
    assert {(e.match_id, e.action, e.actor) for e in events} == {
        (first.pk, "approved", staff_client.user),
        (second.pk, "rejected", staff_client.user),
        (third.pk, "rejected", staff_client.user),
    }


def test_skip_leaves_the_pair_undecided_for_later_in_the_session(staff_client, vcci):
    first = pair(vn(chamber=vcci), ru(), 0.9)
    second = pair(vn(chamber=vcci), ru(), 0.8)
    assert redirected_pair(decide(staff_client, first, "skip")) == second.pk
    assert shown(staff_client.get(WORKBENCH)).pk == second.pk
    assert Match.objects.get(pk=first.pk).status == "suggested"
    assert not MatchEvent.objects.filter(match=first).exists()
    staff_client.post(reverse("admin:matchmaking_match_review_reset"))
    assert shown(staff_client.get(WORKBENCH)).pk == first.pk


def test_approve_and_introduce_now_approves_and_asks_for_the_emails(staff_client, vcci):
    match = pair(vn(chamber=vcci), ru(), 0.9)
    decide(staff_client, match, "introduce")
    match.refresh_from_db()
    assert match.status == "approved" and match.reviewed_by == staff_client.user
    actions = list(MatchEvent.objects.filter(match=match).order_by("at", "id").values_list("action", "actor"))
    assert actions == [("approved", staff_client.user.pk), ("introduction_requested", staff_client.user.pk)]


def test_a_decision_on_a_pair_decided_meanwhile_says_so_and_changes_nothing(staff_client, vcci):
    match = pair(vn(chamber=vcci), ru(), 0.9, status="rejected")
    response = decide(staff_client, match, "reject")
    assert redirected_pair(response) == match.pk
    page = staff_client.get(response["Location"]).content.decode()
    assert "Nothing was changed" in page and "This pair is no longer waiting: Rejected." in page
    assert not MatchEvent.objects.filter(match=match).exists()


# --- undo ------------------------------------------------------------------------------------------------------


def undo(client, match: Match):
    return client.post(reverse("admin:matchmaking_match_review_undo", args=[match.pk]))


def test_the_last_decision_can_be_undone_within_a_minute(staff_client, vcci):
    match = pair(vn(chamber=vcci), ru(), 0.9, review_note="")
    decide(staff_client, match, "reject", reason="thin_profile")
    page = staff_client.get(WORKBENCH).content.decode()
    assert "Undo" in page and reverse("admin:matchmaking_match_review_undo", args=[match.pk]) in page

    response = undo(staff_client, match)
    assert redirected_pair(response) == match.pk
    match.refresh_from_db()
    assert (match.status, match.reviewed_by, match.review_note) == ("suggested", None, "")
    undone = MatchEvent.objects.get(match=match, action="undone")
    assert (undone.actor, undone.from_status, undone.to_status) == (staff_client.user, "rejected", "suggested")
    assert shown(staff_client.get(WORKBENCH)).pk == match.pk  # back in the queue


def test_undo_is_refused_after_a_minute(staff_client, vcci):
    match = pair(vn(chamber=vcci), ru(), 0.9)
    decide(staff_client, match, "approve")
    MatchEvent.objects.filter(match=match).update(at=timezone.now() - timedelta(seconds=61))
    response = undo(staff_client, match)
    assert Match.objects.get(pk=match.pk).status == "approved"
    assert "it stands" in staff_client.get(response["Location"]).content.decode()
    assert not MatchEvent.objects.filter(match=match, action="undone").exists()


def test_undo_by_another_reviewer_or_after_introduce_now_is_refused(staff_client, vcci, client):
    colleague = UserFactory(username="vcci-colleague")
    make_chamber_staff(colleague, vcci)
    match = pair(vn(chamber=vcci), ru(), 0.9)
    decide(staff_client, match, "approve")
    from django.test import Client

    other = Client()
    other.force_login(colleague)
    undo(other, match)
    assert Match.objects.get(pk=match.pk).status == "approved"

    introduced = pair(vn(chamber=vcci), ru(), 0.8)
    decide(staff_client, introduced, "introduce")
    undo(staff_client, introduced)
    assert Match.objects.get(pk=introduced.pk).status == "approved"
    assert not MatchEvent.objects.filter(action="undone").exists()


# --- scoping and permissions ----------------------------------------------------------------------------------


def test_another_chambers_staff_cannot_open_decide_undo_or_bulk_approve_a_pair_of_ours(
    staff_client, other_client, vcci
):
    ours = pair(vn(chamber=vcci), ru(), 0.9)
    firm_pk = ours.company_vn_id
    assert other_client.get(WORKBENCH).context["pair"] is None  # never shown first
    for url in [
        reverse("admin:matchmaking_match_review_pair", args=[ours.pk]),
        reverse("admin:matchmaking_match_review_next", args=[ours.pk]),
        reverse("admin:matchmaking_match_review_firm", args=[firm_pk]),
    ]:
        assert other_client.get(url).status_code == 404, url
    for action in ("approve", "reject", "introduce", "skip"):
        assert decide(other_client, ours, action).status_code == 404
    firm_url = reverse("admin:matchmaking_match_review_firm", args=[firm_pk])
    assert other_client.post(firm_url, {"top": 5}).status_code == 404
    decide(staff_client, ours, "approve")
    assert undo(other_client, ours).status_code == 404
    Match.objects.filter(pk=ours.pk).update(status="suggested")
    response = other_client.post(
        reverse("admin:matchmaking_match_review_bulk") + "?least=1", {"least": 1, "expected": 10}
    )
    assert response.status_code == 302
    assert Match.objects.get(pk=ours.pk).status == "suggested"
    assert MatchEvent.objects.filter(actor=other_client.user).count() == 0


def test_a_pair_of_two_chambers_is_reviewed_by_either(staff_client, other_client, vcci, other_chamber):
    shared = pair(vn(chamber=vcci), ru(chamber=other_chamber), 0.9)
    assert shown(staff_client.get(WORKBENCH)).pk == shared.pk
    assert shown(other_client.get(WORKBENCH)).pk == shared.pk


def test_a_visitor_who_is_not_staff_is_sent_to_the_login(client):
    match = pair(vn(), ru())
    member = UserFactory(username="member")
    client.force_login(member)
    for url in [
        WORKBENCH,
        reverse("admin:matchmaking_match_review_pair", args=[match.pk]),
        reverse("admin:matchmaking_match_review_firm", args=[match.company_vn_id]),
        reverse("admin:matchmaking_match_review_bulk"),
    ]:
        response = client.get(url)
        assert response.status_code == 302 and "/admin/login/" in response["Location"], url
    response = decide(client, match, "approve")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert Match.objects.get(pk=match.pk).status == "suggested"


def test_a_decision_posted_without_the_csrf_token_is_refused(vcci):
    from django.test import Client

    reviewer = UserFactory(username="csrf-reviewer")
    make_chamber_staff(reviewer, vcci)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(reviewer)
    match = pair(vn(chamber=vcci), ru())
    assert decide(browser, match, "approve").status_code == 403
    assert (
        browser.post(
            reverse("admin:matchmaking_match_review_bulk") + "?least=1", {"least": 1, "expected": 5}
        ).status_code
        == 403
    )
    assert Match.objects.get(pk=match.pk).status == "suggested"


def test_staff_who_may_only_view_matches_may_not_decide(client, vcci):
    viewer = UserFactory(username="viewer", is_staff=True)
    make_chamber_staff(viewer, vcci)
    viewer.groups.clear()
    viewer.user_permissions.add(Permission.objects.get(codename="view_match"))
    client.force_login(viewer)
    match = pair(vn(chamber=vcci), ru())
    page = client.get(WORKBENCH).content.decode()
    assert 'value="approve"' not in page
    assert decide(client, match, "approve").status_code == 403
    assert Match.objects.get(pk=match.pk).status == "suggested"


# --- one firm's suggestions -----------------------------------------------------------------------------------


def test_the_firm_view_ranks_its_suggestions_and_approves_the_top_n(staff_client, vcci):
    firm = vn(name="Ranked firm", chamber=vcci)
    middle = pair(firm, ru(name="Middle partner"), 0.6)
    best = pair(firm, ru(name="Best partner"), 0.9)
    worst = pair(firm, ru(name="Worst partner"), 0.2)
    pair(firm, ru(name="Old partner"), 0.5, status="connected", outcome_vn="met")
    url = reverse("admin:matchmaking_match_review_firm", args=[firm.pk])

    response = staff_client.get(url)
    page = response.content.decode()
    assert [row["match"].pk for row in response.context["rows"]] == [best.pk, middle.pk, worst.pk]
    assert page.index("Best partner") < page.index("Middle partner") < page.index("Worst partner")
    assert "Old partner" in page and "Met" in page

    staff_client.post(url, {"top": 2, "note": "Both exhibit at Vietnam Expo"})
    assert {m.pk: m.status for m in Match.objects.filter(pk__in=[best.pk, middle.pk, worst.pk])} == {
        best.pk: "approved",
        middle.pk: "approved",
        worst.pk: "suggested",
    }
    approvals = MatchEvent.objects.filter(action="approved", actor=staff_client.user)
    assert list(approvals.values_list("note", flat=True)) == ["Both exhibit at Vietnam Expo"] * 2


def test_the_firm_view_of_a_counterpart_shows_only_the_pairs_the_staff_may_see(staff_client, vcci, other_chamber):
    counterpart = ru(chamber=other_chamber)
    ours = pair(vn(chamber=vcci), counterpart, 0.5)
    pair(vn(chamber=other_chamber), counterpart, 0.9)  # not ours to see
    response = staff_client.get(reverse("admin:matchmaking_match_review_firm", args=[counterpart.pk]))
    assert [row["match"].pk for row in response.context["rows"]] == [ours.pk]


# --- bulk approve ------------------------------------------------------------------------------------------------


def test_bulk_approve_shows_the_count_first_then_approves_only_the_visible_waiting_pairs_above_it(
    staff_client, vcci, other_chamber
):
    high = [pair(vn(chamber=vcci), ru(), 0.9), pair(vn(), ru(chamber=vcci), 0.85)]
    at_threshold = pair(vn(chamber=vcci), ru(), 0.8)
    below = pair(vn(chamber=vcci), ru(), 0.79)
    decided = pair(vn(chamber=vcci), ru(), 0.95, status="rejected")
    theirs = pair(vn(chamber=other_chamber), ru(chamber=other_chamber), 0.99)
    url = reverse("admin:matchmaking_match_review_bulk")

    response = staff_client.get(url, {"least": 80})
    assert response.context["count"] == 3
    assert "3 suggestions with a confidence of at least 80% will be approved." in response.content.decode()
    assert Match.objects.filter(status="approved").count() == 0  # nothing yet

    response = staff_client.post(url + "?least=80", {"least": 80, "expected": 3, "note": "fair season"})
    assert response.status_code == 302
    approved = set(Match.objects.filter(status="approved").values_list("pk", flat=True))
    assert approved == {high[0].pk, high[1].pk, at_threshold.pk}
    events = MatchEvent.objects.filter(action="approved")
    assert sorted(events.values_list("match_id", flat=True)) == sorted(approved)  # one audit row each
    assert set(events.values_list("actor", "note", "from_status", "to_status")) == {
        (staff_client.user.pk, "fair season", "suggested", "approved")
    }
    assert Match.objects.get(pk=below.pk).status == "suggested"
    assert Match.objects.get(pk=decided.pk).status == "rejected"
    assert Match.objects.get(pk=theirs.pk).status == "suggested"


def test_bulk_approve_never_approves_more_than_it_counted(superuser_client):
    pair(vn(), ru(), 0.9)
    pair(vn(), ru(), 0.95)
    url = reverse("admin:matchmaking_match_review_bulk")
    superuser_client.post(url + "?least=50", {"least": 50, "expected": 1})
    assert list(Match.objects.filter(status="approved").values_list("score_parts__confidence", flat=True)) == [0.95]


def test_bulk_approve_keeps_the_workbench_filters(superuser_client, vcci):
    ours = pair(vn(chamber=vcci), ru(), 0.9)
    other = pair(vn(), ru(), 0.9)
    url = reverse("admin:matchmaking_match_review_bulk") + f"?chamber={vcci.pk}&least=50"
    assert superuser_client.get(url).context["count"] == 1
    superuser_client.post(url, {"least": 50, "expected": 1})
    assert Match.objects.get(pk=ours.pk).status == "approved"
    assert Match.objects.get(pk=other.pk).status == "suggested"


# --- the Matches list fits a laptop --------------------------------------------------------------------------


def test_the_matches_list_cuts_the_reasons_to_one_line_and_links_the_workbench(superuser_client):
    long_need = "Rapid diagnostic test kits for 120 provincial hospitals, with cold-chain delivery and training"
    pair(vn(), ru(), 0.7, reasons=[{"kind": "need_met", "data": {"need": long_need, "offer": OFFER}}])
    page = superuser_client.get(CHANGELIST).content.decode()
    sentence = f"The Russian firm’s offer “{OFFER}” meets the Vietnamese firm’s need “{long_need}”."
    assert f'title="{sentence}"' in page  # whole in the title
    cell = re.search(r'<span class="one-line reasons" title="[^"]*">([^<]*)</span>', page).group(1)
    assert len(cell) <= 90 and cell.endswith("…")
    assert 'href="/admin/matchmaking/match/review/"' in page and "Review workbench" in page
    for dropped in ("fit for the Vietnamese firm", "engine version"):
        assert dropped not in page.lower()
    # Sortable by confidence and by score (the headers link to an ordering).
    assert re.search(r'class="sortable[^"]*column-confidence_display', page)
    assert re.search(r'class="sortable[^"]*column-score_display', page)


# --- queries do not grow with the number of matches ------------------------------------------------------------


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as context:
        assert client.get(url).status_code == 200
    return len(context.captured_queries)


def test_the_workbench_the_firm_view_and_the_list_take_a_fixed_number_of_queries(
    staff_client, vcci, django_assert_max_num_queries
):
    firm = vn(chamber=vcci, sectors=["21", "46"])
    partner = ru(sectors=["21"])
    for _ in range(2):
        ListingFactory(company=firm, direction="need", text=NEED)
        ListingFactory(company=partner, direction="offer", text=OFFER)
    reasons = [
        {"kind": "need_met", "data": {"need": NEED, "offer": OFFER}},
        {"kind": "sectors", "data": {"common": ["21"]}},
    ]
    first = pair(firm, partner, 0.9, reasons=reasons)
    pair(firm, ru(), 0.5, status="connected", reasons=reasons)
    urls = [
        WORKBENCH,
        reverse("admin:matchmaking_match_review_pair", args=[first.pk]),
        reverse("admin:matchmaking_match_review_firm", args=[firm.pk]),
        CHANGELIST,
    ]
    few = {url: _queries(staff_client, url) for url in urls}
    for index in range(20):
        pair(firm, ru(), 0.4, reasons=reasons)
        pair(vn(chamber=vcci), partner, 0.3, reasons=reasons)
        pair(firm, ru(), 0.2, status="rejected" if index % 2 else "approved", reasons=reasons)
    for url in urls:
        with django_assert_max_num_queries(few[url]):
            staff_client.get(url)
    # The pinned numbers: session, user and permissions, the staff member's chamber and its firms, the filters'
    # chambers (and the sectors once per process), the queue, the pair, its firms and their listings, each
    # firm's history, the waiting counts.
    with django_assert_max_num_queries(16):
        staff_client.get(WORKBENCH)
    with django_assert_max_num_queries(11):
        staff_client.get(reverse("admin:matchmaking_match_review_firm", args=[firm.pk]))
    with django_assert_max_num_queries(10):
        staff_client.get(CHANGELIST)


@pytest.mark.parametrize("language", ["vi", "ru"])
def test_the_workbench_pages_render_in_the_staff_members_language(staff_client, vcci, language):
    match = pair(vn(chamber=vcci), ru(), 0.9)
    decide(staff_client, pair(vn(chamber=vcci), ru(), 0.95), "approve")  # an undo banner, a history row
    headers = {"accept-language": language}
    for url in [
        WORKBENCH,
        reverse("admin:matchmaking_match_review_firm", args=[match.company_vn_id]),
        reverse("admin:matchmaking_match_review_bulk") + "?least=50",
    ]:
        response = staff_client.get(url, headers=headers)
        assert response.status_code == 200 and f'lang="{language}"' in response.content.decode(), url


def test_a_firm_of_another_chamber_shows_no_place_that_would_count_pairs_hidden_from_the_reader(
    staff_client,
    vcci,
    other_client,
    other_chamber,
):
    theirs_vn = vn(chamber=vcci)
    ours_ru, hidden_ru = ru(chamber=other_chamber), ru(chamber=vcci)
    pair(theirs_vn, hidden_ru, confidence=0.9)  # VCCI's own pair: Delovaya Rossiya may not know it exists
    shared = pair(theirs_vn, ours_ru, confidence=0.5)

    page = other_client.get(f"{WORKBENCH}{shared.pk}/")
    places = {side["side"]: side["place"] for side in page.context["sides"]}
    assert places == {"vn": None, "ru": 1}  # the VCCI firm's place (2nd) would betray the hidden pair
    assert "no. 2" not in page.content.decode()

    places = {side["side"]: side["place"] for side in staff_client.get(f"{WORKBENCH}{shared.pk}/").context["sides"]}
    assert places["vn"] == 2  # VCCI sees all of its firm's pairs
