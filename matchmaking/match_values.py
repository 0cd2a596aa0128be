"""What a Match stores about a pair the engine ranked: a Suggestion seen from the Vietnamese firm's side.

The engine ranks from either firm's side; a Match row always reads from the Vietnamese one, so a Russian firm's
suggestion is turned around (its reasons, fits and score parts) before it is stored or compared.
"""

from __future__ import annotations

from dataclasses import dataclass

from matchmaking.engine import Reason, Suggestion

# Digits kept for scores: the same pair scored from either side, or in a different block of firms, can
# differ in the last float bits; rounding keeps reruns idempotent (no spurious updates).
SCORE_DIGITS = 6
REASON_ORDER = {"need_met": 0, "offer_wanted": 1}
# A Russian firm's suggestion seen from the Vietnamese side: what met the Russian firm's need is a
# Vietnamese offer that is wanted, and its forward fit is the Vietnamese side's backward fit.
FROM_RU_SIDE = {"need_met": "offer_wanted", "offer_wanted": "need_met", "forward": "backward", "backward": "forward"}
# A "rivals" reason quotes both firms' texts; seen from the Russian side, its own ones are the Russian firm's.
RIVALS_FROM_RU_SIDE = {
    "offer": "counterpart_offer",
    "counterpart_offer": "offer",
    "need": "counterpart_need",
    "counterpart_need": "need",
}


@dataclass
class MatchValues:
    """What a Match stores about a pair, from the Vietnamese firm's side."""

    score: float
    fit_for_vn: float
    fit_for_ru: float
    score_parts: dict
    reasons: list


# For each set of part names (a run gives one or two), the parts' stored names in stored order with the engine's
# name each comes from: worked out once instead of sorted again for each of a million pairs.
_LAYOUTS: dict[tuple[tuple[str, ...], bool, bool], tuple[tuple[str, str], ...]] = {}


def _layout(names: tuple[str, ...], *, from_vn: bool, confident: bool) -> tuple[tuple[str, str], ...]:
    key = (names, from_vn, confident)
    layout = _LAYOUTS.get(key)
    if layout is None:
        # Match.confidence is computed from it by the database; absent (not null) without the learned model.
        kept = sorted({name for name in names if name != "confidence"} | ({"confidence"} if confident else set()))
        layout = _LAYOUTS[key] = tuple((name if from_vn else FROM_RU_SIDE.get(name, name), name) for name in kept)
    return layout


def _reason_rank(reason: dict) -> int:
    return REASON_ORDER[reason["kind"]]


def _stored_reasons(reasons: list[Reason], *, from_vn: bool) -> list[dict]:
    # The reasons' data dicts are the engine's own, not copies: a full run stores a million pairs, and a deep
    # copy of each (dataclasses.asdict) cost more than the ranking. They are only read (encoded) afterwards.
    ordered, rest = [], []
    for reason in reasons:
        kind, data = reason.kind, reason.data
        if not from_vn:
            if kind == "rivals":
                data = {RIVALS_FROM_RU_SIDE.get(key, key): value for key, value in data.items()}
            kind = FROM_RU_SIDE.get(kind, kind)
        (ordered if kind in REASON_ORDER else rest).append({"kind": kind, "data": data})
    if len(ordered) > 1:
        ordered.sort(key=_reason_rank)  # stable, like the rest: kept in the engine's order
    return ordered + rest if rest else ordered


def _score_parts(suggestion: Suggestion, *, from_vn: bool) -> dict[str, float]:
    parts = suggestion.parts
    confidence = suggestion.confidence
    if confidence is None:
        confidence = parts.get("confidence")
    layout = _layout(tuple(parts), from_vn=from_vn, confident=confidence is not None)
    return {stored: round(confidence if name == "confidence" else parts[name], SCORE_DIGITS) for stored, name in layout}


def match_values(suggestion: Suggestion, *, from_vn: bool) -> MatchValues:
    """Store a Suggestion from the Vietnamese firm's side, turning the Russian side's view around if needed."""
    pending = PendingValues(suggestion, from_vn=from_vn)
    return MatchValues(
        score=pending.score,
        fit_for_vn=pending.fit_for_vn,
        fit_for_ru=pending.fit_for_ru,
        score_parts=pending.score_parts,
        reasons=pending.reasons,
    )


class PendingValues:
    """``match_values`` of a suggestion, worked out when the writer reads them: a full run holds a million
    pairs, and their values built at once (a dict of parts and one per reason each) took a gigabyte at
    100,000 firms. Reads as MatchValues does; each attribute is worked out again on each read."""

    __slots__ = ("suggestion", "from_vn")

    def __init__(self, suggestion: Suggestion, *, from_vn: bool) -> None:
        self.suggestion, self.from_vn = suggestion, from_vn

    @property
    def score(self) -> float:
        return round(self.suggestion.score, SCORE_DIGITS)

    @property
    def fit_for_vn(self) -> float:
        s = self.suggestion
        return round(s.score_forward if self.from_vn else s.score_backward, SCORE_DIGITS)

    @property
    def fit_for_ru(self) -> float:
        s = self.suggestion
        return round(s.score_backward if self.from_vn else s.score_forward, SCORE_DIGITS)

    @property
    def score_parts(self) -> dict[str, float]:
        return _score_parts(self.suggestion, from_vn=self.from_vn)

    @property
    def reasons(self) -> list[dict]:
        return _stored_reasons(self.suggestion.reasons, from_vn=self.from_vn)
