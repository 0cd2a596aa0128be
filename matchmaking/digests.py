"""Weekly digests: each firm hears of its new introductions, each chamber's staff of what waits for review.

Exactly once per firm (or chamber) and ISO week:

1. **Claim.** A DigestDelivery row unique on (firm, ISO year, ISO week) is created together with its content
   (DigestItems) in one transaction. Whoever comes second (a rerun, a redelivered task, another worker)
   finds the row and sends the content already chosen, or nothing if it went out.
2. **Send.** Only the holder of a PostgreSQL advisory lock on the row sends. The lock belongs to the
   database session, so a worker killed mid-send loses it the moment its connection drops, and the retry
   can go on at once. Each address the SMTP server accepted is committed to ``sent_to`` before the next
   message, so a retry sends only to those not reached yet.
3. **Mark.** The row becomes SENT, and the matches it announced become INTRODUCED, in one transaction
   (the one that commits the last reader's address).

What remains is the instant between the server's "250 accepted" and the commit of that address: a crash
exactly there resends one message. Its Message-ID is the same both times, so mail clients show it once.

Firms' digests go out in batches (a worker task per FIRMS_PER_TASK firms): one SMTP connection and a few
queries for the whole batch, but each firm is still claimed, locked, sent and marked on its own, so a
firm refused or interrupted in a batch is resumed by itself and the rest of the batch is never sent again.

An introduction staff send at once (matchmaking.introductions) is the same email with one match in it, claimed
in a row of its own (unique on firm and match) and sent by ``send_claimed`` by the same rules. A firm's claims
of both kinds hold a lock on the firm (``lock_firm_claims``), so a match is put in one of them, never in both.
"""

from __future__ import annotations

import copy
import hashlib
import logging
import smtplib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from urllib.parse import quote
from zoneinfo import ZoneInfo

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext, ngettext

from companies.models import COUNTRY_TIME_ZONES, Company, Organisation
from companies.recipients import CONTACT, Recipient, claim_token, firm_recipients, sign_action, staff_recipients
from matchmaking import selectors, services
from matchmaking.explain import explain, fetch_sector_names
from matchmaking.models import DigestDelivery, DigestItem, Match

logger = logging.getLogger(__name__)

ANSWER_SALT = "sme-match.answer"
# Namespace of the advisory locks on digest deliveries (the row's id is the other half of the key).
DIGEST_LOCK = 0x44494745  # "DIGE"
# Namespace of the transaction locks a claim holds on its firms (the firm's id is the other half of the key).
FIRM_CLAIM_LOCK = 0x434C4149  # "CLAI"
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
        return {
            "target": self.target,
            "status": self.status,
            "reason": self.reason,
            "messages": self.messages,
            "notes": self.notes,
        }


@dataclass
class DigestSummary:
    """Counts of one run over many digests, with the reasons behind every skip and failure."""

    counts: dict[str, int] = field(
        default_factory=lambda: {
            status: 0 for status in (Status.SENT, Status.SKIPPED, Status.ALREADY, Status.BUSY, Status.FAILED)
        }
    )
    messages: int = 0
    expired: int = 0
    details: list[str] = field(default_factory=list)

    def add(self, result: DeliveryResult) -> None:
        self.counts[result.status] += 1
        self.messages += result.messages
        if result.status in (Status.SKIPPED, Status.FAILED, Status.BUSY) or result.notes:
            why = "; ".join(filter(None, [result.reason, *result.notes]))
            self.details.append(f"{result.target}: {result.status}" + (f" ({why})" if why else ""))

    def as_dict(self) -> dict:
        return {"counts": self.counts, "messages": self.messages, "details": self.details}


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

# Firms per dispatched task. A batch shares one SMTP connection, one database connection and a handful of
# queries for what all its digests need; 50 keeps a batch to about a second on a healthy mail server, so a
# redelivered batch redoes little and two workers still share a weekly run evenly.
FIRMS_PER_TASK = 50


