"""A firm's B2B event pages without a browser: the list, registration with its times, suggestions and requests,
the agenda on screen, printed and as a calendar file, and what must never show (other firms' contacts)."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from companies.models import Listing
from events import schedule, services
from events.models import Event, MeetingRequest, Participant
from tests.factories import (
    CompanyFactory,
    EventFactory,
    InterpreterFactory,
    ListingFactory,
    MembershipFactory,
    UserFactory,
    register_firm,
)

pytestmark = pytest.mark.django_db

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")


def member_of(client, company):
    user = UserFactory()
    MembershipFactory(company=company, user=user)
    client.force_login(user)
    return client


def registration_data(event, *rows, role="both", **extra) -> dict:
    """Form data with the rows given as ("09:00", "10:30") on the event's first day (blank rows stay blank)."""
    data = {"role": role, "note": "", **extra}
    for n in range(1, 4):
        start, end = rows[n - 1] if n <= len(rows) else ("", "")
        data.update(
            {
                f"window_{n}_day": event.starts_on.isoformat() if start else "",
                f"window_{n}_start": start,
                f"window_{n}_end": end,
            }
        )
    return data


# --- the list ------------------------------------------------------------------------------------------------


def test_the_list_shows_open_and_past_events_but_not_drafts_or_cancelled_ones(client):
    EventFactory(name="Open day in Hanoi")
    EventFactory(
        name="Moscow fair 2019",
        status="finished",
        starts_on=None,
        ends_on=None,
        city="Moscow",
        slots=False,
        description="2019 (the article gives no day). Firms met in Moscow.",
    )
    EventFactory(name="Secret draft day", status="draft")
    EventFactory(name="Called-off day", status="cancelled")

    page = client.get("/events/")

    assert page.status_code == 200
    upcoming, past = page.text.split('id="past-events"')
    assert "Open day in Hanoi" in upcoming and "Registration open" in upcoming
    assert "Moscow fair 2019" in past and "2019 (the article gives no day)" in past
    assert "Secret draft day" not in page.text and "Called-off day" not in page.text
    assert client.get("/events/b2b-does-not-exist/").status_code == 404


def test_the_search_finds_events_by_name_and_city(client):
    EventFactory(name="Coffee and tea day", city="Da Nang")
    EventFactory(name="Machinery day", city="Novosibirsk")

    by_city = client.get("/events/", {"q": "novosib"}).text
    by_name = client.get("/events/", {"q": "coffee"}).text

    assert "Machinery day" in by_city and "Coffee and tea day" not in by_city
    assert "Coffee and tea day" in by_name and "Machinery day" not in by_name


def test_a_member_sees_its_firms_events_with_their_meetings(client):
    event, other = EventFactory(name="Hanoi B2B day"), EventFactory(name="Moscow B2B day")
    firm = CompanyFactory()
    member_of(client, firm)
    mine = register_firm(event, firm)
    services.request_meeting(mine, register_firm(event, CompanyFactory(country="RU")), staff=True)
    schedule.build_event_schedule(event, time_limit=1)

    page = client.get("/events/").text
    section = page[page.index('id="my-events"') : page.index('id="upcoming-events"')]
    assert "Hanoi B2B day" in section and "Moscow B2B day" not in section
    assert "1 meeting" in section and f"/events/{event.slug}/agenda/" in section
    assert other.name in page  # still listed among the upcoming events


def test_a_draft_event_has_no_page(client):
    EventFactory(slug="not-yet", status="draft")
    assert client.get("/events/not-yet/").status_code == 404


# --- registration --------------------------------------------------------------------------------------------


def test_a_visitor_is_asked_to_log_in_to_register(client):
    event = EventFactory(slug="hanoi-day")

    page = client.get("/events/hanoi-day/")

    assert page.status_code == 200 and event.venue in page.text
    assert 'href="/accounts/login/?next=/events/hanoi-day/"' in page.text
    assert 'id="register-form"' not in page.text


