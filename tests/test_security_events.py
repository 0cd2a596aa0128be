"""Issue 15, found in review: B2B events and a firm's data rights, and the locks of the events' writes.

A firm whose last member deletes their data leaves every event not held yet (the firms it was to meet see
why), keeps only anonymised rows the report of a held event counts, and its member's data export carries the
firm's event data. Writes lock every row they check, so two firms acting at once cannot overfill a firm's
day, resurrect a cancelled meeting or lose each other's outcome.
"""

import datetime as dt
import json
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from events import schedule, selectors, services
from events.models import AvailabilityWindow, Event, Meeting, MeetingRequest, Participant, UnplacedReason
from events.report import event_report
from tests.factories import (
    CompanyFactory,
    EventFactory,
    MembershipFactory,
    UserFactory,
    api_for,
    register_firm,
    signed_in,
)

PASSWORD = "correct horse battery staple"  # the factories' password
EXPORT, DELETE = "/my/data.json", "/my/delete/"
VN_NAME = "Công ty Cà phê Tây Nguyên"
VN_NOTE = "Chị Lan sẽ đến, số 0905 111 222"
VN_MESSAGE = "Gặp chị Lan ở bàn 3 nhé"
QUOTING = [
    {"kind": "need_met", "data": {"need": "Robusta cà phê rang xay", "offer": "Кофе", "similarity": 0.8}},
    {"kind": "cooperation", "data": {"common": ["distribution"]}},
]


class Firms:
    """A Vietnamese firm with one member, and three Russian firms with members, at ``event``."""

    def __init__(self, event: Event, *, note: str = VN_NOTE):
        self.event = event
        self.vn = CompanyFactory(name=VN_NAME, country="VN", contact_email="lan@caphe.example")
        self.member = MembershipFactory(company=self.vn, user=UserFactory(username="lan", email="lan@caphe.example"))
        self.vn_at = register_firm(event, self.vn, note=note)
        self.ru, self.ru_at, self.ru_members = [], [], []
        for n in range(3):
            company = CompanyFactory(name=f"ООО «Кофе {n}»", country="RU", city="Kazan")
            self.ru.append(company)
            self.ru_members.append(MembershipFactory(company=company, user=UserFactory(username=f"kofe-{n}")))
            self.ru_at.append(register_firm(event, company))


# --- withdrawal: the firm leaves every event not held yet ---------------------------------------------------


@pytest.mark.django_db
def test_a_withdrawing_firm_leaves_every_upcoming_event_and_its_counterparts_see_why(client):
    firms = Firms(EventFactory(slug="hanoi-coffee"))
    vn, (ru0, ru1, ru2) = firms.vn_at, firms.ru_at
    accepted = services.request_meeting(vn, ru0, staff=True)
    MeetingRequest.objects.filter(pk=accepted.pk).update(reasons=QUOTING)
    meeting = schedule.pin_meeting(accepted, firms.event.slots.order_by("starts_at").first(), 1)
    sent = services.request_meeting(vn, ru1, message=VN_MESSAGE)
    received = services.request_meeting(ru2, vn, message="Давайте встретимся")
    assert vn in selectors.active_participants(firms.event)

    response = signed_in(client, firms.member.user).post(DELETE, {"password": PASSWORD})
    assert response.status_code == 302

    vn.refresh_from_db()
    assert vn.status == Participant.Status.WITHDRAWN and vn.note == ""
    assert not AvailabilityWindow.objects.filter(participant=vn).exists()
    assert vn not in selectors.active_participants(firms.event)  # out of the next schedule build
    assert not Meeting.objects.filter(pk=meeting.pk).exists()  # its table is free again
    for request in (accepted, sent, received):
        request.refresh_from_db()
        assert request.status == MeetingRequest.Status.CANCELLED
    sent.refresh_from_db()
    assert sent.message == ""  # the firm's own words go with it
    accepted.refresh_from_db()
    assert [reason["kind"] for reason in accepted.reasons] == ["cooperation"]  # no quote of its erased need
    # Nothing in the event's records names the firm or its people any more.
    rows = json.dumps(
        [
            list(Participant.objects.filter(pk=vn.pk).values()),
            list(MeetingRequest.objects.filter(event=firms.event).values()),
        ],
        default=str,
        ensure_ascii=False,
    )
    assert VN_NAME not in rows and "Chị Lan" not in rows and "chị Lan" not in rows

    # The firm it was to meet sees the meeting called off, and why.
    body = api_for(firms.ru_members[0].user).get("/api/v1/events/hanoi-coffee/requests/").json()
    (row,) = body
    assert row["status"] == "cancelled" and row["meeting"] is None
    assert row["firm"]["name"] == "Withdrawn firm"
    assert "Withdrawn firm is no longer an accepted participant" in row["unplaced_reason"]
    page = signed_in(client, firms.ru_members[2].user).get("/events/hanoi-coffee/").content.decode()
    assert "Withdrawn firm is no longer an accepted participant" in page and VN_NAME not in page

    # A later schedule build keeps the reason (it clears only the reasons of requests still standing).
    schedule.build_event_schedule(firms.event, time_limit=1)
    received.refresh_from_db()
    assert received.unplaced_reason == UnplacedReason.SIDE_LEFT
    assert received.unplaced_params == {"firm": "Withdrawn firm"}


