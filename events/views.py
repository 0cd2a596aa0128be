"""The firm-facing pages of B2B events: the list, an event's page (registration, suggestions, requests), the
firm's agenda on screen, printable and as a calendar file.

Other firms appear here only with their public facts (name, country, city, sectors): contact details are
exchanged by double opt-in on introductions, never through an event's pages.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import quote
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from companies import selectors as company_selectors
from companies.models import Company
from events import agendas, selectors, services
from events.forms import EventSearchForm, MeetingRequestForm, RegistrationForm
from events.models import Event, LanguagePair, Meeting, MeetingRequest, Participant
from matchmaking.explain import LazySectorNames
from matchmaking.models import MEMBER_OUTCOMES

PAGE_SIZE = 20
UPCOMING = [Event.Status.OPEN, Event.Status.CLOSED, Event.Status.SCHEDULED]
PAST = [Event.Status.FINISHED]
# Drafts are the organisers' own; a cancelled event keeps its page for the firms that had registered.
SHOWN = [*UPCOMING, *PAST, Event.Status.CANCELLED]
ANSWERS = {"accept": True, "decline": False}


# --- the list ------------------------------------------------------------------------------------------------


def event_list(request: HttpRequest) -> HttpResponse:
    form = EventSearchForm(request.GET or None)
    events = Event.objects.select_related("organiser")
    query = form.cleaned_data["q"].strip() if form.is_valid() else ""
    if query:
        # The names the reader sees (events.models.Event.local_name, local_city) are searched too.
        events = events.filter(
            Q(name__icontains=query)
            | Q(name_vi__icontains=query)
            | Q(name_ru__icontains=query)
            | Q(city__icontains=query)
            | Q(city_vi__icontains=query)
            | Q(city_ru__icontains=query)
        )
    upcoming = events.filter(status__in=UPCOMING).order_by("starts_on", "name", "pk")
    past = events.filter(status__in=PAST).order_by("-starts_on", "name", "pk")
    company = company_selectors.company_of(request.user) if request.user.is_authenticated else None
    return render(
        request,
        "events/event_list.html",
        {
            "form": form,
            "query": query,
            "mine": selectors.participations_of(company) if company else [],
            "upcoming": Paginator(upcoming, PAGE_SIZE).get_page(request.GET.get("page")),
            "past": Paginator(past, PAGE_SIZE).get_page(request.GET.get("past_page")),
        },
    )


# --- one event -----------------------------------------------------------------------------------------------


def _event(slug: str) -> Event:
    return get_object_or_404(Event.objects.select_related("organiser").filter(status__in=SHOWN), slug=slug)


def _my_participant(request: HttpRequest, event: Event) -> Participant:
    """The signed-in member's firm at this event; a 404 for anyone else (another firm's pages are none of theirs)."""
    participant = selectors.participant_of(event, company_selectors.company_of(request.user))
    if participant is None:
        raise Http404(_("Your firm is not registered for this event."))
    participant.event = event
    return participant


def _local(event: Event, moment: dt.datetime | None) -> dt.datetime | None:
    return timezone.localtime(moment, ZoneInfo(event.time_zone)) if moment else None


@dataclass(frozen=True)
class RegistrationState:
    open: bool
    sentence: str  # whether firms may register, and why not, in the reader's language
    not_yet: bool = False  # open for registration later


def registration_state(event: Event, now: dt.datetime | None = None) -> RegistrationState:
    """The one thing the event's page says about registration: open until when, or closed since when and why.
    Times are the event's own clock, named as a reader says it."""
    now = now or timezone.now()
    zone = event.zone_label

    def when(moment: dt.datetime, format: str = "DATETIME_FORMAT") -> str:
        return formats.date_format(_local(event, moment), format)

    opens, closes, published = event.registration_opens_at, event.registration_closes_at, event.schedule_built_at
    closed_by_date = closes is not None and closes <= now
    by_date = (
        (
            _("Registration closed on %(date)s, %(zone)s: the closing date the organisers set.")
            % {"date": when(closes), "zone": zone}
        )
        if closes
        else ""
    )
    if event.status == Event.Status.OPEN:
        if opens is not None and now < opens:
            return RegistrationState(
                False,
                _("Registration opens on %(date)s, %(zone)s.") % {"date": when(opens), "zone": zone},
                not_yet=True,
            )
        if closed_by_date:
            return RegistrationState(False, by_date)
        if closes is not None:
            return RegistrationState(
                services.registration_open(event, now),
                _("Registration is open until %(date)s, %(zone)s.") % {"date": when(closes), "zone": zone},
            )
        return RegistrationState(services.registration_open(event, now), _("Registration is open."))
    if event.status == Event.Status.CLOSED:
        if closed_by_date:
            return RegistrationState(False, by_date)
        return RegistrationState(
            False,
            _("Registration is closed: the organisers closed it before its closing date.")
            if closes
            else _("Registration is closed: the organisers closed it."),
        )
    if event.status == Event.Status.SCHEDULED:
        if published is None:
            return RegistrationState(
                False, _("Registration is closed because the organisers published the meeting schedule.")
            )
        if closed_by_date and closes <= published:
            return RegistrationState(
                False,
                _(
                    "Registration closed on %(closed)s, %(zone)s. The organisers published the meeting schedule on "
                    "%(published)s."
                )
                % {"closed": when(closes), "zone": zone, "published": when(published, "DATE_FORMAT")},
            )
        return RegistrationState(
            False,
            _("Registration closed on %(date)s because the organisers published the meeting schedule that day.")
            % {"date": when(published, "DATE_FORMAT")},
        )
    if event.status == Event.Status.CANCELLED:
        return RegistrationState(False, _("There is no registration: the event is cancelled."))
    return RegistrationState(False, _("Registration is over: the event has been held."))


