"""The chamber staff's side of B2B events in the admin: events, participants, requests, meetings, the schedule
build, the check-in desk, the report and the command that builds a schedule."""

import csv
import io
import re
from collections import Counter
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from events import schedule, services
from events.models import Event, Meeting, MeetingRequest, Participant, TimeSlot
from tests.factories import (
    ChamberFactory,
    EventFactory,
    InterpreterFactory,
    published_firm,
    register_firm,
)

pytestmark = pytest.mark.django_db

EVENTS = "/admin/events/event/"
PARTICIPANTS = "/admin/events/participant/"
REQUESTS = "/admin/events/meetingrequest/"
MEETINGS = "/admin/events/meeting/"


@pytest.fixture(autouse=True)
def _quick_schedules(settings):
    settings.EVENT_SCHEDULE_SECONDS = 1


@pytest.fixture
def event_staff(staff_client):
    """VCCI's staff, with what the "Chamber staff" group holds from events' migration 0002 and nothing added."""
    return staff_client


def accepted_request(requester: Participant, invitee: Participant, score: float = 0.5) -> MeetingRequest:
    # Set up directly: the engine's scoring is beside the point of these tests.
    return MeetingRequest.objects.create(
        event=requester.event, requester=requester, invitee=invitee, status=MeetingRequest.Status.ACCEPTED, score=score
    )


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def event_form(**overrides) -> dict:
    data = {
        "name": "Hanoi B2B day",
        "slug": "hanoi-b2b-day",
        "status": "draft",
        "city": "Hanoi",
        "venue": "",
        "description": "",
        "starts_on": "2030-05-20",
        "ends_on": "2030-05-20",
        "time_zone": "Asia/Ho_Chi_Minh",
        "day_starts_at": "09:00",
        "day_ends_at": "12:00",
        "meeting_minutes": "25",
        "break_minutes": "5",
        "tables": "4",
        "registration_opens_at_0": "",
        "registration_opens_at_1": "",
        "registration_closes_at_0": "",
        "registration_closes_at_1": "",
        "request_rule": "cross_border",
        "max_requests_per_firm": "10",
        "source_article": "",
    }
    for prefix in ("interpreters", "slots"):
        data.update(
            {
                f"{prefix}-TOTAL_FORMS": "0",
                f"{prefix}-INITIAL_FORMS": "0",
                f"{prefix}-MIN_NUM_FORMS": "0",
                f"{prefix}-MAX_NUM_FORMS": "1000",
            }
        )
    return {**data, **overrides}


@pytest.fixture
def day(vcci):
    """VCCI's event with two Vietnamese and two Russian firms, all accepted; each Vietnamese firm has an accepted
    request to each Russian firm (they share English: no interpreter)."""
    event = EventFactory(organiser=vcci, name="Hanoi pharma day")
    vn = [register_firm(event, published_firm("VN", name=f"Dược {n}")) for n in range(2)]
    ru = [register_firm(event, published_firm("RU", name=f"Фарма {n}")) for n in range(2)]
    requests = [accepted_request(a, b) for a in vn for b in ru]
    return {"event": event, "vn": vn, "ru": ru, "requests": requests}


def needs_interpreter(event):
    """A Vietnamese-only and a Russian-only firm, accepted: their meeting needs a ru-vi interpreter."""
    a = register_firm(event, published_firm("VN", languages=["vi"]))
    b = register_firm(event, published_firm("RU", languages=["ru"]))
    return accepted_request(a, b)


# --- who sees what -----------------------------------------------------------------------------------------------


def test_superusers_see_every_events_pages(superuser_client, day):
    schedule.build_event_schedule(day["event"])
    EventFactory(name="Moscow day", organiser=ChamberFactory(slug="tpp-test"))
    page = superuser_client.get(EVENTS).content.decode()
    assert "Hanoi pharma day" in page and "Moscow day" in page
    for url in (
        PARTICIPANTS,
        REQUESTS,
        MEETINGS,
        f"{REQUESTS}?placed=no",
        f"{MEETINGS}?pinned__exact=1",
        reverse("admin:events_event_change", args=[day["event"].pk]),
        reverse("admin:events_participant_change", args=[day["vn"][0].pk]),
        reverse("admin:events_meetingrequest_change", args=[day["requests"][0].pk]),
        reverse("admin:events_meeting_change", args=[Meeting.objects.first().pk]),
        reverse("admin:events_meetingrequest_add"),
        reverse("admin:events_meeting_add"),
        reverse("admin:events_event_add"),
    ):
        assert superuser_client.get(url).status_code == 200, url


