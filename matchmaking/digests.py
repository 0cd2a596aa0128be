"""Weekly digests: each firm hears of its new introductions, each chamber's staff of what waits for review.

Exactly once per firm (or chamber) and ISO week:

1. **Claim.** A DigestDelivery row unique on (firm, ISO year, ISO week) is created together with its content
   (DigestItems) in one transaction. Whoever comes second (a rerun, a redelivered task, another worker)
   finds the row and sends the content already chosen, or nothing if it went out.
2. **Send.** Only the holder of a PostgreSQL advisory lock on the row sends. The lock belongs to the
   database session, so a worker killed mid-send loses it the moment its connection drops, and the retry
   can go on at once. Each address the SMTP server accepted is committed to ``sent_to`` before the next
   message, so a retry sends only to those not reached yet.
3. **Mark.** The row becomes SENT, and the matches it announced become INTRODUCED, in one transaction.

What remains is the instant between the server's "250 accepted" and the commit of that address: a crash
exactly there resends one message. Its Message-ID is the same both times, so mail clients show it once.
"""

from __future__ import annotations

import hashlib
import logging
import smtplib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from urllib.parse import quote
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import connection, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext, ngettext

from companies.models import COUNTRY_TIME_ZONES, Company, Organisation
from companies.recipients import CONTACT, Recipient, claim_token, firm_recipients, sign_action, staff_recipients
from matchmaking import selectors, services
from matchmaking.explain import LazySectorNames, explain
from matchmaking.models import DigestDelivery, DigestItem, Match

logger = logging.getLogger(__name__)

ANSWER_SALT = "sme-match.answer"
# Namespace of the advisory locks on digest deliveries (the row's id is the other half of the key).
DIGEST_LOCK = 0x44494745  # "DIGE"
SMTP_ERRORS = (smtplib.SMTPException, OSError)  # refused, dropped, timed out: worth a retry
LISTING_PREVIEW = 280  # characters of an offer or need quoted in the email


@dataclass(frozen=True, order=True)
class IsoWeek:
    year: int
    week: int

    @classmethod
    def parse(cls, text: str) -> IsoWeek:
        """'2026-W48' (or '2026-48')."""
        try:
            year, week = text.upper().replace("-W", "-").split("-")
            monday = date.fromisocalendar(int(year), int(week), 1)
        except ValueError:
            raise ValueError(f"{text!r} is not an ISO week such as 2026-W48") from None
        return cls(*monday.isocalendar()[:2])

    @classmethod
    def of(cls, moment: datetime, time_zone: str = "UTC") -> IsoWeek:
        local = moment.astimezone(ZoneInfo(time_zone)).date()
        return cls(*local.isocalendar()[:2])

    @classmethod
    def current(cls, country: str | None = None) -> IsoWeek:
        """This week on the clock of the country's chambers (UTC for both countries at once)."""
        return cls.of(timezone.now(), COUNTRY_TIME_ZONES.get(country or "", "UTC"))

    @property
    def monday(self) -> date:
        return date.fromisocalendar(self.year, self.week, 1)

    def __str__(self) -> str:
        return f"{self.year}-W{self.week:02d}"


class Status:
    SENT = "sent"
    SKIPPED = "skipped"  # nothing to send, or nobody to send it to
    ALREADY = "already"  # this week's digest was sent or skipped by an earlier run
    BUSY = "busy"  # another worker is sending it right now
    FAILED = "failed"  # the mail server refused or was unreachable; a retry will resume


@dataclass
class DeliveryResult:
    target: str
    status: str
    reason: str = ""
    messages: int = 0  # accepted by the mail server in this call
    notes: list[str] = field(default_factory=list)  # readers or matches left out, and why

    def as_dict(self) -> dict:
        return {"target": self.target, "status": self.status, "reason": self.reason, "messages": self.messages,
                "notes": self.notes}


@dataclass
class DigestSummary:
    """Counts of one run over many digests, with the reasons behind every skip and failure."""

    counts: dict[str, int] = field(default_factory=lambda: {status: 0 for status in (
        Status.SENT, Status.SKIPPED, Status.ALREADY, Status.BUSY, Status.FAILED)})
    messages: int = 0
    expired: int = 0
    details: list[str] = field(default_factory=list)

    def add(self, result: DeliveryResult) -> None:
        self.counts[result.status] += 1
        self.messages += result.messages
        if result.status in (Status.SKIPPED, Status.FAILED, Status.BUSY) or result.notes:
            why = "; ".join(filter(None, [result.reason, *result.notes]))
            self.details.append(f"{result.target}: {result.status}" + (f" ({why})" if why else ""))


