"""B2B events, the rules staff and firms meet: slots, registration, requests, the schedule, pins and outcomes."""

import datetime as dt
from collections import Counter
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone, translation

from events import schedule, scheduling, selectors, services
from events.models import Event, Meeting, MeetingRequest, Participant, UnplacedReason
from events.report import event_report
from events.scheduling import Reason
from tests.factories import CompanyFactory, EventFactory, InterpreterFactory, ListingFactory, register_firm

pytestmark = pytest.mark.django_db


def at(event, hour, minute=0, day=0):
    return dt.datetime.combine(
        event.starts_on + dt.timedelta(days=day), dt.time(hour, minute), ZoneInfo(event.time_zone)
    )


def messages(error: ValidationError) -> str:
    return " ".join(error.messages)


def test_slots_fill_each_day_with_meetings_and_breaks():
    event = EventFactory(ends_on=timezone.localdate() + dt.timedelta(days=2))  # two days, 09:00–12:00
    slots = list(event.slots.order_by("starts_at"))
    assert len(slots) == 12  # 6 per day: 09:00, 09:30, ..., 11:30 (ends 11:55)
    first = timezone.localtime(slots[0].starts_at, ZoneInfo("Asia/Ho_Chi_Minh"))
    assert (first.hour, first.minute) == (9, 0)
    assert slots[5].ends_at - slots[0].starts_at == dt.timedelta(hours=2, minutes=55)
    assert [s.number for s in slots] == list(range(1, 13))


def test_slots_cannot_change_under_scheduled_meetings():
    event = EventFactory()
    a, b = register_firm(event), register_firm(event, CompanyFactory(country="RU"))
    services.request_meeting(a, b, staff=True)
    schedule.build_event_schedule(event, time_limit=1)
    with pytest.raises(ValidationError, match="clear the schedule"):
        services.generate_slots(event)
    assert event.slots.count() == 6


def test_overlapping_windows_are_refused_and_nothing_is_registered():
    event = EventFactory()
    company = CompanyFactory()
    windows = [services.Window(at(event, 9), at(event, 10, 30)), services.Window(at(event, 10), at(event, 12))]
    with pytest.raises(ValidationError) as error:
        services.register(event, company, windows=windows)
    assert "Times 1 and 2 overlap" in messages(error.value)
    assert "windows" in error.value.message_dict
    assert not Participant.objects.exists()


def test_windows_outside_the_meeting_hours_and_backwards_windows():
    event = EventFactory()
    with pytest.raises(ValidationError, match="cover no meeting slot"):
        services.register(event, CompanyFactory(), windows=[services.Window(at(event, 13), at(event, 15))])
    with pytest.raises(ValidationError, match="ends before it starts"):
        services.register(event, CompanyFactory(), windows=[services.Window(at(event, 11), at(event, 10))])


def test_registration_closed_and_unpublished_firms():
    closed = EventFactory(registration_closes_at=timezone.now() - dt.timedelta(hours=1))
    with pytest.raises(ValidationError, match="closed"):
        register_firm(closed)
    event = EventFactory()
    with pytest.raises(ValidationError, match="published"):
        register_firm(event, CompanyFactory(status="draft"))


def test_available_slots_follow_the_windows():
    event = EventFactory()
    participant = register_firm(event, windows=[(at(event, 9), at(event, 10)), (at(event, 11), at(event, 12))])
    # 09:00–09:25 and 09:30–09:55 fit the first window, 11:00–11:25 and 11:30–11:55 the second.
    assert len(selectors.participant_available_slots(participant)) == 4


def test_a_firm_cannot_narrow_its_times_below_its_accepted_meetings():
    event = EventFactory()
    vn = register_firm(event)
    for _ in range(2):
        services.request_meeting(vn, register_firm(event, CompanyFactory(country="RU")), staff=True)
    with pytest.raises(ValidationError, match="has 2 accepted meetings but these times hold only 1"):
        services.register(event, vn.company, windows=[services.Window(at(event, 9), at(event, 9, 25))])
    assert len(selectors.participant_available_slots(vn)) == 6


def test_request_rules_limits_and_firms_that_left():
    event = EventFactory(max_requests_per_firm=1)
    vn, vn2 = register_firm(event), register_firm(event)
    ru, ru2 = register_firm(event, CompanyFactory(country="RU")), register_firm(event, CompanyFactory(country="RU"))
    with pytest.raises(ValidationError, match="Only Vietnamese with Russian firms"):
        services.request_meeting(vn, vn2)
    services.request_meeting(vn, ru)
    with pytest.raises(ValidationError, match="already a request"):
        services.request_meeting(ru, vn)
    with pytest.raises(ValidationError, match="sent the 1 request this event"):
        services.request_meeting(vn, ru2)
    services.withdraw(ru2)
    with pytest.raises(ValidationError, match="has left the event"):
        services.request_meeting(vn2, ru2)
    pending = register_firm(event, CompanyFactory(country="RU"), accepted=False)
    with pytest.raises(ValidationError, match="not an accepted participant"):
        services.request_meeting(vn2, pending)


