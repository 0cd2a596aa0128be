"""Forms of the firm-facing event pages: the search box, the registration with its times, a meeting request."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django import forms
from django.core.exceptions import ValidationError
from django.forms.utils import ErrorList
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from companies.validators import multi_line_text
from events import services
from events.models import AvailabilityWindow, Event, MeetingRequest, Participant

WINDOW_ROWS = 3


class EventSearchForm(forms.Form):
    q = forms.CharField(label=_("Search name or city"), required=False, max_length=100)


def event_days(event: Event) -> list[dt.date]:
    if not event.starts_on:
        return []
    days, day = [], event.starts_on
    while day <= (event.ends_on or event.starts_on):
        days.append(day)
        day += dt.timedelta(days=1)
    return days


class RegistrationForm(forms.Form):
    """The firm's role and the times it can meet, as up to three rows of day, from and to, in the event's
    time zone. Blank rows are ignored; what the times may be (no overlap, covering a slot) is the service's
    rule, and its errors come back through ``add_service_error``."""

    role = forms.ChoiceField(
        label=_("Your firm comes as"), choices=Participant.Role.choices, initial=Participant.Role.BOTH
    )
    wants_help = forms.BooleanField(
        label=_("Ask the organisers to arrange meetings for my firm"),
        required=False,
        help_text=_("The chamber's staff may add meetings with firms that fit yours."),
    )
    note = forms.CharField(
        label=_("Note to the organisers"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        validators=[multi_line_text],
    )

    def __init__(self, *args, event: Event, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.event = event
        self.zone = ZoneInfo(event.time_zone)
        # Shown above the time rows: the service judges the times together (overlaps, no slot covered).
        self.window_errors = ErrorList()
        days = [("", "—")] + [
            (day.isoformat(), f"{formats.date_format(day, 'l')}, {formats.date_format(day)}")
            for day in event_days(event)
        ]
        for n in range(1, WINDOW_ROWS + 1):
            self.fields[f"window_{n}_day"] = forms.ChoiceField(label=_("Day"), choices=days, required=False)
            self.fields[f"window_{n}_start"] = forms.TimeField(
                label=_("From"), required=False, widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
            )
            self.fields[f"window_{n}_end"] = forms.TimeField(
                label=_("To"), required=False, widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
            )

    @property
    def window_rows(self) -> list[dict]:
        return [
            {
                "number": n,
                "day": self[f"window_{n}_day"],
                "start": self[f"window_{n}_start"],
                "end": self[f"window_{n}_end"],
            }
            for n in range(1, WINDOW_ROWS + 1)
        ]

    @property
    def main_fields(self) -> list:
        return [self["role"], self["wants_help"], self["note"]]

    def clean(self) -> dict:
        data = super().clean()
        for n in range(1, WINDOW_ROWS + 1):
            names = (f"window_{n}_day", f"window_{n}_start", f"window_{n}_end")
            given = [name for name in names if data.get(name) not in (None, "")]
            if given and len(given) < 3:
                for name in names:
                    if name not in given and name not in self.errors:
                        self.add_error(
                            name, _("Give the day, the start and the end of this time, or leave the row blank.")
                        )
        return data

    def windows(self) -> list[services.Window]:
        """The rows filled in, as aware datetimes in the event's time zone."""
        windows = []
        for n in range(1, WINDOW_ROWS + 1):
            day = self.cleaned_data.get(f"window_{n}_day")
            start, end = self.cleaned_data.get(f"window_{n}_start"), self.cleaned_data.get(f"window_{n}_end")
            if day and start and end:
                day = dt.date.fromisoformat(day)
                windows.append(
                    services.Window(
                        dt.datetime.combine(day, start, self.zone), dt.datetime.combine(day, end, self.zone)
                    )
                )
        return windows

    def add_service_error(self, error: ValidationError) -> None:
        """Show a service's refusal where it belongs: times above the rows, a field's at the field, the rest on top."""
        if not hasattr(error, "error_dict"):
            self.add_error(None, error.messages)
            return
        for key, errors in error.message_dict.items():
            if key == "windows":
                self.window_errors.extend(errors)
            elif key in self.fields:
                self.add_error(key, errors)
            else:
                self.add_error(None, errors)

    @classmethod
    def initial_for(cls, event: Event, participant: Participant | None) -> dict:
        """A registered firm's answers and times as they stand; a new one starts with the event's first day."""
        if participant is None or not participant.windows.exists():
            if not event.starts_on:
                return {}
            return {
                "window_1_day": event.starts_on.isoformat(),
                "window_1_start": event.day_starts_at,
                "window_1_end": event.day_ends_at,
            }
        initial = {"role": participant.role, "wants_help": participant.wants_help, "note": participant.note}
        windows: list[AvailabilityWindow] = list(participant.windows.order_by("starts_at"))[:WINDOW_ROWS]
        zone = ZoneInfo(event.time_zone)
        for n, window in enumerate(windows, start=1):
            starts, ends = timezone.localtime(window.starts_at, zone), timezone.localtime(window.ends_at, zone)
            initial.update(
                {
                    f"window_{n}_day": starts.date().isoformat(),
                    f"window_{n}_start": starts.time(),
                    f"window_{n}_end": ends.time(),
                }
            )
        return initial


class MeetingRequestForm(forms.Form):
    invitee = forms.IntegerField(widget=forms.HiddenInput)
    message = forms.CharField(
        label=_("Message (optional)"),
        required=False,
        max_length=MeetingRequest._meta.get_field("message").max_length,
        widget=forms.Textarea(attrs={"rows": 2}),
        validators=[multi_line_text],
    )
