import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from matchmaking.models import Match, MatchEvent
from tests.factories import ChamberFactory, MatchFactory, UserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/matchmaking/match/"
OFFER = "Экспресс-тесты для диагностики инфекций"
NEED = "Rapid test kits for provincial hospitals"
REASONS = [
    {"kind": "need_met", "data": {"need": NEED, "offer": OFFER, "need_ref": 1, "offer_ref": 2, "similarity": 0.81}},
    {"kind": "sectors", "data": {"common": ["21"]}},
    {"kind": "cooperation", "data": {"common": ["distribution"]}},
    {"kind": "language", "data": {"common": ["en"]}},
]


def shown(response) -> list[Match]:
    return list(response.context["cl"].result_list)


def test_review_queue_lists_the_best_matches_first(superuser_client):
    scores = [0.42, 0.91, 0.67, 0.55]
    for score in scores:
        MatchFactory(score=score)
    response = superuser_client.get(CHANGELIST)
    assert [match.score for match in shown(response)] == sorted(scores, reverse=True)
    assert "0.91" in response.content.decode()  # two decimals


def test_chamber_staff_see_only_matches_involving_their_members(staff_client, vcci):
    other = ChamberFactory(slug="dr-test")
    ours_vn = MatchFactory(company_vn__chamber=vcci, company_ru__chamber=other)
    ours_ru = MatchFactory(company_vn__chamber=None, company_ru__chamber=vcci)
    theirs = MatchFactory(company_vn__chamber=other, company_ru__chamber=other)
    assert {match.pk for match in shown(staff_client.get(CHANGELIST))} == {ours_vn.pk, ours_ru.pk}
    assert staff_client.get(reverse("admin:matchmaking_match_change", args=[ours_ru.pk])).status_code == 200
    assert staff_client.get(reverse("admin:matchmaking_match_change", args=[theirs.pk])).status_code == 302
    staff_client.post(CHANGELIST, {"action": "approve", "note": "", "_selected_action": [ours_vn.pk, theirs.pk]})
    assert Match.objects.get(pk=ours_vn.pk).status == "approved"
    assert Match.objects.get(pk=theirs.pk).status == "suggested"


def test_staff_without_a_chamber_see_no_match(client):
    user = UserFactory(username="chamberless", is_staff=True)
    user.groups.add(Group.objects.get(name="Chamber staff"))
    client.force_login(user)
    MatchFactory()
    assert shown(client.get(CHANGELIST)) == []


def test_chamber_staff_group_may_review_matches():
    codenames = set(Group.objects.get(name="Chamber staff").permissions.values_list("codename", flat=True))
    assert {"view_match", "change_match", "view_matchevent"} <= codenames
    assert "view_company" in codenames  # the companies' permissions are kept


def test_approve_and_reject_with_a_note_record_who_did_it(superuser_client):
    good, bad = MatchFactory(score=0.9), MatchFactory(score=0.3)
    response = superuser_client.post(
        CHANGELIST,
        {"action": "approve", "note": "Both exhibit at Vietnam Expo", "_selected_action": [good.pk]},
        follow=True,
    )
    assert "1 match approved." in [str(m) for m in response.context["messages"]]
    superuser_client.post(
        CHANGELIST, {"action": "reject", "note": "Competitors, not partners", "_selected_action": [bad.pk]}
    )

    good.refresh_from_db()
    bad.refresh_from_db()
    assert (good.status, good.reviewed_by, good.review_note) == (
        "approved",
        superuser_client.user,
        "Both exhibit at Vietnam Expo",
    )
    assert (bad.status, bad.reviewed_by) == ("rejected", superuser_client.user)
    approved = MatchEvent.objects.get(match=good, action="approved")
    assert (approved.actor, approved.note, approved.from_status, approved.to_status) == (
        superuser_client.user,
        "Both exhibit at Vietnam Expo",
        "suggested",
        "approved",
    )
    assert MatchEvent.objects.get(match=bad, action="rejected").note == "Competitors, not partners"

    # The events show, read-only, on the match's page.
    page = superuser_client.get(reverse("admin:matchmaking_match_change", args=[good.pk])).content.decode()
    assert "Both exhibit at Vietnam Expo" in page


def test_a_refused_action_changes_nothing_and_says_why(superuser_client):
    connected = MatchFactory(status="connected")
    suggested = MatchFactory()
    response = superuser_client.post(
        CHANGELIST, {"action": "reject", "note": "", "_selected_action": [connected.pk, suggested.pk]}, follow=True
    )
    messages = [str(m) for m in response.context["messages"]]
    assert any(str(connected.pk) in m and "Nothing was changed" in m for m in messages)
    assert Match.objects.get(pk=suggested.pk).status == "suggested"


def test_reasons_column_quotes_the_offer_and_the_need(superuser_client):
    MatchFactory(reasons=REASONS)
    page = superuser_client.get(CHANGELIST).content.decode()
    assert f"The Russian firm’s offer “{OFFER}” meets the Vietnamese firm’s need “{NEED}”." in page
    assert "Both firms work in the sector “Manufacture of basic pharmaceutical products" in page
    assert "Both firms want this form of cooperation: Distribution." in page


def test_reasons_column_follows_the_staff_users_language(superuser_client):
    MatchFactory(reasons=REASONS)
    page = superuser_client.get(CHANGELIST, headers={"accept-language": "ru"}).content.decode()
    assert f"Предложение российской фирмы «{OFFER}» отвечает запросу вьетнамской фирмы «{NEED}»." in page
    assert "«Производство лекарственных средств и материалов, применяемых в медицинских целях»" in page


def test_changelist_queries_do_not_grow_with_rows(superuser_client, vcci):
    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert superuser_client.get(CHANGELIST).status_code == 200
        return len(ctx.captured_queries)

    MatchFactory.create_batch(2, reasons=REASONS, company_vn__chamber=vcci)
    few = queries()
    MatchFactory.create_batch(18, reasons=REASONS, company_ru__chamber=vcci)
    assert queries() == few


@pytest.mark.parametrize(
    "query", ["?status__exact=suggested", "?score=high", "?score=medium", "?score=low", "?sector=21", "?q=Company"]
)
def test_changelist_filters_and_search_respond(superuser_client, query):
    MatchFactory(reasons=REASONS)
    assert superuser_client.get(CHANGELIST + query).status_code == 200


def test_filters_by_score_chamber_and_sector(superuser_client, vcci):
    high = MatchFactory(score=0.85, company_ru__chamber=vcci)
    medium = MatchFactory(score=0.7, company_vn__sectors=["10"], company_vn__activity_division_id="10")
    low = MatchFactory(score=0.2, company_ru__sectors=["10", "46"])

    def pks(query: str) -> set[int]:
        return {match.pk for match in shown(superuser_client.get(CHANGELIST + query))}

    assert pks("?score=high") == {high.pk}
    assert pks("?score=medium") == {medium.pk}
    assert pks("?score=low") == {low.pk}
    assert pks(f"?chamber={vcci.pk}") == {high.pk}
    assert pks("?sector=10") == {medium.pk, low.pk}  # once each, though one firm has two sectors
    assert pks("?sector=46") == {low.pk}
