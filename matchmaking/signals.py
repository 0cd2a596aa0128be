"""Keep suggestions current: a change to a firm's profile queues a recompute of its matches.

Ids changed in a transaction are collected and queued once, after the commit, so an import that saves
hundreds of rows ranks once instead of once per row, and a rolled-back change queues nothing of its own.
Bulk paths (bulk_create in generate_companies) send no signals; they are followed by a full
``recompute_matches`` instead. Fixture loading (``raw``) is skipped too.

The receivers at the end take matchmaking's part in a member's data rights (companies.privacy announces them
through companies.signals): the matches in a member's data export, and what happens to matches and digest
records when a member or a firm leaves.
"""

from __future__ import annotations

import re
import threading

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete
from django.dispatch import receiver
from django.utils import timezone

from companies.models import Company, Listing
from companies.signals import company_withdrawing, member_withdrawing, personal_data_requested
from matchmaking.models import MEMBER_VISIBLE_STATUSES, DigestDelivery, Match, MatchEvent

# Ids waiting for the current transaction to commit, per thread (each thread has its own connection).
_pending = threading.local()


def _queue(company_ids) -> None:
    if not settings.MATCHING_RECOMPUTE_ON_SAVE:
        return
    ids = getattr(_pending, "ids", None)
    if ids is None:
        ids = _pending.ids = set()
    ids.update(company_ids)
    # One callback per change, but only the first to run finds ids to send; the others find none. Ids of a
    # rolled-back transaction stay and go out with the next commit: a recompute more, which is harmless.
    transaction.on_commit(_flush)


def _flush() -> None:
    from matchmaking.tasks import recompute_companies_matches, recompute_company_matches

    ids, _pending.ids = getattr(_pending, "ids", None) or set(), set()
    if len(ids) == 1:
        recompute_company_matches.delay(next(iter(ids)))
    elif ids:
        recompute_companies_matches.delay(sorted(ids))


# Company fields the engine reads or the matching rules depend on (consent: Company.objects.matchable); a save
# limited to others changes nothing.
MATCHING_FIELDS = {
    "status",
    "country",
    "activity_code",
    "activity_division",
    "languages",
    "consent_purposes",
    "consent_given_at",
}


@receiver(post_save, sender=Company, dispatch_uid="matchmaking.company_saved")
def company_saved(sender, instance: Company, raw: bool = False, update_fields=None, **kwargs) -> None:
    if raw:
        return
    if update_fields is not None and not set(update_fields) & MATCHING_FIELDS:
        return
    _queue([instance.pk])


@receiver(pre_delete, sender=Company, dispatch_uid="matchmaking.company_deleting")
def company_deleting(sender, instance: Company, **kwargs) -> None:
    # Its matches go with it (cascade), leaving a gap in each counterpart's list: rank those again.
    suggested = Match.objects.filter(status=Match.Status.SUGGESTED)
    counterparts = set(suggested.filter(company_vn=instance).values_list("company_ru_id", flat=True))
    counterparts |= set(suggested.filter(company_ru=instance).values_list("company_vn_id", flat=True))
    if counterparts:
        _queue(counterparts)


@receiver(post_save, sender=Listing, dispatch_uid="matchmaking.listing_saved")
@receiver(post_delete, sender=Listing, dispatch_uid="matchmaking.listing_deleted")
def listing_changed(sender, instance: Listing, raw: bool = False, **kwargs) -> None:
    if not raw:
        _queue([instance.company_id])


@receiver(m2m_changed, sender=Company.sectors.through, dispatch_uid="matchmaking.company_sectors_changed")
def company_sectors_changed(sender, instance, action: str, reverse: bool, pk_set, **kwargs) -> None:
    if action not in {"post_add", "post_remove", "post_clear"}:
        return
    if not reverse:
        _queue([instance.pk])
    elif pk_set:  # sector.companies.add(...): pk_set holds the companies
        _queue(pk_set)


# --- data rights: companies announces, matchmaking does its part (see companies.privacy) -----------------

WITHDRAWN_FIRM = "withdrawn firm"
# Reasons that quote the firm's offer or need texts; a withdrawn firm's texts are erased with its listings.
QUOTING_REASONS = {"need_met", "offer_wanted"}


def _mentions(name: str):
    """A pattern for the firm's name as a whole word, so "Company 1" leaves "Company 12" alone."""
    return re.compile(rf"(?<!\w){re.escape(name)}(?!\w)")


def _scrub(text: str, pattern) -> str:
    return pattern.sub(WITHDRAWN_FIRM, text) if text else text


@receiver(personal_data_requested, dispatch_uid="matchmaking.personal_data_requested")
def export_matches(sender, company: Company | None, user, **kwargs) -> dict:
    """The firm's introductions as the member sees them, and the digests sent to the firm."""
    from matchmaking.explain import LazySectorNames, explain
    from matchmaking.selectors import member_matches

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


@receiver(member_withdrawing, dispatch_uid="matchmaking.member_withdrawing")
def forget_member(sender, company: Company | None, user, **kwargs) -> None:
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


@receiver(company_withdrawing, dispatch_uid="matchmaking.company_withdrawing")
def end_matches_of_withdrawing_firm(sender, company: Company, **kwargs) -> None:
    """Connections stay, withdrawn (the counterpart keeps its history, without the firm's contact or texts);
    every other match of the firm goes. The firm's name is erased from the notes and digest records kept."""
    mine = Match.objects.filter(Q(company_vn=company) | Q(company_ru=company))
    kept = list(mine.select_for_update().filter(status=Match.Status.CONNECTED))

    # The counterparts of dropped suggestions have a gap in their lists: rank them again after the commit.
    suggested = mine.filter(status=Match.Status.SUGGESTED)
    counterparts = set(suggested.filter(company_vn=company).values_list("company_ru_id", flat=True))
    counterparts |= set(suggested.filter(company_ru=company).values_list("company_vn_id", flat=True))
    mine.exclude(pk__in=[match.pk for match in kept]).delete()  # DigestItems keep their rows (SET_NULL)

    name = _mentions(company.name) if company.name else None
    now = timezone.now()
    for match in kept:
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
    MatchEvent.objects.bulk_create(
        MatchEvent(
            match=match,
            action="withdrawn",
            from_status=Match.Status.CONNECTED,
            to_status=Match.Status.WITHDRAWN,
            note=f"the {match.side_of(company).upper()} firm withdrew its profile",
        )
        for match in kept
    )

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
        _queue(counterparts)
