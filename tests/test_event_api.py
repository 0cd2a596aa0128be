"""The REST API of B2B events, as a firm's client uses it: the events on offer, registering with times,
suggestions, requests and their answers, the agenda; and what it never shows (other firms' contacts)."""

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from events import schedule, services
from events.models import AvailabilityWindow, Event, MeetingRequest, Participant
from tests.factories import CompanyFactory, EventFactory, member_api, register_firm

pytestmark = pytest.mark.django_db

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
CONTACT_FIELDS = {"contact_name", "contact_email", "contact_phone"}


def at(event, clock: str) -> str:
    """An ISO datetime with its offset, on the event's first day in its time zone."""
    hours, minutes = map(int, clock.split(":"))
    return dt.datetime.combine(event.starts_on, dt.time(hours, minutes), HANOI).isoformat()


def no_contacts(body, *firms) -> bool:
    text = json.dumps(body, ensure_ascii=False)
    leaked = [f for f in firms if f.contact_email in text or f.contact_phone in text or f.contact_name in text]
    return not leaked and not any(f'"{field}"' in text for field in CONTACT_FIELDS)


# --- the events on offer -------------------------------------------------------------------------------------


def test_anyone_lists_events_on_offer_and_held_but_not_drafts_or_cancelled_ones():
    EventFactory(name="Open day in Hanoi", slug="open-day")
    EventFactory(name="Moscow fair 2019", status="finished", starts_on=None, ends_on=None, city="Moscow", slots=False)
    EventFactory(name="Secret draft day", status="draft")
    EventFactory(name="Called-off day", status="cancelled")

    body = APIClient().get("/api/v1/events/").json()

    assert body["count"] == 2
    assert [e["name"] for e in body["results"]] == ["Open day in Hanoi", "Moscow fair 2019"]  # undated last
    first = body["results"][0]
    assert (first["slug"], first["status"], first["registration_open"], first["time_zone"]) == (
        "open-day",
        "open",
        True,
        "Asia/Ho_Chi_Minh",
    )
    assert APIClient().get("/api/v1/events/secret-draft-day-does-not-exist/").status_code == 404


def test_anyone_reads_an_events_public_facts_and_slots_in_its_time_zone():
    event = EventFactory(slug="hanoi-day", registration_closes_at=dt.datetime(2030, 1, 1, 10, 0, tzinfo=dt.UTC))
    draft = EventFactory(status="draft")

    body = APIClient().get("/api/v1/events/hanoi-day/").json()

    assert body["organiser"] == event.organiser.name and body["venue"] == "VCCI Tower, hall A"
    assert (body["meeting_minutes"], body["break_minutes"], body["tables"], body["request_rule"]) == (
        25,
        5,
        4,
        "cross_border",
    )
    assert body["registration_closes_at"] == "2030-01-01T17:00:00+07:00"
    assert len(body["slots"]) == 6
    assert body["slots"][0] == {"number": 1, "starts_at": at(event, "09:00"), "ends_at": at(event, "09:25")}
    assert APIClient().get(f"/api/v1/events/{draft.slug}/").status_code == 404


def test_events_are_searched_by_name_and_city_and_filtered():
    EventFactory(name="Coffee and tea day", city="Da Nang")
    EventFactory(name="Machinery day", city="Novosibirsk")
    EventFactory(name="Pharma day 2019", city="Moscow", status="finished", slots=False)
    api = APIClient()

    def names(**query) -> list[str]:
        response = api.get("/api/v1/events/", query)
        assert response.status_code == 200, response.content
        return sorted(e["name"] for e in response.json()["results"])

    assert names(search="novosib") == ["Machinery day"]
    assert names(search="coffee") == ["Coffee and tea day"]
    assert names(city="moscow") == ["Pharma day 2019"]
    assert names(status="finished") == ["Pharma day 2019"]
    assert names(upcoming="true") == ["Coffee and tea day", "Machinery day"]
    assert names(upcoming="false") == ["Pharma day 2019"]
    assert api.get("/api/v1/events/", {"status": "draft"}).status_code == 400


# --- registration --------------------------------------------------------------------------------------------