def test_a_member_registers_with_two_times_and_sees_its_status(client):
    event = EventFactory(slug="hanoi-day")
    firm = CompanyFactory()
    member_of(client, firm)

    form_page = client.get("/events/hanoi-day/")
    assert 'id="register-form"' in form_page.text and 'value="09:00"' in form_page.text  # prefilled first row

    response = client.post(
        "/events/hanoi-day/register/", registration_data(event, ("09:00", "10:00"), ("10:30", "12:00"), wants_help="on")
    )

    assert response.status_code == 302
    participant = Participant.objects.get(event=event, company=firm)
    assert participant.wants_help and participant.status == Participant.Status.REGISTERED
    assert [
        (w.starts_at.astimezone(HANOI).time(), w.ends_at.astimezone(HANOI).time()) for w in participant.windows.all()
    ] == [(dt.time(9), dt.time(10)), (dt.time(10, 30), dt.time(12))]
    page = client.get(response.url)
    assert "Registered, waiting for staff" in page.text
    assert "Change my times" in page.text and 'value="10:30"' in page.text


def test_overlapping_times_are_refused_with_what_overlaps_and_nothing_is_saved(client):
    event = EventFactory(slug="hanoi-day")
    member_of(client, CompanyFactory())

    response = client.post(
        "/events/hanoi-day/register/",
        registration_data(event, ("09:00", "10:30"), ("10:00", "11:00"), note="Bring samples"),
    )

    assert response.status_code == 400
    assert "Times 1 and 2 overlap" in response.text
    assert "Bring samples" in response.text and 'value="10:30"' in response.text  # what the member typed stays
    assert not Participant.objects.filter(event=event).exists()


def test_a_half_filled_row_is_pointed_out(client):
    event = EventFactory(slug="hanoi-day")
    member_of(client, CompanyFactory())
    data = registration_data(event, ("09:00", "10:00"))
    data["window_2_start"] = "11:00"

    response = client.post("/events/hanoi-day/register/", data)

    assert response.status_code == 400 and "or leave the row blank" in response.text
    assert not Participant.objects.exists()


def test_registration_after_it_closed_is_refused(client):
    event = EventFactory(slug="hanoi-day", registration_closes_at=timezone.now() - dt.timedelta(hours=1))
    member_of(client, CompanyFactory())

    assert "Registration for this event is closed." in client.get("/events/hanoi-day/").text
    response = client.post("/events/hanoi-day/register/", registration_data(event, ("09:00", "10:00")))

    assert response.status_code == 400 and f"Registration for {event.name} is closed." in response.text
    assert not Participant.objects.exists()


def test_a_member_without_a_firm_is_sent_to_describe_it(client):
    EventFactory(slug="hanoi-day")
    client.force_login(UserFactory())

    page = client.get("/events/hanoi-day/")

    assert 'href="/my/profile/"' in page.text and 'id="register-form"' not in page.text


def test_a_registered_firm_can_leave(client):
    event = EventFactory(slug="hanoi-day")
    firm = CompanyFactory()
    participant = register_firm(event, firm, accepted=False)
    member_of(client, firm)

    response = client.post("/events/hanoi-day/leave/")

    participant.refresh_from_db()
    assert participant.status == Participant.Status.WITHDRAWN
    assert "Left the event" in client.get(response.url).text


# --- suggestions, requests, the schedule, the agenda ---------------------------------------------------------


