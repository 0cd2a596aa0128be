"""REST API of B2B events for firms: the events on offer, and a member's firm at one of them (registration,
suggestions, meeting requests, agenda, outcomes), mirroring what the event pages allow.

Reads go through events.selectors and events.agendas, writes through events.services; a service's refusal
(django's ValidationError) comes back as a 400 with its messages, under the field at fault where it names one.
Another firm's registration, request or meeting is a 404, as on the pages.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import F, Q, prefetch_related_objects
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import filters, generics, permissions, status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from companies import selectors as company_selectors
from companies.models import Company
from companies.parsers import JSONParser
from events import agendas, selectors, services
from events.models import Event, Meeting, MeetingRequest, Participant
from events.serializers import (
    LISTED_STATUS_CHOICES,
    LISTED_STATUSES,
    AgendaItemSerializer,
    AnswerRefusalSerializer,
    AnswerSerializer,
    EventDetailSerializer,
    EventSerializer,
    MeetingInvitationSerializer,
    MeetingRequestRefusalSerializer,
    MeetingRequestSerializer,
    NotFoundSerializer,
    OutcomeRefusalSerializer,
    RefusalSerializer,
    RegistrationChangeSerializer,
    RegistrationRefusalSerializer,
    RegistrationSerializer,
    SuggestionSerializer,
)
from matchmaking.serializers import OutcomeSerializer

# Drafts are the organisers' own; a cancelled event keeps its page for the firms that had registered (as on
# the web), though the list leaves it out.
SHOWN = [*LISTED_STATUSES, Event.Status.CANCELLED]
UPCOMING = [Event.Status.OPEN, Event.Status.CLOSED, Event.Status.SCHEDULED]
ANSWERS = {"accept": True, "decline": False}

NOT_FOUND = OpenApiResponse(NotFoundSerializer, description="No such event, or nothing of the member's firm there.")


# --- representations -----------------------------------------------------------------------------------------


def _local(event: Event, moment: dt.datetime | None) -> str | None:
    """An ISO 8601 time in the event's time zone, with its offset."""
    return timezone.localtime(moment, ZoneInfo(event.time_zone)).isoformat() if moment else None


def _event_data(event: Event) -> dict:
    return {
        "slug": event.slug,
        "name": event.name,
        "organiser": event.organiser.name,
        "city": event.city,
        "venue": event.venue,
        "starts_on": event.starts_on,
        "ends_on": event.ends_on,
        "time_zone": event.time_zone,
        "status": event.status,
        "registration_opens_at": _local(event, event.registration_opens_at),
        "registration_closes_at": _local(event, event.registration_closes_at),
        "registration_open": services.registration_open(event),
    }


def _event_detail_data(event: Event) -> dict:
    return {
        **_event_data(event),
        "description": event.description,
        "day_starts_at": event.day_starts_at.strftime("%H:%M"),
        "day_ends_at": event.day_ends_at.strftime("%H:%M"),
        "meeting_minutes": event.meeting_minutes,
        "break_minutes": event.break_minutes,
        "tables": event.tables,
        "request_rule": event.request_rule,
        "max_requests_per_firm": event.max_requests_per_firm,
        "slots": [
            {"number": s.number, "starts_at": _local(event, s.starts_at), "ends_at": _local(event, s.ends_at)}
            for s in event.slots.order_by("starts_at")
        ],
    }


def _firm_data(company: Company) -> dict:
    """What anyone may read of a firm (as the pages show it): never its contact person, email or phone.
    Expects the firm's sectors prefetched when it is one of many."""
    sectors = sorted(sector.code for sector in company.sectors.all())
    if not sectors and company.activity_division_id:
        sectors = [company.activity_division_id]  # a firm that named no sector is in its activity's division
    return {
        "company": company.pk,
        "name": company.name,
        "country": company.country,
        "city": company.city,
        "sectors": sectors,
    }


def _registration_data(participant: Participant) -> dict:
    event = participant.event
    windows = list(participant.windows.order_by("starts_at"))
    return {
        "status": participant.status,
        "role": participant.role,
        "wants_help": participant.wants_help,
        "note": participant.note,
        "windows": [{"starts_at": _local(event, w.starts_at), "ends_at": _local(event, w.ends_at)} for w in windows],
        "available_slots": len(selectors.slots_in_windows(event.slots.all(), windows)),
        "registered_at": participant.registered_at,
    }


