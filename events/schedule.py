"""Writes of a B2B event's schedule: building it with the scheduler (events.scheduling), and staff placing,
moving and unpinning meetings by hand. Like events.services, every function checks everything before it
writes and raises django's ValidationError with what to fix, in the reader's language.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from events import scheduling, selectors
from events.models import Event, Interpreter, Meeting, MeetingRequest, TimeSlot


@dataclass
class ScheduleResult:
    placed: int
    unplaced: dict[int, scheduling.Reason]  # request pk → why
    weight: float
    optimal: bool
    bound_ratio: float | None  # the schedule's objective over the best bound the solver proved (1.0: optimal)
    seconds: float


@transaction.atomic
def build_event_schedule(event: Event, *, time_limit: float | None = None) -> ScheduleResult:
    """Place every accepted request it can: pinned meetings stay, the rest is rebuilt. Raises ValidationError
    with every problem of the event's data, and then writes nothing."""
    event = Event.objects.select_for_update().get(pk=event.pk)  # one build of an event at a time
    started = time.monotonic()
    data = selectors.event_problem(event)
    errors = _pinned_conflicts(event, data)
    if errors:
        raise ValidationError(errors)
    try:
        schedule = scheduling.build_schedule(
            data.problem, time_limit=settings.EVENT_SCHEDULE_SECONDS if time_limit is None else time_limit
        )
    except scheduling.ScheduleError as error:
        raise ValidationError([_error_text(reason, data) for reason in error.errors]) from None
    Meeting.objects.filter(event=event, pinned=False).delete()
    # A pinned meeting whose request was left out (a side no longer accepted) would hold a table the solver
    # just gave to another meeting.
    Meeting.objects.filter(event=event).exclude(request_id__in=list(data.requests)).delete()
    pinned = {m.request_id for m in event.meetings.all()}
    Meeting.objects.bulk_create(
        Meeting(event=event, request_id=p.request, slot=data.slots[p.slot], table=p.table, interpreter_id=p.interpreter)
        for p in schedule.placements
        if p.request not in pinned
    )
    unplaced = {**schedule.unplaced, **data.excluded}
    for request in data.requests.values():
        reason = unplaced.get(request.pk)
        request.unplaced_reason, request.unplaced_params = (reason.code, reason.params) if reason else ("", {})
    MeetingRequest.objects.bulk_update(data.requests.values(), ["unplaced_reason", "unplaced_params"])
    # Only requests still standing: a cancelled one keeps why it went (e.g. the firm withdrew from the service).
    event.requests.exclude(pk__in=list(data.requests)).exclude(unplaced_reason="").filter(
        status__in=[MeetingRequest.Status.PENDING, MeetingRequest.Status.ACCEPTED]
    ).update(unplaced_reason="", unplaced_params={})
    ratio = None
    if schedule.objective is not None and schedule.bound:
        ratio = round(schedule.objective / schedule.bound, 4)
    result = ScheduleResult(
        placed=len(schedule.placements),
        unplaced=unplaced,
        weight=round(schedule.weight, 3),
        optimal=schedule.optimal,
        bound_ratio=1.0 if schedule.optimal else ratio,
        seconds=round(time.monotonic() - started, 2),
    )
    event.schedule_built_at = timezone.now()
    event.schedule_summary = {
        "placed": result.placed,
        "unplaced": len(unplaced),
        "weight": result.weight,
        "optimal": result.optimal,
        "bound_ratio": result.bound_ratio,
        "seconds": result.seconds,
    }
    if event.status in (Event.Status.OPEN, Event.Status.CLOSED):
        event.status = Event.Status.SCHEDULED
    event.save(update_fields=["schedule_built_at", "schedule_summary", "status"])
    return result


