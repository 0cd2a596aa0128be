"""Writes for B2B events: time slots, registration, meeting requests, the day itself, outcomes (the schedule's
are in events.schedule).

Every function checks everything before it writes and raises django's ValidationError (with field names where
a form field is at fault) so a page or the admin can show what to fix; nothing is half-written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from companies.models import Company
from companies.privacy import WITHDRAWN_NAME
from events import selectors
from events.models import (
    AvailabilityWindow,
    Event,
    Meeting,
    MeetingRequest,
    Participant,
    TimeSlot,
    UnplacedReason,
)
from matchmaking.models import MEMBER_OUTCOMES, QUOTING_REASONS

REQUESTABLE_STATUSES = {Event.Status.OPEN, Event.Status.CLOSED, Event.Status.SCHEDULED}


def _local(moment: dt.datetime, event: Event, format: str = "DATETIME_FORMAT") -> str:
    return formats.date_format(timezone.localtime(moment, ZoneInfo(event.time_zone)), format)


# --- the event's time slots ---------------------------------------------------------------------------------


@transaction.atomic
def generate_slots(event: Event) -> list[TimeSlot]:
    """Fill each day of the event with slots of its meeting length and breaks, replacing the slots it had.
    Refused once meetings are scheduled: they would lose their time."""
    if event.meetings.exists():
        raise ValidationError(
            _("The event already has scheduled meetings: clear the schedule before changing its time slots.")
        )
    if not event.starts_on:
        raise ValidationError({"starts_on": _("Give the event's days first.")})
    zone = ZoneInfo(event.time_zone)
    length, pause = dt.timedelta(minutes=event.meeting_minutes), dt.timedelta(minutes=event.break_minutes)
    slots, day = [], event.starts_on
    while day <= (event.ends_on or event.starts_on):
        start = dt.datetime.combine(day, event.day_starts_at, zone)
        day_end = dt.datetime.combine(day, event.day_ends_at, zone)
        while start + length <= day_end:
            slots.append(TimeSlot(event=event, number=len(slots) + 1, starts_at=start, ends_at=start + length))
            start += length + pause
        day += dt.timedelta(days=1)
    if not slots:
        raise ValidationError(
            {
                "day_ends_at": _(
                    "No meeting fits between the start and the end of the day: check the hours and the meeting length."
                )
            }
        )
    event.slots.all().delete()
    return TimeSlot.objects.bulk_create(slots)


# Status staff may move an event to, and from which.
STATUS_MOVES = {
    Event.Status.OPEN: {Event.Status.DRAFT, Event.Status.CLOSED},
    Event.Status.CLOSED: {Event.Status.OPEN},
    Event.Status.FINISHED: {Event.Status.OPEN, Event.Status.CLOSED, Event.Status.SCHEDULED},
}


def set_event_status(event: Event, status: str) -> Event:
    """Open or close registration, or mark the event held; refused from a status that cannot lead there, and
    opening an event firms could not register for (no time slots)."""
    if event.status not in STATUS_MOVES[status]:
        raise ValidationError(
            _("%(event)s is %(from)s: it cannot become %(to)s.")
            % {"event": event, "from": event.get_status_display(), "to": Event.Status(status).label}
        )
    if status == Event.Status.OPEN and not event.slots.exists():
        raise ValidationError(
            _("%(event)s has no time slots: generate them before opening registration, firms register for them.")
            % {"event": event}
        )
    event.status = status
    event.full_clean()
    event.save(update_fields=["status", "ends_on"])
    return event


# --- registration -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    starts_at: dt.datetime
    ends_at: dt.datetime


def check_windows(event: Event, windows: Sequence[Window]) -> list[TimeSlot]:
    """The slots the windows cover; a clear error for a window that ends before it starts, overlaps another,
    or covers no slot of the event."""
    if not windows:
        raise ValidationError({"windows": _("Give at least one time when your firm can meet.")})
    errors = []
    for n, window in enumerate(windows, start=1):
        if not (2000 <= window.starts_at.year <= 2999 and 2000 <= window.ends_at.year <= 2999):
            # Shown in the event's time zone below, a time near year 1 or 9999 would overflow.
            raise ValidationError({"windows": _("Time %(n)d is not on a day of the event.") % {"n": n}})
        if window.ends_at <= window.starts_at:
            errors.append(_("Time %(n)d ends before it starts.") % {"n": n})
    ordered = sorted(enumerate(windows, start=1), key=lambda item: item[1].starts_at)
    for (n, a), (m, b) in zip(ordered, ordered[1:], strict=False):
        if b.starts_at < a.ends_at:
            errors.append(
                _("Times %(a)d and %(b)d overlap (%(start)s–%(end)s): join them into one or correct them.")
                % {
                    "a": min(n, m),
                    "b": max(n, m),
                    "start": _local(b.starts_at, event),
                    "end": _local(min(a.ends_at, b.ends_at), event, "TIME_FORMAT"),
                }
            )
    if errors:
        raise ValidationError({"windows": errors})
    rows = [AvailabilityWindow(starts_at=w.starts_at, ends_at=w.ends_at) for w in windows]
    covered = selectors.slots_in_windows(event.slots.order_by("starts_at"), rows)
    if not covered:
        slots = list(event.slots.order_by("starts_at")[:4])
        starts = ", ".join(_local(s.starts_at, event) for s in slots[:3]) + ("…" if len(slots) > 3 else "")
        raise ValidationError(
            {
                "windows": _("These times cover no meeting slot of the event: meetings start at %(slots)s.")
                % {"slots": starts}
            }
        )
    return covered


def check_times_hold_meetings(participant: Participant, covered: Sequence[TimeSlot]) -> None:
    """New times for a firm must still leave a slot for each meeting it accepted."""
    committed = selectors.committed_requests(participant)
    if committed > len(covered):
        raise ValidationError(
            {
                "windows": ngettext(
                    "%(firm)s has %(count)d accepted meeting but these times hold only %(slots)d: keep more time "
                    "free or cancel a meeting first.",
                    "%(firm)s has %(count)d accepted meetings but these times hold only %(slots)d: keep more time "
                    "free or cancel a meeting first.",
                    committed,
                )
                % {"firm": participant.company, "count": committed, "slots": len(covered)}
            }
        )


def registration_open(event: Event, now: dt.datetime | None = None) -> bool:
    now = now or timezone.now()
    return (
        event.status == Event.Status.OPEN
        and (event.registration_opens_at is None or event.registration_opens_at <= now)
        and (event.registration_closes_at is None or now < event.registration_closes_at)
    )


@transaction.atomic
def register(
    event: Event,
    company: Company,
    *,
    windows: Sequence[Window],
    role: str = Participant.Role.BOTH,
    wants_help: bool = False,
    note: str = "",
    by: AbstractBaseUser | None = None,
) -> Participant:
    """Register a firm (or change its registration while registration is open) with the times it can meet."""
    if not registration_open(event):
        raise ValidationError(_("Registration for %(event)s is closed.") % {"event": event.local_name})
    if company.status != Company.Status.PUBLISHED:
        raise ValidationError(_("Your firm's profile must be published before it can take part in events."))
    covered = check_windows(event, windows)
    participant, created = Participant.objects.select_for_update().get_or_create(
        event=event,
        company=company,
        defaults={"role": role, "wants_help": wants_help, "note": note, "registered_by": by},
    )
    if not created:
        if participant.status == Participant.Status.DECLINED:
            raise ValidationError(_("The organisers did not accept your firm for this event."))
        if participant.status == Participant.Status.WITHDRAWN:
            participant.status = Participant.Status.REGISTERED
        check_times_hold_meetings(participant, covered)
        participant.role, participant.wants_help, participant.note = role, wants_help, note
        participant.save()
        participant.windows.all().delete()
    AvailabilityWindow.objects.bulk_create(
        AvailabilityWindow(participant=participant, starts_at=w.starts_at, ends_at=w.ends_at) for w in windows
    )
    return participant


def set_participant_status(participants: Iterable[Participant], status: str) -> int:
    """Staff accept or turn down registrations; returns how many changed."""
    if status not in (Participant.Status.ACCEPTED, Participant.Status.DECLINED):
        raise ValueError(f"staff set participants to accepted or declined, not {status}")
    changed = 0
    for participant in participants:
        if participant.status == status:
            continue
        if status == Participant.Status.DECLINED and participant.status != Participant.Status.WITHDRAWN:
            withdraw(participant, status=Participant.Status.DECLINED)
        else:
            participant.status = status
            participant.save(update_fields=["status"])
        changed += 1
    return changed


@transaction.atomic
def withdraw(participant: Participant, *, status: str = Participant.Status.WITHDRAWN) -> int:
    """The firm leaves the event (or staff turn it down): its requests are cancelled and its meetings freed.
    Returns how many requests were cancelled."""
    # The event first, as the schedule build and pins take it: none of them writes a meeting for the firm
    # while it leaves. Then the firm's row, as it is now, not as the caller loaded it.
    event = Event.objects.select_for_update().get(pk=participant.event_id)
    participant.status = Participant.objects.select_for_update().values_list("status", flat=True).get(pk=participant.pk)
    if participant.status in (Participant.Status.WITHDRAWN, Participant.Status.DECLINED):
        raise ValidationError(_("%(firm)s is not taking part in the event any more.") % {"firm": participant.company})
    if event.status not in REQUESTABLE_STATUSES | {Event.Status.DRAFT}:
        # A held or cancelled event keeps its record of who took part and met whom.
        raise ValidationError(
            _("Your firm can no longer leave %(event)s: it is %(status)s.")
            % {"event": event, "status": event.get_status_display()}
        )
    participant.status = status
    participant.save(update_fields=["status"])
    mine = MeetingRequest.objects.filter(Q(requester=participant) | Q(invitee=participant)).exclude(
        status__in=[MeetingRequest.Status.CANCELLED, MeetingRequest.Status.DECLINED]
    )
    Meeting.objects.filter(request__in=mine).delete()
    return mine.update(status=MeetingRequest.Status.CANCELLED, unplaced_reason="", unplaced_params={})


# --- meeting requests ---------------------------------------------------------------------------------------


def _standing(participant: Participant) -> str | None:
    if participant.status == Participant.Status.WITHDRAWN:
        return _("%(firm)s has left the event.") % {"firm": participant.company}
    if participant.status != Participant.Status.ACCEPTED:
        return _("%(firm)s is not an accepted participant of the event.") % {"firm": participant.company}
    return None


def _check_capacity(participant: Participant, *, adding: int = 1) -> None:
    available = len(selectors.participant_available_slots(participant))
    committed = selectors.committed_requests(participant)
    if committed + adding > available:
        raise ValidationError(
            ngettext(
                "%(firm)s already has %(count)d accepted meeting, as many as the time slots it is available in.",
                "%(firm)s already has %(count)d accepted meetings, as many as the time slots it is available in.",
                committed,
            )
            % {"firm": participant.company, "count": committed}
        )


def _lock_participants(*pks: int) -> None:
    list(Participant.objects.select_for_update().filter(pk__in=pks).order_by("pk").values_list("pk", flat=True))


@transaction.atomic
def request_meeting(
    requester: Participant,
    invitee: Participant,
    *,
    message: str = "",
    by: AbstractBaseUser | None = None,
    staff: bool = False,
    scored: tuple[float, list] | None = None,
) -> MeetingRequest:
    """A participant asks another for a meeting. Staff adding a meeting for a firm that asked for help make it
    accepted at once (they arranged it with both firms) and are not held to the firm's request limit.
    ``scored`` is the pair's (score, reasons) when the caller already ranked the event's firms."""
    event = requester.event
    # Both firms' rows, in one order for every caller (no deadlock): exists() would add LIMIT 1 and lock one.
    _lock_participants(requester.pk, invitee.pk)
    requester.refresh_from_db()
    invitee.refresh_from_db()
    if invitee.event_id != event.pk:
        raise ValidationError(_("%(firm)s is not taking part in this event.") % {"firm": invitee.company})
    if requester.pk == invitee.pk:
        raise ValidationError(_("A firm cannot request a meeting with itself."))
    if event.status not in REQUESTABLE_STATUSES:
        raise ValidationError(_("Meeting requests are closed for %(event)s.") % {"event": event.local_name})
    for participant in (requester, invitee):
        problem = _standing(participant)
        if problem:
            raise ValidationError(problem)
    if not selectors.may_request(event, requester, invitee):
        raise ValidationError(
            _("The rules of this event do not allow this meeting: %(rule)s.")
            % {"rule": event.get_request_rule_display()}
        )
    if selectors.open_request_between(requester, invitee):
        raise ValidationError(
            _("There is already a request between your firm and %(firm)s.") % {"firm": invitee.company}
        )
    earlier = MeetingRequest.objects.filter(requester=requester, invitee=invitee).first()
    if earlier and earlier.status == MeetingRequest.Status.DECLINED and not staff:
        raise ValidationError(_("%(firm)s declined your earlier request.") % {"firm": invitee.company})
    if not staff and selectors.sent_requests(requester) >= event.max_requests_per_firm:
        raise ValidationError(
            ngettext(
                "You have sent the %(count)d request this event allows each firm.",
                "You have sent the %(count)d requests this event allows each firm.",
                event.max_requests_per_firm,
            )
            % {"count": event.max_requests_per_firm}
        )
    if staff:
        _check_capacity(requester)
        _check_capacity(invitee)
    score, reasons = scored if scored is not None else selectors.pair_score(event, requester.company, invitee.company)
    request = earlier or MeetingRequest(event=event, requester=requester, invitee=invitee)
    request.status = MeetingRequest.Status.ACCEPTED if staff else MeetingRequest.Status.PENDING
    request.message, request.score, request.reasons = message, score, reasons
    request.added_by_staff, request.created_by = staff, by
    request.unplaced_reason, request.unplaced_params = "", {}
    request.answered_at = timezone.now() if staff else None
    request.save()
    return request


@transaction.atomic
def answer_request(request: MeetingRequest, participant: Participant, accept: bool) -> MeetingRequest:
    """The invited firm accepts or declines."""
    # Both firms first, as request_meeting and withdraw take them (their capacity is checked), then the request;
    # not their companies' rows (a plain FOR UPDATE with select_related would lock those too).
    _lock_participants(request.requester_id, request.invitee_id)
    request = (
        MeetingRequest.objects.select_for_update(of=("self",))
        .select_related("invitee__company", "requester__company")
        .get(pk=request.pk)
    )
    if request.invitee_id != participant.pk:
        raise ValidationError(_("Only the invited firm can answer this request."))
    if request.event.status not in REQUESTABLE_STATUSES:
        raise ValidationError(_("Meeting requests are closed for %(event)s.") % {"event": request.event.local_name})
    if request.status != MeetingRequest.Status.PENDING:
        raise ValidationError(
            _("This request was already answered: it is %(status)s.") % {"status": request.get_status_display().lower()}
        )
    if accept:
        for side in (request.requester, request.invitee):
            problem = _standing(side)
            if problem:
                raise ValidationError(problem)
            _check_capacity(side)
    request.status = MeetingRequest.Status.ACCEPTED if accept else MeetingRequest.Status.DECLINED
    request.answered_at = timezone.now()
    request.save(update_fields=["status", "answered_at"])
    return request


@transaction.atomic
def cancel_request(request: MeetingRequest, participant: Participant) -> MeetingRequest:
    """Either firm calls a request off; its meeting, if scheduled, is freed."""
    # The event, as schedule builds and pins lock it, so none places the meeting while it is called off;
    # then the request as it is now: the caller's copy may predate the other firm's answer.
    Event.objects.select_for_update().get(pk=request.event_id)
    request.refresh_from_db(from_queryset=MeetingRequest.objects.select_for_update())
    if participant.pk not in (request.requester_id, request.invitee_id):
        raise ValidationError(_("Only the two firms of a request can cancel it."))
    if request.status not in (MeetingRequest.Status.PENDING, MeetingRequest.Status.ACCEPTED):
        raise ValidationError(
            _("This request is already %(status)s.") % {"status": request.get_status_display().lower()}
        )
    Meeting.objects.filter(request=request).delete()
    request.status, request.unplaced_reason, request.unplaced_params = MeetingRequest.Status.CANCELLED, "", {}
    request.save(update_fields=["status", "unplaced_reason", "unplaced_params"])
    return request


# --- the day and after --------------------------------------------------------------------------------------


def set_attendance(participants: Iterable[Participant], attendance: str) -> int:
    """Staff check firms in at the desk, or mark those who did not come."""
    if attendance not in Participant.Attendance.values:
        raise ValueError(f"unknown attendance {attendance!r}")
    now = timezone.now() if attendance == Participant.Attendance.CHECKED_IN else None
    return Participant.objects.filter(pk__in=[p.pk for p in participants]).update(
        attendance=attendance, checked_in_at=now
    )


@transaction.atomic
def record_meeting_outcome(meeting: Meeting, participant: Participant, outcome: str) -> Meeting:
    """One firm tells what came of a meeting, as for matches."""
    if outcome not in MEMBER_OUTCOMES:
        raise ValidationError({"outcome": _("Choose what came of the meeting.")})
    if meeting.slot.starts_at > timezone.now():
        raise ValidationError(_("The meeting has not taken place yet."))
    if participant.pk == meeting.request.requester_id:
        field = "outcome_requester"
    elif participant.pk == meeting.request.invitee_id:
        field = "outcome_invitee"
    else:
        raise ValidationError(_("Only the two firms of a meeting can tell its outcome."))
    # Only this firm's column, on the row as it is now: the other firm may have told its outcome meanwhile.
    meeting.refresh_from_db(
        from_queryset=Meeting.objects.select_for_update(), fields=["outcome_requester", "outcome_invitee"]
    )
    setattr(meeting, field, outcome)
    meeting.save(update_fields=[field])
    return meeting


# --- a firm's data rights (companies.privacy announces them; events.receivers calls these) ------------------


@transaction.atomic
def remove_withdrawn_firm(company: Company) -> None:
    """The firm's last member deleted their data: it leaves every event and keeps only what a held event's
    report counts.

    - An event not held yet: the firm is withdrawn from it; its times go; its meetings still to come are freed
      and every request still standing, sent or received, is cancelled with the reason shown to the other
      firm. The rows stay (as "Withdrawn firm", once companies.privacy anonymises it) so the other firms see
      what became of their requests. Meetings of a day already under way that have begun stay, as below.
    - A held event: its meetings and their outcomes stay, for the chamber's report (counts by country and
      outcome; the firm's name and sectors are erased from its profile); its other requests go, and its times.
    - A cancelled event: nothing to report; the firm's registration and requests are deleted.
    Everywhere, the firm's own words (its note to the organisers, its messages) and the addresses its agendas
    went to are erased, and the engine's reasons stop quoting its offers and needs.
    """
    now = timezone.now()
    # Events first, then participants, then requests: the order the schedule build, pins and cancels use.
    events = {
        event.pk: event
        for event in Event.objects.select_for_update()
        .filter(pk__in=Participant.objects.filter(company=company).values("event_id"))
        .order_by("pk")
    }
    participants = list(Participant.objects.select_for_update().filter(company=company).order_by("pk"))
    for participant in participants:
        event = events[participant.event_id]
        if event.status == Event.Status.CANCELLED:
            participant.delete()  # its windows, requests and meetings with it
            continue
        held = event.status == Event.Status.FINISHED
        mine = MeetingRequest.objects.filter(Q(requester=participant) | Q(invitee=participant))
        meetings = Meeting.objects.filter(request__in=mine)
        begun = meetings if held else meetings.filter(slot__starts_at__lte=now)
        kept = set(begun.values_list("request_id", flat=True))
        if held:
            mine.exclude(pk__in=kept).delete()
        else:
            meetings.exclude(request_id__in=kept).delete()
            mine.exclude(pk__in=kept).filter(
                status__in=[MeetingRequest.Status.PENDING, MeetingRequest.Status.ACCEPTED],
            ).update(
                status=MeetingRequest.Status.CANCELLED,
                unplaced_reason=UnplacedReason.SIDE_LEFT,
                unplaced_params={"firm": WITHDRAWN_NAME},
            )
            if participant.status in (Participant.Status.REGISTERED, Participant.Status.ACCEPTED):
                participant.status = Participant.Status.WITHDRAWN
        scrubbed = []
        for request in mine:
            reasons = [
                r for r in request.reasons or [] if not (isinstance(r, dict) and r.get("kind") in QUOTING_REASONS)
            ]
            # The firm's own messages go; those the other firms wrote to it are theirs and stay.
            message = "" if request.requester_id == participant.pk else request.message
            if (reasons, message) != (request.reasons, request.message):
                request.reasons, request.message = reasons, message
                scrubbed.append(request)
        MeetingRequest.objects.bulk_update(scrubbed, ["reasons", "message"])
        participant.windows.all().delete()
        participant.note, participant.wants_help = "", False
        participant.agenda_sent_hash = participant.agenda_sending_hash = ""
        participant.agenda_sent_to = []
        participant.save(
            update_fields=["status", "note", "wants_help", "agenda_sent_hash", "agenda_sending_hash", "agenda_sent_to"]
        )


@transaction.atomic
def forget_member_address(company: Company, email: str) -> None:
    """A member leaves the firm: the firm's agenda records stop listing the address its agendas went to."""
    if not email:
        return
    changed = []
    for participant in Participant.objects.select_for_update().filter(company=company).exclude(agenda_sent_to=[]):
        kept = [address for address in participant.agenda_sent_to if address.lower() != email.lower()]
        if kept != participant.agenda_sent_to:
            participant.agenda_sent_to = kept
            changed.append(participant)
    Participant.objects.bulk_update(changed, ["agenda_sent_to"])
