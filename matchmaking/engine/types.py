"""The engine's inputs and outputs: plain dataclasses, no Django."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field

OFFER = "offer"
NEED = "need"
# The languages a listing may be written in; the caller tells the engine which (the engine detects none).
LANGUAGE_CODES = ("vi", "ru", "en")


@dataclass(frozen=True)
class Weights:
    """How much each signal counts in a pair's score, and how the learned confidence reorders the lists."""

    embedding: float = 1.0
    lexical: float = 0.2
    cooperation: float = 0.1
    sectors: float = 0.05
    language: float = 0.005  # nearly every pair shares English, so it only breaks ties
    # A direction counts as a reason worth telling when its similarity reaches this.
    reason_threshold: float = 0.25
    # Rank by the learned confidence (engine/confidence.py) when the model embedded the texts; off, the
    # engine ranks by ``score`` alone, as it did before the confidence came.
    confidence: bool = True
    # Candidates per firm that the confidence reorders: the top ``top_k + rerank_extra`` by score.
    rerank_extra: int = 10
    # A pair that looks like rivals (confidence.ConfidenceModel.rivals) is never first and says why.
    rivals: bool = True


DEFAULT_WEIGHTS = Weights()


@dataclass(frozen=True)
class Listing:
    """One offer or need of a firm, as its author wrote it."""

    direction: str  # OFFER or NEED
    text: str
    cooperation: tuple[str, ...] = ()
    sectors: tuple[str, ...] = ()  # ISIC divisions the listing names, if any
    ref: Hashable | None = None  # the caller's id for it, echoed back in reasons
    language: str = field(kw_only=True)  # one of LANGUAGE_CODES: the language the text is written in

    def __post_init__(self) -> None:
        if self.language not in LANGUAGE_CODES:
            raise ValueError(
                f"listing {self.ref!r} ({self.text[:60]!r}): language {self.language!r} is not one of {LANGUAGE_CODES}"
            )


@dataclass(frozen=True)
class Profile:
    key: Hashable  # the caller's id for the firm
    country: str  # "VN" or "RU"
    listings: tuple[Listing, ...]
    sectors: tuple[str, ...] = ()  # ISIC divisions the firm gave
    activity_division: str | None = None  # ISIC division of its registration code
    languages: tuple[str, ...] = ()  # business languages: vi, ru, en


@dataclass(frozen=True)
class Reason:
    """A fact a person can check. ``kind`` says which, ``data`` holds its values (texts quoted as written).

    Kinds: ``need_met`` (the counterpart's offer meets this firm's need), ``offer_wanted`` (this firm's offer
    meets the counterpart's need), ``sectors`` (divisions in common or in a supply chain), ``cooperation``
    (forms in common), ``language`` (business languages in common), ``rivals`` (both firms offer alike things
    and look for alike things, so they may be competitors: ``data`` has ``offer`` and ``counterpart_offer``,
    the two most alike offers, and ``need`` and ``counterpart_need``, the two most alike needs, each a text
    or None, and ``similarity``).
    """

    kind: str
    data: dict


@dataclass
class Suggestion:
    counterpart: Hashable
    score: float  # combined, symmetric: the same for (A, B) and (B, A)
    score_forward: float  # how well the counterpart's offers meet this firm's needs
    score_backward: float  # how well this firm's offers meet the counterpart's needs
    parts: dict[str, float] = field(default_factory=dict)
    reasons: list[Reason] = field(default_factory=list)
    # Calibrated probability that the pair is a real fit (symmetric, like ``score``; also in parts["confidence"]);
    # None when the engine ranked without its learned model.
    confidence: float | None = None
    rivals: bool = False  # the pair looks like competitors (a ``rivals`` reason tells why)


@dataclass
class Ranking:
    suggestions: dict[Hashable, list[Suggestion]]
    engine_version: str
    notes: list[str] = field(default_factory=list)  # e.g. that the embedding model was unavailable