def test_event_list_counts_accepted_firms_and_meetings(superuser_client, day):
    register_firm(day["event"], published_firm("VN"), accepted=False)  # waiting for staff: not counted
    schedule.build_event_schedule(day["event"])
    response = superuser_client.get(EVENTS)
    row = next(e for e in response.context["cl"].result_list if e.pk == day["event"].pk)
    assert (row.accepted_total, row.meeting_total) == (4, 4)


def test_chamber_staff_see_only_their_chambers_events(event_staff, day):
    other = EventFactory(name="Moscow day", organiser=ChamberFactory(slug="tpp-test"))
    theirs = register_firm(other, published_firm("RU", name="Чужая фирма"))
    page = event_staff.get(EVENTS).content.decode()
    assert "Hanoi pharma day" in page and "Moscow day" not in page
    assert event_staff.get(reverse("admin:events_event_change", args=[day["event"].pk])).status_code == 200
    assert event_staff.get(reverse("admin:events_event_change", args=[other.pk])).status_code == 302  # "doesn't exist"
    participants = event_staff.get(PARTICIPANTS).content.decode()
    assert "Dược 0" in participants
    assert "Чужая фирма" not in participants
    assert event_staff.get(reverse("admin:events_event_report", args=[other.pk])).status_code == 404
    assert event_staff.post(reverse("admin:events_event_build_schedule", args=[other.pk])).status_code == 404
    event_staff.post(PARTICIPANTS, {"action": "check_in", "_selected_action": [theirs.pk, day["vn"][0].pk]})
    assert Participant.objects.get(pk=theirs.pk).attendance == ""
    assert Participant.objects.get(pk=day["vn"][0].pk).attendance == "checked_in"


def test_chamber_staff_create_events_for_their_own_chamber_only(event_staff, vcci):
    other = ChamberFactory(slug="tpp-test")
    response = event_staff.post(reverse("admin:events_event_add"), event_form(organiser=other.pk))
    assert "organiser" in response.context["adminform"].form.errors
    event_staff.post(reverse("admin:events_event_add"), event_form(organiser=vcci.pk))
    assert Event.objects.get(slug="hanoi-b2b-day").organiser == vcci


# --- the event form and its actions ---------------------------------------------------------------------------------


def test_an_event_without_tables_is_refused_on_the_form(superuser_client, vcci):
    response = superuser_client.post(reverse("admin:events_event_add"), event_form(organiser=vcci.pk, tables="0"))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["tables"] == ["An event needs at least one table."]
    assert not Event.objects.exists()


def test_saving_a_new_event_with_days_makes_its_slots(superuser_client, vcci):
    response = superuser_client.post(reverse("admin:events_event_add"), event_form(organiser=vcci.pk), follow=True)
    event = Event.objects.get(slug="hanoi-b2b-day")
    assert event.slots.count() == 6  # 09:00–12:00, 25 minutes and a 5-minute break
    assert "6 time slots made from the event's days and hours." in messages_of(response)


def test_interpreters_are_given_their_language_pairs_by_checkboxes(superuser_client, vcci):
    data = event_form(
        organiser=vcci.pk,
        **{
            "interpreters-TOTAL_FORMS": "1",
            "interpreters-0-name": "Nguyễn Thị Lan",
            "interpreters-0-email": "",
            "interpreters-0-pairs": ["ru-vi", "en-vi"],
        },
    )
    superuser_client.post(reverse("admin:events_event_add"), data)
    assert sorted(Event.objects.get(slug="hanoi-b2b-day").interpreters.get().pairs) == ["en-vi", "ru-vi"]


def test_generate_slots_action_fills_the_days(superuser_client, vcci):
    event = EventFactory(organiser=vcci, slots=False)
    response = superuser_client.post(
        EVENTS, {"action": "generate_slots_action", "_selected_action": [event.pk]}, follow=True
    )
    assert TimeSlot.objects.filter(event=event).count() == 6
    assert f"{event}: 6 time slots." in messages_of(response)