# --- locking --------------------------------------------------------------------------------------


@contextmanager
def _delivery_lock(delivery: DigestDelivery) -> Iterator[bool]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [DIGEST_LOCK, delivery.pk])
        held = cursor.fetchone()[0]
    try:
        yield held
    finally:
        if held:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [DIGEST_LOCK, delivery.pk])


@contextmanager
def _open_delivery(delivery: DigestDelivery, target: str) -> Iterator[DeliveryResult | None]:
    """Hold the delivery's lock and read it afresh. Yields None when this caller is to send it, or the result
    to return at once: another worker holds it, or an earlier run sent or skipped it."""
    with _delivery_lock(delivery) as held:
        if not held:
            yield DeliveryResult(target, Status.BUSY, "another worker is sending it")
            return
        delivery.refresh_from_db()
        if delivery.status in (DigestDelivery.Status.SENT, DigestDelivery.Status.SKIPPED):
            yield DeliveryResult(target, Status.ALREADY, delivery.reason)
            return
        yield None


# --- firm digests ---------------------------------------------------------------------------------


def _firm_with_readers(company_id: int) -> Company | None:
    return Company.objects.prefetch_related("memberships__user", "listings").filter(pk=company_id).first()


def _plan_firm_delivery(company: Company, week: IsoWeek) -> tuple[DigestDelivery, bool]:
    """The week's delivery row for the firm, created with its items if it did not exist (the claim)."""
    with transaction.atomic():
        delivery, created = DigestDelivery.objects.get_or_create(
            company=company, iso_year=week.year, iso_week=week.week
        )
        if created:
            plan = selectors.firm_digest_plan(company)
            DigestItem.objects.bulk_create(
                DigestItem(delivery=delivery, match=match, kind=kind) for kind, matches in plan.items() for match in matches
            )
            if not any(plan.values()):
                _skip(delivery, "nothing new")
    return delivery, created


def _skip(delivery: DigestDelivery, reason: str) -> None:
    delivery.status, delivery.reason = DigestDelivery.Status.SKIPPED, reason[:300]
    delivery.save(update_fields=["status", "reason"])
    delivery.items.all().delete()  # a skipped digest told nobody anything: its matches stay news


def _still_news(item: DigestItem, company: Company, side: str) -> str | None:
    """Why the item must be left out now (None if it still belongs in the digest)."""
    match = item.match
    if match is None:
        return "a counterpart was deleted"
    counterpart = match.counterpart_of(company)
    if item.kind == DigestItem.Kind.EXPIRED:
        return None if match.status == Match.Status.EXPIRED else f"match with {counterpart} is {match.status} now"
    if match.status == Match.Status.REJECTED:
        return f"match with {counterpart} was rejected after it was queued"
    if getattr(match, f"response_{side}") != Match.Response.PENDING:
        return f"match with {counterpart} was already answered"
    if match.status not in (Match.Status.APPROVED, Match.Status.INTRODUCED) or (
        item.kind == DigestItem.Kind.REMINDER and match.status != Match.Status.INTRODUCED
    ):
        return f"match with {counterpart} is {match.status} now"
    if match.status == Match.Status.APPROVED and counterpart.status != Company.Status.PUBLISHED:
        return f"{counterpart} is no longer published"
    return None


