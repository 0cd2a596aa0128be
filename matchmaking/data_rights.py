"""Matchmaking's part in a member's data rights (companies.privacy announces them through companies.signals; the
receivers in matchmaking.signals call these): the matches in a member's data export, and what happens to matches
and digest records when a member or a firm leaves.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from django.db.models import Q
from django.utils import timezone

from companies.models import Company
from matchmaking import recompute_queue
from matchmaking.explain import LazySectorNames, explain
from matchmaking.models import MEMBER_VISIBLE_STATUSES, QUOTING_REASONS, DigestDelivery, Match, MatchEvent
from matchmaking.selectors import member_matches

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

WITHDRAWN_FIRM = "withdrawn firm"


def _mentions(name: str) -> re.Pattern[str]:
    """A pattern for the firm's name as a whole word, so "Company 1" leaves "Company 12" alone."""
    return re.compile(rf"(?<!\w){re.escape(name)}(?!\w)")


def _scrub(text: str, pattern: re.Pattern[str]) -> str:
    return pattern.sub(WITHDRAWN_FIRM, text) if text else text


def export_matches(company: Company | None, *, user: AbstractBaseUser) -> dict:
    """The firm's introductions as the member sees them, and the digests sent to the firm."""
    if company is None:
        return {"matches": [], "digests": []}
    names = LazySectorNames()
    matches = []
    for match in member_matches(company, MEMBER_VISIBLE_STATUSES).prefetch_related("events"):
        side = match.side_of(company)
        other = "ru" if side == "vn" else "vn"
        counterpart = match.counterpart_of(company)
        connected = match.status == Match.Status.CONNECTED
        matches.append(
            {
                "id": match.pk,
                "counterpart": {"id": counterpart.pk, "name": counterpart.name, "country": counterpart.country},
                "status": match.status,
                "score": match.score,
                "reasons": explain(match, side, sector_names=names),
                "my_answer": getattr(match, f"response_{side}"),
                "their_answer": getattr(match, f"response_{other}"),
                "my_outcome": getattr(match, f"outcome_{side}"),
                "introduced_at": match.introduced_at,
                "connected_at": match.connected_at,
                "expired_at": match.expired_at,
                # Exchanged only by both accepting (double opt-in), as in the API.
                "counterpart_contact": {
                    "contact_name": counterpart.contact_name,
                    "contact_email": counterpart.contact_email,
                    "contact_phone": counterpart.contact_phone,
                }
                if connected
                else None,
                # What the member did themselves; staff's and the other firm's actions are theirs.
                "your_actions": [
                    {"action": event.action, "at": event.at}
                    for event in sorted(match.events.all(), key=lambda event: (event.at, event.pk))
                    if event.actor_id == user.pk
                ],
            }
        )
    own = {address.lower() for address in (user.email, company.contact_email) if address}
    digests = [
        {
            "week": delivery.week,
            "status": delivery.status,
            "sent_at": delivery.sent_at,
            # Only the member's own address (or the firm's contact): the other members' are theirs.
            "sent_to": [address for address in delivery.sent_to if address.lower() in own],
            "items": [{"kind": item.kind, "match": item.match_id} for item in delivery.items.all()],
        }
        for delivery in DigestDelivery.objects.filter(company=company).prefetch_related("items")
    ]
    not_introduced = (
        Match.objects.filter(Q(company_vn=company) | Q(company_ru=company))
        .exclude(status__in=MEMBER_VISIBLE_STATUSES)
        .count()
    )
    return {"matches": matches, "matches_in_review": not_introduced, "digests": digests}


def forget_member(company: Company | None, *, user: AbstractBaseUser) -> None:
    """The member's address leaves the firm's digest records; reasons of skipped digests stop naming them."""
    if company is None:
        return
    email, named = user.email.lower(), f"member {user.get_username()}:"
    changed = []
    for delivery in DigestDelivery.objects.filter(company=company).select_for_update():
        sent_to = [address for address in delivery.sent_to if address.lower() != email] if email else delivery.sent_to
        reason = delivery.reason.replace(named, "member (account deleted):")
        if sent_to != delivery.sent_to or reason != delivery.reason:
            delivery.sent_to, delivery.reason = sent_to, reason
            changed.append(delivery)
    DigestDelivery.objects.bulk_update(changed, ["sent_to", "reason"])


def end_matches_of_withdrawing_firm(company: Company) -> None:
    """Connections stay, withdrawn (the counterpart keeps its history, without the firm's contact or texts);
    every other match of the firm goes. The firm's name is erased from the notes and digest records kept."""
    mine = Match.objects.filter(Q(company_vn=company) | Q(company_ru=company))
    kept = list(mine.select_for_update().filter(status__in=Match.statuses_leading_to(Match.Status.WITHDRAWN)))

    # The counterparts of dropped suggestions have a gap in their lists: rank them again after the commit.
    counterparts = recompute_queue.suggested_counterparts(company)
    mine.exclude(pk__in=[match.pk for match in kept]).delete()  # DigestItems keep their rows (SET_NULL)

    name = _mentions(company.name) if company.name else None
    now = timezone.now()
    withdrawn = []
    for match in kept:
        withdrawn.append(
            MatchEvent(
                match=match,
                action="withdrawn",
                from_status=match.status,
                to_status=Match.Status.WITHDRAWN,
                note=f"the {match.side_of(company).upper()} firm withdrew its profile",
            )
        )
        match.status, match.updated_at = Match.Status.WITHDRAWN, now
        match.reasons = [
            reason
            for reason in match.reasons or []
            if not (isinstance(reason, dict) and reason.get("kind") in QUOTING_REASONS)
        ]
        if name:
            match.review_note = _scrub(match.review_note, name)
    Match.objects.bulk_update(kept, ["status", "updated_at", "reasons", "review_note"])

    if name:
        events = [event for event in MatchEvent.objects.filter(match__in=kept) if name.search(event.note)]
        for event in events:
            event.note = _scrub(event.note, name)
        MatchEvent.objects.bulk_update(events, ["note"])
    MatchEvent.objects.bulk_create(withdrawn)

    # Digest records: the firm's own no longer list its addresses; anyone's reasons no longer name it.
    changed = {}
    for delivery in DigestDelivery.objects.filter(company=company).exclude(sent_to=[]):
        delivery.sent_to = []
        changed[delivery.pk] = delivery
    if name:
        for delivery in DigestDelivery.objects.filter(reason__contains=company.name):
            delivery = changed.get(delivery.pk, delivery)
            delivery.reason = _scrub(delivery.reason, name)
            changed[delivery.pk] = delivery
        for delivery in DigestDelivery.objects.filter(payload__oldest_waiting_pair__icontains=company.name):
            delivery = changed.get(delivery.pk, delivery)
            pair = delivery.payload.get("oldest_waiting_pair")
            if isinstance(pair, str):
                delivery.payload = {**delivery.payload, "oldest_waiting_pair": _scrub(pair, name)}
            changed[delivery.pk] = delivery
    DigestDelivery.objects.bulk_update(list(changed.values()), ["sent_to", "reason", "payload"])
    if counterparts:
        recompute_queue.queue(counterparts)
