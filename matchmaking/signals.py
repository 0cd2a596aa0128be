"""Keep suggestions current: a change to a firm's profile queues a recompute of its matches.

Ids changed in a transaction are collected and queued once, after the commit, so an import that saves
hundreds of rows ranks once instead of once per row, and a rolled-back change queues nothing of its own.
Bulk paths (bulk_create in generate_companies) send no signals; they are followed by a full
``recompute_matches`` instead. Fixture loading (``raw``) is skipped too.
"""

from __future__ import annotations

import threading

from django.conf import settings
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete
from django.dispatch import receiver

from companies.models import Company, Listing
from matchmaking.models import Match

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


# Company fields the engine reads or the matching rules depend on; a save limited to others changes nothing.
MATCHING_FIELDS = {"status", "country", "activity_code", "activity_division", "languages"}


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