def test_generate_slots_action_says_why_it_refuses(superuser_client, day):
    schedule.build_event_schedule(day["event"])
    response = superuser_client.post(
        EVENTS, {"action": "generate_slots_action", "_selected_action": [day["event"].pk]}, follow=True
    )
    assert any("already has scheduled meetings" in m for m in messages_of(response))
    assert Meeting.objects.filter(event=day["event"]).count() == 4


def test_registration_is_opened_closed_and_the_event_marked_held(superuser_client, vcci):
    event = EventFactory(organiser=vcci, status="draft")
    bare = EventFactory(organiser=vcci, status="draft", slots=False, name="No slots yet")
    response = superuser_client.post(
        EVENTS, {"action": "open_registration", "_selected_action": [event.pk, bare.pk]}, follow=True
    )
    assert Event.objects.get(pk=event.pk).status == "open"
    assert Event.objects.get(pk=bare.pk).status == "draft"
    assert any("No slots yet has no time slots" in m for m in messages_of(response))
    superuser_client.post(EVENTS, {"action": "close_registration", "_selected_action": [event.pk]})
    assert Event.objects.get(pk=event.pk).status == "closed"
    superuser_client.post(EVENTS, {"action": "mark_held", "_selected_action": [event.pk]})
    assert Event.objects.get(pk=event.pk).status == "finished"


def test_email_agendas_action_queues_the_task(superuser_client, day, monkeypatch):
    tasks = pytest.importorskip("events.tasks")
    queued = []
    monkeypatch.setattr(tasks.send_event_agendas, "delay", lambda event_id: queued.append(event_id))
    response = superuser_client.post(
        EVENTS, {"action": "email_agendas", "_selected_action": [day["event"].pk]}, follow=True
    )
    assert queued == [day["event"].pk]
    assert any("Agendas of 1 event queued" in m for m in messages_of(response))


# --- the schedule ---------------------------------------------------------------------------------------------------


def test_build_schedule_button_places_the_accepted_requests(event_staff, day):
    event = day["event"]
    change_page = event_staff.get(reverse("admin:events_event_change", args=[event.pk])).content.decode()
    build_url = reverse("admin:events_event_build_schedule", args=[event.pk])
    assert build_url in change_page
    assert event_staff.get(build_url).status_code == 405  # a rebuild is never a GET

    response = event_staff.post(build_url, follow=True)
    assert response.redirect_chain[-1][0] == reverse("admin:events_event_change", args=[event.pk])
    meetings = list(Meeting.objects.filter(event=event).select_related("request"))
    assert {m.request_id for m in meetings} == {r.pk for r in day["requests"]}
    in_slot = Counter((firm, m.slot_id) for m in meetings for firm in (m.request.requester_id, m.request.invitee_id))
    assert max(in_slot.values()) == 1  # no firm in two meetings at once
    assert any("Meetings placed: 4; requests not placed: 0" in m for m in messages_of(response))
    assert Event.objects.get(pk=event.pk).status == "scheduled"


def test_build_schedule_lists_the_requests_it_could_not_place(superuser_client, vcci):
    event = EventFactory(organiser=vcci)
    slots = list(event.slots.order_by("starts_at"))
    only_first = [(slots[0].starts_at, slots[0].ends_at)]
    vn = register_firm(event, published_firm("VN", name="Busy Việt"), windows=only_first)
    ru = [register_firm(event, published_firm("RU", name=f"Фирма {n}"), windows=only_first) for n in range(2)]
    for other in ru:
        accepted_request(vn, other)
    response = superuser_client.post(
        EVENTS, {"action": "build_schedule_action", "_selected_action": [event.pk]}, follow=True
    )
    shown = messages_of(response)
    assert any("Meetings placed: 1; requests not placed: 1" in m for m in shown)
    assert any(m.startswith("Not placed: Busy Việt → Фирма") for m in shown)
    unplaced = MeetingRequest.objects.exclude(unplaced_reason="")
    assert unplaced.count() == 1
    placed_or_not = superuser_client.get(f"{REQUESTS}?placed=no")
    assert [r.pk for r in placed_or_not.context["cl"].result_list] == [unplaced.get().pk]


