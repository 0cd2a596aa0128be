"""The matching index a worker process keeps between recomputes of edited firms.

Ranking one edited firm against 100,000 means reading every profile and weighting every text again,
seconds of work that a few edits do not change. The first partial recompute in a process builds a
``MatchingIndex`` from every matchable profile (Company.objects.matchable); later ones bring it up to date
with the firms saved since (theirs and other processes' edits, by ``updated_at``, plus the ids the task
names, which covers deleted listings; a firm no longer matchable leaves the index) and rank on it. It is
rebuilt after ``MATCHING_INDEX_MAX_AGE`` seconds, when an edit names something the fit never saw, and never
used below ``MATCHING_INDEX_MIN_FIRMS`` matchable firms, where reading everything again is quick.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from companies.models import Company
from matchmaking.engine import Embedder
from matchmaking.engine.incremental import MatchingIndex, StaleIndex
from matchmaking.selectors import firms_changed_since, matchable_profiles

# An edit saved before the last look but committed after it carries an older updated_at: look back this
# far each time (re-reading a few recently edited firms is cheap; missing one is not).
SYNC_OVERLAP = timedelta(minutes=5)

_lock = threading.Lock()
_state: dict = {}  # "index", "synced_at" (database clock of the last read), "built" (monotonic seconds)


def forget() -> None:
    """Drop this process's index (tests; or after a full recompute changed what every firm looks like)."""
    with _lock:
        _state.clear()


def ready_index(company_ids: Collection[int], embedder: Callable[[], Embedder | None]) -> MatchingIndex | None:
    """This process's index with the current profiles of ``company_ids`` and of every firm saved since it
    last looked, building it first if needed; None when the market is too small to need one."""
    with _lock:
        index = _state.get("index")
        too_old = index is not None and time.monotonic() - _state["built"] > settings.MATCHING_INDEX_MAX_AGE
        if index is None or too_old:
            if Company.objects.matchable().count() < settings.MATCHING_INDEX_MIN_FIRMS:
                return None
            return _build(embedder())
        try:
            _sync(index, set(company_ids))
        except StaleIndex:
            return _build(embedder())
        return index


def _build(embedder: Embedder | None) -> MatchingIndex:
    started = timezone.now()
    index = MatchingIndex(matchable_profiles(), embedder)
    _state.update(index=index, synced_at=started, built=time.monotonic())
    return index


def _sync(index: MatchingIndex, company_ids: set[int]) -> None:
    started = timezone.now()
    changed = company_ids | firms_changed_since(_state["synced_at"] - SYNC_OVERLAP)
    profiles = matchable_profiles(changed)
    index.replace(profiles)
    index.remove(changed - {p.key for p in profiles})
    _state["synced_at"] = started
