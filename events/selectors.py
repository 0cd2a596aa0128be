"""Reads for B2B events: who can meet when, the scheduler's input, suggestions and requests (the report's are
in events.report)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from django.db.models import Count, Q, QuerySet, prefetch_related_objects

from companies.models import COUNTRY_LANGUAGES, Company, may_be_shown
from events import scheduling
from events.models import (
    AvailabilityWindow,
    Event,
    Interpreter,
    LanguagePair,
    Meeting,
    MeetingRequest,
    Participant,
    TimeSlot,
    UnplacedReason,
)
from matchmaking.explain import LazySectorNames, explain
from matchmaking.models import Match
from matchmaking.services import rank_among


def firm_languages(company: Company) -> tuple[str, ...]:
    """The firm's business languages, its country's own first (the scheduler reads the first as the language
    an interpreter must speak for it); a firm that gave none speaks its country's."""
    own = COUNTRY_LANGUAGES.get(company.country, "en")
    languages = list(dict.fromkeys(company.languages)) or [own]
    if own in languages:
        languages.remove(own)
        languages.insert(0, own)
    return tuple(languages)


def needs_interpreter(a: Company, b: Company) -> str | None:
    """The language pair an interpreter must cover for a meeting of the two firms, or None."""
    return scheduling.interpreter_pair(firm_languages(a), firm_languages(b))


def slots_in_windows(slots: Iterable[TimeSlot], windows: Iterable[AvailabilityWindow]) -> list[TimeSlot]:
    """The slots that lie wholly inside one of the windows."""
    windows = list(windows)
    return [s for s in slots if any(w.starts_at <= s.starts_at and s.ends_at <= w.ends_at for w in windows)]


def active_participants(event: Event) -> QuerySet[Participant]:
    return (
        event.participants.filter(status=Participant.Status.ACCEPTED)
        .select_related("company")
        .prefetch_related("windows")
    )


def _shown(participants: QuerySet[Participant]) -> QuerySet[Participant]:
    # Other firms see a participant only while its firm is shown to the other country (Company.objects.
    # shown_to_others, on the joined firm): a firm that withdrew that consent is left out at once. Staff's
    # scheduling keeps every accepted participant.
    return participants.filter(may_be_shown("company__"), company__status=Company.Status.PUBLISHED)


def listed_participants(event: Event) -> QuerySet[Participant]:
    """The accepted participants other firms see listed and suggested (active_participants shown to others)."""
    return _shown(active_participants(event))


def invitable_participants(event: Event) -> QuerySet[Participant]:
    """The participants a firm may name when it asks for a meeting: any status (services.request_meeting says
    why one that left or was not accepted cannot be asked), but only those shown to others."""
    return _shown(event.participants.select_related("company"))


def participant_of(event: Event, company: Company | None) -> Participant | None:
    if company is None:
        return None
    return event.participants.filter(company=company).select_related("company").first()


def participations_of(company: Company) -> list[Participant]:
    """The events a firm registered for (any status, on events firms can see), newest first, with how many
    meetings it has at each."""
    return list(
        company.event_participations.exclude(event__status=Event.Status.DRAFT)
        .select_related("event__organiser")
        .annotate(
            meetings=Count("requests_sent__meeting", distinct=True) + Count("requests_received__meeting", distinct=True)
        )
        .order_by("-event__starts_on", "-pk")
    )


def participant_available_slots(participant: Participant) -> list[TimeSlot]:
    return slots_in_windows(participant.event.slots.all(), participant.windows.all())


def open_request_between(a: Participant, b: Participant) -> MeetingRequest | None:
    """A request between the two firms, in either direction, that still stands (pending or accepted)."""
    return MeetingRequest.objects.filter(
        Q(requester=a, invitee=b) | Q(requester=b, invitee=a),
        status__in=[MeetingRequest.Status.PENDING, MeetingRequest.Status.ACCEPTED],
    ).first()


def committed_requests(participant: Participant) -> int:
    """Requests the firm is bound to attend: those it accepted or that were accepted for it."""
    return MeetingRequest.objects.filter(
        Q(requester=participant) | Q(invitee=participant), status=MeetingRequest.Status.ACCEPTED
    ).count()


def sent_requests(participant: Participant) -> int:
    """Requests the firm sent itself that count against the event's limit (staff additions do not)."""
    return (
        participant.requests_sent.filter(added_by_staff=False).exclude(status=MeetingRequest.Status.CANCELLED).count()
    )


# --- the scheduler's input ----------------------------------------------------------------------------------