def _firm_facts(company: Company) -> dict:
    """What any visitor may read of a firm: the directory's public facts, never its contact person."""
    sectors = [sector.name for sector in company.sectors.all()] or (
        [company.activity_division.name] if company.activity_division_id else []
    )
    return {
        "pk": company.pk,
        "name": company.name,
        "country": company.get_country_display(),
        "city": company.city,
        "sectors": sectors,
    }


def _with_public_facts(participants: QuerySet[Participant]) -> QuerySet[Participant]:
    return participants.select_related("company__activity_division").prefetch_related("company__sectors")


def _request_rows(participant: Participant, requests: list[MeetingRequest], names: LazySectorNames) -> list[dict]:
    event = participant.event
    return [
        {
            "request": view.request,
            "counterpart": _firm_facts(view.counterpart.company),
            "reasons": view.reasons,
            "meeting": view.meeting,
            "meeting_starts_at": _local(event, view.meeting.slot.starts_at) if view.meeting else None,
            "unplaced": view.unplaced,
            "answerable": view.may_answer,
            "cancellable": view.may_cancel,
        }
        for view in selectors.request_views(participant, requests, names)
    ]


def _participant_context(request: HttpRequest, event: Event, participant: Participant) -> dict:
    """What an accepted firm sees: suggestions, every firm it may ask, and its requests both ways."""
    names = LazySectorNames()
    mine = selectors.requests_of(participant)
    requesting = event.status in services.REQUESTABLE_STATUSES
    # A firm with a request standing (or answered) either way is asked from its request, not again.
    engaged = {
        selectors.counterpart(r, participant).pk
        for r in mine["sent"] + mine["received"]
        if r.status != MeetingRequest.Status.CANCELLED
    }
    suggestions = []
    if requesting:
        for suggestion in selectors.event_suggestions(participant):
            suggestions.append(
                {
                    "participant": suggestion["participant"],
                    "firm": _firm_facts(suggestion["participant"].company),
                    "score": min(max(round(suggestion["score"] * 100), 0), 100),
                    "reasons": suggestion["reasons"],
                }
            )
    others = [
        other
        for other in _with_public_facts(selectors.listed_participants(event).exclude(pk=participant.pk))
        if selectors.may_request(event, participant, other)
    ]
    others_page = Paginator(others, PAGE_SIZE).get_page(request.GET.get("firms"))
    return {
        "requesting": requesting,
        "suggestions": suggestions,
        "others_page": others_page,
        "others": [
            {"participant": other, "firm": _firm_facts(other.company), "engaged": other.pk in engaged}
            for other in others_page
        ],
        "sent": _request_rows(participant, mine["sent"], names),
        "received": _request_rows(participant, mine["received"], names),
        "requests_left": max(event.max_requests_per_firm - selectors.sent_requests(participant), 0),
    }


