"""REST API shapes of B2B events: the public facts of an event, and a firm's registration, suggestions,
requests and agenda.

Other firms appear only with their public facts (name, country, city, sector codes), as on the event pages:
contact details are exchanged by double opt-in on introductions, never through an event.

Times of an event (slots, windows, meetings, registration) are written in the event's own time zone, with its
offset, so a client shows them as the firms will live them on the day. The views build the representations
(events.api); these serializers read them back out and describe them for the schema.
"""

from __future__ import annotations

import datetime as dt

from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from companies.models import Country
from companies.validators import multi_line_text
from events.models import Event, MeetingRequest, Participant
from matchmaking.models import Match

WINDOWS_MAX = 3  # as many as the registration form's rows
DIRECTION_CHOICES = [("sent", _("Sent by your firm")), ("received", _("Received by your firm"))]
ANSWER_CHOICES = [("accept", _("Accept")), ("decline", _("Decline"))]
# Statuses the event list shows: a draft is the organisers' own, a cancelled event is not on offer.
LISTED_STATUSES = [Event.Status.OPEN, Event.Status.CLOSED, Event.Status.SCHEDULED, Event.Status.FINISHED]
LISTED_STATUS_CHOICES = [(status.value, status.label) for status in LISTED_STATUSES]
# Far enough from any event, and near enough that moving a time to any time zone stays a valid datetime.
EARLIEST, LATEST = dt.datetime(2000, 1, 1, tzinfo=dt.UTC), dt.datetime(2999, 12, 31, tzinfo=dt.UTC)


# --- errors, for the schema ----------------------------------------------------------------------------------


class NotFoundSerializer(serializers.Serializer):
    detail = serializers.CharField()


class RefusalSerializer(serializers.Serializer):
    """A request that was refused: what is wrong with it as a whole, and field by field."""

    non_field_errors = serializers.ListField(child=serializers.CharField(), required=False)


class RegistrationRefusalSerializer(RefusalSerializer):
    role = serializers.ListField(child=serializers.CharField(), required=False)
    wants_help = serializers.ListField(child=serializers.CharField(), required=False)
    note = serializers.ListField(child=serializers.CharField(), required=False)
    windows = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text=_("What is wrong with the times, each message naming the time by its number (1 for the first)."),
    )


class MeetingRequestRefusalSerializer(RefusalSerializer):
    invitee = serializers.ListField(child=serializers.CharField(), required=False)
    message = serializers.ListField(child=serializers.CharField(), required=False)


class AnswerRefusalSerializer(RefusalSerializer):
    answer = serializers.ListField(child=serializers.CharField(), required=False)


class OutcomeRefusalSerializer(RefusalSerializer):
    outcome = serializers.ListField(child=serializers.CharField(), required=False)


# --- the event -----------------------------------------------------------------------------------------------


class SlotSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()


class EventSerializer(serializers.Serializer):
    """An event as the list shows it."""

    slug = serializers.SlugField()
    name = serializers.CharField()
    organiser = serializers.CharField(help_text=_("The organising chamber's name."))
    city = serializers.CharField()
    venue = serializers.CharField(allow_blank=True)
    starts_on = serializers.DateField(allow_null=True, help_text=_("Blank for a past event whose day is not known."))
    ends_on = serializers.DateField(allow_null=True)
    time_zone = serializers.ChoiceField(choices=Event._meta.get_field("time_zone").choices)
    status = serializers.ChoiceField(choices=Event.Status.choices)
    registration_opens_at = serializers.DateTimeField(allow_null=True)
    registration_closes_at = serializers.DateTimeField(allow_null=True)
    registration_open = serializers.BooleanField(help_text=_("Whether a firm can register or change its times now."))


class EventDetailSerializer(EventSerializer):
    """An event's public facts, with its time slots."""

    description = serializers.CharField(allow_blank=True)
    # Wall-clock times of the event's time zone, which a "time" with an offset would misstate on other days.
    day_starts_at = serializers.CharField(help_text=_("When meetings start each day, HH:MM in the event's time zone."))
    day_ends_at = serializers.CharField(help_text=_("When meetings end each day, HH:MM in the event's time zone."))
    meeting_minutes = serializers.IntegerField()
    break_minutes = serializers.IntegerField()
    tables = serializers.IntegerField()
    request_rule = serializers.ChoiceField(choices=Event.RequestRule.choices)
    max_requests_per_firm = serializers.IntegerField()
    slots = SlotSerializer(many=True)


# --- registration --------------------------------------------------------------------------------------------