def unplaced_text(reason: str, params: Mapping[str, object] | None = None) -> str:
    """Why a request has no meeting (an UnplacedReason and its values) in the active language, a language pair
    by its name; a reason it does not know as is."""
    if reason not in UnplacedReason.values:
        return reason
    values = dict(params or {})
    if values.get("pair") in LanguagePair.values:
        values["pair"] = str(LanguagePair(values["pair"]).label)
    return str(UnplacedReason(reason).label).format(**values)


@dataclass
class EventProblem:
    problem: scheduling.Problem
    slots: list[TimeSlot]
    requests: dict[int, MeetingRequest]
    interpreters: dict[int, Interpreter]
    # Requests left out before scheduling (a side not accepted, say), with the reason, by request pk.
    excluded: dict[int, scheduling.Reason] = field(default_factory=dict)


def event_problem(event: Event) -> EventProblem:
    """The event's accepted requests, availability, tables, interpreters and pinned meetings as a Problem;
    keys are primary keys (participants, requests, interpreters) and slot indices follow the slots' order."""
    slots = list(event.slots.order_by("starts_at"))
    index = {slot.pk: n for n, slot in enumerate(slots)}
    participants = {p.pk: p for p in active_participants(event)}
    availability = {
        pk: frozenset(index[s.pk] for s in slots_in_windows(slots, p.windows.all())) for pk, p in participants.items()
    }
    requests, excluded = {}, {}
    accepted = (
        event.requests.filter(status=MeetingRequest.Status.ACCEPTED)
        .select_related("requester__company", "invitee__company")
        .order_by("pk")
    )
    for request in accepted:
        missing = [p for p in (request.requester, request.invitee) if p.pk not in participants]
        if missing:
            excluded[request.pk] = scheduling.Reason(UnplacedReason.SIDE_LEFT, {"firm": str(missing[0].company)})
            continue
        # The same instances as the participants', with their windows loaded: checks of pinned meetings read them.
        request.requester, request.invitee = participants[request.requester_id], participants[request.invitee_id]
        requests[request.pk] = request
    interpreters = {i.pk: i for i in event.interpreters.all()}
    pins = [
        scheduling.Pin(m.request_id, index[m.slot_id], m.table, m.interpreter_id)
        for m in event.meetings.filter(pinned=True, request_id__in=list(requests))
    ]
    problem = scheduling.Problem(
        slots=len(slots),
        tables=event.tables,
        availability=availability,
        requests=[
            scheduling.Request(
                key=r.pk,
                firm_a=r.requester_id,
                firm_b=r.invitee_id,
                weight=max(r.score, 0.0),
                pair=needs_interpreter(r.requester.company, r.invitee.company),
            )
            for r in requests.values()
        ],
        interpreters=[scheduling.Interpreter(i.pk, frozenset(i.pairs)) for i in interpreters.values()],
        pins=pins,
    )
    return EventProblem(problem, slots, requests, interpreters, excluded)


# --- what a firm sees ----------------------------------------------------------------------------------------


def meetings_of(participant: Participant) -> QuerySet[Meeting]:
    """The firm's scheduled meetings, in time order, with everything its agenda shows."""
    return (
        Meeting.objects.filter(Q(request__requester=participant) | Q(request__invitee=participant))
        .select_related("slot", "interpreter", "request__requester__company", "request__invitee__company")
        .order_by("slot__starts_at", "table")
    )


def requests_of(participant: Participant) -> dict[str, list[MeetingRequest]]:
    """The firm's requests: those it sent and those it received, newest first."""
    related = ("requester__company", "invitee__company", "meeting__slot")
    return {
        "sent": list(participant.requests_sent.select_related(*related).order_by("-created_at")),
        "received": list(participant.requests_received.select_related(*related).order_by("-created_at")),
    }


@dataclass
class RequestView:
    """A meeting request as one of its two firms sees it, for a page or the API."""

    request: MeetingRequest
    counterpart: Participant
    sent: bool  # the firm asked; else it was asked
    meeting: Meeting | None
    reasons: list[str]  # the engine's reasons, for this firm, in the active language
    unplaced: str  # why the last schedule left it out, in the active language, or ""
    may_answer: bool
    may_cancel: bool  # a pending request the firm received is declined, not cancelled


