"""What a Match stores about a pair the engine ranked: a Suggestion seen from the Vietnamese firm's side.

The engine ranks from either firm's side; a Match row always reads from the Vietnamese one, so a Russian firm's
suggestion is turned around (its reasons, fits and score parts) before it is stored or compared.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

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


def _confidence(suggestion: Suggestion) -> float | None:
    confidence = suggestion.confidence
    return suggestion.parts.get("confidence") if confidence is None else confidence


def _stored_reason(reason: Reason, swap: Callable[[str], str], *, from_vn: bool) -> dict:
    stored = {**asdict(reason), "kind": swap(reason.kind)}
    if reason.kind == "rivals" and not from_vn:
        stored["data"] = {RIVALS_FROM_RU_SIDE.get(key, key): value for key, value in stored["data"].items()}
    return stored


def match_values(suggestion: Suggestion, *, from_vn: bool) -> MatchValues:
    """Store a Suggestion from the Vietnamese firm's side, turning the Russian side's view around if needed."""
    swap = (lambda name: name) if from_vn else (lambda name: FROM_RU_SIDE.get(name, name))
    forward, backward = (
        (suggestion.score_forward, suggestion.score_backward)
        if from_vn
        else (suggestion.score_backward, suggestion.score_forward)
    )
    reasons = [_stored_reason(reason, swap, from_vn=from_vn) for reason in suggestion.reasons]
    reasons.sort(key=lambda reason: REASON_ORDER.get(reason["kind"], len(REASON_ORDER)))  # stable: keeps the rest
    parts = dict(suggestion.parts)
    # Match.confidence is computed from it by the database; absent (not null) without the learned model.
    parts.pop("confidence", None)
    confidence = _confidence(suggestion)
    if confidence is not None:
        parts["confidence"] = confidence
    return MatchValues(
        score=round(suggestion.score, SCORE_DIGITS),
        fit_for_vn=round(forward, SCORE_DIGITS),
        fit_for_ru=round(backward, SCORE_DIGITS),
        score_parts={swap(name): round(value, SCORE_DIGITS) for name, value in sorted(parts.items())},
        reasons=reasons,
    )