def test_from_a_suggestion_to_a_meeting_on_both_agendas(client, coffee_pair):
    event, vn, ru = coffee_pair

    member_of(client, vn.company)
    page = client.get("/events/hanoi-coffee/")
    assert 'class="card suggestion"' in page.text and "Volga Coffee Trading" in page.text
    assert "Vietnamese robusta coffee supplier" in page.text  # a reason quotes the need the offer meets
    assert ru.company.contact_email not in page.text

    sent = client.post("/events/hanoi-coffee/requests/", {"invitee": ru.pk, "message": "Samples at the table"})
    assert sent.status_code == 302
    request = MeetingRequest.objects.get(requester=vn, invitee=ru)
    assert request.status == MeetingRequest.Status.PENDING
    assert "Your request was sent to Volga Coffee Trading." in client.get("/events/hanoi-coffee/").text

    ru_client = member_of(type(client)(), ru.company)
    received = ru_client.get("/events/hanoi-coffee/")
    assert "Samples at the table" in received.text and "Tay Nguyen Roasters" in received.text
    assert (
        ru_client.post(f"/events/hanoi-coffee/requests/{request.pk}/answer/", {"answer": "accept"}).status_code == 302
    )
    request.refresh_from_db()
    assert request.status == MeetingRequest.Status.ACCEPTED

    schedule.build_event_schedule(event, time_limit=1)

    meeting = request.meeting
    for firm_client, counterpart in ((client, "Volga Coffee Trading"), (ru_client, "Tay Nguyen Roasters")):
        detail = firm_client.get("/events/hanoi-coffee/")
        assert 'id="agenda-link"' in detail.text
        agenda = firm_client.get("/events/hanoi-coffee/agenda/")
        assert agenda.status_code == 200 and 'id="agenda"' in agenda.text
        assert counterpart in agenda.text
        assert f'<td class="table-number">{meeting.table}</td>' in agenda.text
        local = timezone.localtime(meeting.slot.starts_at, HANOI).strftime("%H:%M")
        assert local in agenda.text
    ics = client.get("/events/hanoi-coffee/agenda.ics")
    assert ics["Content-Type"] == "text/calendar; charset=utf-8"
    assert ics["Content-Disposition"] == 'attachment; filename="hanoi-coffee-agenda.ics"'
    assert b"BEGIN:VEVENT" in ics.content and b"Volga Coffee Trading" in ics.content
    printable = client.get("/events/hanoi-coffee/agenda/print/")
    assert printable.status_code == 200 and "window.print()" in printable.text
    assert "Tay Nguyen Roasters" in printable.text and "Volga Coffee Trading" in printable.text


def test_no_page_shows_the_contact_details_of_another_firm(client, coffee_pair):
    event, vn, ru = coffee_pair
    request = services.request_meeting(vn, ru, message="Hello")
    services.answer_request(request, ru, True)
    schedule.build_event_schedule(event, time_limit=1)
    member_of(client, vn.company)

    for url in (
        "/events/",
        "/events/hanoi-coffee/",
        "/events/hanoi-coffee/agenda/",
        "/events/hanoi-coffee/agenda/print/",
        "/events/hanoi-coffee/agenda.ics",
    ):
        content = client.get(url).content.decode()
        assert ru.company.contact_email not in content and ru.company.contact_phone not in content, url
        assert ru.company.contact_name not in content, url


def test_the_agenda_of_another_firm_or_of_no_firm_is_a_404(client, coffee_pair):
    event, vn, ru = coffee_pair
    member_of(client, CompanyFactory(name="Outsider"))

    assert client.get("/events/hanoi-coffee/agenda/").status_code == 404
    assert client.get("/events/hanoi-coffee/agenda.ics").status_code == 404
    assert client.get("/events/hanoi-coffee/agenda/print/").status_code == 404


def test_the_request_limit_is_told(client, coffee_pair):
    event, vn, ru = coffee_pair
    Event.objects.filter(pk=event.pk).update(max_requests_per_firm=1)
    other = register_firm(event, CompanyFactory(country="RU", city="Omsk"))
    member_of(client, vn.company)
    client.post("/events/hanoi-coffee/requests/", {"invitee": ru.pk})

    response = client.post("/events/hanoi-coffee/requests/", {"invitee": other.pk}, follow=True)

    assert "You have sent the 1 request this event allows each firm." in response.text
    assert not MeetingRequest.objects.filter(invitee=other).exists()


def test_a_request_to_a_firm_that_left_is_refused(client, coffee_pair):
    event, vn, ru = coffee_pair
    services.withdraw(ru)
    member_of(client, vn.company)

    response = client.post("/events/hanoi-coffee/requests/", {"invitee": ru.pk}, follow=True)

    assert "Volga Coffee Trading has left the event." in response.text
    assert not MeetingRequest.objects.exists()