def request_views(participant: Participant, requests: list[MeetingRequest], sector_names=None) -> list[RequestView]:
    side = "vn" if participant.company.country == "VN" else "ru"
    names = sector_names if sector_names is not None else LazySectorNames()
    # The counterparts' sectors for the whole list at once, not a query per request.
    prefetch_related_objects([counterpart(r, participant).company for r in requests], "sectors", "activity_division")
    views = []
    for request in requests:
        other = counterpart(request, participant)
        standing = request.status in (MeetingRequest.Status.PENDING, MeetingRequest.Status.ACCEPTED)
        may_answer = request.invitee_id == participant.pk and request.status == MeetingRequest.Status.PENDING
        views.append(
            RequestView(
                request=request,
                counterpart=other,
                sent=request.requester_id == participant.pk,
                meeting=getattr(request, "meeting", None),  # the reverse one-to-one raises AttributeError when none
                reasons=explain(
                    as_match(participant.company, other.company, request.reasons), side, sector_names=names
                ),
                unplaced=unplaced_text(request.unplaced_reason, request.unplaced_params),
                may_answer=may_answer,
                may_cancel=standing and not may_answer,
            )
        )
    return views


def counterpart(request: MeetingRequest, participant: Participant) -> Participant:
    return request.invitee if request.requester_id == participant.pk else request.requester


def as_match(a: Company, b: Company, reasons: list) -> Match:
    """An unsaved Match of the two firms carrying the reasons, so matchmaking.explain can put them in words."""
    vn, ru = (a, b) if a.country == "VN" else (b, a)
    return Match(company_vn=vn, company_ru=ru, reasons=reasons)


def may_request(event: Event, a: Participant, b: Participant) -> bool:
    """Whether the event's rule lets ``a`` and ``b`` meet (the rule is symmetric)."""
    if event.request_rule == Event.RequestRule.CROSS_BORDER:
        return a.company.country != b.company.country
    if event.request_rule == Event.RequestRule.BUYER_SELLER:
        roles = {a.role, b.role}
        return Participant.Role.BOTH in roles or roles == {Participant.Role.BUYER, Participant.Role.SELLER}
    return True


# --- the matching engine's view of the event ------------------------------------------------------------------


def _accepted_firms(event: Event) -> list[int]:
    return list(event.participants.filter(status=Participant.Status.ACCEPTED).values_list("company_id", flat=True))


def pair_score(event: Event, a: Company, b: Company) -> tuple[float, list]:
    """The engine's score for two participants, among the event's firms, and its reasons stored as a match's
    (from the Vietnamese side). Firms of one country are not scored by the engine: 0 and no reasons."""
    if a.country == b.country:
        return 0.0, []
    for pair in rank_among(_accepted_firms(event), for_ids=[a.pk]).get(a.pk, []):
        if pair.counterpart_id == b.pk:
            return pair.score, pair.reasons
    return 0.0, []


def event_suggestions(participant: Participant, limit: int = 10) -> list[dict]:
    """The participants the engine ranks best for this firm, among those it may still request, with reasons in
    the reader's words (explained in the active language)."""
    event, company = participant.event, participant.company
    ranked = rank_among(_accepted_firms(event), for_ids=[company.pk])
    if not ranked:
        return []
    # With what their public facts show (sectors, activity division): pages list each suggestion's firm.
    others = {
        p.company_id: p
        for p in listed_participants(event)
        .exclude(pk=participant.pk)
        .select_related("company__activity_division")
        .prefetch_related("company__sectors")
    }
    taken = set(
        MeetingRequest.objects.filter(Q(requester=participant) | Q(invitee=participant))
        .exclude(status=MeetingRequest.Status.CANCELLED)
        .values_list("requester__company_id", "invitee__company_id")
    )
    taken = {pk for pair in taken for pk in pair}
    side = "vn" if company.country == "VN" else "ru"
    names = LazySectorNames()
    suggestions = []
    for pair in ranked.get(company.pk, []):
        other = others.get(pair.counterpart_id)
        if other is None or other.company_id in taken or not may_request(event, participant, other):
            continue
        reasons = explain(as_match(company, other.company, pair.reasons), side, sector_names=names)
        suggestions.append({"participant": other, "score": pair.score, "reasons": reasons})
        if len(suggestions) == limit:
            break
    return suggestions


def ranked_pairs(event: Event, top_k: int) -> dict[tuple[int, int], tuple[float, list]]:
    """Each accepted participant's ``top_k`` best counterparts in one ranking: {(company, counterpart):
    (score, reasons as stored for matches)}. For staff arranging many meetings at once."""
    return {
        (firm, pair.counterpart_id): (pair.score, pair.reasons)
        for firm, pairs in rank_among(_accepted_firms(event), top_k=top_k).items()
        for pair in pairs
    }