def test_a_member_registers_with_two_times_and_reads_them_back():
    event = EventFactory(slug="hanoi-day")
    firm = CompanyFactory()
    api = member_api(firm)
    url = "/api/v1/events/hanoi-day/registration/"
    assert api.get(url).status_code == 404

    response = api.put(
        url,
        {
            "role": "seller",
            "wants_help": True,
            "note": "Bring samples",
            "windows": [
                {"starts_at": at(event, "09:00"), "ends_at": at(event, "10:00")},
                {"starts_at": at(event, "10:30"), "ends_at": at(event, "12:00")},
            ],
        },
        format="json",
    )

    assert response.status_code == 200, response.content
    participant = Participant.objects.get(event=event, company=firm)
    assert (participant.role, participant.wants_help, participant.status) == ("seller", True, "registered")
    body = api.get(url).json()
    assert body["status"] == "registered" and body["note"] == "Bring samples"
    assert body["windows"] == [
        {"starts_at": at(event, "09:00"), "ends_at": at(event, "10:00")},
        {"starts_at": at(event, "10:30"), "ends_at": at(event, "12:00")},
    ]
    assert body["available_slots"] == 5  # 09:00 and 09:30; 10:30, 11:00 and 11:30


def test_overlapping_times_are_refused_under_windows_and_nothing_is_saved():
    event = EventFactory(slug="hanoi-day")
    api = member_api(CompanyFactory())

    response = api.put(
        "/api/v1/events/hanoi-day/registration/",
        {
            "windows": [
                {"starts_at": at(event, "09:00"), "ends_at": at(event, "10:30")},
                {"starts_at": at(event, "10:00"), "ends_at": at(event, "11:00")},
            ],
        },
        format="json",
    )

    assert response.status_code == 400
    assert "Times 1 and 2 overlap" in response.json()["windows"][0]
    assert not Participant.objects.exists() and not AvailabilityWindow.objects.exists()


def test_times_without_an_offset_or_too_many_are_refused_under_windows():
    event = EventFactory(slug="hanoi-day")
    api = member_api(CompanyFactory())
    url = "/api/v1/events/hanoi-day/registration/"

    naive = api.put(
        url, {"windows": [{"starts_at": "2030-01-01T09:00:00", "ends_at": at(event, "10:00")}]}, format="json"
    )
    four = api.put(
        url, {"windows": [{"starts_at": at(event, "09:00"), "ends_at": at(event, "09:30")}] * 4}, format="json"
    )

    assert naive.status_code == 400 and "UTC offset" in naive.json()["windows"][0]
    assert four.status_code == 400 and four.json()["windows"]
    assert not Participant.objects.exists()


