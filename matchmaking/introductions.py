"""Introductions staff send at once ("introduce now", services.introduce_now): both firms of an approved match
hear of it within the minute instead of in next Monday's digests.

Each firm is sent the digest's email with this one match in it, by the digest's code and rules
(digests.delivery.send_claimed: each reader's language, the answer, claim, preferences and one-click unsubscribe
links, the advisory lock, ``sent_to`` committed per address, the match introduced with the first email accepted):

1. **Claim.** In one transaction holding both firms' claim locks (digests.planning.lock_firm_claims, which the
   weekly claim takes too), each firm whose next weekly digest would tell it of the match as new
   (selectors.firm_digest_plans: not told yet, counterpart shown to it, both firms matchable) gets a
   DigestDelivery of kind INTRODUCTION, unique on (firm, match), with a DigestItem(NEW) for the match. That item
   is what the weekly plan reads as told, so the weekly digest does not repeat the match; a firm whose weekly
   digest already holds it (on its way, or retried) is left to that digest.
2. **Send** and **mark** as a weekly digest is sent and marked. Running it again (a redelivered task, a retry
   after the mail server refused) finds the rows and sends only what did not go out.

A firm nobody may be emailed at (every member opted out, or its contact unsubscribed) gets no email; its row is
skipped and keeps no item, so the match stays news for its digest should it opt in again. Once nothing of the
match is left to send, a match no email announced is introduced all the same, so that it shows on the firms'
pages, as long as one firm may see the other (a pair hidden from each other for want of consent waits).
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction

from companies.models import Company
from companies.recipients import firm_recipients
from matchmaking import selectors, services
from matchmaking.digests.delivery import DeliveryResult, Status, send_claimed
from matchmaking.digests.planning import lock_firm_claims
from matchmaking.digests.weeks import IsoWeek
from matchmaking.models import DigestDelivery, DigestItem, Match

# Order of precedence when the two firms' results are told as one: what needs a retry first.
_PRECEDENCE = [Status.FAILED, Status.BUSY, Status.SENT, Status.SKIPPED, Status.ALREADY]


def deliver_introduction(match_id: int) -> DeliveryResult:
    """Email both firms of the match its introduction now, unless they were told already. Safe to call any
    number of times, from any number of workers at once (see the module's docstring)."""
    match = Match.objects.filter(pk=match_id).select_related("company_vn", "company_ru").first()
    if match is None:
        return DeliveryResult(f"introduction {match_id}", Status.SKIPPED, "the match was deleted")
    target = f"introduction {match_id} ({match})"
    companies = Company.objects.prefetch_related("memberships__user", "listings").in_bulk(
        [match.company_vn_id, match.company_ru_id]
    )
    firms = [companies[pk] for pk in (match.company_vn_id, match.company_ru_id) if pk in companies]
    week = IsoWeek.current()
    claimed, untold = _claim(match, firms, week)
    results = {pk: DeliveryResult(f"{companies[pk]} ({pk})", Status.SKIPPED, why) for pk, why in untold.items()}
    readers = {company.pk: firm_recipients(company) for company in firms if company.pk in claimed}
    send_claimed([company for company in firms if company.pk in claimed], claimed, readers, week, results)
    notes = [
        f"{result.target}: {result.status}" + (f" ({result.reason})" if result.reason else "")
        for result in results.values()
    ]
    if _introduce_unannounced(match):
        notes.append("introduced without an email")
    status = min((result.status for result in results.values()), key=_PRECEDENCE.index, default=Status.SKIPPED)
    reason = "; ".join(result.reason for result in results.values() if result.status == status and result.reason)
    return DeliveryResult(
        target, status, reason, messages=sum(result.messages for result in results.values()), notes=notes
    )


def _claim(
    match: Match,
    firms: list[Company],
    week: IsoWeek,
) -> tuple[dict[int, tuple[DigestDelivery, bool]], dict[int, str]]:
    """(firm id → (its introduction delivery, created by this call), firm id → why it is not to be told)."""
    with transaction.atomic():
        lock_firm_claims([company.pk for company in firms])
        claimed = {
            delivery.company_id: (delivery, False)
            for delivery in DigestDelivery.objects.filter(
                kind=DigestDelivery.Kind.INTRODUCTION, match=match, company__in=firms
            )
        }
        unclaimed = [company for company in firms if company.pk not in claimed]
        plans = selectors.firm_digest_plans(unclaimed) if unclaimed else {}
        untold = {}
        for company in unclaimed:
            if match.pk not in {news.pk for news in plans[company.pk][DigestItem.Kind.NEW]}:
                untold[company.pk] = _why_not_news(match, company)
                continue
            # The firm locks make this the only claim of the firm now: no other worker creates the same row.
            delivery = DigestDelivery.objects.create(
                kind=DigestDelivery.Kind.INTRODUCTION,
                match=match,
                company=company,
                iso_year=week.year,
                iso_week=week.week,
            )
            DigestItem.objects.create(delivery=delivery, match=match, kind=DigestItem.Kind.NEW)
            claimed[company.pk] = (delivery, True)
    return claimed, untold


def _why_not_news(match: Match, company: Company) -> str:
    side = selectors.side_of_country(company.country)
    other = "ru" if side == "vn" else "vn"
    counterpart = match.counterpart_of(company)
    told = DigestItem.objects.filter(
        match=match,
        kind=DigestItem.Kind.NEW,
        delivery__company=company,
        delivery__status__in=selectors.TOLD_DELIVERY_STATUSES,
    )
    if told.exists():
        return "told of it already, or its weekly digest holding it is on its way"
    if not Match.objects.filter(selectors.seen_by_counterpart(f"company_{other}"), pk=match.pk).exists():
        return f"{counterpart} is not shown to other firms"
    current = Match.objects.get(pk=match.pk)
    if current.status not in (Match.Status.APPROVED, Match.Status.INTRODUCED):
        return f"the match is {current.status} now"
    if getattr(current, f"response_{side}") != Match.Response.PENDING:
        return "it answered the introduction already"
    return "a firm of the match may not be matched now (not published, or no consent to matching)"


def _introduce_unannounced(match: Match) -> bool:
    """Introduce the match if it is still approved though nothing about it is left to send: every firm was
    skipped (opted out, or hidden from the other). True if it did."""
    waiting = DigestItem.objects.filter(
        match=match,
        kind=DigestItem.Kind.NEW,
        delivery__status__in=[DigestDelivery.Status.PENDING, DigestDelivery.Status.FAILED],
    )
    matchable = Company.objects.matchable().values("pk")
    introducible = Match.objects.filter(
        selectors.seen_by_counterpart("company_vn") | selectors.seen_by_counterpart("company_ru"),
        pk=match.pk,
        status=Match.Status.APPROVED,
        company_vn__in=matchable,
        company_ru__in=matchable,
    )
    if waiting.exists() or not introducible.exists():
        return False
    try:
        # No reasons in the note: they name members, and a member's data leaves digest records, not the audit.
        services.introduce(match, note="introduced at once with no email: no reader of either firm could be told")
    except services.MatchWorkflowError:  # changed meanwhile (introduced by another run, or rejected)
        return False
    return True


def unsent_introductions() -> list[int]:
    """Matches whose introduction email is still to go to a firm (the mail server refused it through every retry,
    or its task was lost): the weekly run queues them again."""
    return list(
        DigestDelivery.objects.filter(
            kind=DigestDelivery.Kind.INTRODUCTION,
            match__isnull=False,
            status__in=[DigestDelivery.Status.PENDING, DigestDelivery.Status.FAILED],
        )
        .order_by("match_id")
        .values_list("match_id", flat=True)
        .distinct()
    )


def answer_by(introduced_at: dt.datetime | None) -> dt.date | None:
    """The last day to answer an introduction made at ``introduced_at``: the day it expires
    (services.expire_introductions), as the digest's item tells it (digests.rendering.render_firm_digest)."""
    if introduced_at is None:
        return None
    return (introduced_at + dt.timedelta(days=settings.DIGEST_INTRODUCTION_EXPIRY_DAYS)).date()
