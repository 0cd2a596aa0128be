"""Keep suggestions current: a change to a firm's profile queues a recompute of its matches.

Ids changed in a transaction are collected and queued once, after the commit, so an import that saves
hundreds of rows ranks once instead of once per row, and a rolled-back change queues nothing of its own.
Bulk paths (bulk_create in generate_companies) send no signals; they are followed by a full
``recompute_matches`` instead. Fixture loading (``raw``) is skipped too. The receivers that call these
functions are in matchmaking.signals.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Iterable

from django.conf import settings
from django.db import transaction

from companies.models import Company, Listing, Sector
from matchmaking import tasks
from matchmaking.models import Match

# Ids waiting for the current transaction to commit, per thread (each thread has its own connection).
_pending = threading.local()

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


def queue(company_ids: Iterable[int]) -> None:
    """Recompute the matches of these firms once the current transaction commits."""
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
    ids, _pending.ids = getattr(_pending, "ids", None) or set(), set()
    if len(ids) == 1:
        tasks.recompute_company_matches.delay(next(iter(ids)))
    elif ids:
        tasks.recompute_companies_matches.delay(sorted(ids))


def suggested_counterparts(company: Company) -> set[int]:
    """The firms holding a suggestion with ``company``: dropping its suggestions leaves a gap in their lists."""
    suggested = Match.objects.filter(status=Match.Status.SUGGESTED)
    counterparts = set(suggested.filter(company_vn=company).values_list("company_ru_id", flat=True))
    counterparts |= set(suggested.filter(company_ru=company).values_list("company_vn_id", flat=True))
    return counterparts


def company_saved(company: Company, *, raw: bool, update_fields: Collection[str] | None) -> None:
    if raw:
        return
    if update_fields is not None and not set(update_fields) & MATCHING_FIELDS:
        return
    queue([company.pk])


def company_deleting(company: Company) -> None:
    # Its matches go with it (cascade), leaving a gap in each counterpart's list: rank those again.
    counterparts = suggested_counterparts(company)
    if counterparts:
        queue(counterparts)


def listing_changed(listing: Listing, *, raw: bool) -> None:
    if not raw:
        queue([listing.company_id])


def sectors_changed(instance: Company | Sector, *, action: str, reverse: bool, pk_set: Collection[int] | None) -> None:
    """``instance`` is the firm, or with ``reverse`` the sector whose firms ``pk_set`` holds."""
    if action not in {"post_add", "post_remove", "post_clear"}:
        return
    if not reverse:
        queue([instance.pk])
    elif pk_set:  # sector.companies.add(...): pk_set holds the companies
        queue(pk_set)