# The scheduler's reasons for refusing the event's data, by code; %(request)s, %(meeting)s and %(other)s are
# requests and %(firm)s a firm, by name, %(slot)d a slot counted from 1.
ERROR_TEXTS = {
    scheduling.NO_SLOTS: gettext_lazy("The event has no time slots."),
    scheduling.NO_TABLES: gettext_lazy("The event has no tables: give at least one."),
    scheduling.REQUEST_TWICE: gettext_lazy("Request %(request)s is listed twice."),
    scheduling.NOT_A_PARTICIPANT: gettext_lazy(
        "Request %(request)s names %(firm)s, which is not a participant of the event."
    ),
    scheduling.MEETS_ITSELF: gettext_lazy("Request %(request)s is a firm meeting itself."),
    scheduling.UNKNOWN_PAIR: gettext_lazy(
        "Request %(request)s needs an interpreter for %(pair)s, which is not a language pair of the event."
    ),
    scheduling.SLOTS_OUTSIDE: gettext_lazy("%(firm)s is available in slots the event does not have: %(slots)s."),
    scheduling.PIN_NOT_ACCEPTED: gettext_lazy(
        "A pinned meeting names request %(request)s, which is not an accepted request."
    ),
    scheduling.PIN_OUTSIDE: gettext_lazy(
        "Pinned meeting %(meeting)s is at slot %(slot)d, table %(table)d, which the event does not have."
    ),
    scheduling.PINS_SHARE_TABLE: gettext_lazy(
        "Pinned meeting %(meeting)s and meeting %(other)s share table %(table)d in slot %(slot)d."
    ),
    scheduling.PIN_FIRM_AWAY: gettext_lazy(
        "Pinned meeting %(meeting)s is in slot %(slot)d, when %(firm)s is not available."
    ),
    scheduling.FIRM_PINNED_TWICE: gettext_lazy(
        "%(firm)s is pinned to two meetings in slot %(slot)d: meeting %(meeting)s and meeting %(other)s."
    ),
    scheduling.PIN_WRONG_INTERPRETER: gettext_lazy(
        "Pinned meeting %(meeting)s has interpreter %(interpreter)s, who does not work in its languages."
    ),
    scheduling.INTERPRETER_TWICE: gettext_lazy(
        "Interpreter %(interpreter)s is booked twice in slot %(slot)d: meeting %(meeting)s and meeting %(other)s."
    ),
}


def _error_text(reason: scheduling.Reason, data: selectors.EventProblem) -> str:
    """A reason the scheduler refused the event's data, in the reader's language: the scheduler names requests,
    firms and interpreters by key, staff read the firms' and interpreters' names."""
    participants = {r.requester_id: r.requester for r in data.requests.values()} | {
        r.invitee_id: r.invitee for r in data.requests.values()
    }
    values = dict(reason.params)
    for name in ("request", "meeting", "other"):
        if values.get(name) in data.requests:
            request = data.requests[values[name]]
            values[name] = f"{request.requester.company} → {request.invitee.company}"
    if values.get("firm") in participants:
        values["firm"] = str(participants[values["firm"]].company)
    if values.get("interpreter") in data.interpreters:
        values["interpreter"] = data.interpreters[values["interpreter"]].name
    if "slot" in values:
        values["slot"] += 1
    if "slots" in values:  # counted from 1, as staff number the slots
        values["slots"] = ", ".join(str(slot + 1) for slot in values["slots"])
    return str(ERROR_TEXTS[reason.code]) % values


def _pinned_conflicts(event: Event, data: selectors.EventProblem) -> list[str]:
    """What is wrong with the meetings staff pinned (firms' times or interpreters changed after), in the
    reader's language; each clash between two pins is told once, by the later one."""
    errors = [] if data.slots else [_("The event has no time slots: generate them from its days and hours first.")]
    pinned = (
        event.meetings.filter(pinned=True, request_id__in=list(data.requests))
        .select_related("slot", "interpreter")
        .order_by("pk")
    )
    for meeting in pinned:
        request = data.requests[meeting.request_id]
        request.event = event
        for problem in meeting_conflicts(
            request, meeting.slot, meeting.table, meeting.interpreter, among=pinned.filter(pk__lt=meeting.pk)
        ):
            errors.append(_("Pinned meeting %(meeting)s: %(problem)s") % {"meeting": request, "problem": problem})
    return errors


