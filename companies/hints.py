"""What would improve a firm's matches: advice shown beside its profile form.

Thin profiles get few introductions: the matching compares what one firm offers with what another needs,
word for word and by meaning, so a need of three words or one without a form of cooperation has little to
be compared with.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.translation import gettext as _

MIN_WORDS = 8  # below this, an offer or need rarely says what, how much and where
QUOTE_CHARS = 60


@dataclass(frozen=True)
class ListingDraft:
    direction: str  # "offer" or "need"
    text: str
    cooperation: Sequence[str]


def _quote(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= QUOTE_CHARS else text[: QUOTE_CHARS - 1] + "…"


def profile_hints(*, sectors: Sequence[str], languages: Sequence[str], listings: Sequence[ListingDraft]) -> list[str]:
    hints = []
    directions = {listing.direction for listing in listings}
    if "offer" not in directions:
        hints.append(_("Add at least one offer: firms that need what you make or do can then find you."))
    if "need" not in directions:
        hints.append(
            _("Add at least one need: the matching works both ways, and firms with both get more introductions.")
        )
    for listing in listings:
        if len(listing.text.split()) < MIN_WORDS:
            hints.append(
                _("“%(text)s” is short or vague: say what, how much, where and with which certificates.")
                % {"text": _quote(listing.text)}
            )
        if not listing.cooperation:
            hints.append(
                _("Choose a form of cooperation for “%(text)s” (distribution, supply, joint venture…).")
                % {"text": _quote(listing.text)}
            )
    if not sectors:
        hints.append(_("Pick your sectors: firms of related sectors are matched first."))
    if not languages:
        hints.append(_("Say which business languages your staff speak: a common language counts in the matching."))
    return hints