def test_registration_after_it_closed_is_refused():
    event = EventFactory(slug="hanoi-day", registration_closes_at=timezone.now() - dt.timedelta(hours=1))
    api = member_api(CompanyFactory())

    response = api.put(
        "/api/v1/events/hanoi-day/registration/",
        {"windows": [{"starts_at": at(event, "09:00"), "ends_at": at(event, "10:00")}]},
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {"non_field_errors": [f"Registration for {event.name} is closed."]}
    assert not Participant.objects.exists()


def test_a_registered_firm_leaves_and_cannot_leave_twice():
    event = EventFactory(slug="hanoi-day")
    firm = CompanyFactory()
    participant = register_firm(event, firm, accepted=False)
    api = member_api(firm)

    assert api.delete("/api/v1/events/hanoi-day/registration/").status_code == 204
    participant.refresh_from_db()
    assert participant.status == Participant.Status.WITHDRAWN
    again = api.delete("/api/v1/events/hanoi-day/registration/")
    assert again.status_code == 400 and "is not taking part" in again.json()["non_field_errors"][0]


# --- suggestions, requests, the schedule, the agenda ---------------------------------------------------------


def test_suggestions_name_the_other_country_firm_with_reasons(coffee_pair):
    event, vn, ru = coffee_pair

    body = member_api(vn.company).get("/api/v1/events/hanoi-coffee/suggestions/").json()

    assert [s["participant"] for s in body] == [ru.pk]
    assert body[0]["firm"]["name"] == "Volga Coffee Trading" and body[0]["firm"]["country"] == "RU"
    assert any("Vietnamese robusta coffee supplier" in reason for reason in body[0]["reasons"])
    assert no_contacts(body, ru.company)
    assert member_api(CompanyFactory()).get("/api/v1/events/hanoi-coffee/suggestions/").status_code == 404


def test_from_a_request_to_a_meeting_on_the_agenda(coffee_pair):
    event, vn, ru = coffee_pair
    vn_api, ru_api = member_api(vn.company), member_api(ru.company)

    sent = vn_api.post("/api/v1/events/hanoi-coffee/requests/", {"invitee": ru.pk, "message": "Samples"}, format="json")
    assert sent.status_code == 201, sent.content
    request_id = sent.json()["id"]
    assert (sent.json()["direction"], sent.json()["status"], sent.json()["meeting"]) == ("sent", "pending", None)

    received = ru_api.get("/api/v1/events/hanoi-coffee/requests/").json()
    assert [(r["id"], r["direction"], r["message"], r["may_answer"]) for r in received] == [
        (request_id, "received", "Samples", True)
    ]
    answered = ru_api.post(
        f"/api/v1/events/hanoi-coffee/requests/{request_id}/answer/", {"answer": "accept"}, format="json"
    )
    assert answered.status_code == 200 and answered.json()["status"] == "accepted"

    schedule.build_event_schedule(event, time_limit=1)

    meeting = MeetingRequest.objects.get(pk=request_id).meeting
    agenda = vn_api.get("/api/v1/events/hanoi-coffee/agenda/").json()
    assert len(agenda) == 1
    assert agenda[0]["meeting"] == meeting.pk and agenda[0]["table"] == meeting.table
    assert agenda[0]["firm"]["name"] == "Volga Coffee Trading" and agenda[0]["counterpart"] == ru.pk
    assert agenda[0]["starts_at"] == timezone.localtime(meeting.slot.starts_at, HANOI).isoformat()
    assert ru_api.get("/api/v1/events/hanoi-coffee/agenda/").json()[0]["firm"]["name"] == "Tay Nguyen Roasters"
    row = vn_api.get("/api/v1/events/hanoi-coffee/requests/").json()[0]
    assert row["meeting"]["table"] == meeting.table
    for client, other in ((vn_api, ru.company), (ru_api, vn.company)):
        for path in ("", "registration/", "suggestions/", "requests/", "agenda/"):
            assert no_contacts(client.get(f"/api/v1/events/hanoi-coffee/{path}").json(), other), path


def test_a_request_to_a_firm_that_left_is_refused(coffee_pair):
    event, vn, ru = coffee_pair
    services.withdraw(ru)

    response = member_api(vn.company).post("/api/v1/events/hanoi-coffee/requests/", {"invitee": ru.pk}, format="json")

    assert response.status_code == 400
    assert response.json() == {"non_field_errors": ["Volga Coffee Trading has left the event."]}
    assert not MeetingRequest.objects.exists()


def test_a_request_to_a_firm_of_another_event_is_refused(coffee_pair):
    event, vn, ru = coffee_pair
    elsewhere = register_firm(EventFactory(), CompanyFactory(country="RU"))

    response = member_api(vn.company).post(
        "/api/v1/events/hanoi-coffee/requests/", {"invitee": elsewhere.pk}, format="json"
    )

    assert response.status_code == 400 and "invitee" in response.json()
    assert not MeetingRequest.objects.exists()


def test_another_firms_request_and_meeting_are_not_found(coffee_pair):
    event, vn, ru = coffee_pair
    request = services.request_meeting(vn, ru)
    outsider = register_firm(event, CompanyFactory(country="RU", city="Omsk"))
    api = member_api(outsider.company)

    assert (
        api.post(
            f"/api/v1/events/hanoi-coffee/requests/{request.pk}/answer/", {"answer": "accept"}, format="json"
        ).status_code
        == 404
    )
    assert api.post(f"/api/v1/events/hanoi-coffee/requests/{request.pk}/cancel/").status_code == 404
    assert api.get("/api/v1/events/hanoi-coffee/requests/").json() == []
    request.refresh_from_db()
    assert request.status == MeetingRequest.Status.PENDING


def test_the_outcome_of_a_meeting_is_told_once_it_started(coffee_pair):
    event, vn, ru = coffee_pair
    request = services.request_meeting(vn, ru)
    services.answer_request(request, ru, True)
    schedule.build_event_schedule(event, time_limit=1)
    meeting = request.meeting
    api = member_api(vn.company)
    url = f"/api/v1/events/hanoi-coffee/meetings/{meeting.pk}/outcome/"

    early = api.post(url, {"outcome": "met"}, format="json")
    assert early.status_code == 400 and early.json()["non_field_errors"] == ["The meeting has not taken place yet."]

    meeting.slot.__class__.objects.filter(pk=meeting.slot_id).update(
        starts_at=timezone.now() - dt.timedelta(minutes=30), ends_at=timezone.now() - dt.timedelta(minutes=5)
    )
    body = api.post(url, {"outcome": "met"}, format="json").json()
    assert (body["meeting"], body["my_outcome"], body["started"]) == (meeting.pk, "met", True)
    assert member_api(CompanyFactory()).post(url, {"outcome": "met"}, format="json").status_code == 404


def test_anonymous_visitors_cannot_act_for_a_firm(coffee_pair):
    for path in ("registration/", "suggestions/", "requests/", "agenda/"):
        assert APIClient().get(f"/api/v1/events/hanoi-coffee/{path}").status_code in (401, 403)
    assert Event.objects.get(slug="hanoi-coffee").participants.count() == 2