def meeting_conflicts(
    request: MeetingRequest,
    slot: TimeSlot,
    table: int,
    interpreter: Interpreter | None,
    *,
    exclude: Meeting | None = None,
    among: QuerySet[Meeting] | None = None,
) -> list[str]:
    """What stops staff from putting the request's meeting at this slot, table and interpreter, beside the
    slot's other meetings (or those of ``among``)."""
    event = request.event
    errors = []
    others = (Meeting.objects.all() if among is None else among).filter(slot=slot)
    if exclude is not None and exclude.pk:
        others = others.exclude(pk=exclude.pk)
    others = list(others.select_related("request__requester__company", "request__invitee__company", "interpreter"))
    if slot.event_id != event.pk:
        errors.append(_("That time slot belongs to another event."))
    if not 1 <= table <= event.tables:
        errors.append(_("The event has tables 1 to %(n)d.") % {"n": event.tables})
    for meeting in others:
        if meeting.table == table:
            errors.append(
                _("Table %(table)d is taken in that slot by %(meeting)s.")
                % {"table": table, "meeting": meeting.request}
            )
    for firm in (request.requester, request.invitee):
        if not any(w.starts_at <= slot.starts_at and slot.ends_at <= w.ends_at for w in firm.windows.all()):
            errors.append(_("%(firm)s is not available in that slot.") % {"firm": firm.company})
        for meeting in others:
            if firm.pk in (meeting.request.requester_id, meeting.request.invitee_id):
                errors.append(
                    _("%(firm)s already meets %(other)s in that slot.")
                    % {"firm": firm.company, "other": selectors.counterpart(meeting.request, firm).company}
                )
    pair = selectors.needs_interpreter(request.requester.company, request.invitee.company)
    if interpreter is not None:
        if interpreter.event_id != event.pk:
            errors.append(_("That interpreter works at another event."))
        if pair is not None and pair not in interpreter.pairs:
            errors.append(_("%(name)s does not interpret %(pair)s.") % {"name": interpreter.name, "pair": pair})
        for meeting in others:
            if meeting.interpreter_id == interpreter.pk:
                errors.append(
                    _("%(name)s already interprets %(meeting)s in that slot.")
                    % {"name": interpreter.name, "meeting": meeting.request}
                )
    elif pair is not None:
        errors.append(
            _("The two firms share no business language: choose an interpreter for %(pair)s.") % {"pair": pair}
        )
    return errors


@transaction.atomic
def pin_meeting(request: MeetingRequest, slot: TimeSlot, table: int, interpreter: Interpreter | None = None) -> Meeting:
    """Staff place (or move) an accepted request's meeting by hand; the next rebuild keeps it where it is."""
    Event.objects.select_for_update().get(pk=request.event_id)
    # As it is now: staff's page may have loaded it before a firm cancelled it.
    request.refresh_from_db(fields=["status"])
    if request.status != MeetingRequest.Status.ACCEPTED:
        raise ValidationError(
            _("Only accepted requests get a meeting; this one is %(status)s.")
            % {"status": request.get_status_display().lower()}
        )
    meeting = Meeting.objects.filter(request=request).first()
    errors = meeting_conflicts(request, slot, table, interpreter, exclude=meeting)
    if errors:
        raise ValidationError(errors)
    meeting = meeting or Meeting(event_id=request.event_id, request=request)
    meeting.slot, meeting.table, meeting.interpreter, meeting.pinned = slot, table, interpreter, True
    meeting.save()
    request.unplaced_reason, request.unplaced_params = "", {}
    request.save(update_fields=["unplaced_reason", "unplaced_params"])
    return meeting


def unpin_meetings(meetings: Iterable[Meeting]) -> int:
    return Meeting.objects.filter(pk__in=[m.pk for m in meetings]).update(pinned=False)