def _detail_context(request: HttpRequest, event: Event, form: RegistrationForm | None = None) -> dict:
    company = company_selectors.company_of(request.user)
    participant = selectors.participant_of(event, company)
    if participant is not None:
        participant.event = event
    state = registration_state(event)
    registration_open = state.open
    # A firm turned down by the organisers cannot register again; one that left may come back.
    may_register = (
        registration_open
        and company is not None
        and company.status == Company.Status.PUBLISHED
        and (participant is None or participant.status != Participant.Status.DECLINED)
    )
    if may_register and form is None:
        form = RegistrationForm(initial=RegistrationForm.initial_for(event, participant), event=event)
    context = {
        "event": event,
        "registration_state": state,
        "registration_open": registration_open,
        "company": company,
        "participant": participant,
        "form": form if may_register else None,
        "login_url": f"{reverse('login')}?next={quote(request.get_full_path())}",
        "windows": [
            {"starts_at": _local(event, w.starts_at), "ends_at": _local(event, w.ends_at)}
            for w in (participant.windows.all() if participant else [])
        ],
        "has_meetings": participant is not None and selectors.meetings_of(participant).exists(),
        "active": participant is not None and participant.status == Participant.Status.ACCEPTED,
        "may_leave": participant is not None
        and participant.status in (Participant.Status.REGISTERED, Participant.Status.ACCEPTED)
        and event.status in services.REQUESTABLE_STATUSES,
    }
    if context["active"]:
        context.update(_participant_context(request, event, participant))
    return context


def event_detail(request: HttpRequest, slug: str) -> HttpResponse:
    event = _event(slug)
    return render(request, "events/event_detail.html", _detail_context(request, event))


def _back(event: Event, anchor: str = "") -> HttpResponse:
    url = reverse("event-detail", args=[event.slug])
    return redirect(f"{url}#{anchor}" if anchor else url)


@login_required
@require_POST
def register(request: HttpRequest, slug: str) -> HttpResponse:
    event = _event(slug)
    company = company_selectors.company_of(request.user)
    if company is None:
        messages.info(request, _("Describe your firm first; it can take part in events once it is published."))
        return redirect("my-profile")
    form = RegistrationForm(request.POST, event=event)
    if form.is_valid():
        windows = form.windows()
        try:
            participant = services.register(
                event,
                company,
                windows=windows,
                role=form.cleaned_data["role"],
                wants_help=form.cleaned_data["wants_help"],
                note=form.cleaned_data["note"].strip(),
                by=request.user,
            )
        except ValidationError as error:
            form.add_service_error(error)
        else:
            messages.success(
                request,
                _("Your registration for %(event)s is saved: %(status)s.")
                % {"event": event.local_name, "status": participant.get_status_display().lower()},
            )
            return _back(event, "registration")
    context = _detail_context(request, event, form=form)
    if context["form"] is None:
        # The page offers no form any more (registration closed meanwhile, say): tell why on top.
        fallback = (
            _("Registration for %(event)s is closed.") % {"event": event.local_name}
            if not context["registration_open"]
            else _("Your firm cannot register for this event.")
        )
        for message in form.non_field_errors() or [fallback]:
            messages.error(request, message)
    return render(request, "events/event_detail.html", context, status=400)


@login_required
@require_POST
def withdraw(request: HttpRequest, slug: str) -> HttpResponse:
    event = _event(slug)
    participant = _my_participant(request, event)
    if participant.status not in (Participant.Status.REGISTERED, Participant.Status.ACCEPTED):
        messages.error(
            request,
            _("Your firm is not taking part in this event: it is %(status)s.")
            % {"status": participant.get_status_display().lower()},
        )
    else:
        services.withdraw(participant)
        messages.success(
            request,
            _("Your firm has left %(event)s; its meeting requests are cancelled.") % {"event": event.local_name},
        )
    return _back(event, "registration")


