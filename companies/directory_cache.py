"""A short cache of the API directory's answers to anonymous readers, dropped whenever what it shows changes.

Every anonymous reader of the same URL in the same language gets the same page, and at 100,000 firms a page
costs tens of milliseconds of filtering, counting and serialising (bench/api_load.py). The page's data is kept
``settings.DIRECTORY_CACHE_SECONDS`` (0 turns the cache off) by each process, under a key holding a *version*
kept in Django's cache: any save or delete of a firm, an offer or need, their sectors, a chamber or a sector
puts a new version, so the next anonymous request computes the page again and a firm published, changed or
unpublished shows at once.

Correctness rests on order: a request reads the version before it reads the database, and the version is put
again when the change commits. A request that read the database before the commit therefore stored its page
under the old version, which nobody reads any more. Changes that send no signals (``bulk_create`` in
``generate_companies``, ``QuerySet.update``) show after at most DIRECTORY_CACHE_SECONDS, except a firm they
hide, which leaves at once (below).

With several web processes Django's cache must be shared (``CACHE_URL``, Redis), as for the rate limits: the
local memory cache of one process does not hear of a change saved in another, which would then show only after
DIRECTORY_CACHE_SECONDS. Signed-in readers are never served from this cache, nor does it keep their pages. A
kept page is served only while every firm on it is still shown (selectors.all_shown, checked by the view), so
a firm hidden by a write that sent no signal leaves at once too.

This module imports no model (its receivers name their senders lazily), so the app config connects them at start.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections import OrderedDict

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.utils import translation

VERSION_KEY = "directory-api:version"
# Pages are kept in each process, under keys holding the version kept in Django's cache: a page costs no round
# trip to a shared cache nor unpickling (about 1.4 ms of a 3 ms answer with Redis), and a change still drops it
# in every process at once, since the version is shared. The most recently used pages are kept.
MAX_PAGES = 500
_pages: OrderedDict[str, tuple[float, object]] = OrderedDict()
_lock = threading.Lock()
# What a directory page shows: the firm, its offers and needs, their sector codes, its chamber's slug, and the
# sector names (in the reader's language).
SHOWN_MODELS = ["companies.Company", "companies.Listing", "companies.Organisation", "companies.Sector"]
SHOWN_LINKS = ["companies.Company_sectors", "companies.Listing_sectors"]


def seconds() -> int:
    """How long an anonymous page is kept; 0: not at all."""
    return max(0, int(getattr(settings, "DIRECTORY_CACHE_SECONDS", 0)))


def version() -> str:
    """The current version; a new one when the cache lost it (every kept page is then dropped, never reused)."""
    current = cache.get(VERSION_KEY)
    if current is None:
        cache.add(VERSION_KEY, secrets.token_hex(8), None)
        current = cache.get(VERSION_KEY)
    return current


def renew() -> None:
    """Drop every kept page: now (for the rest of the changing transaction) and again when it commits."""
    cache.set(VERSION_KEY, secrets.token_hex(8), None)
    transaction.on_commit(lambda: cache.set(VERSION_KEY, secrets.token_hex(8), None))


def page_key(absolute_uri: str) -> str:
    """The key of a page: the version (read now, before the page reads the database), the active language
    (sector names follow it) and the whole address (its query, and the host that next and previous links name)."""
    address = hashlib.sha256(absolute_uri.encode()).hexdigest()
    return f"directory-api:{version()}:{translation.get_language() or ''}:{address}"


def get(key: str):
    """The data of a kept page, or None; shared by the requests that read it, so never to be changed."""
    with _lock:
        kept = _pages.get(key)
        if kept is None:
            return None
        if kept[0] < time.monotonic():
            del _pages[key]
            return None
        _pages.move_to_end(key)
        return kept[1]


def put(key: str, data) -> None:
    with _lock:
        _pages[key] = (time.monotonic() + seconds(), data)
        _pages.move_to_end(key)
        while len(_pages) > MAX_PAGES:
            _pages.popitem(last=False)


def _changed(sender, raw: bool = False, **kwargs) -> None:
    if not raw:  # fixtures being loaded: nothing is served meanwhile
        renew()


def _links_changed(sender, action: str, **kwargs) -> None:
    if action in ("post_add", "post_remove", "post_clear"):
        renew()


def connect() -> None:
    """Connect the receivers (CompaniesConfig.ready)."""
    for model in SHOWN_MODELS:
        post_save.connect(_changed, sender=model, dispatch_uid=f"directory-cache.saved.{model}")
        post_delete.connect(_changed, sender=model, dispatch_uid=f"directory-cache.deleted.{model}")
    for link in SHOWN_LINKS:
        m2m_changed.connect(_links_changed, sender=link, dispatch_uid=f"directory-cache.linked.{link}")