@pytest.mark.django_db
def test_a_held_event_keeps_only_the_anonymised_meetings_its_report_counts(client):
    event = EventFactory(starts_on=timezone.localdate() - dt.timedelta(days=1), slug="held-day")
    firms = Firms(event)
    vn, (ru0, ru1, _ru2) = firms.vn_at, firms.ru_at
    held = services.request_meeting(vn, ru0, staff=True, message=VN_MESSAGE)
    declined = services.request_meeting(vn, ru1, message=VN_MESSAGE)
    services.answer_request(declined, ru1, accept=False)
    schedule.build_event_schedule(event, time_limit=1)
    services.set_attendance([vn, ru0], Participant.Attendance.CHECKED_IN)
    services.record_meeting_outcome(Meeting.objects.get(request=held), vn, "agreement")
    services.record_meeting_outcome(Meeting.objects.get(request=held), ru0, "met")
    Participant.objects.filter(pk=vn.pk).update(agenda_sent_to=["lan@caphe.example"], agenda_sent_hash="x")
    services.set_event_status(event, Event.Status.FINISHED)
    before = event_report(event)

    signed_in(client, firms.member.user).post(DELETE, {"password": PASSWORD})

    after = event_report(event)
    for key in ("participants", "checked_in", "no_shows", "meetings", "held"):
        assert after[key] == before[key]
    assert after["by_country"]["Vietnam"] == before["by_country"]["Vietnam"]
    assert after["by_country"]["Vietnam"]["agreement"] == 1 and after["by_country"]["Russia"]["met"] == 1
    assert VN_NAME not in json.dumps(after, default=str, ensure_ascii=False)
    vn.refresh_from_db()
    assert (vn.note, vn.agenda_sent_to, vn.agenda_sent_hash) == ("", [], "")
    assert not vn.windows.exists()  # the report does not read them
    held.refresh_from_db()
    assert held.message == "" and held.status == MeetingRequest.Status.ACCEPTED
    assert not MeetingRequest.objects.filter(pk=declined.pk).exists()  # no meeting, nothing to report


@pytest.mark.django_db
def test_a_cancelled_event_forgets_the_withdrawn_firm(client):
    firms = Firms(EventFactory())
    services.request_meeting(firms.vn_at, firms.ru_at[0], message=VN_MESSAGE)
    Event.objects.filter(pk=firms.event.pk).update(status=Event.Status.CANCELLED)

    signed_in(client, firms.member.user).post(DELETE, {"password": PASSWORD})

    assert not Participant.objects.filter(pk=firms.vn_at.pk).exists()
    assert not MeetingRequest.objects.filter(event=firms.event).exists()
    assert Participant.objects.filter(event=firms.event).count() == 3  # the others stay