class AwareDateTimeField(serializers.DateTimeField):
    """An ISO 8601 datetime with its UTC offset: a time without one could be meant in any time zone."""

    default_error_messages = {
        "naive": _("Give the time with its UTC offset, such as 2025-06-12T09:00:00+07:00."),
        "range": _("Give a time between the years 2000 and 2999."),
    }

    def to_internal_value(self, value):
        if isinstance(value, str):
            try:
                parsed = parse_datetime(value.strip())
            except ValueError:
                parsed = None  # DRF's own parsing tells what is wrong
            if parsed is not None and parsed.tzinfo is None:
                self.fail("naive")
        value = super().to_internal_value(value)
        if not EARLIEST <= value <= LATEST:
            self.fail("range")
        return value


class WindowSerializer(serializers.Serializer):
    starts_at = AwareDateTimeField()
    ends_at = AwareDateTimeField()


class RegistrationChangeSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Participant.Role.choices, default=Participant.Role.BOTH)
    wants_help = serializers.BooleanField(
        default=False, help_text=_("Ask the organisers to arrange meetings for my firm")
    )
    note = serializers.CharField(allow_blank=True, default="", max_length=2000, validators=[multi_line_text])
    windows = WindowSerializer(
        many=True,
        max_length=WINDOWS_MAX,
        help_text=_("The times your firm can meet, at most three; the slots inside them are your firm's."),
    )


class RegistrationSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Participant.Status.choices)
    role = serializers.ChoiceField(choices=Participant.Role.choices)
    wants_help = serializers.BooleanField()
    note = serializers.CharField(allow_blank=True)
    windows = WindowSerializer(many=True)
    available_slots = serializers.IntegerField(help_text=_("How many of the event's time slots the times hold."))
    registered_at = serializers.DateTimeField()


# --- other firms ---------------------------------------------------------------------------------------------


class FirmSerializer(serializers.Serializer):
    """A firm's public facts: never its contact details."""

    company = serializers.IntegerField(help_text=_("The firm's id in the company directory."))
    name = serializers.CharField()
    country = serializers.ChoiceField(choices=Country.choices)
    city = serializers.CharField()
    sectors = serializers.ListField(child=serializers.CharField(), help_text=_("ISIC Rev.4 division codes."))


class SuggestionSerializer(serializers.Serializer):
    participant = serializers.IntegerField(help_text=_("The participant to request a meeting with."))
    firm = FirmSerializer()
    score = serializers.FloatField()
    reasons = serializers.ListField(child=serializers.CharField(), help_text=_("Why, in the request's language."))


# --- meeting requests ----------------------------------------------------------------------------------------


class ScheduledMeetingSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    slot = serializers.IntegerField(help_text=_("The time slot's number."))
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    table = serializers.IntegerField()


class MeetingRequestSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    direction = serializers.ChoiceField(choices=DIRECTION_CHOICES)
    counterpart = serializers.IntegerField(help_text=_("The other firm's participant id."))
    firm = FirmSerializer()
    status = serializers.ChoiceField(choices=MeetingRequest.Status.choices)
    message = serializers.CharField(allow_blank=True)
    reasons = serializers.ListField(child=serializers.CharField())
    created_at = serializers.DateTimeField()
    answered_at = serializers.DateTimeField(allow_null=True)
    meeting = ScheduledMeetingSerializer(allow_null=True, help_text=_("Its place once the schedule is built."))
    unplaced_reason = serializers.CharField(
        allow_blank=True, help_text=_("Why the last schedule build left it without a meeting.")
    )
    may_answer = serializers.BooleanField()
    may_cancel = serializers.BooleanField()


class MeetingInvitationSerializer(serializers.Serializer):
    invitee = serializers.IntegerField(
        min_value=1, max_value=2**63 - 1, help_text=_("The participant id of the firm to meet.")
    )
    message = serializers.CharField(
        allow_blank=True,
        default="",
        max_length=MeetingRequest._meta.get_field("message").max_length,
        validators=[multi_line_text],
    )


class AnswerSerializer(serializers.Serializer):
    answer = serializers.ChoiceField(choices=ANSWER_CHOICES)


# --- the agenda ----------------------------------------------------------------------------------------------


class AgendaItemSerializer(serializers.Serializer):
    meeting = serializers.IntegerField(help_text=_("The meeting's id, for telling its outcome."))
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    table = serializers.IntegerField()
    counterpart = serializers.IntegerField(help_text=_("The other firm's participant id."))
    firm = FirmSerializer()
    interpreter = serializers.CharField(allow_blank=True, help_text=_("Blank when the firms share a language."))
    language_pair = serializers.CharField(allow_blank=True)
    started = serializers.BooleanField(help_text=_("Once started, its outcome can be told."))
    my_outcome = serializers.ChoiceField(choices=Match.Outcome.choices, allow_blank=True)