def _request_rows(participant: Participant, requests: list[MeetingRequest]) -> list[dict]:
    event = participant.event
    return [
        {
            "id": view.request.pk,
            "direction": "sent" if view.sent else "received",
            "counterpart": view.counterpart.pk,
            "firm": _firm_data(view.counterpart.company),
            "status": view.request.status,
            "message": view.request.message,
            "reasons": view.reasons,
            "created_at": view.request.created_at,
            "answered_at": view.request.answered_at,
            "meeting": {
                "id": view.meeting.pk,
                "slot": view.meeting.slot.number,
                "starts_at": _local(event, view.meeting.slot.starts_at),
                "ends_at": _local(event, view.meeting.slot.ends_at),
                "table": view.meeting.table,
            }
            if view.meeting
            else None,
            "unplaced_reason": view.unplaced,
            "may_answer": view.may_answer,
            "may_cancel": view.may_cancel,
        }
        for view in selectors.request_views(participant, requests)
    ]


def _agenda_rows(participant: Participant) -> list[dict]:
    items = agendas.agenda(participant)
    prefetch_related_objects([item.counterpart for item in items], "sectors")
    now = timezone.now()
    return [
        {
            "meeting": item.meeting.pk,
            "starts_at": item.starts_at.isoformat(),
            "ends_at": item.ends_at.isoformat(),
            "table": item.table,
            "counterpart": selectors.counterpart(item.meeting.request, participant).pk,
            "firm": _firm_data(item.counterpart),
            "interpreter": item.interpreter,
            "language_pair": item.language_pair,
            "started": item.starts_at <= now,
            "my_outcome": item.my_outcome,
        }
        for item in items
    ]


def _refusal(error: DjangoValidationError) -> ValidationError:
    """A service's ValidationError as the API's 400: field messages under the field, the rest as non-field."""
    if hasattr(error, "error_dict"):
        return ValidationError(
            {
                ("non_field_errors" if key == "__all__" else key): messages
                for key, messages in error.message_dict.items()
            }
        )
    return ValidationError({"non_field_errors": error.messages})


# --- the events on offer -------------------------------------------------------------------------------------


class EventFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=LISTED_STATUS_CHOICES)
    city = django_filters.CharFilter(lookup_expr="iexact", max_length=100)
    upcoming = django_filters.BooleanFilter(
        method="filter_upcoming", label="Upcoming (registration open or closed, schedule published) or held"
    )

    class Meta:
        model = Event
        fields = ["status", "city", "upcoming"]

    def filter_upcoming(self, queryset, name, value):
        return queryset.filter(status__in=UPCOMING if value else [Event.Status.FINISHED])


class EventListView(generics.ListAPIView):
    """B2B meeting days on offer and held ones, the latest first; drafts and cancelled events are not listed."""

    serializer_class = EventSerializer
    permission_classes = [permissions.AllowAny]
    filter_backends = [DjangoFilterBackend, filters.SearchFilter]
    filterset_class = EventFilter
    search_fields = ["name", "city"]

    def get_queryset(self):
        return (
            Event.objects.filter(status__in=LISTED_STATUSES)
            .select_related("organiser")
            .order_by(F("starts_on").desc(nulls_last=True), "name", "pk")
        )

    def list(self, request: Request, *args, **kwargs) -> Response:
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(EventSerializer([_event_data(e) for e in page], many=True).data)


def _event(slug: str) -> Event:
    return get_object_or_404(Event.objects.select_related("organiser").filter(status__in=SHOWN), slug=slug)


