"""A match's life: staff review, introduction, both firms' answers, the outcome; each step audited."""

import pytest

from matchmaking import services
from matchmaking.models import Match
from matchmaking.services import MatchWorkflowError
from tests.factories import CompanyFactory, MatchFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff():
    return UserFactory(username="vetting-staff", is_staff=True)


@pytest.fixture
def match() -> Match:
    return MatchFactory()


def actions(match: Match) -> list[tuple[str, str, str]]:
    return [(e.action, e.from_status, e.to_status) for e in match.events.order_by("at", "id")]


def approve_and_introduce(match: Match, staff) -> Match:
    services.approve([match], by=staff)
    return services.introduce(match, by=staff)


def test_approved_introduced_and_accepted_by_both_connects_them(match, staff):
    vn_user, ru_user = UserFactory(), UserFactory()
    services.approve([match], by=staff, note="Good fit")
    assert (match.status, match.reviewed_by, match.review_note) == (Match.Status.APPROVED, staff, "Good fit")
    services.introduce(match, by=staff)
    assert match.status == Match.Status.INTRODUCED and match.introduced_at is not None

    services.respond(match, match.company_vn, True, by=vn_user)
    assert (match.status, match.response_vn, match.response_ru) == (
        Match.Status.INTRODUCED,
        Match.Response.ACCEPTED,
        Match.Response.PENDING,
    )
    services.respond(match, match.company_ru, True, by=ru_user)

    match.refresh_from_db()
    assert match.status == Match.Status.CONNECTED and match.connected_at is not None
    assert actions(match) == [
        ("approved", "suggested", "approved"),
        ("introduced", "approved", "introduced"),
        ("accepted", "introduced", "introduced"),
        ("accepted", "introduced", "connected"),
    ]
    assert [e.actor for e in match.events.order_by("at", "id")] == [staff, staff, vn_user, ru_user]
    assert match.events.get(action="approved").note == "Good fit"


def test_a_decline_by_either_firm_ends_the_introduction(match, staff):
    approve_and_introduce(match, staff)
    ru_user = UserFactory()
    services.respond(match, match.company_ru, False, by=ru_user)
    match.refresh_from_db()
    assert (match.status, match.response_ru, match.response_vn) == (
        Match.Status.DECLINED,
        Match.Response.DECLINED,
        Match.Response.PENDING,
    )
    assert actions(match)[-1] == ("declined", "introduced", "declined")
    with pytest.raises(MatchWorkflowError, match="Only introduced matches can be answered"):
        services.respond(match, match.company_vn, True, by=UserFactory())


def test_outcomes_are_recorded_only_for_connected_matches(match, staff):
    approve_and_introduce(match, staff)
    with pytest.raises(MatchWorkflowError, match="only for connected matches"):
        services.record_outcome(match, match.company_vn, Match.Outcome.MET, by=UserFactory())
    services.respond(match, match.company_vn, True, by=UserFactory())
    services.respond(match, match.company_ru, True, by=UserFactory())

    services.record_outcome(match, match.company_ru, Match.Outcome.AGREEMENT, by=UserFactory())

    match.refresh_from_db()
    assert (match.outcome_ru, match.outcome_vn, match.status) == (Match.Outcome.AGREEMENT, "", Match.Status.CONNECTED)
    assert actions(match)[-1] == ("outcome", "connected", "connected")
    with pytest.raises(MatchWorkflowError, match="Unknown outcome"):
        services.record_outcome(match, match.company_vn, "married", by=UserFactory())


def test_rejecting_keeps_the_note_and_who_did_it(match, staff):
    services.reject([match], by=staff, note="Already partners")
    match.refresh_from_db()
    assert (match.status, match.review_note, match.reviewed_by) == (Match.Status.REJECTED, "Already partners", staff)
    assert actions(match) == [("rejected", "suggested", "rejected")]
    assert match.events.get().note == "Already partners"


def test_reviewing_several_matches_is_all_or_nothing(staff):
    fresh, done = MatchFactory(), MatchFactory(status=Match.Status.CONNECTED)
    with pytest.raises(MatchWorkflowError, match=f"match {done.pk} is connected"):
        services.approve(Match.objects.filter(pk__in=[fresh.pk, done.pk]), by=staff)
    fresh.refresh_from_db()
    assert fresh.status == Match.Status.SUGGESTED and not fresh.events.exists()

    approved = services.approve(Match.objects.filter(pk=fresh.pk), by=staff)
    assert [m.status for m in approved] == [Match.Status.APPROVED]


@pytest.mark.parametrize(
    ("status", "step"),
    [
        (Match.Status.SUGGESTED, "introduce"),  # staff must approve first
        (Match.Status.REJECTED, "introduce"),
        (Match.Status.INTRODUCED, "approve"),
        (Match.Status.CONNECTED, "reject"),
        (Match.Status.DECLINED, "approve"),
        (Match.Status.APPROVED, "respond"),  # firms answer only once introduced
        (Match.Status.CONNECTED, "respond"),
    ],
)
def test_transitions_the_workflow_does_not_allow(status, step, staff):
    match = MatchFactory(status=status)
    calls = {
        "approve": lambda: services.approve([match], by=staff),
        "reject": lambda: services.reject([match], by=staff, note="no"),
        "introduce": lambda: services.introduce(match, by=staff),
        "respond": lambda: services.respond(match, match.company_vn, True, by=staff),
    }
    with pytest.raises(MatchWorkflowError):
        calls[step]()
    match.refresh_from_db()
    assert match.status == status and not match.events.exists()


def test_a_firm_answers_once_and_only_for_its_own_matches(match, staff):
    approve_and_introduce(match, staff)
    stranger = CompanyFactory(country="RU")
    with pytest.raises(MatchWorkflowError, match="is not a party"):
        services.respond(match, stranger, True, by=UserFactory())
    services.respond(match, match.company_vn, True, by=UserFactory())
    with pytest.raises(MatchWorkflowError, match="already answered"):
        services.respond(match, match.company_vn, False, by=UserFactory())


def test_staff_may_change_their_mind_before_the_introduction(match, staff):
    services.reject([match], by=staff, note="Unsure")
    services.approve([match], by=staff, note="Checked: a good fit after all")
    services.reject([match], by=staff)
    match.refresh_from_db()
    assert match.status == Match.Status.REJECTED
    assert [a for a, _, _ in actions(match)] == ["rejected", "approved", "rejected"]


def test_a_stale_instance_cannot_skip_a_step(match, staff):
    services.approve([match], by=staff)
    stale = Match.objects.get(pk=match.pk)
    services.reject([match], by=staff, note="Withdrawn")
    with pytest.raises(MatchWorkflowError, match="is rejected"):
        services.introduce(stale, by=staff)  # it still says approved; the row says rejected
    assert stale.status == Match.Status.REJECTED