@login_required
@require_POST
def request_meeting(request: HttpRequest, slug: str) -> HttpResponse:
    event = _event(slug)
    participant = _my_participant(request, event)
    form = MeetingRequestForm(request.POST)
    if not form.is_valid():
        messages.error(request, "; ".join(str(e) for errors in form.errors.values() for e in errors))
        return _back(event, "requests")
    invitee = get_object_or_404(selectors.invitable_participants(event), pk=form.cleaned_data["invitee"])
    try:
        services.request_meeting(participant, invitee, message=form.cleaned_data["message"].strip(), by=request.user)
    except ValidationError as error:
        messages.error(request, "; ".join(error.messages))
    else:
        messages.success(request, _("Your request was sent to %(firm)s.") % {"firm": invitee.company.name})
    return _back(event, "requests")


def _my_request(request: HttpRequest, event: Event, pk: int) -> tuple[Participant, MeetingRequest]:
    participant = _my_participant(request, event)
    meeting_request = get_object_or_404(
        MeetingRequest.objects.select_related("requester__company", "invitee__company"),
        Q(requester=participant) | Q(invitee=participant),
        event=event,
        pk=pk,
    )
    return participant, meeting_request


@login_required
@require_POST
def answer_request(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    event = _event(slug)
    participant, meeting_request = _my_request(request, event, pk)
    answer = request.POST.get("answer", "")
    if answer not in ANSWERS:
        messages.error(request, _("Choose accept or decline."))
        return _back(event, f"request-{pk}")
    try:
        services.answer_request(meeting_request, participant, ANSWERS[answer])
    except ValidationError as error:
        messages.error(request, "; ".join(error.messages))
    else:
        firm = meeting_request.requester.company.name
        if ANSWERS[answer]:
            messages.success(
                request,
                _(
                    "You accepted the meeting with %(firm)s. It gets a time and a table when the organisers build "
                    "the schedule."
                )
                % {"firm": firm},
            )
        else:
            messages.success(request, _("You declined the request of %(firm)s.") % {"firm": firm})
    return _back(event, f"request-{pk}")


@login_required
@require_POST
def cancel_request(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    event = _event(slug)
    participant, meeting_request = _my_request(request, event, pk)
    try:
        services.cancel_request(meeting_request, participant)
    except ValidationError as error:
        messages.error(request, "; ".join(error.messages))
    else:
        messages.success(
            request,
            _("The request with %(firm)s is cancelled.")
            % {"firm": selectors.counterpart(meeting_request, participant).company.name},
        )
    return _back(event, f"request-{pk}")


# --- the agenda ----------------------------------------------------------------------------------------------


def _pair_label(pair: str) -> str:
    return str(LanguagePair(pair).label) if pair in LanguagePair.values else pair


def _agenda_context(request: HttpRequest, slug: str) -> dict:
    event = _event(slug)
    participant = _my_participant(request, event)
    now = timezone.now()
    items = agendas.agenda(participant)
    return {
        "event": event,
        "participant": participant,
        "company": participant.company,
        "rows": [
            {"item": item, "started": item.starts_at <= now, "pair": _pair_label(item.language_pair)} for item in items
        ],
        "outcomes": [(outcome.value, outcome.label) for outcome in MEMBER_OUTCOMES],
    }


@login_required
def agenda(request: HttpRequest, slug: str) -> HttpResponse:
    return render(request, "events/agenda.html", _agenda_context(request, slug))


@login_required
def agenda_print(request: HttpRequest, slug: str) -> HttpResponse:
    return render(request, "events/agenda_print.html", _agenda_context(request, slug))


@login_required
def agenda_ics(request: HttpRequest, slug: str) -> HttpResponse:
    event = _event(slug)
    participant = _my_participant(request, event)
    response = HttpResponse(agendas.agenda_ics(participant), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{event.slug}-agenda.ics"'
    return response


@login_required
@require_POST
def record_outcome(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    event = _event(slug)
    participant = _my_participant(request, event)
    meeting = get_object_or_404(
        Meeting.objects.select_related("slot", "request"),
        Q(request__requester=participant) | Q(request__invitee=participant),
        event=event,
        pk=pk,
    )
    try:
        services.record_meeting_outcome(meeting, participant, request.POST.get("outcome", ""))
    except ValidationError as error:
        messages.error(request, "; ".join(error.messages))
    else:
        messages.success(request, _("Thank you: the outcome helps your chamber plan its next events."))
    return redirect(f"{reverse('event-agenda', args=[event.slug])}#meeting-{meeting.pk}")
