"""A participant's agenda: its meetings in time order, as rows for pages and emails and as an iCalendar file."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import icalendar
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from companies.models import Company
from events import selectors
from events.models import Event, LanguagePair, Meeting, Participant


@dataclass(frozen=True)
class AgendaItem:
    meeting: Meeting
    starts_at: dt.datetime  # in the event's time zone
    ends_at: dt.datetime
    table: int
    counterpart: Company
    interpreter: str  # the interpreter's name, or "" when the firms share a language
    language_pair: str  # e.g. "ru-vi", or ""
    my_outcome: str  # what this firm told of the meeting, "" before


def agenda(participant: Participant) -> list[AgendaItem]:
    zone = ZoneInfo(participant.event.time_zone)
    items = []
    for meeting in selectors.meetings_of(participant):
        meeting.event = participant.event  # the instance the caller loaded: fingerprint reads its venue
        other = selectors.counterpart(meeting.request, participant)
        mine = "requester" if meeting.request.requester_id == participant.pk else "invitee"
        items.append(
            AgendaItem(
                meeting=meeting,
                starts_at=timezone.localtime(meeting.slot.starts_at, zone),
                ends_at=timezone.localtime(meeting.slot.ends_at, zone),
                table=meeting.table,
                counterpart=other.company,
                interpreter=meeting.interpreter.name if meeting.interpreter else "",
                language_pair=selectors.needs_interpreter(participant.company, other.company) or "",
                my_outcome=getattr(meeting, f"outcome_{mine}"),
            )
        )
    return items


def fingerprint(items: list[AgendaItem]) -> str:
    """What the agenda says, hashed: the same agenda is never emailed twice."""
    venue = f"{items[0].meeting.event.venue}|{items[0].meeting.event.city}" if items else ""
    text = (
        venue
        + "\n"
        + "\n".join(
            f"{i.meeting.pk}|{i.starts_at.isoformat()}|{i.ends_at.isoformat()}|{i.table}|{i.counterpart.pk}|"
            f"{i.counterpart.name}|{i.interpreter}"
            for i in items
        )
    )
    return hashlib.sha256(text.encode()).hexdigest()


def agenda_ics(participant: Participant, items: list[AgendaItem] | None = None) -> bytes:
    """The agenda as an iCalendar file: one VEVENT per meeting, with a UID that stays the same when a meeting
    moves, so a calendar that imports the file again updates its entries instead of doubling them."""
    event: Event = participant.event
    items = agenda(participant) if items is None else items
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//SME Match//B2B event agenda//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", f"{event.local_name} · {participant.company.name}")
    host = settings.SITE_URL.split("://", 1)[-1].split("/", 1)[0] or "sme-match.example"
    stamp = timezone.now()
    for item in items:
        entry = icalendar.Event()
        entry.add("uid", f"event-{event.pk}-meeting-{item.meeting.request_id}-{participant.pk}@{host}")
        entry.add("dtstamp", stamp)
        entry.add("dtstart", item.starts_at)
        entry.add("dtend", item.ends_at)
        entry.add("summary", _("Meeting with %(firm)s") % {"firm": item.counterpart.name})
        place = ", ".join(part for part in (event.local_venue, event.local_city) if part)
        entry.add("location", _("Table %(table)d") % {"table": item.table} + (f", {place}" if place else ""))
        lines = [_("Table %(table)d") % {"table": item.table}]
        if item.interpreter:
            lines.append(
                _("Interpreter: %(name)s (%(pair)s)")
                % {"name": item.interpreter, "pair": LanguagePair(item.language_pair).label}
            )
        lines.append(f"{item.counterpart.name} ({item.counterpart.get_country_display()}, {item.counterpart.city})")
        entry.add("description", "\n".join(lines))
        calendar.add_component(entry)
    calendar.add_missing_timezones()  # VTIMEZONE blocks, so calendars place the meetings in the event's own time zone
    return calendar.to_ical()
