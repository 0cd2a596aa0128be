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
of both kinds hold a lock on the firm (``planning.lock_firm_claims``), so a match is put in one of them, never in both.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.core.mail import EmailMultiAlternatives
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from companies.mail import SMTP_ERRORS, Mailer
from companies.models import Company, Organisation
from companies.recipients import Recipient, firm_recipients, staff_recipients
from matchmaking import selectors, services
from matchmaking.digests.planning import FIRMS_PER_TASK, claim_firm_deliveries, firms_with_readers
from matchmaking.digests.rendering import SectorNamesByLanguage, render_firm_digest, render_staff_digest
from matchmaking.digests.weeks import IsoWeek
from matchmaking.models import DigestDelivery, DigestItem, Match

logger = logging.getLogger(__name__)

# Namespace of the advisory locks on digest deliveries (the row's id is the other half of the key).
DIGEST_LOCK = 0x44494745  # "DIGE"


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


# --- firm digests ---------------------------------------------------------------------------------


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
    companies = firms_with_readers(company_ids)
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

    claimed = claim_firm_deliveries(firms, week=week)
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
    mail, sector_names = Mailer(), SectorNamesByLanguage()
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
    sector_names: SectorNamesByLanguage,
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
        return render_firm_digest(
            company, side=side, items=kept, recipient=recipient, delivery=delivery, week=week, names=sector_names
        )

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
            return render_staff_digest(chamber, delivery=delivery, recipient=recipient)

        mail = Mailer()
        try:
            result = _send(delivery, recipients, render, target, mail)
        finally:
            mail.close()
        result.notes = left_out
        return result


# --- a whole run ----------------------------------------------------------------------------------


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
