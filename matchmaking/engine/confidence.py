"""How likely a pair of firms is a real fit, and whether they look like competitors.

Topic is not role: "we need distributors for our instant coffee" is close to "we make instant coffee", so
similarity alone ranks a coffee maker's rival as its partner. Two signals tell rivals apart: how alike the
two firms' offers are (and their needs), against how well one's offers meet the other's needs. A logistic
regression over such pair features, fitted on the labelled pairs of a development set by
``bench/train_confidence.py`` and checked on the other set, turns them into a probability; its fitted
values live in ``confidence_model.json`` beside this file. The features say nothing of ids or words, so the
model carries over to firms it has not seen.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

MODEL_FILE = Path(__file__).with_name("confidence_model.json")

# Each is symmetric in the two firms, so a pair gets one confidence whichever side looks at it.
FEATURES = (
    "fit_sum",  # forward + backward: how well each side's offers meet the other's needs
    "fit_low",  # the weaker direction
    "fit_high",  # the stronger direction
    "offers_alike",  # the most alike offers of the two firms
    "needs_alike",  # the most alike needs
    "offers_alike_over_fit",  # offers more alike than any offer meets a need: the mark of rivals
    "needs_alike_over_fit",
    "cooperation",  # Jaccard of cooperation forms
    "sectors",  # Jaccard of sectors (and registration divisions)
    "language",  # a business language in common
)


def pair_features(
    *,
    forward: np.ndarray,
    backward: np.ndarray,
    offers_alike: np.ndarray,
    needs_alike: np.ndarray,
    cooperation: np.ndarray,
    sectors: np.ndarray,
    language: np.ndarray,
) -> np.ndarray:
    """The FEATURES of each pair, as a [pair, feature] float64 matrix."""
    high, low = np.maximum(forward, backward), np.minimum(forward, backward)
    columns = {
        "fit_sum": forward + backward,
        "fit_low": low,
        "fit_high": high,
        "offers_alike": offers_alike,
        "needs_alike": needs_alike,
        "offers_alike_over_fit": offers_alike - high,
        "needs_alike_over_fit": needs_alike - high,
        "cooperation": cooperation,
        "sectors": sectors,
        "language": language,
    }
    return np.stack([np.asarray(columns[name], dtype=np.float64) for name in FEATURES], axis=1)


@dataclass(frozen=True)
class ConfidenceModel:
    """A logistic regression over standardised FEATURES, and the rule that marks a pair as rivals."""

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    # Rivals: their most alike offers are more alike than any of their offers meets the other's needs, by at
    # least ``rivals_margin``, and alike enough (``rivals_floor``) not to be two firms of unrelated trades.
    rivals_margin: float
    rivals_floor: float
    # How much likelier a fit is among pairs that look like rivals than the regression says (fitted like the
    # rest): their confidence is scaled by it, so a rival is not told as a sure fit.
    rivals_scale: float = 1.0
    trained_on: str = ""

    def probability(self, features: np.ndarray) -> np.ndarray:
        z = ((features - self.mean) / self.scale) @ self.coef + self.intercept
        return 1.0 / (1.0 + np.exp(-np.clip(z, -40, 40)))

    def rivals(self, *, offers_alike: np.ndarray, fit_high: np.ndarray) -> np.ndarray:
        return (offers_alike >= fit_high + self.rivals_margin) & (offers_alike >= self.rivals_floor)

    def confidence(self, features: np.ndarray, rivals: np.ndarray) -> np.ndarray:
        """The probability of a fit, scaled down for pairs that look like rivals."""
        return np.where(rivals, self.probability(features) * self.rivals_scale, self.probability(features))

    def to_json(self) -> dict:
        return {
            "features": list(FEATURES),
            "mean": self.mean.tolist(),
            "scale": self.scale.tolist(),
            "coef": self.coef.tolist(),
            "intercept": self.intercept,
            "rivals_margin": self.rivals_margin,
            "rivals_floor": self.rivals_floor,
            "rivals_scale": self.rivals_scale,
            "trained_on": self.trained_on,
        }

    @classmethod
    def from_json(cls, data: dict) -> ConfidenceModel:
        if tuple(data["features"]) != FEATURES:
            raise ValueError(f"{MODEL_FILE.name} was fitted on other features: run bench/train_confidence.py")
        return cls(
            mean=np.array(data["mean"]),
            scale=np.array(data["scale"]),
            coef=np.array(data["coef"]),
            intercept=float(data["intercept"]),
            rivals_margin=float(data["rivals_margin"]),
            rivals_floor=float(data["rivals_floor"]),
            rivals_scale=float(data.get("rivals_scale", 1.0)),
            trained_on=data.get("trained_on", ""),
        )


@lru_cache(maxsize=1)
def default_model() -> ConfidenceModel | None:
    """The fitted model shipped with the engine, or None if there is none (the engine then ranks by score)."""
    if not MODEL_FILE.exists():
        return None
    return ConfidenceModel.from_json(json.loads(MODEL_FILE.read_text(encoding="utf-8")))


def order(confidence: list[float], rivals: list[bool]) -> list[int]:
    """Positions of a firm's candidates, most confident first, except that a pair that looks like rivals is
    never first while any other candidate is there: it may still be shown, with its warning, further down."""
    ranked = sorted(range(len(confidence)), key=lambda i: -confidence[i])
    if ranked and rivals[ranked[0]]:
        first = next((n for n, i in enumerate(ranked) if not rivals[i]), None)
        if first is not None:
            ranked.insert(0, ranked.pop(first))
    return ranked


def rival_reasons(d: dict, *, offers: list[str], needs: list[str]) -> tuple[list[dict | None], list[dict | None]]:
    """The data of a ``rivals`` reason for each pair, from x's side and from y's: the most alike offers and
    needs, quoted as written (None where a firm has none); built only for the pairs that look like rivals.
    ``d`` is the engine's pair details; ``offers`` and ``needs`` the texts its rows index."""

    def text(texts: list[str], row: int) -> str | None:
        return texts[row] if row >= 0 else None

    for_x: list[dict | None] = []
    for_y: list[dict | None] = []
    for rival, xo, yo, xn, yn, alike in zip(
        d["rivals"].tolist(),
        d["x_offer"].tolist(),
        d["y_offer"].tolist(),
        d["x_need"].tolist(),
        d["y_need"].tolist(),
        d["offers_alike"].tolist(),
        strict=True,
    ):
        if not rival:
            for_x.append(None)
            for_y.append(None)
            continue
        mine = {"offer": text(offers, xo), "need": text(needs, xn)}
        theirs = {"offer": text(offers, yo), "need": text(needs, yn)}
        similarity = round(alike, 3)
        for_x.append(
            {**mine, "counterpart_offer": theirs["offer"], "counterpart_need": theirs["need"], "similarity": similarity}
        )
        for_y.append(
            {**theirs, "counterpart_offer": mine["offer"], "counterpart_need": mine["need"], "similarity": similarity}
        )
    return for_x, for_y
