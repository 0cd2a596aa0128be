"""Celery tasks of matchmaking: thin wrappers around services, safe to run twice."""

import logging
from collections.abc import Callable

from celery import shared_task

from companies.mail import busy_delay, retry_refused
from matchmaking import fanout, introductions, services
from matchmaking.digests.delivery import (
    DeliveryResult,
    DigestSummary,
    Status,
    deliver_firm_digest,
    deliver_firm_digests,
    deliver_staff_digest,
)
from matchmaking.digests.planning import FIRMS_PER_TASK, digest_targets
from matchmaking.digests.weeks import IsoWeek

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def recompute_company_matches(company_id: int) -> dict:
    """Refresh one firm's suggestions (after an edit); idempotent, as recompute_matches is."""
    return _summary(services.recompute_matches([company_id]))


@shared_task(acks_late=True, reject_on_worker_lost=True)
def recompute_companies_matches(company_ids: list[int]) -> dict:
    """Refresh the suggestions of several firms changed in one transaction (an import), in one ranking."""
    return _summary(services.recompute_matches(company_ids))


@shared_task(acks_late=True, reject_on_worker_lost=True)
def recompute_in_chunks(chunk_size: int = services.RECOMPUTE_CHUNK, top_k: int = 10) -> dict:
    """A full recompute fanned out (matchmaking/fanout.py): one ``recompute_fanout_chunk`` task per chunk of one
    country's firms, for as many workers as listen; the task that finishes the last chunk merges and writes
    the whole ranking once, the rows one full run writes."""
    run, chunks = fanout.new_run(), services.recompute_chunks(chunk_size)
    for number, chunk in enumerate(chunks):
        recompute_fanout_chunk.delay(run, number, chunk, len(chunks), top_k)
    return {"run": run, "chunks": len(chunks), "firms": sum(len(chunk) for chunk in chunks)}


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True)
def recompute_fanout_chunk(self, run: str, number: int, company_ids: list[int], total: int, top_k: int = 10) -> dict:
    """Rank one chunk of a fanned-out recompute against every firm of the other country; the last one to finish
    merges and writes. Safe to run twice: it stores the same lists, and a second merge writes nothing new."""
    return fanout.run_chunk(run, number, company_ids, total=total, top_k=top_k, in_process=self.request.is_eager)


def _summary(result: services.RecomputeResult) -> dict:
    # A plain dict: JSON-serialisable for the result backend and readable in the worker log.
    return {
        "created": result.created,
        "updated": result.updated,
        "dropped": result.dropped,
        "kept_reviewed": result.kept_reviewed,
        "seconds": round(result.seconds, 2),
        "notes": result.notes,
    }


# --- embeddings ---------------------------------------------------------------------------------------------


@shared_task(acks_late=True, reject_on_worker_lost=True)
def embed_texts_chunk(role: str, texts: list[str]) -> int:
    """Cache the embeddings of one chunk of texts; returns the rows it wrote (0 when run a second time)."""
    return services.embed_chunk(role, texts)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def embed_new_texts(chunk_size: int = services.EMBED_CHUNK) -> dict:
    """Fan out one task per chunk of uncached texts: more workers, on more machines, embed faster."""
    plan = services.plan_embedding(chunk_size, at_least=services.EMBED_QUEUE_CHUNKS)
    for role, texts in plan.chunks:
        embed_texts_chunk.delay(role, texts)
    return {"chunks": len(plan.chunks), "missing": plan.missing, "cached": plan.cached}


# --- weekly digests ---------------------------------------------------------------------------------


@shared_task(acks_late=True, reject_on_worker_lost=True)
def dispatch_weekly_digests(country: str | None = None, week: str | None = None) -> dict:
    """The weekly run (django-celery-beat calls it per country): expire stale introductions, queue again the
    introductions emailed at once that have not all gone out, then one task per batch of firms with news
    (FIRMS_PER_TASK each) and one per chamber. Running it twice queues the same tasks, which then send
    nothing."""
    iso_week = IsoWeek.parse(week) if week else IsoWeek.current(country)
    expired = services.expire_introductions()
    # Both countries' runs queue them: whichever comes first sends, the other's tasks find nothing left to send.
    for match_id in introductions.unsent_introductions():
        send_introduction_now.delay(match_id)
    firms, chambers = digest_targets(iso_week, country)
    for start in range(0, len(firms), FIRMS_PER_TASK):
        send_firm_digests.delay(firms[start : start + FIRMS_PER_TASK], str(iso_week))
    for chamber_id in chambers:
        send_staff_digest.delay(chamber_id, str(iso_week))
    return {"week": str(iso_week), "expired": expired, "firms": len(firms), "chambers": len(chambers)}


def _deliver(task, deliver: Callable[[], DeliveryResult], what: str) -> dict:
    result = deliver()
    if result.status == Status.BUSY and not task.request.is_eager:  # eager: nobody to wait for
        raise task.retry(countdown=busy_delay(), max_retries=None)
    if result.status == Status.FAILED and not task.request.is_eager:  # eager: the next run resumes it
        retry_refused(task)
        # Given up for now; the row stays FAILED and the next weekly run (or `send_digests`) resumes it.
        logger.error("%s for %s failed after %d retries: %s", what, result.target, task.request.retries, result.reason)
    return result.as_dict()


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True)
def send_firm_digest(self, company_id: int, week: str) -> dict:
    """One firm's digest for the ISO week ('2026-W48'); any number of runs send it once."""
    return _deliver(self, lambda: deliver_firm_digest(company_id, IsoWeek.parse(week)), f"digest {week}")


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True)
def send_firm_digests(self, company_ids: list[int], week: str) -> dict:
    """A batch of firms' digests for the ISO week over one SMTP connection; any number of runs send each
    once. A retry carries only the firms the mail server refused, so the others are not even looked at again
    (and a redelivered batch finds theirs sent)."""
    results = deliver_firm_digests(company_ids, IsoWeek.parse(week))
    summary = DigestSummary()
    for result in results.values():
        summary.add(result)
    busy = [pk for pk, result in results.items() if result.status == Status.BUSY]
    failed = [pk for pk, result in results.items() if result.status == Status.FAILED]
    if busy and not self.request.is_eager:  # eager: nobody to wait for
        # Their own task, with no retry budget spent: whoever holds them may well send them meanwhile.
        send_firm_digests.apply_async((busy, week), countdown=busy_delay())
    if failed and not self.request.is_eager:  # eager: the caller would wait; the next run resumes them
        retry_refused(self, args=(failed, week))
        # Given up for now; the rows stay FAILED and the next run for the week (or `send_digests`) resumes them.
        logger.error(
            "digests %s of %d firm(s) failed after %d retries: %s",
            week,
            len(failed),
            self.request.retries,
            "; ".join(f"{results[pk].target}: {results[pk].reason}" for pk in failed),
        )
    return summary.as_dict()


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True)
def send_staff_digest(self, chamber_id: int, week: str) -> dict:
    """One chamber's staff digest for the ISO week; any number of runs send it once."""
    return _deliver(self, lambda: deliver_staff_digest(chamber_id, IsoWeek.parse(week)), f"digest {week}")


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True)
def send_introduction_now(self, match_id: int) -> dict:
    """Email both firms of a match its introduction at once (services.introduce_now queues it): each reader once,
    however many runs; the mail server's refusals are retried as a digest's are."""
    return _deliver(self, lambda: introductions.deliver_introduction(match_id), "introduction email")