class Mailer:
    """One SMTP connection for many messages: opened on first use, and again after an error broke it. Once
    the server cannot even be reached, every later message fails at once with that error, so the rest of a
    batch is left to the retry instead of waiting on a dead server message by message."""

    def __init__(self) -> None:
        self._connection = None
        self._unreachable: Exception | None = None

    def send(self, message: EmailMultiAlternatives) -> None:
        if self._unreachable is not None:
            raise self._unreachable
        if self._connection is None:
            connection_ = get_connection()
            try:
                connection_.open()
            except SMTP_ERRORS as error:
                self._unreachable = error
                raise
            self._connection = connection_
        message.connection = self._connection
        try:
            message.send()
        except SMTP_ERRORS:
            self.close()  # a refused message may leave the session in any state: the next one starts afresh
            raise

    def close(self) -> None:
        if self._connection is not None:
            connection_, self._connection = self._connection, None
            connection_.close()


def _firms_with_readers(company_ids: list[int]) -> dict[int, Company]:
    return Company.objects.prefetch_related("memberships__user", "listings").in_bulk(company_ids)


def lock_firm_claims(company_ids: list[int]) -> None:
    """Hold, until the transaction ends, the claim lock of each firm: a claim that then reads what the firm
    was told sees every other claim of its firms committed (a weekly digest's or an introduction's)."""
    with connection.cursor() as cursor:
        # Taken in id order by every claim, so two claims of overlapping firms never wait on each other in a ring.
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, id::int) FROM unnest(%s::bigint[]) AS id",
            [FIRM_CLAIM_LOCK, sorted(set(company_ids))],
        )


def _claim_firm_deliveries(companies: list[Company], week: IsoWeek) -> dict[int, tuple[DigestDelivery, bool]]:
    """Each firm's delivery row for the week, created with its items where it did not exist (the claim), in
    one transaction for the whole batch: firm id → (delivery, created by this call)."""
    weekly = DigestDelivery.Kind.WEEKLY
    with transaction.atomic():
        lock_firm_claims([company.pk for company in companies])
        rows = DigestDelivery.objects.filter(company__in=companies, iso_year=week.year, iso_week=week.week, kind=weekly)
        claimed = {delivery.company_id: (delivery, False) for delivery in rows}
        unclaimed = [company for company in companies if company.pk not in claimed]
        if not unclaimed:
            return claimed
        plans = selectors.firm_digest_plans(unclaimed)
        fresh = [
            DigestDelivery(
                company_id=pk,
                iso_year=week.year,
                iso_week=week.week,
                **({} if any(plan.values()) else {"status": DigestDelivery.Status.SKIPPED, "reason": "nothing new"}),
            )
            for pk, plan in sorted(plans.items())  # one order for every worker: no deadlock between two claims
        ]
        try:
            with transaction.atomic():
                created = DigestDelivery.objects.bulk_create(fresh)
        except IntegrityError:  # another worker claimed some of them meanwhile: theirs stand, one by one
            created = []
            for delivery in fresh:
                row, new = DigestDelivery.objects.get_or_create(
                    company_id=delivery.company_id,
                    iso_year=week.year,
                    iso_week=week.week,
                    kind=weekly,
                    defaults={"status": delivery.status, "reason": delivery.reason},
                )
                if new:
                    created.append(row)
                else:
                    claimed[row.company_id] = (row, False)
        DigestItem.objects.bulk_create(
            DigestItem(delivery=delivery, match=match, kind=kind)
            for delivery in created
            for kind, matches in plans[delivery.company_id].items()
            for match in matches
        )
        claimed.update((delivery.company_id, (delivery, True)) for delivery in created)
    return claimed