def test_a_declined_request_shows_as_declined_and_a_sent_one_can_be_cancelled(client, coffee_pair):
    event, vn, ru = coffee_pair
    request = services.request_meeting(vn, ru)
    member_of(client, ru.company)

    client.post(f"/events/hanoi-coffee/requests/{request.pk}/answer/", {"answer": "decline"})

    request.refresh_from_db()
    assert request.status == MeetingRequest.Status.DECLINED
    vn_client = member_of(type(client)(), vn.company)
    assert "Declined" in vn_client.get("/events/hanoi-coffee/").text
    again = vn_client.post(f"/events/hanoi-coffee/requests/{request.pk}/cancel/", follow=True)
    assert "This request is already declined." in again.text


def test_the_outcome_of_a_meeting_is_recorded_after_it_started(client, coffee_pair):
    event, vn, ru = coffee_pair
    request = services.request_meeting(vn, ru)
    services.answer_request(request, ru, True)
    schedule.build_event_schedule(event, time_limit=1)
    meeting = request.meeting
    member_of(client, vn.company)
    assert 'class="outcome-form"' not in client.get("/events/hanoi-coffee/agenda/").text  # still to come

    meeting.slot.__class__.objects.filter(pk=meeting.slot_id).update(
        starts_at=timezone.now() - dt.timedelta(minutes=30), ends_at=timezone.now() - dt.timedelta(minutes=5)
    )
    assert 'class="outcome-form"' in client.get("/events/hanoi-coffee/agenda/").text
    client.post(f"/events/hanoi-coffee/meetings/{meeting.pk}/outcome/", {"outcome": "met"})

    meeting.refresh_from_db()
    assert meeting.outcome_requester == "met"


def test_the_event_page_speaks_russian(client, coffee_pair):
    event, vn, ru = coffee_pair
    member_of(client, ru.company)

    page = client.get("/events/hanoi-coffee/", HTTP_ACCEPT_LANGUAGE="ru")
    listing = client.get("/events/", HTTP_ACCEPT_LANGUAGE="ru")

    assert page.status_code == 200 and '<html lang="ru">' in page.text
    assert "Предложение партнёра «Robusta coffee beans, roasted»" in page.text  # the suggestion's reason, in Russian
    assert listing.status_code == 200 and '<html lang="ru">' in listing.text


def test_suggestions_are_only_accepted_firms_of_the_other_country(client, coffee_pair):
    event, vn, ru = coffee_pair
    waiting = CompanyFactory(name="Ural Beans Waiting", country="RU", city="Perm")
    ListingFactory(company=waiting, direction=Listing.Direction.NEED, text="Vietnamese robusta coffee supplier")
    register_firm(event, waiting, accepted=False)
    neighbour = CompanyFactory(name="Saigon Coffee Neighbour", country="VN")
    ListingFactory(company=neighbour, direction=Listing.Direction.NEED, text="Robusta coffee beans supplier")
    register_firm(event, neighbour)
    member_of(client, vn.company)

    page = client.get("/events/hanoi-coffee/").text
    suggestions = page.split('id="suggestions"')[1].split('id="participants"')[0]

    assert "Volga Coffee Trading" in suggestions
    assert "Ural Beans Waiting" not in page and "Saigon Coffee Neighbour" not in page


def test_the_agenda_names_the_interpreter_of_firms_without_a_common_language(client):
    event = EventFactory(slug="hanoi-day")
    InterpreterFactory(event=event, name="Tran Thi Mai", pairs=["ru-vi"])
    vn = register_firm(event, CompanyFactory(country="VN", languages=["vi"]))
    ru = register_firm(event, CompanyFactory(country="RU", city="Moscow", languages=["ru"]))
    request = services.request_meeting(ru, vn)
    services.answer_request(request, vn, True)
    schedule.build_event_schedule(event, time_limit=1)
    member_of(client, ru.company)

    for url in ("/events/hanoi-day/agenda/", "/events/hanoi-day/agenda/print/"):
        assert "Tran Thi Mai (Vietnamese–Russian)" in client.get(url).text.replace('<span class="muted">', "").replace(
            "</span>", ""
        ), url