def deliver_firm_digest(company_id: int, week: IsoWeek, *, dry_run: bool = False) -> DeliveryResult:
    """Send the firm its digest for the week, unless it went out already. Safe to call any number of times,
    from any number of workers at once; see the module's docstring for how."""
    company = _firm_with_readers(company_id)
    if company is None:
        return DeliveryResult(f"firm {company_id}", Status.SKIPPED, "the firm was deleted")
    target = f"{company} ({company.pk})"
    recipients, left_out = firm_recipients(company)
    if dry_run:
        return _dry_run_firm(company, week, target, recipients, left_out)

    delivery, created = _plan_firm_delivery(company, week)
    if created and delivery.status == DigestDelivery.Status.SKIPPED:
        return DeliveryResult(target, Status.SKIPPED, delivery.reason)
    with _open_delivery(delivery, target) as done:
        if done:
            return done
        if company.status != Company.Status.PUBLISHED:
            _skip(delivery, f"the firm is {company.get_status_display().lower()}")
            return DeliveryResult(target, Status.SKIPPED, delivery.reason)

        side = selectors.side_of_country(company.country)
        items = list(delivery.items.select_related("match"))
        matches = selectors.digest_matches([item.match_id for item in items if item.match_id])
        notes, kept = [], []
        for item in items:
            item.match = matches.get(item.match_id)
            why_not = _still_news(item, company, side)
            if why_not:
                notes.append(why_not)
                item.delete()
            else:
                kept.append(item)
        if not kept:
            _skip(delivery, "nothing left to send: " + "; ".join(notes) if notes else "nothing new")
            return DeliveryResult(target, Status.SKIPPED, delivery.reason)
        if not recipients:
            _skip(delivery, "; ".join(left_out) or "nobody to write to")
            return DeliveryResult(target, Status.SKIPPED, delivery.reason)

        def render(recipient: Recipient) -> EmailMultiAlternatives:
            return _render_firm_digest(company, side, kept, recipient, delivery, week)

        result = _send(delivery, recipients, render, target)
        result.notes = left_out + notes
        if result.status == Status.SENT:
            _mark_firm_digest_sent(delivery, company, kept, week)
        return result


def _dry_run_firm(company, week, target, recipients, left_out) -> DeliveryResult:
    existing = DigestDelivery.objects.filter(company=company, iso_year=week.year, iso_week=week.week).first()
    if existing and existing.status in (DigestDelivery.Status.SENT, DigestDelivery.Status.SKIPPED):
        return DeliveryResult(target, Status.ALREADY, existing.reason)
    plan = selectors.firm_digest_plan(company)
    if not any(plan.values()):
        return DeliveryResult(target, Status.SKIPPED, "nothing new")
    if not recipients:
        return DeliveryResult(target, Status.SKIPPED, "; ".join(left_out) or "nobody to write to")
    counts = ", ".join(f"{len(matches)} {kind}" for kind, matches in plan.items() if matches)
    return DeliveryResult(target, Status.SENT, f"would send {counts} to {len(recipients)} reader(s)",
                          messages=len(recipients), notes=left_out)


@transaction.atomic
def _mark_firm_digest_sent(delivery: DigestDelivery, company: Company, items: list[DigestItem], week: IsoWeek) -> None:
    for item in items:
        if item.kind == DigestItem.Kind.NEW and item.match.status == Match.Status.APPROVED:
            try:
                services.introduce(item.match, note=f"in the {week} digest of {company}")
            except services.MatchWorkflowError:  # rejected in the last instant: it was told, nothing to undo
                logger.warning("match %s changed while its digest was sent", item.match_id)
    delivery.status, delivery.sent_at, delivery.reason = DigestDelivery.Status.SENT, timezone.now(), ""
    delivery.save(update_fields=["status", "sent_at", "reason"])


def public_profile(company: Company, sector_names) -> dict:
    def preview(text: str) -> str:
        return text if len(text) <= LISTING_PREVIEW else text[: LISTING_PREVIEW - 1].rstrip() + "…"

    listings = list(company.listings.all())
    sectors = [sector.name for sector in company.sectors.all()] or (
        [company.activity_division.name] if company.activity_division else []
    )
    return {
        "name": company.name, "country": company.get_country_display(), "city": company.city,
        "size": company.get_size_display() if company.size else "", "sectors": sectors,
        "offers": [preview(listing.text) for listing in listings if listing.direction == listing.Direction.OFFER],
        "needs": [preview(listing.text) for listing in listings if listing.direction == listing.Direction.NEED],
    }


def _answer_url(match: Match, company: Company, recipient: Recipient) -> str:
    token = sign_action({"match": match.pk, "company": company.pk, "member": recipient.pk
                         if recipient.kind != CONTACT else None}, ANSWER_SALT)
    path = reverse("introduction-answer", args=[token])
    if recipient.kind == CONTACT:  # a firm without an account claims its profile first, then answers
        return f"{claim_url(company)}?next={quote(path)}"
    return settings.SITE_URL + path