class EventDetailView(APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(responses={200: EventDetailSerializer, 404: NOT_FOUND})
    def get(self, request: Request, slug: str) -> Response:
        """An event's public facts: organiser, place, days, meeting length, tables, who may request whom, the
        registration window and the time slots (times in the event's time zone)."""
        return Response(EventDetailSerializer(_event_detail_data(_event(slug))).data)


# --- the member's firm at an event ---------------------------------------------------------------------------


class _FirmAtEventView(APIView):
    permission_classes = [permissions.IsAuthenticated]
    parser_classes = [JSONParser]

    def company(self) -> Company | None:
        return company_selectors.company_of(self.request.user)

    def participant(self, event: Event) -> Participant:
        """The member's firm at this event; a 404 for anyone else (another firm's business is none of theirs)."""
        participant = selectors.participant_of(event, self.company())
        if participant is None:
            raise Http404(_("Your firm is not registered for this event."))
        participant.event = event
        return participant

    def accepted_participant(self, event: Event) -> Participant:
        participant = self.participant(event)
        if participant.status != Participant.Status.ACCEPTED:
            raise Http404(_("%(firm)s is not an accepted participant of the event.") % {"firm": participant.company})
        return participant


class RegistrationView(_FirmAtEventView):
    @extend_schema(responses={200: RegistrationSerializer, 404: NOT_FOUND})
    def get(self, request: Request, slug: str) -> Response:
        """The member's firm's registration: its status, role and the times it can meet."""
        participant = self.participant(_event(slug))
        return Response(RegistrationSerializer(_registration_data(participant)).data)

    @extend_schema(
        request=RegistrationChangeSerializer,
        responses={200: RegistrationSerializer, 400: RegistrationRefusalSerializer, 404: NOT_FOUND},
    )
    def put(self, request: Request, slug: str) -> Response:
        """Register the member's firm, or change its registration and times while registration is open. Times
        are ISO 8601 datetimes with their UTC offset; they may not overlap and must hold a time slot."""
        event = _event(slug)
        company = self.company()
        if company is None:
            raise ValidationError(
                {"non_field_errors": [_("Describe your firm first; it can take part in events once it is published.")]}
            )
        serializer = RegistrationChangeSerializer(data=request.data)
        if not serializer.is_valid():
            raise ValidationError(_flat_window_errors(serializer.errors))
        data = serializer.validated_data
        try:
            participant = services.register(
                event,
                company,
                windows=[services.Window(w["starts_at"], w["ends_at"]) for w in data["windows"]],
                role=data["role"],
                wants_help=data["wants_help"],
                note=data["note"],
                by=request.user,
            )
        except DjangoValidationError as error:
            raise _refusal(error) from None
        participant.event = event
        return Response(RegistrationSerializer(_registration_data(participant)).data)

    @extend_schema(responses={204: None, 400: RefusalSerializer, 404: NOT_FOUND})
    def delete(self, request: Request, slug: str) -> Response:
        """The member's firm leaves the event: its meeting requests are cancelled and its meetings freed."""
        event = _event(slug)
        participant = self.participant(event)
        try:
            services.withdraw(participant)
        except DjangoValidationError as error:
            raise _refusal(error) from None
        return Response(status=status.HTTP_204_NO_CONTENT)


def _flat_window_errors(errors: dict) -> dict:
    """The serializer's errors with those of single times as messages under "windows", numbered as the
    service numbers them, so a client finds every problem with the times in one list of sentences."""
    windows = errors.get("windows")
    if windows is None:
        return errors
    flat = []
    if isinstance(windows, dict):  # the list as a whole, or times by their index
        for key, value in windows.items():
            if isinstance(key, int):
                flat += _window_messages(key + 1, value)
            else:
                flat += [str(message) for message in value]
    else:
        for n, value in enumerate(windows, start=1):
            flat += _window_messages(n, value) if isinstance(value, dict) else [str(value)]
    return {**errors, "windows": flat}


def _window_messages(n: int, value) -> list[str]:
    if not isinstance(value, dict):
        value = {"non_field_errors": value}
    return [
        _("Time %(n)d: %(problem)s") % {"n": n, "problem": message}
        if field == "non_field_errors"
        else _("Time %(n)d, %(field)s: %(problem)s") % {"n": n, "field": field, "problem": message}
        for field, messages in value.items()
        for message in messages
    ]


class SuggestionsView(_FirmAtEventView):
    @extend_schema(responses={200: SuggestionSerializer(many=True), 404: NOT_FOUND})
    def get(self, request: Request, slug: str) -> Response:
        """The accepted participants the matching engine ranks best for the member's firm, among those it may
        still request, with the reasons in the request's language."""
        event = _event(slug)
        participant = self.accepted_participant(event)
        if event.status not in services.REQUESTABLE_STATUSES:
            return Response([])
        suggestions = selectors.event_suggestions(participant)
        rows = [
            {
                "participant": s["participant"].pk,
                "firm": _firm_data(s["participant"].company),
                "score": s["score"],
                "reasons": s["reasons"],
            }
            for s in suggestions
        ]
        return Response(SuggestionSerializer(rows, many=True).data)


class MeetingRequestsView(_FirmAtEventView):
    @extend_schema(responses={200: MeetingRequestSerializer(many=True), 404: NOT_FOUND})
    def get(self, request: Request, slug: str) -> Response:
        """The member's firm's meeting requests, those it sent and those it received, newest first."""
        participant = self.participant(_event(slug))
        mine = selectors.requests_of(participant)
        requests = sorted(mine["sent"] + mine["received"], key=lambda r: (r.created_at, r.pk), reverse=True)
        return Response(MeetingRequestSerializer(_request_rows(participant, requests), many=True).data)

    @extend_schema(
        request=MeetingInvitationSerializer,
        responses={201: MeetingRequestSerializer, 400: MeetingRequestRefusalSerializer, 404: NOT_FOUND},
    )
    def post(self, request: Request, slug: str) -> Response:
        """Ask another participant of the event for a meeting."""
        event = _event(slug)
        participant = self.participant(event)
        serializer = MeetingInvitationSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        invitee = selectors.invitable_participants(event).filter(pk=serializer.validated_data["invitee"]).first()
        if invitee is None:
            raise ValidationError({"invitee": [_("No participant of this event has this id.")]})
        try:
            meeting_request = services.request_meeting(
                participant, invitee, message=serializer.validated_data["message"], by=request.user
            )
        except DjangoValidationError as error:
            raise _refusal(error) from None
        return Response(_request_row(participant, meeting_request.pk), status=status.HTTP_201_CREATED)


def _my_request(participant: Participant, pk: int) -> MeetingRequest:
    return get_object_or_404(
        MeetingRequest.objects.select_related("requester__company", "invitee__company"),
        Q(requester=participant) | Q(invitee=participant),
        event=participant.event,
        pk=pk,
    )


def _request_row(participant: Participant, pk: int) -> dict:
    meeting_request = MeetingRequest.objects.select_related(
        "requester__company", "invitee__company", "meeting__slot"
    ).get(pk=pk)
    return MeetingRequestSerializer(_request_rows(participant, [meeting_request])[0]).data


REQUEST_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The meeting request's id.")


class AnswerRequestView(_FirmAtEventView):
    @extend_schema(
        parameters=[REQUEST_ID],
        request=AnswerSerializer,
        responses={200: MeetingRequestSerializer, 400: AnswerRefusalSerializer, 404: NOT_FOUND},
    )
    def post(self, request: Request, slug: str, id: int) -> Response:
        """The invited firm accepts or declines a request; an accepted one gets a time and a table when the
        organisers build the schedule."""
        participant = self.participant(_event(slug))
        meeting_request = _my_request(participant, id)
        serializer = AnswerSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            services.answer_request(meeting_request, participant, ANSWERS[serializer.validated_data["answer"]])
        except DjangoValidationError as error:
            raise _refusal(error) from None
        return Response(_request_row(participant, meeting_request.pk))


class CancelRequestView(_FirmAtEventView):
    @extend_schema(
        parameters=[REQUEST_ID],
        request=None,
        responses={200: MeetingRequestSerializer, 400: RefusalSerializer, 404: NOT_FOUND},
    )
    def post(self, request: Request, slug: str, id: int) -> Response:
        """Either firm calls a request off; its meeting, if scheduled, is freed."""
        participant = self.participant(_event(slug))
        meeting_request = _my_request(participant, id)
        try:
            services.cancel_request(meeting_request, participant)
        except DjangoValidationError as error:
            raise _refusal(error) from None
        return Response(_request_row(participant, meeting_request.pk))


# --- the agenda ----------------------------------------------------------------------------------------------


class AgendaView(_FirmAtEventView):
    @extend_schema(responses={200: AgendaItemSerializer(many=True), 404: NOT_FOUND})
    def get(self, request: Request, slug: str) -> Response:
        """The member's firm's meetings in time order (times in the event's time zone), with table, the other
        firm, the interpreter and what the firm told of each."""
        participant = self.participant(_event(slug))
        return Response(AgendaItemSerializer(_agenda_rows(participant), many=True).data)


class MeetingOutcomeView(_FirmAtEventView):
    @extend_schema(
        parameters=[OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The meeting's id.")],
        request=OutcomeSerializer,
        responses={200: AgendaItemSerializer, 400: OutcomeRefusalSerializer, 404: NOT_FOUND},
    )
    def post(self, request: Request, slug: str, id: int) -> Response:
        """Tell what came of one of the firm's meetings, once it started: met, agreement or no reply."""
        participant = self.participant(_event(slug))
        meeting = get_object_or_404(
            Meeting.objects.select_related("slot", "request"),
            Q(request__requester=participant) | Q(request__invitee=participant),
            event=participant.event,
            pk=id,
        )
        serializer = OutcomeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            services.record_meeting_outcome(meeting, participant, serializer.validated_data["outcome"])
        except DjangoValidationError as error:
            raise _refusal(error) from None
        row = next(row for row in _agenda_rows(participant) if row["meeting"] == meeting.pk)
        return Response(AgendaItemSerializer(row).data)
