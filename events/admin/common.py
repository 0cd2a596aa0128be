"""What the events' admin pages share: which events a member of staff sees, times in the event's own zone."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db.models import IntegerField, QuerySet, Subquery
from django.http import HttpRequest
from django.utils import formats, timezone

from events.models import Event, TimeSlot

# --- who sees what ----------------------------------------------------------------------------------------------


def staff_chamber_id(user: AbstractBaseUser) -> int | None:
    staff = getattr(user, "chamber_staff", None)
    return staff.chamber_id if staff is not None else None


def visible_events(user: AbstractBaseUser) -> QuerySet[Event]:
    """Superusers see every event; chamber staff the events their chamber organises; other staff none."""
    if user.is_superuser:
        return Event.objects.all()
    chamber_id = staff_chamber_id(user)
    if chamber_id is None:
        return Event.objects.none()
    return Event.objects.filter(organiser_id=chamber_id)


class RowCount(Subquery):
    """The number of rows of a subquery, as a column of the outer query (one query for a whole list page)."""

    template = "(SELECT COUNT(*) FROM (%(subquery)s) _rows)"
    output_field = IntegerField()


def _local(moment, event: Event, format_name: str = "SHORT_DATETIME_FORMAT") -> str:
    """A moment as the event's guests read it: in the event's own time zone, not the server's."""
    if moment is None:
        return "—"
    return formats.date_format(timezone.localtime(moment, ZoneInfo(event.time_zone)), format_name)


def slot_label(slot: TimeSlot, event: Event) -> str:
    return f"#{slot.number} {_local(slot.starts_at, event)}"


class EventTimeZoneMixin:
    """Change pages read and write times in the event's time zone: staff in Hanoi type 09:00 for a window at
    nine in Hanoi, whatever the server's zone."""

    def event_time_zone(self, request: HttpRequest, object_id: str | None) -> str | None:
        raise NotImplementedError

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        zone = self.event_time_zone(request, object_id) if object_id else None
        if zone is None:
            return super().changeform_view(request, object_id, form_url, extra_context)
        with timezone.override(ZoneInfo(zone)):
            response = super().changeform_view(request, object_id, form_url, extra_context)
            if hasattr(response, "render"):
                response.render()  # a TemplateResponse renders later, outside this zone, unless rendered here
            return response


def messages_of(error: ValidationError) -> list[str]:
    return [str(message) for message in error.messages]