def _render_firm_digest(
    company: Company, side: str, items: list[DigestItem], recipient: Recipient, delivery: DigestDelivery,
    week: IsoWeek,
) -> EmailMultiAlternatives:
    expiry_days = settings.DIGEST_INTRODUCTION_EXPIRY_DAYS
    with translation.override(recipient.language):
        names = LazySectorNames()
        sections: dict[str, list[dict]] = {kind: [] for kind in DigestItem.Kind.values}
        for item in items:
            match = item.match
            introduced = match.introduced_at or timezone.now()
            sections[item.kind].append({
                "counterpart": public_profile(match.counterpart_of(company), names),
                "reasons": explain(match, side, sector_names=names),
                "answer_url": _answer_url(match, company, recipient),
                "expires_on": (introduced + timedelta(days=expiry_days)).date(),
            })
        new, reminders = sections[DigestItem.Kind.NEW], sections[DigestItem.Kind.REMINDER]
        count = len(new)
        if count:
            subject = ngettext(
                "%(count)d new introduction for %(firm)s", "%(count)d new introductions for %(firm)s", count
            ) % {"count": count, "firm": company.name}
        elif reminders:
            subject = ngettext(
                "%(count)d introduction waits for your answer", "%(count)d introductions wait for your answer",
                len(reminders),
            ) % {"count": len(reminders)}
        else:
            subject = gettext("News about your introductions")
        context = {
            "recipient": recipient, "firm": company, "week": str(week), "new": new, "reminders": reminders,
            "expired": sections[DigestItem.Kind.EXPIRED], "claim": recipient.kind == CONTACT,
            "claim_url": claim_url(company) if recipient.kind == CONTACT else "",
            **_footer_links(recipient),
        }
        return _message(f"SME Match · {subject}", "matchmaking/email/firm_digest", context, recipient, delivery)


def claim_url(company: Company) -> str:
    return settings.SITE_URL + reverse("claim-profile", args=[claim_token(company)])


def _footer_links(recipient: Recipient) -> dict:
    token = recipient.token
    return {
        "unsubscribe_url": settings.SITE_URL + reverse("unsubscribe", args=[token]),
        "preferences_url": settings.SITE_URL + reverse("email-preferences", args=[token]),
        "unsubscribe_mailto": f"mailto:{settings.DIGEST_UNSUBSCRIBE_MAILTO}?subject={quote('unsubscribe ' + token)}",
    }


def _message(subject: str, template: str, context: dict, recipient: Recipient, delivery: DigestDelivery):
    text = render_to_string(f"{template}.txt", context)
    html = render_to_string(f"{template}.html", context)
    domain = settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1].rstrip(">") or "sme-match.example"
    reader = hashlib.sha256(recipient.email.lower().encode()).hexdigest()[:16]
    message = EmailMultiAlternatives(
        subject=subject, body=text, to=[recipient.email],
        headers={
            # RFC 8058 one-click unsubscribe, plus the RFC 2369 mailto for clients that only know that.
            "List-Unsubscribe": f"<{context['unsubscribe_url']}>, <{context['unsubscribe_mailto']}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            # The same for every attempt at this digest to this reader, so a resent copy shows once.
            "Message-ID": f"<digest-{delivery.pk}-{reader}@{domain}>",
            "X-SME-Match-Digest": f"{delivery.pk} {delivery.week}",
            "Auto-Submitted": "auto-generated",
        },
    )
    message.attach_alternative(html, "text/html")
    return message


# --- sending (both kinds) -------------------------------------------------------------------------


def _send(
    delivery: DigestDelivery, recipients: list[Recipient], render: Callable[[Recipient], EmailMultiAlternatives],
    target: str,
) -> DeliveryResult:
    """Send to each recipient the server has not accepted yet; the caller holds the delivery's lock."""
    DigestDelivery.objects.filter(pk=delivery.pk).update(attempts=delivery.attempts + 1)
    done = {email.lower() for email in delivery.sent_to}
    todo = [recipient for recipient in recipients if recipient.email.lower() not in done]
    sent = 0
    try:
        with get_connection() as mail:
            for recipient in todo:
                message = render(recipient)
                message.connection = mail
                message.send()
                # Committed at once (autocommit): a crash after this line never resends to this reader.
                delivery.sent_to.append(recipient.email)
                DigestDelivery.objects.filter(pk=delivery.pk).update(sent_to=delivery.sent_to)
                sent += 1
    except SMTP_ERRORS as error:
        reason = f"mail server: {type(error).__name__}: {error}"[:300]
        DigestDelivery.objects.filter(pk=delivery.pk).update(status=DigestDelivery.Status.FAILED, reason=reason)
        return DeliveryResult(target, Status.FAILED, reason, messages=sent)
    return DeliveryResult(target, Status.SENT, messages=sent)