def test_buyers_meet_sellers_under_that_rule():
    event = EventFactory(request_rule=Event.RequestRule.BUYER_SELLER)
    buyer = register_firm(event, role=Participant.Role.BUYER)
    other_buyer = register_firm(event, CompanyFactory(country="RU"), role=Participant.Role.BUYER)
    seller = register_firm(event, CompanyFactory(country="RU"), role=Participant.Role.SELLER)
    with pytest.raises(ValidationError, match="buyers with sellers"):
        services.request_meeting(buyer, other_buyer)
    assert services.request_meeting(buyer, seller).status == MeetingRequest.Status.PENDING


def test_only_the_invitee_answers_and_a_firm_cannot_accept_more_meetings_than_its_slots():
    event = EventFactory()
    ru = register_firm(event, CompanyFactory(country="RU"), windows=[(at(event, 9), at(event, 9, 25))])  # one slot
    vn1, vn2 = register_firm(event), register_firm(event)
    first, second = services.request_meeting(vn1, ru), services.request_meeting(vn2, ru)
    with pytest.raises(ValidationError, match="Only the invited firm"):
        services.answer_request(first, vn1, True)
    services.answer_request(first, ru, True)
    with pytest.raises(ValidationError, match="as many as the time slots"):
        services.answer_request(second, ru, True)
    second.refresh_from_db()
    assert second.status == MeetingRequest.Status.PENDING


def test_the_request_carries_the_engines_score_and_reasons():
    event = EventFactory()
    vn = CompanyFactory(languages=["vi"])
    ListingFactory(company=vn, direction="offer", text="Roasted robusta coffee beans from Dak Lak, 500 tonnes a year")
    ru = CompanyFactory(country="RU", languages=["ru"])
    ListingFactory(company=ru, direction="need", text="Supplier of roasted robusta coffee beans from Vietnam")
    a, b = register_firm(event, vn), register_firm(event, ru)
    suggestions = selectors.event_suggestions(a)
    assert [s["participant"] for s in suggestions] == [b]
    assert suggestions[0]["score"] > 0 and suggestions[0]["reasons"]
    request = services.request_meeting(a, b)
    assert request.score == pytest.approx(suggestions[0]["score"])
    assert any(reason["kind"] for reason in request.reasons)
    # Once requested, the pair is no longer suggested.
    assert selectors.event_suggestions(a) == []


def _check_rules(event):
    """Every hard rule of the schedule, read back from the database."""
    meetings = list(
        Meeting.objects.filter(event=event).select_related(
            "request__requester__company", "request__invitee__company", "slot", "interpreter"
        )
    )
    places = Counter((m.slot_id, m.table) for m in meetings)
    assert max(places.values(), default=1) == 1
    busy = Counter()
    for m in meetings:
        assert 1 <= m.table <= event.tables
        for firm in (m.request.requester, m.request.invitee):
            busy[firm.pk, m.slot_id] += 1
            assert m.slot in selectors.participant_available_slots(firm)
        pair = selectors.needs_interpreter(m.request.requester.company, m.request.invitee.company)
        if pair:
            assert m.interpreter is not None and pair in m.interpreter.pairs
            busy["interpreter", m.interpreter_id, m.slot_id] += 1
    assert max(busy.values(), default=1) == 1
    return meetings


def test_schedule_places_requests_with_interpreters_and_says_why_others_wait():
    event = EventFactory(tables=2)  # 6 slots × 2 tables
    interpreter = InterpreterFactory(event=event, pairs=["ru-vi"])
    vn = [register_firm(event, CompanyFactory(languages=["vi"])) for _ in range(3)]
    ru = [register_firm(event, CompanyFactory(country="RU", languages=["ru"])) for _ in range(3)]
    late = register_firm(
        event, CompanyFactory(country="RU", languages=["ru"]), windows=[(at(event, 9), at(event, 9, 25))]
    )
    for a in vn:
        for b in ru:
            services.request_meeting(a, b, staff=True)
    services.request_meeting(vn[0], late, staff=True)
    result = schedule.build_event_schedule(event, time_limit=1)
    meetings = _check_rules(event)
    # One interpreter for a Vietnamese-only and a Russian-only firm: at most one meeting per slot.
    assert result.placed == len(meetings) == 6
    assert all(m.interpreter == interpreter for m in meetings)
    unplaced = MeetingRequest.objects.exclude(unplaced_reason="")
    assert unplaced.count() == 4 and result.unplaced
    interpreter_or_busy = {UnplacedReason.NO_INTERPRETER, UnplacedReason.INTERPRETERS_BUSY, UnplacedReason.FIRM_BUSY}
    assert all(r.unplaced_reason in interpreter_or_busy for r in unplaced)
    event.refresh_from_db()
    assert event.status == Event.Status.SCHEDULED and event.schedule_summary["placed"] == 6