@contextmanager
def _delivery_locks(deliveries: list[DigestDelivery]) -> Iterator[set[int]]:
    """The advisory locks of many deliveries, taken and released in one query each; yields the ids held.
    They belong to the database session, so a worker killed mid-batch loses them all at once."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, pg_try_advisory_lock(%s, id::int) FROM unnest(%s::bigint[]) AS id",
            [DIGEST_LOCK, [delivery.pk for delivery in deliveries]],
        )
        held = {pk for pk, locked in cursor.fetchall() if locked}
    try:
        yield held
    finally:
        if held:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_advisory_unlock(%s, id::int) FROM unnest(%s::bigint[]) AS id",
                    [DIGEST_LOCK, sorted(held)],
                )


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
    # Read with the match (selectors.digest_matches): a firm that withdrew its consent to being shown since
    # the digest was planned is left out of its counterparts' digests, whatever the item.
    if not getattr(match, f"{'ru' if side == 'vn' else 'vn'}_seen"):
        return f"{counterpart} is not shown to other firms"
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
    return deliver_firm_digests([company_id], week, dry_run=dry_run)[company_id]


def deliver_firm_digests(company_ids: list[int], week: IsoWeek, *, dry_run: bool = False) -> dict[int, DeliveryResult]:
    """The week's digests of several firms over one SMTP connection: firm id → result, in the given order.

    Each firm is on its own, as if delivered alone: its claim, lock and ``sent_to`` are its own, and a
    firm the mail server refused (FAILED) or another worker holds (BUSY) leaves the others untouched. So
    calling this again with the same firms (a retry, a redelivered task) sends only what did not go out.
    """
    companies = _firms_with_readers(company_ids)
    results: dict[int, DeliveryResult] = {
        pk: DeliveryResult(f"firm {pk}", Status.SKIPPED, "the firm was deleted")
        for pk in company_ids
        if pk not in companies
    }
    firms = [companies[pk] for pk in dict.fromkeys(company_ids) if pk in companies]
    readers = {company.pk: firm_recipients(company) for company in firms}
    if dry_run:
        results.update(
            (company.pk, _dry_run_firm(company, week, f"{company} ({company.pk})", *readers[company.pk]))
            for company in firms
        )
        return {pk: results[pk] for pk in company_ids}

    claimed = _claim_firm_deliveries(firms, week)
    send_claimed(firms, claimed, readers, week, results)
    return {pk: results[pk] for pk in company_ids}


def send_claimed(
    firms: list[Company],
    claimed: dict[int, tuple[DigestDelivery, bool]],
    readers: dict[int, tuple[list[Recipient], list[str]]],
    week: IsoWeek,
    results: dict[int, DeliveryResult],
) -> None:
    """Send each firm the delivery claimed for it (firm id → (delivery, created by this call)) unless it went
    out already, filling in ``results``: what a weekly digest and an introduction sent at once share."""
    open_ = []
    for company in firms:
        delivery, created = claimed[company.pk]
        if delivery.status in (DigestDelivery.Status.SENT, DigestDelivery.Status.SKIPPED):
            # Final states: no lock is needed to know that there is nothing left to do.
            status = Status.SKIPPED if created else Status.ALREADY
            results[company.pk] = DeliveryResult(f"{company} ({company.pk})", status, delivery.reason)
        else:
            open_.append(company)
    if open_:
        with _delivery_locks([claimed[company.pk][0] for company in open_]) as held:
            _deliver_held(open_, claimed, held, readers, week, results)


def _deliver_held(
    firms: list[Company],
    claimed: dict[int, tuple[DigestDelivery, bool]],
    held: set[int],
    readers: dict[int, tuple[list[Recipient], list[str]]],
    week: IsoWeek,
    results: dict[int, DeliveryResult],
) -> None:
    """Send the digests of the firms whose delivery locks this session holds, filling in ``results``."""
    fresh = DigestDelivery.objects.in_bulk(held)  # read afresh under the lock: an earlier holder may have sent it
    items: dict[int, list[DigestItem]] = {pk: [] for pk in held}
    for item in DigestItem.objects.filter(delivery_id__in=held):
        items[item.delivery_id].append(item)
    matches = selectors.digest_matches([item.match_id for group in items.values() for item in group if item.match_id])
    mail, sector_names = Mailer(), _SectorNamesByLanguage()
    try:
        for company in firms:
            target = f"{company} ({company.pk})"
            delivery = fresh.get(claimed[company.pk][0].pk)
            if delivery is None:
                results[company.pk] = DeliveryResult(target, Status.BUSY, "another worker is sending it")
                continue
            try:
                results[company.pk] = _deliver_locked(
                    company, delivery, items[delivery.pk], matches, *readers[company.pk], mail, sector_names, week
                )
            except SoftTimeLimitExceeded:
                raise
            except Exception as error:  # a bug or a lost database must not cost the rest of the batch its digests
                logger.exception("digest %s for %s failed", week, target)
                results[company.pk] = DeliveryResult(target, Status.FAILED, f"{type(error).__name__}: {error}"[:300])
    finally:
        mail.close()


def _deliver_locked(
    company: Company,
    delivery: DigestDelivery,
    items: list[DigestItem],
    matches: dict[int, Match],
    recipients: list[Recipient],
    left_out: list[str],
    mail: Mailer,
    sector_names: _SectorNamesByLanguage,
    week: IsoWeek,
) -> DeliveryResult:
    target = f"{company} ({company.pk})"
    if delivery.status in (DigestDelivery.Status.SENT, DigestDelivery.Status.SKIPPED):
        return DeliveryResult(target, Status.ALREADY, delivery.reason)
    if company.status != Company.Status.PUBLISHED:
        _skip(delivery, f"the firm is {company.get_status_display().lower()}")
        return DeliveryResult(target, Status.SKIPPED, delivery.reason)

    side = selectors.side_of_country(company.country)
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
        return _render_firm_digest(company, side, kept, recipient, delivery, week, sector_names)

    result = _send(
        delivery, recipients, render, target, mail, on_sent=lambda: _introduce_announced(company, kept, delivery)
    )
    result.notes = left_out + notes
    return result


def _dry_run_firm(company, week, target, recipients, left_out) -> DeliveryResult:
    existing = DigestDelivery.objects.filter(
        company=company, iso_year=week.year, iso_week=week.week, kind=DigestDelivery.Kind.WEEKLY
    ).first()
    if existing and existing.status in (DigestDelivery.Status.SENT, DigestDelivery.Status.SKIPPED):
        return DeliveryResult(target, Status.ALREADY, existing.reason)
    plan = selectors.firm_digest_plan(company)
    if not any(plan.values()):
        return DeliveryResult(target, Status.SKIPPED, "nothing new")
    if not recipients:
        return DeliveryResult(target, Status.SKIPPED, "; ".join(left_out) or "nobody to write to")
    counts = ", ".join(f"{len(matches)} {kind}" for kind, matches in plan.items() if matches)
    return DeliveryResult(
        target,
        Status.SENT,
        f"would send {counts} to {len(recipients)} reader(s)",
        messages=len(recipients),
        notes=left_out,
    )


def _introduce_announced(company: Company, items: list[DigestItem], delivery: DigestDelivery) -> None:
    """The approved matches the digest announced become introduced; runs in the transaction marking it sent."""
    where = (
        f"in the {delivery.week} digest of {company}"
        if delivery.kind == DigestDelivery.Kind.WEEKLY
        else f"in the introduction email to {company}"
    )
    for item in items:
        if item.kind == DigestItem.Kind.NEW and item.match.status == Match.Status.APPROVED:
            try:
                # A copy: introduce reloads the match it is given, which would drop the firms prefetched with
                # it. The batch's own instance then takes the new state, so that the other firm of the match,
                # if later in the batch, is told of an introduced match and does not introduce it again.
                introduced = services.introduce(copy.copy(item.match), note=where)
            except services.MatchWorkflowError:  # rejected in the last instant: it was told, nothing to undo
                logger.warning("match %s changed while its digest was sent", item.match_id)
            else:
                for name in ("status", "introduced_at", "response_vn", "response_ru"):
                    setattr(item.match, name, getattr(introduced, name))


def public_profile(company: Company, sector_names) -> dict:
    def preview(text: str) -> str:
        return text if len(text) <= LISTING_PREVIEW else text[: LISTING_PREVIEW - 1].rstrip() + "…"

    listings = list(company.listings.all())
    sectors = [sector.name for sector in company.sectors.all()] or (
        [company.activity_division.name] if company.activity_division else []
    )
    return {
        "name": company.name,
        "country": company.get_country_display(),
        "city": company.city,
        "size": company.get_size_display() if company.size else "",
        "sectors": sectors,
        "offers": [preview(listing.text) for listing in listings if listing.direction == listing.Direction.OFFER],
        "needs": [preview(listing.text) for listing in listings if listing.direction == listing.Direction.NEED],
    }


def _answer_url(match: Match, company: Company, recipient: Recipient) -> str:
    token = sign_action(
        {"match": match.pk, "company": company.pk, "member": recipient.pk if recipient.kind != CONTACT else None},
        ANSWER_SALT,
    )
    path = reverse("introduction-answer", args=[token])
    if recipient.kind == CONTACT:  # a firm without an account claims its profile first, then answers
        return f"{claim_url(company)}?next={quote(path)}"
    return settings.SITE_URL + path


class _SectorNamesByLanguage(Mapping):
    """Every sector's name in the active language, each language fetched once (one query) for a whole batch
    of digests rather than once per email."""

    def __init__(self) -> None:
        self._names: dict[str, dict[str, str]] = {}

    def _current(self) -> dict[str, str]:
        language = translation.get_language()
        if language not in self._names:
            self._names[language] = fetch_sector_names()
        return self._names[language]

    def __getitem__(self, code: str) -> str:
        return self._current()[code]

    def __iter__(self) -> Iterator[str]:
        return iter(self._current())

    def __len__(self) -> int:
        return len(self._current())


def _render_firm_digest(
    company: Company,
    side: str,
    items: list[DigestItem],
    recipient: Recipient,
    delivery: DigestDelivery,
    week: IsoWeek,
    names: Mapping[str, str],
) -> EmailMultiAlternatives:
    expiry_days = settings.DIGEST_INTRODUCTION_EXPIRY_DAYS
    with translation.override(recipient.language):
        sections: dict[str, list[dict]] = {kind: [] for kind in DigestItem.Kind.values}
        for item in items:
            match = item.match
            introduced = match.introduced_at or timezone.now()
            sections[item.kind].append(
                {
                    "counterpart": public_profile(match.counterpart_of(company), names),
                    "reasons": explain(match, side, sector_names=names),
                    "answer_url": _answer_url(match, company, recipient),
                    "expires_on": (introduced + timedelta(days=expiry_days)).date(),
                }
            )
        new, reminders = sections[DigestItem.Kind.NEW], sections[DigestItem.Kind.REMINDER]
        count = len(new)
        if count:
            subject = ngettext(
                "%(count)d new introduction for %(firm)s", "%(count)d new introductions for %(firm)s", count
            ) % {"count": count, "firm": company.name}
        elif reminders:
            subject = ngettext(
                "%(count)d introduction waits for your answer",
                "%(count)d introductions wait for your answer",
                len(reminders),
            ) % {"count": len(reminders)}
        else:
            subject = gettext("News about your introductions")
        context = {
            "recipient": recipient,
            "firm": company,
            "week": str(week),
            "new": new,
            "reminders": reminders,
            "expired": sections[DigestItem.Kind.EXPIRED],
            "claim": recipient.kind == CONTACT,
            "claim_url": claim_url(company) if recipient.kind == CONTACT else "",
            **footer_links(recipient),
        }
        return _message(f"SME Match · {subject}", "matchmaking/email/firm_digest", context, recipient, delivery)


def claim_url(company: Company) -> str:
    return settings.SITE_URL + reverse("claim-profile", args=[claim_token(company)])


def footer_links(recipient: Recipient) -> dict:
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
        # A firm's name in the subject was checked when written, but not rows stored before that check: a line
        # break left there would fail this digest every week (BadHeaderError), so the subject is one line.
        subject=" ".join(subject.split()),
        body=text,
        to=[recipient.email],
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
    delivery: DigestDelivery,
    recipients: list[Recipient],
    render: Callable[[Recipient], EmailMultiAlternatives],
    target: str,
    mail: Mailer,
    on_sent: Callable[[], None] = lambda: None,
) -> DeliveryResult:
    """Send to each recipient the server has not accepted yet; the caller holds the delivery's lock.

    Each accepted address is committed before the next message goes out. The last one is committed in the
    same transaction that marks the delivery sent and runs ``on_sent`` (the matches it introduced), which
    saves a commit per digest and leaves no state in which all were reached but the digest is not sent.
    """
    done = {email.lower() for email in delivery.sent_to}
    todo = [recipient for recipient in recipients if recipient.email.lower() not in done]
    # This attempt is counted with its first write, so an attempt counts once whatever the server answered.
    counted = {"attempts": F("attempts") + 1}
    sent = 0
    try:
        for recipient in todo[:-1]:
            mail.send(render(recipient))
            delivery.sent_to.append(recipient.email)
            DigestDelivery.objects.filter(pk=delivery.pk).update(sent_to=delivery.sent_to, **counted)
            counted, sent = {}, sent + 1
        if todo:
            mail.send(render(todo[-1]))
            delivery.sent_to.append(todo[-1].email)
            sent += 1
    except SMTP_ERRORS as error:
        reason = f"mail server: {type(error).__name__}: {error}"[:300]
        DigestDelivery.objects.filter(pk=delivery.pk).update(
            status=DigestDelivery.Status.FAILED, reason=reason, **counted
        )
        return DeliveryResult(target, Status.FAILED, reason, messages=sent)
    try:
        with transaction.atomic():
            DigestDelivery.objects.filter(pk=delivery.pk).update(
                sent_to=delivery.sent_to,
                status=DigestDelivery.Status.SENT,
                sent_at=timezone.now(),
                reason="",
                **(counted if todo else {}),
            )
            on_sent()
    except Exception:
        # Whatever broke after the server accepted the last message, that reader has it: never send it again.
        DigestDelivery.objects.filter(pk=delivery.pk).update(sent_to=delivery.sent_to)
        raise
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
        delivery, created = DigestDelivery.objects.get_or_create(
            chamber=chamber, iso_year=week.year, iso_week=week.week
        )
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
                    "recipient": recipient,
                    "chamber": chamber,
                    "week": delivery.week,
                    "figures": figures,
                    "admin_url": settings.SITE_URL
                    + reverse("admin:matchmaking_match_changelist")
                    + "?status=suggested",
                    "vetting_url": settings.SITE_URL
                    + reverse("admin:companies_company_changelist")
                    + "?status=pending",
                    **footer_links(recipient),
                }
                return _message(
                    f"SME Match · {subject}", "matchmaking/email/staff_digest", context, recipient, delivery
                )

        mail = Mailer()
        try:
            result = _send(delivery, recipients, render, target, mail)
        finally:
            mail.close()
        result.notes = left_out
        return result


# --- a whole run ----------------------------------------------------------------------------------


def digest_targets(
    week: IsoWeek, country: str | None = None, firm_ids: list[int] | None = None
) -> tuple[list[int], list[int]]:
    """(firm ids, chamber ids) a run for the week visits."""
    if firm_ids:
        return sorted(firm_ids), []
    firms = list(selectors.digest_candidates(week.year, week.week, country).values_list("pk", flat=True))
    chambers = Organisation.objects.filter(vets_companies=True)
    if country:
        chambers = chambers.filter(country=country)
    return firms, list(chambers.order_by("pk").values_list("pk", flat=True))


def send_digests(
    week: IsoWeek,
    firms: list[int],
    chambers: list[int],
    *,
    dry_run: bool = False,
    progress: Callable[[DeliveryResult], None] | None = None,
) -> DigestSummary:
    """The digests of the given firms and chambers for the week, batch after batch in this process (the
    command line's way; the Celery dispatcher fans the same batches out to workers). Expire stale
    introductions first (services.expire_introductions), so their news is in this week's digests."""
    summary = DigestSummary()
    for start in range(0, len(firms), FIRMS_PER_TASK):
        for result in deliver_firm_digests(firms[start : start + FIRMS_PER_TASK], week, dry_run=dry_run).values():
            summary.add(result)
            if progress:
                progress(result)
    for chamber_id in chambers:
        result = deliver_staff_digest(chamber_id, week, dry_run=dry_run)
        summary.add(result)
        if progress:
            progress(result)
    return summary