# --- staff digests --------------------------------------------------------------------------------


def deliver_staff_digest(chamber_id: int, week: IsoWeek, *, dry_run: bool = False) -> DeliveryResult:
    """Tell a chamber's staff what waits for their review, once per ISO week."""
    chamber = Organisation.objects.filter(pk=chamber_id).first()
    if chamber is None:
        return DeliveryResult(f"chamber {chamber_id}", Status.SKIPPED, "the chamber was deleted")
    target = f"staff of {chamber}"
    recipients, left_out = staff_recipients(chamber)
    if dry_run:
        if not recipients:
            return DeliveryResult(target, Status.SKIPPED, "; ".join(left_out) or "the chamber has no staff")
        return DeliveryResult(target, Status.SENT, f"would send to {len(recipients)} staff", len(recipients))

    with transaction.atomic():
        delivery, created = DigestDelivery.objects.get_or_create(chamber=chamber, iso_year=week.year, iso_week=week.week)
        if created:
            delivery.payload = selectors.staff_digest_figures(chamber, since=timezone.now() - timedelta(days=7))
            delivery.save(update_fields=["payload"])
            if not any(value for key, value in delivery.payload.items() if key != "oldest_waiting_pair"):
                _skip(delivery, "nothing waits and nothing happened")
    if created and delivery.status == DigestDelivery.Status.SKIPPED:
        return DeliveryResult(target, Status.SKIPPED, delivery.reason)
    with _open_delivery(delivery, target) as done:
        if done:
            return done
        if not recipients:
            _skip(delivery, "; ".join(left_out) or "the chamber has no staff")
            return DeliveryResult(target, Status.SKIPPED, delivery.reason)

        def render(recipient: Recipient) -> EmailMultiAlternatives:
            with translation.override(recipient.language):
                figures = dict(delivery.payload)
                if figures.get("oldest_waiting_since"):
                    figures["oldest_waiting_since"] = datetime.fromisoformat(figures["oldest_waiting_since"])
                count = figures["waiting_review"]
                subject = ngettext(
                    "%(count)d suggestion waits for review", "%(count)d suggestions wait for review", count
                ) % {"count": count}
                context = {
                    "recipient": recipient, "chamber": chamber, "week": delivery.week, "figures": figures,
                    "admin_url": settings.SITE_URL + reverse("admin:matchmaking_match_changelist") + "?status=suggested",
                    "vetting_url": settings.SITE_URL + reverse("admin:companies_company_changelist") + "?status=pending",
                    **_footer_links(recipient),
                }
                return _message(f"SME Match · {subject}", "matchmaking/email/staff_digest", context, recipient, delivery)

        result = _send(delivery, recipients, render, target)
        result.notes = left_out
        if result.status == Status.SENT:
            DigestDelivery.objects.filter(pk=delivery.pk).update(
                status=DigestDelivery.Status.SENT, sent_at=timezone.now(), reason=""
            )
        return result


# --- a whole run ----------------------------------------------------------------------------------


def digest_targets(week: IsoWeek, country: str | None = None, firm_ids: list[int] | None = None) -> tuple[list[int], list[int]]:
    """(firm ids, chamber ids) a run for the week visits."""
    if firm_ids:
        return sorted(firm_ids), []
    firms = list(selectors.digest_candidates(week.year, week.week, country).values_list("pk", flat=True))
    chambers = Organisation.objects.filter(vets_companies=True)
    if country:
        chambers = chambers.filter(country=country)
    return firms, list(chambers.order_by("pk").values_list("pk", flat=True))


def send_digests(
    week: IsoWeek, firms: list[int], chambers: list[int], *, dry_run: bool = False,
    progress: Callable[[DeliveryResult], None] | None = None,
) -> DigestSummary:
    """The digests of the given firms and chambers for the week, one after the other in this process (the
    command line's way; the Celery dispatcher fans the same calls out to workers). Expire stale
    introductions first (services.expire_introductions), so their news is in this week's digests."""
    summary = DigestSummary()
    for firm_id in firms:
        result = deliver_firm_digest(firm_id, week, dry_run=dry_run)
        summary.add(result)
        if progress:
            progress(result)
    for chamber_id in chambers:
        result = deliver_staff_digest(chamber_id, week, dry_run=dry_run)
        summary.add(result)
        if progress:
            progress(result)
    return summary