def test_rebuild_keeps_pinned_meetings_where_staff_put_them():
    event = EventFactory()
    vn, ru = register_firm(event), register_firm(event, CompanyFactory(country="RU"))
    vn2 = register_firm(event)
    first, second = services.request_meeting(vn, ru, staff=True), services.request_meeting(vn2, ru, staff=True)
    last_slot = event.slots.order_by("starts_at").last()
    schedule.pin_meeting(first, last_slot, 4)
    schedule.build_event_schedule(event, time_limit=1)
    schedule.build_event_schedule(event, time_limit=1)
    pinned = Meeting.objects.get(request=first)
    assert (pinned.slot, pinned.table, pinned.pinned) == (last_slot, 4, True)
    assert Meeting.objects.get(request=second).slot != last_slot
    _check_rules(event)


def test_pinning_by_hand_refuses_a_double_booked_interpreter_and_table():
    event = EventFactory()
    interpreter = InterpreterFactory(event=event, pairs=["ru-vi"])
    vn1, vn2 = (register_firm(event, CompanyFactory(languages=["vi"])) for _ in range(2))
    ru1, ru2 = (register_firm(event, CompanyFactory(country="RU", languages=["ru"])) for _ in range(2))
    first, second = services.request_meeting(vn1, ru1, staff=True), services.request_meeting(vn2, ru2, staff=True)
    slot = event.slots.order_by("starts_at").first()
    schedule.pin_meeting(first, slot, 1, interpreter)
    with pytest.raises(ValidationError) as error:
        schedule.pin_meeting(second, slot, 1, interpreter)
    text = messages(error.value)
    assert "already interprets" in text and "Table 1 is taken" in text
    with pytest.raises(ValidationError, match="choose an interpreter for ru-vi"):
        schedule.pin_meeting(second, slot, 2)
    assert not Meeting.objects.filter(request=second).exists()


def test_bad_pins_stop_the_build_with_clear_messages_and_nothing_changes():
    event = EventFactory()
    vn, ru = register_firm(event), register_firm(event, CompanyFactory(country="RU"))
    request = services.request_meeting(vn, ru, staff=True)
    schedule.pin_meeting(request, event.slots.order_by("starts_at").first(), 1)
    # The firm then narrows its hours (its windows change under the pin).
    ru.windows.all().delete()
    ru.windows.create(starts_at=at(event, 11), ends_at=at(event, 12))
    with pytest.raises(ValidationError) as error:
        schedule.build_event_schedule(event, time_limit=1)
    assert f"Pinned meeting {request}: {ru.company} is not available in that slot." in messages(error.value)
    with translation.override("ru"), pytest.raises(ValidationError) as error:
        schedule.build_event_schedule(event, time_limit=1)
    assert f"{ru.company} не" in messages(error.value) and "not available" not in messages(error.value)
    assert Meeting.objects.get(request=request).pinned
    event.refresh_from_db()
    assert event.schedule_built_at is None


def test_a_firm_that_leaves_frees_its_meetings():
    event = EventFactory()
    vn, ru = register_firm(event), register_firm(event, CompanyFactory(country="RU"))
    request = services.request_meeting(vn, ru, staff=True)
    schedule.build_event_schedule(event, time_limit=1)
    assert services.withdraw(ru) == 1
    request.refresh_from_db()
    assert request.status == MeetingRequest.Status.CANCELLED and not Meeting.objects.exists()


def test_a_held_event_keeps_its_participants_and_meetings():
    event = EventFactory()
    vn, ru = register_firm(event), register_firm(event, CompanyFactory(country="RU"))
    services.request_meeting(vn, ru, staff=True)
    schedule.build_event_schedule(event, time_limit=1)
    services.set_event_status(event, Event.Status.FINISHED)
    with pytest.raises(ValidationError, match="can no longer leave"):
        services.withdraw(ru)
    assert Meeting.objects.count() == 1