def test_an_interpreter_double_booked_by_hand_is_refused(superuser_client, vcci):
    event = EventFactory(organiser=vcci)
    lan = InterpreterFactory(event=event, name="Lan", pairs=["ru-vi"])
    first, second = needs_interpreter(event), needs_interpreter(event)
    slot = event.slots.order_by("starts_at").first()
    schedule.pin_meeting(first, slot, 1, lan)

    response = superuser_client.post(
        reverse("admin:events_meeting_add"),
        {"request": second.pk, "slot": slot.pk, "table": "2", "interpreter": lan.pk},
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.non_field_errors()
    assert f"Lan already interprets {first} in that slot." in errors
    assert not Meeting.objects.filter(request=second).exists()
    assert Meeting.objects.get(request=first).table == 1

    taken = superuser_client.post(
        reverse("admin:events_meeting_add"), {"request": second.pk, "slot": slot.pk, "table": "1", "interpreter": ""}
    )
    errors = taken.context["adminform"].form.non_field_errors()
    assert f"Table 1 is taken in that slot by {first}." in errors
    assert any("choose an interpreter for ru-vi" in e for e in errors)


def test_a_meeting_placed_by_hand_is_pinned_and_survives_a_rebuild(superuser_client, day):
    event = day["event"]
    request = day["requests"][0]
    last_slot = event.slots.order_by("starts_at").last()
    response = superuser_client.post(
        reverse("admin:events_meeting_add"),
        {"request": request.pk, "slot": last_slot.pk, "table": "3", "interpreter": ""},
        follow=True,
    )
    assert response.status_code == 200
    meeting = Meeting.objects.get(request=request)
    assert (meeting.slot, meeting.table, meeting.pinned) == (last_slot, 3, True)

    superuser_client.post(reverse("admin:events_event_build_schedule", args=[event.pk]))
    meeting = Meeting.objects.get(request=request)
    assert (meeting.slot, meeting.table, meeting.pinned) == (last_slot, 3, True)
    assert Meeting.objects.filter(event=event).count() == 4

    # Moved by hand on its page to a slot where both firms are free, it stays pinned where it was put.
    meetings = list(Meeting.objects.filter(event=event).exclude(pk=meeting.pk).select_related("request"))
    firms = {request.requester_id, request.invitee_id}
    slot = next(
        s
        for s in event.slots.order_by("starts_at")
        if s != last_slot
        and not any(m.slot_id == s.pk and firms & {m.request.requester_id, m.request.invitee_id} for m in meetings)
    )
    table = min(set(range(1, event.tables + 1)) - {m.table for m in meetings if m.slot_id == slot.pk})
    superuser_client.post(
        reverse("admin:events_meeting_change", args=[meeting.pk]),
        {"slot": slot.pk, "table": str(table), "interpreter": ""},
    )
    meeting = Meeting.objects.get(pk=meeting.pk)
    assert (meeting.slot, meeting.table, meeting.pinned) == (slot, table, True)
    superuser_client.post(MEETINGS, {"action": "unpin", "_selected_action": [meeting.pk]})
    assert not Meeting.objects.get(pk=meeting.pk).pinned


# --- meetings staff add for firms -------------------------------------------------------------------------------------


def test_staff_add_a_meeting_for_a_firm_that_asked_for_help(event_staff, vcci):
    event = EventFactory(organiser=vcci)
    helpless = register_firm(event, published_firm("VN", name="Cà phê Đà Lạt"), wants_help=True)
    roaster = register_firm(event, published_firm("RU", name="Обжарка"))
    add_page = event_staff.get(reverse("admin:events_meetingrequest_add")).content.decode()
    assert "asks for help" in add_page

    response = event_staff.post(
        reverse("admin:events_meetingrequest_add"),
        {"requester": helpless.pk, "invitee": roaster.pk, "message": "Both at the coffee stand"},
        follow=True,
    )
    assert response.status_code == 200
    request = MeetingRequest.objects.get(requester=helpless, invitee=roaster)
    assert (request.status, request.added_by_staff, request.created_by) == ("accepted", True, event_staff.user)
    assert request.message == "Both at the coffee stand"


def test_a_request_to_a_firm_that_left_is_refused_on_the_form(superuser_client, vcci):
    event = EventFactory(organiser=vcci)
    asking = register_firm(event, published_firm("VN"), wants_help=True)
    gone = register_firm(event, published_firm("RU", name="Ушедшая фирма"))
    services.withdraw(gone)
    response = superuser_client.post(
        reverse("admin:events_meetingrequest_add"), {"requester": asking.pk, "invitee": gone.pk, "message": ""}
    )
    assert response.status_code == 200
    assert "Ушедшая фирма has left the event." in response.context["adminform"].form.non_field_errors()
    assert not MeetingRequest.objects.exists()


def test_existing_requests_are_read_only(superuser_client, day):
    request = day["requests"][0]
    response = superuser_client.post(
        reverse("admin:events_meetingrequest_change", args=[request.pk]), {"status": "declined"}
    )
    assert response.status_code == 403
    assert MeetingRequest.objects.get(pk=request.pk).status == "accepted"


# --- the day: check-in desk -----------------------------------------------------------------------------------------


def test_check_in_no_show_and_clear_attendance(event_staff, day):
    came, missed = day["vn"][0], day["ru"][0]
    response = event_staff.post(PARTICIPANTS, {"action": "check_in", "_selected_action": [came.pk]}, follow=True)
    assert "1 firm checked in." in messages_of(response)
    event_staff.post(PARTICIPANTS, {"action": "mark_no_show", "_selected_action": [missed.pk]})
    came.refresh_from_db()
    missed.refresh_from_db()
    assert (came.attendance, missed.attendance) == ("checked_in", "no_show")
    assert came.checked_in_at is not None
    event_staff.post(PARTICIPANTS, {"action": "clear_attendance", "_selected_action": [came.pk]})
    came.refresh_from_db()
    assert (came.attendance, came.checked_in_at) == ("", None)


def test_participant_list_counts_available_slots_and_meetings(superuser_client, day):
    schedule.build_event_schedule(day["event"])
    rows = {p.pk: p for p in superuser_client.get(PARTICIPANTS).context["cl"].result_list}
    firm = rows[day["vn"][0].pk]
    assert firm.meeting_total == 2
    page = superuser_client.get(PARTICIPANTS).content.decode()
    assert '<td class="field-available_slots">6</td>' in page


def test_withdrawing_firms_frees_their_meetings_and_skips_those_gone(superuser_client, day):
    leaving, declined = day["vn"][0], day["vn"][1]
    schedule.build_event_schedule(day["event"])
    services.set_participant_status([declined], Participant.Status.DECLINED)
    response = superuser_client.post(
        PARTICIPANTS, {"action": "withdraw", "_selected_action": [leaving.pk, declined.pk]}, follow=True
    )
    assert "Firms withdrawn: 1; requests cancelled: 2." in messages_of(response)
    assert Participant.objects.get(pk=declined.pk).status == "declined"
    assert not Meeting.objects.filter(event=day["event"]).exists()


def test_participant_page_shows_and_takes_times_in_the_events_time_zone(superuser_client, day):
    firm = day["vn"][0]
    url = reverse("admin:events_participant_change", args=[firm.pk])
    page = superuser_client.get(url).content.decode()
    assert 'value="09:00:00"' in page and 'value="11:55:00"' in page  # Hanoi time; the server runs in UTC
    window = firm.windows.get()
    form = {
        "role": "both",
        "note": "",
        "windows-TOTAL_FORMS": "1",
        "windows-INITIAL_FORMS": "1",
        "windows-MIN_NUM_FORMS": "0",
        "windows-MAX_NUM_FORMS": "1000",
        "windows-0-id": str(window.pk),
        "windows-0-participant": str(firm.pk),
        "windows-0-starts_at_0": str(day["event"].starts_on),
        "windows-0-starts_at_1": "08:00",
        "windows-0-ends_at_0": str(day["event"].starts_on),
        "windows-0-ends_at_1": "09:30",
    }
    # Two accepted requests do not fit into the one slot (09:00–09:25) that 08:00–09:30 holds.
    response = superuser_client.post(url, form)
    assert any("hold only 1" in e for e in response.context["inline_admin_formsets"][0].formset.non_form_errors())
    superuser_client.post(url, {**form, "windows-0-ends_at_1": "10:00"})
    window.refresh_from_db()
    assert window.ends_at.astimezone(ZoneInfo("Asia/Ho_Chi_Minh")).strftime("%H:%M") == "10:00"


@pytest.mark.parametrize("url", [EVENTS, PARTICIPANTS, REQUESTS, MEETINGS])
def test_changelists_take_as_many_queries_for_many_rows_as_for_few(superuser_client, vcci, url):
    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert superuser_client.get(url).status_code == 200
        return len(ctx.captured_queries)

    def an_event():
        event = EventFactory(organiser=vcci)
        InterpreterFactory(event=event)
        pairs = [
            (register_firm(event, published_firm("VN")), register_firm(event, published_firm("RU"))) for _ in range(2)
        ]
        for a, b in pairs:
            accepted_request(a, b)
        schedule.build_event_schedule(event)

    an_event()
    few = queries()
    for _ in range(3):
        an_event()
    assert queries() == few


def test_declining_a_firm_cancels_its_requests(superuser_client, day):
    firm = day["vn"][0]
    schedule.build_event_schedule(day["event"])
    superuser_client.post(PARTICIPANTS, {"action": "decline", "_selected_action": [firm.pk]})
    assert Participant.objects.get(pk=firm.pk).status == "declined"
    assert not Meeting.objects.filter(request__requester=firm).exists()
    assert set(MeetingRequest.objects.filter(requester=firm).values_list("status", flat=True)) == {"cancelled"}


# --- the report -----------------------------------------------------------------------------------------------------


def test_report_shows_the_figures_and_the_csv_has_a_row_per_meeting(event_staff, day):
    event = day["event"]
    schedule.build_event_schedule(event)
    services.set_attendance(day["vn"] + day["ru"][:1], Participant.Attendance.CHECKED_IN)
    services.set_attendance(day["ru"][1:], Participant.Attendance.NO_SHOW)

    response = event_staff.get(reverse("admin:events_event_report", args=[event.pk]))
    assert response.status_code == 200
    report = response.context["report"]
    assert (report["participants"], report["checked_in"], report["no_shows"], report["meetings"], report["held"]) == (
        4,
        3,
        1,
        4,
        2,
    )
    page = response.content.decode()
    assert re.search(r"Meetings held \(both firms checked in\)</th>\s*<td>2</td>", page)
    assert re.search(r"Did not come</th>\s*<td>1</td>", page)
    assert "<svg" in page and '<th scope="row">Russia</th>' in page and '<th scope="row">Vietnam</th>' in page

    csv_response = event_staff.get(reverse("admin:events_event_report_csv", args=[event.pk]))
    text = csv_response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert len(rows) == 1 + 4
    assert rows[0][0] == "starts at (Asia/Ho_Chi_Minh)"
    first = rows[1]
    local_slots = {"09:00", "09:30", "10:00", "10:30", "11:00", "11:30"}  # Hanoi time, not the server's UTC
    assert {row[0][-5:] for row in rows[1:]} <= local_slots
    assert (
        first[2].startswith("Dược") and first[3] == "Vietnam" and first[5].startswith("Фарма") and first[6] == "Russia"
    )
    assert Counter(row[9] for row in rows[1:]) == Counter({"yes": 2, "no": 2})


# --- the command ----------------------------------------------------------------------------------------------------


def test_command_builds_and_prints_its_summary(day):
    out = io.StringIO()
    call_command("build_event_schedule", day["event"].slug, "--seconds", "1", stdout=out)
    assert f"{day['event']}: placed 4, unplaced 0" in out.getvalue()
    assert "ratio to bound" in out.getvalue()
    assert Meeting.objects.filter(event=day["event"]).count() == 4


def test_command_fails_clearly_on_bad_pins(day):
    event = day["event"]
    request = day["requests"][0]
    first, *later = list(event.slots.order_by("starts_at"))
    schedule.pin_meeting(request, first, 1)
    # The Vietnamese firm now says it comes only later: its pinned meeting is outside its time.
    request.requester.windows.update(starts_at=later[0].starts_at)
    err = io.StringIO()
    with pytest.raises(CommandError, match="was not built"):
        call_command("build_event_schedule", event.slug, stdout=io.StringIO(), stderr=err)
    assert "Dược 0 is not available in that slot." in err.getvalue()
    assert Meeting.objects.filter(event=event).count() == 1  # nothing was changed


def test_command_names_an_unknown_event():
    with pytest.raises(CommandError, match="No event has the slug 'nope'"):
        call_command("build_event_schedule", "nope")