@pytest.mark.django_db
def test_a_departing_member_s_address_leaves_the_agenda_records_and_the_firm_stays(client):
    firms = Firms(EventFactory())
    MembershipFactory(company=firms.vn, user=UserFactory(username="minh", email="minh@caphe.example"))
    Participant.objects.filter(pk=firms.vn_at.pk).update(agenda_sent_to=["LAN@caphe.example", "minh@caphe.example"])

    signed_in(client, firms.member.user).post(DELETE, {"password": PASSWORD})

    firms.vn_at.refresh_from_db()
    assert firms.vn_at.agenda_sent_to == ["minh@caphe.example"]
    assert firms.vn_at.status == Participant.Status.ACCEPTED and firms.vn_at.note == VN_NOTE


# --- the data export -------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_member_s_data_export_holds_the_firm_s_event_data(client):
    event = EventFactory(starts_on=timezone.localdate() - dt.timedelta(days=1), name="Hanoi coffee day")
    firms = Firms(event)
    vn, (ru0, ru1, _ru2) = firms.vn_at, firms.ru_at
    met = services.request_meeting(vn, ru0, staff=True, message=VN_MESSAGE)
    services.request_meeting(ru1, vn, message="Давайте встретимся")
    schedule.build_event_schedule(event, time_limit=1)
    meeting = Meeting.objects.select_related("slot").get(request=met)
    services.record_meeting_outcome(meeting, vn, "agreement")
    services.record_meeting_outcome(meeting, ru0, "no_reply")  # the other firm's word, not the member's
    ru0.company.contact_email = "boss@kofe.example"
    ru0.company.save()

    data = json.loads(signed_in(client, firms.member.user).get(EXPORT).content)

    (participation,) = data["events"]
    assert participation["event"]["name"] == "Hanoi coffee day"
    assert participation["event"]["starts_on"] == event.starts_on.isoformat()
    assert participation["role"] == "both" and participation["note"] == VN_NOTE
    assert participation["status"] == "accepted"
    (window,) = participation["windows"]
    assert window["starts_at"] and window["ends_at"]
    requests = {(r["direction"], r["counterpart"]): r for r in participation["requests"]}
    assert requests["sent", ru0.company.name]["message"] == VN_MESSAGE
    assert requests["received", ru1.company.name]["status"] == "pending"
    (row,) = participation["meetings"]
    assert row["counterpart"] == ru0.company.name and row["table"] == meeting.table
    assert row["slot"]["starts_at"] and row["slot"]["number"] == meeting.slot.number
    assert row["my_outcome"] == "agreement"
    text = json.dumps(data, ensure_ascii=False)
    assert "boss@kofe.example" not in text and "no_reply" not in text


@pytest.mark.django_db
def test_a_user_without_a_firm_exports_no_events(client):
    user = UserFactory(username="nobody")
    assert json.loads(signed_in(client, user).get(EXPORT).content)["events"] == []


# --- locks -----------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_meeting_request_locks_both_firms_not_only_the_first_row():
    event = EventFactory()
    vn, ru = register_firm(event), register_firm(event, CompanyFactory(country="RU"))
    with CaptureQueriesContext(connection) as queries:
        services.request_meeting(vn, ru)
    locks = [
        q["sql"]
        for q in queries.captured_queries
        if "FOR UPDATE" in q["sql"] and '"events_participant"' in q["sql"].split("WHERE")[0]
    ]
    assert locks, "request_meeting takes no lock on the participants"
    assert not any("LIMIT" in sql for sql in locks)  # exists() adds LIMIT 1: one row locked, not both
    assert any(str(vn.pk) in sql and str(ru.pk) in sql for sql in locks)


