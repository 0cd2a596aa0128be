"""Celery tasks of matchmaking: thin wrappers around services, safe to run twice."""

from celery import shared_task

from matchmaking import services


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
