"""Turns a match's stored reasons into sentences a person can check, in the active language.

Reasons are stored from the Vietnamese firm's side (see ``matchmaking.engine.types.Reason``); each reader gets
them from their own side: the Vietnamese firm, the Russian firm, or chamber staff (who are neither, so they
read about "the Vietnamese firm" and "the Russian firm"). Offer and need texts are quoted exactly as their
authors wrote them: a reader must be able to find them in the profiles.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping

from django.utils.translation import gettext, ngettext

from companies.models import CooperationForm, Language, Sector
from matchmaking.models import Match

VN = "vn"
RU = "ru"
STAFF = "staff"
READER_SIDES = (VN, RU, STAFF)


def fetch_sector_names(codes: Iterable[str] | None = None) -> dict[str, str]:
    """Code → name in the active language, in one query; every sector when ``codes`` is None."""
    queryset = Sector.objects.all()
    if codes is not None:
        queryset = queryset.filter(code__in=set(codes))
    return {sector.code: sector.name for sector in queryset.only("code", "name_en", "name_vi", "name_ru")}


class LazySectorNames(Mapping):
    """Every sector's name, fetched on first use: one query for a whole page of matches, none for a page
    without sector reasons. Build one per request, as names follow the language active when first read."""

    def __init__(self) -> None:
        self._names: dict[str, str] | None = None

    def _load(self) -> dict[str, str]:
        if self._names is None:
            self._names = fetch_sector_names()
        return self._names

    def __getitem__(self, code: str) -> str:
        return self._load()[code]

    def __iter__(self) -> Iterator[str]:
        return iter(self._load())

    def __len__(self) -> int:
        return len(self._load())


def _sector_codes(reasons: list[dict]) -> set[str]:
    return {
        code
        for reason in reasons
        if reason.get("kind") == "sectors"
        for code in (reason.get("data") or {}).get("common", [])
    }


def _offer_meets_need(kind: str, reader_side: str, data: dict) -> str:
    # need_met: the Russian firm's offer meets the Vietnamese firm's need; offer_wanted: the other way round.
    vn_offers = kind == "offer_wanted"
    values = {"offer": data.get("offer", ""), "need": data.get("need", "")}
    if reader_side == STAFF:
        if vn_offers:
            return gettext("The Vietnamese firm’s offer “{offer}” meets the Russian firm’s need “{need}”.").format(
                **values
            )
        return gettext("The Russian firm’s offer “{offer}” meets the Vietnamese firm’s need “{need}”.").format(**values)
    reader_offers = vn_offers == (reader_side == VN)
    if reader_offers:
        return gettext("Your offer “{offer}” meets their need “{need}”.").format(**values)
    return gettext("Their offer “{offer}” meets your need “{need}”.").format(**values)


def _alike(reader_side: str, own: str | None, theirs: str | None) -> str | None:
    """The two alike texts of a "rivals" reason, stored as the Vietnamese firm's and the Russian firm's."""
    if not own or not theirs:
        return None
    if reader_side == STAFF:
        # Translators: the two firms' offers (or needs) that are alike; use your language's quotes.
        return gettext("the Vietnamese firm’s “{vietnamese}”, the Russian firm’s “{russian}”").format(
            vietnamese=own, russian=theirs
        )
    if reader_side == RU:
        own, theirs = theirs, own
    # Translators: the reader's own offer (or need) and the other firm's, which are alike; use your quotes.
    return gettext("yours “{own}”, theirs “{theirs}”").format(own=own, theirs=theirs)


def _rivals(reader_side: str, data: dict) -> str:
    offers = _alike(reader_side, data.get("offer"), data.get("counterpart_offer"))
    needs = _alike(reader_side, data.get("need"), data.get("counterpart_need"))
    if offers and needs:
        return gettext(
            "Both firms offer alike things ({offers}) and look for alike things ({needs}): they may be competitors."
        ).format(offers=offers, needs=needs)
    if offers:
        return gettext("Both firms offer alike things ({offers}): they may be competitors.").format(offers=offers)
    if needs:
        return gettext("Both firms look for alike things ({needs}): they may be competitors.").format(needs=needs)
    return gettext("Both firms’ profiles are alike: they may be competitors.")


# A sentence ending in a quote whose text ends a sentence itself (“… Ust-Luga.”) takes no full stop of its own.
_DOUBLE_STOP = re.compile(r"(?<=[.!?…])([”»“\"'’]+)\.$")


def _one_full_stop(sentence: str) -> str:
    return _DOUBLE_STOP.sub(r"\1", sentence)


def _label(choices: type, value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:  # a value the engine knows and the model no longer does: show it as stored
        return value


def _in_common(kind: str, common: list[str], names: Mapping[str, str]) -> str | None:
    count = len(common)
    if kind == "sectors":
        # Sector names contain commas and semicolons themselves, so each is quoted.
        # Translators: one sector name inside the list of sectors two firms share; use your language's quotes.
        sectors = ", ".join(gettext("“{name}”").format(name=names.get(code, code)) for code in common)
        # The plural names the count: with 21 or 31 sectors a language such as Russian uses its "one" form.
        return ngettext(
            "Both firms work in the sector {sectors}.", "Both firms work in {count} sectors: {sectors}.", count
        ).format(count=count, sectors=sectors)
    if kind == "cooperation":
        forms = ", ".join(_label(CooperationForm, value) for value in common)
        # At most nine forms exist, so no count is needed to pick the right plural.
        return ngettext(
            "Both firms want this form of cooperation: {forms}.",
            "Both firms want these forms of cooperation: {forms}.",
            count,
        ).format(forms=forms)
    if kind == "language":
        languages = ", ".join(_label(Language, value) for value in common)
        return ngettext(
            "Business language in common: {languages}.", "Business languages in common: {languages}.", count
        ).format(languages=languages)
    return None


def explain(match: Match, reader_side: str, *, sector_names: Mapping[str, str] | None = None) -> list[str]:
    """The match's reasons as sentences for the reader on ``reader_side`` ("vn", "ru" or "staff").

    Pass ``sector_names`` (code → name in the active language, e.g. a ``LazySectorNames``) when explaining
    many matches, so sector names are not fetched once per match.
    """
    if reader_side not in READER_SIDES:
        raise ValueError(f"reader_side must be one of {READER_SIDES}, not {reader_side!r}")
    reasons = [reason for reason in match.reasons or [] if isinstance(reason, dict)]
    if sector_names is None:
        codes = _sector_codes(reasons)
        sector_names = fetch_sector_names(codes) if codes else {}
    sentences = []
    for reason in reasons:
        kind, data = reason.get("kind"), reason.get("data") or {}
        if kind in ("need_met", "offer_wanted"):
            sentences.append(_offer_meets_need(kind, reader_side, data))
        elif kind == "rivals":
            sentences.append(_rivals(reader_side, data))
        elif data.get("common"):
            sentence = _in_common(kind, list(data["common"]), sector_names)
            # A kind this module does not know yet is left out rather than shown half-explained.
            if sentence is not None:
                sentences.append(sentence)
    return [_one_full_stop(sentence) for sentence in sentences]