@pytest.mark.django_db
def test_a_cancel_from_a_stale_page_does_not_overwrite_the_invitee_s_decline():
    event = EventFactory()
    vn, ru = register_firm(event), register_firm(event, CompanyFactory(country="RU"))
    request = services.request_meeting(vn, ru)
    stale = MeetingRequest.objects.get(pk=request.pk)  # the requester's page, loaded while still pending
    services.answer_request(request, ru, accept=False)

    with pytest.raises(ValidationError, match="already declined"):
        services.cancel_request(stale, vn)
    request.refresh_from_db()
    assert request.status == MeetingRequest.Status.DECLINED


@pytest.mark.django_db
def test_staff_cannot_pin_a_request_cancelled_since_their_page_loaded():
    event = EventFactory()
    vn, ru = register_firm(event), register_firm(event, CompanyFactory(country="RU"))
    request = services.request_meeting(vn, ru, staff=True)
    stale = MeetingRequest.objects.get(pk=request.pk)
    services.cancel_request(request, ru)

    with pytest.raises(ValidationError, match="Only accepted requests"):
        schedule.pin_meeting(stale, event.slots.order_by("starts_at").first(), 1)
    assert not Meeting.objects.exists()


@pytest.mark.django_db
def test_two_firms_telling_the_outcome_at_once_keep_both_answers():
    event = EventFactory(starts_on=timezone.localdate() - dt.timedelta(days=1))
    vn, ru = register_firm(event), register_firm(event, CompanyFactory(country="RU"))
    request = services.request_meeting(vn, ru, staff=True)
    schedule.build_event_schedule(event, time_limit=1)
    as_vn, as_ru = (Meeting.objects.select_related("slot", "request").get(request=request) for _ in range(2))

    services.record_meeting_outcome(as_vn, vn, "agreement")
    services.record_meeting_outcome(as_ru, ru, "met")  # loaded before the other answer was saved

    meeting = Meeting.objects.get(request=request)
    assert (meeting.outcome_requester, meeting.outcome_invitee) == ("agreement", "met")


def _in_thread(target, *args, **kwargs):
    """Run ``target`` on its own connection; returns (thread, outcome dict with "result" or "error")."""
    outcome = {}

    def run():
        try:
            outcome["result"] = target(*args, **kwargs)
        except Exception as error:  # noqa: BLE001 - handed to the test
            outcome["error"] = error
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


@pytest.mark.django_db(transaction=True)
def test_a_cancel_during_a_pin_leaves_no_meeting_behind(sectors_loaded, settings, monkeypatch):
    settings.MATCHING_RECOMPUTE_ON_SAVE = False
    event = EventFactory()
    vn, ru = register_firm(event), register_firm(event, CompanyFactory(country="RU"))
    request = services.request_meeting(vn, ru, staff=True)
    slot = event.slots.order_by("starts_at").first()

    # Staff pin the meeting; the pin stops inside its transaction once the meeting row is written.
    saved, release = threading.Event(), threading.Event()
    original_save = Meeting.save

    def save(self, *args, **kwargs):
        original_save(self, *args, **kwargs)
        saved.set()
        release.wait(20)

    monkeypatch.setattr(Meeting, "save", save)
    pin, pin_outcome = _in_thread(schedule.pin_meeting, MeetingRequest.objects.get(pk=request.pk), slot, 1)
    try:
        assert saved.wait(20)
        cancel, cancel_outcome = _in_thread(services.cancel_request, MeetingRequest.objects.get(pk=request.pk), ru)
        cancel.join(1)  # waits for the pin: both lock the event
    finally:
        release.set()
        pin.join(20)
    cancel.join(20)

    assert "result" in pin_outcome and "result" in cancel_outcome, (pin_outcome, cancel_outcome)
    request.refresh_from_db()
    assert request.status == MeetingRequest.Status.CANCELLED
    assert not Meeting.objects.filter(request=request).exists()  # no table held for a cancelled meeting