def test_outcomes_are_recorded_once_the_meeting_happened():
    event = EventFactory(starts_on=timezone.localdate() - dt.timedelta(days=1), status=Event.Status.OPEN)
    vn, ru = register_firm(event), register_firm(event, CompanyFactory(country="RU"))
    request = services.request_meeting(vn, ru, staff=True)
    schedule.build_event_schedule(event, time_limit=1)
    meeting = Meeting.objects.get(request=request)
    services.record_meeting_outcome(meeting, ru, "agreement")
    with pytest.raises(ValidationError, match="Choose what came"):
        services.record_meeting_outcome(meeting, vn, "bogus")
    meeting.refresh_from_db()
    assert (meeting.outcome_requester, meeting.outcome_invitee) == ("", "agreement")


def test_report_counts_held_meetings_no_shows_and_outcomes():
    event = EventFactory(starts_on=timezone.localdate() - dt.timedelta(days=1))
    vn, ru, ru2 = (
        register_firm(event),
        register_firm(event, CompanyFactory(country="RU")),
        register_firm(event, CompanyFactory(country="RU")),
    )
    held = services.request_meeting(vn, ru, staff=True)
    services.request_meeting(vn, ru2, staff=True)  # ru2 will not come
    schedule.build_event_schedule(event, time_limit=1)
    services.set_attendance([vn, ru], Participant.Attendance.CHECKED_IN)
    services.set_attendance([ru2], Participant.Attendance.NO_SHOW)
    services.record_meeting_outcome(Meeting.objects.get(request=held), vn, "met")
    report = event_report(event)
    assert (report["meetings"], report["held"], report["no_shows"], report["checked_in"]) == (2, 1, 1, 2)
    assert report["by_country"]["Russia"]["held"] == 1 and report["by_country"]["Vietnam"]["met"] == 1


def test_the_two_article_meetings_are_past_events():
    from seeds.loader import load_seeds

    load_seeds()
    hanoi = Event.objects.get(slug="hanoi-business-meeting-2014")
    assert hanoi.status == Event.Status.FINISHED and hanoi.starts_on == dt.date(2014, 10, 22)
    assert hanoi.source_article.startswith("000_") and hanoi.organiser.slug == "vcci"
    moscow = Event.objects.get(slug="moscow-sme-meeting-2019")
    assert moscow.starts_on is None and "2019" in moscow.description
    assert hanoi.participants.filter(status=Participant.Status.ACCEPTED).exists()


def test_scheduler_messages_name_firms_not_keys():
    from types import SimpleNamespace

    def request(pk, a, b):
        firm = lambda pk, name: SimpleNamespace(pk=pk, company=name)  # noqa: E731
        return SimpleNamespace(
            pk=pk, requester_id=a, invitee_id=b, requester=firm(a, f"Firm-{a}"), invitee=firm(b, f"Firm-{b}")
        )

    data = SimpleNamespace(
        requests={1: request(1, 5, 6), 12: request(12, 7, 8)}, interpreters={3: SimpleNamespace(name="Anna")}
    )
    shared = Reason(scheduling.PINS_SHARE_TABLE, {"meeting": 12, "other": 1, "table": 2, "slot": 0})
    assert schedule._error_text(shared, data) == (
        "Pinned meeting Firm-7 → Firm-8 and meeting Firm-5 → Firm-6 share table 2 in slot 1."
    )
    twice = Reason(scheduling.FIRM_PINNED_TWICE, {"firm": 7, "slot": 1, "meeting": 12, "other": 1})
    assert schedule._error_text(twice, data) == (
        "Firm-7 is pinned to two meetings in slot 2: meeting Firm-7 → Firm-8 and meeting Firm-5 → Firm-6."
    )
    booked = Reason(scheduling.INTERPRETER_TWICE, {"interpreter": 3, "slot": 0, "meeting": 1, "other": 12})
    assert schedule._error_text(booked, data) == (
        "Interpreter Anna is booked twice in slot 1: meeting Firm-5 → Firm-6 and meeting Firm-7 → Firm-8."
    )


def test_reasons_a_request_was_not_placed_read_in_the_firms_language():
    with translation.override("ru"):
        text = selectors.unplaced_text(UnplacedReason.INTERPRETERS_BUSY, {"pair": "ru-vi"})
    assert text == "Во всех слотах, когда свободны обе фирмы, заняты все переводчики для пары вьетнамский–русский."
    with translation.override("vi"):
        text = selectors.unplaced_text(UnplacedReason.SIDE_LEFT, {"firm": "Công ty A"})
    assert text == "Công ty A không còn là doanh nghiệp tham gia được chấp nhận của sự kiện."
    with translation.override("en"):
        assert (
            selectors.unplaced_text(UnplacedReason.NO_COMMON_SLOT, {}) == "The two firms have no time slot in common."
        )
    assert selectors.unplaced_text("Something else entirely.") == "Something else entirely."
