"""Celery tasks of matchmaking: thin wrappers around services, safe to run twice."""

import logging
import random

from celery import shared_task
from django.conf import settings

from matchmaking import digests, services

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def recompute_company_matches(company_id: int) -> dict:
    """Refresh one firm's suggestions (after an edit); idempotent, as recompute_matches is."""
    return _summary(services.recompute_matches([company_id]))


@shared_task(acks_late=True, reject_on_worker_lost=True)
def recompute_companies_matches(company_ids: list[int]) -> dict:
    """Refresh the suggestions of several firms changed in one transaction (an import), in one ranking."""
    return _summary(services.recompute_matches(company_ids))


def _summary(result: services.RecomputeResult) -> dict:
    # A plain dict: JSON-serialisable for the result backend and readable in the worker log.
    return {
        "created": result.created, "updated": result.updated, "dropped": result.dropped,
        "kept_reviewed": result.kept_reviewed, "seconds": round(result.seconds, 2), "notes": result.notes,
    }


# --- embeddings ---------------------------------------------------------------------------------------------


@shared_task(acks_late=True, reject_on_worker_lost=True)
def embed_texts_chunk(role: str, texts: list[str]) -> int:
    """Cache the embeddings of one chunk of texts; running it twice embeds nothing the second time."""
    return services.embed_chunk(role, texts)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def embed_new_texts(chunk_size: int = services.EMBED_CHUNK) -> dict:
    """Fan out one task per chunk of uncached texts: more workers, on more machines, embed faster."""
    plan = services.plan_embedding(chunk_size)
    for role, texts in plan.chunks:
        embed_texts_chunk.delay(role, texts)
    return {"chunks": len(plan.chunks), "missing": plan.missing, "cached": plan.cached}


# --- weekly digests ---------------------------------------------------------------------------------


@shared_task(acks_late=True, reject_on_worker_lost=True)
def dispatch_weekly_digests(country: str | None = None, week: str | None = None) -> dict:
    """The weekly run (django-celery-beat calls it per country): expire stale introductions, then one task
    per firm with news and one per chamber. Running it twice queues the same tasks, which then send nothing."""
    iso_week = digests.IsoWeek.parse(week) if week else digests.IsoWeek.current(country)
    expired = services.expire_introductions()
    firms, chambers = digests.digest_targets(iso_week, country)
    for firm_id in firms:
        send_firm_digest.delay(firm_id, str(iso_week))
    for chamber_id in chambers:
        send_staff_digest.delay(chamber_id, str(iso_week))
    return {"week": str(iso_week), "expired": expired, "firms": len(firms), "chambers": len(chambers)}


def _retry_delay(retries: int) -> float:
    # Exponential backoff with jitter, so a mail server coming back is not hit by every retry at once.
    base = settings.DIGEST_RETRY_BACKOFF_BASE * (2**retries)
    return min(settings.DIGEST_RETRY_BACKOFF_MAX, base) * random.uniform(0.8, 1.2)


def _deliver(task, deliver, target_id: int, week: str) -> dict:
    result = deliver(target_id, digests.IsoWeek.parse(week))
    if result.status == digests.Status.BUSY and not task.request.is_eager:  # eager: nobody to wait for
        raise task.retry(countdown=settings.DIGEST_BUSY_RETRY_SECONDS, max_retries=None)
    if result.status == digests.Status.FAILED:
        if task.request.retries < settings.DIGEST_MAX_RETRIES:
            raise task.retry(countdown=_retry_delay(task.request.retries), max_retries=settings.DIGEST_MAX_RETRIES)
        # Given up for now; the row stays FAILED and the next run for the week (or `send_digests`) resumes it.
        logger.error("digest %s for %s failed after %d retries: %s", week, result.target, task.request.retries,
                     result.reason)
    return result.as_dict()


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True)
def send_firm_digest(self, company_id: int, week: str) -> dict:
    """One firm's digest for the ISO week ('2026-W48'); any number of runs send it once."""
    return _deliver(self, digests.deliver_firm_digest, company_id, week)


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True)
def send_staff_digest(self, chamber_id: int, week: str) -> dict:
    """One chamber's staff digest for the ISO week; any number of runs send it once."""
    return _deliver(self, digests.deliver_staff_digest, chamber_id, week)
