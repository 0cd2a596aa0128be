"""The labelled development sets of ../shared/matching-eval, read in place (never copied into the project),
as engine profiles with their labels, hard cases and the set's own scorer."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

from companies.languages import detect_language
from matchmaking.engine import NEED, OFFER, Listing, Profile

SETS = ("dev", "dev2")
DISTRACTORS = ("competitor", "role_confusion")


def load_scorer(folder: Path) -> ModuleType:
    if "score" in sys.modules:
        return sys.modules["score"]
    spec = importlib.util.spec_from_file_location("score", folder / "score.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["score"] = module
    spec.loader.exec_module(module)
    return module


def profiles_of(companies: list[dict]) -> list[Profile]:
    return [
        Profile(
            key=c["external_id"],
            country=c["country"],
            sectors=tuple(c["sectors"]),
            activity_division=c["activity_code"][:2] or None,
            languages=tuple(c["languages"]),
            listings=tuple(
                Listing(direction, c[key], tuple(c["cooperation"]), language=detect_language(c[key]))
                for direction, key in ((OFFER, "offers"), (NEED, "needs"))
                if c[key].strip()
            ),
        )
        for c in companies
    ]


def load_set(shared: Path, name: str) -> dict:
    """``{"companies", "parsed", "labels", "hard", "profiles", "score"}`` of the set ``name`` (dev or dev2)."""
    folder = shared / "matching-eval"
    score = load_scorer(folder)
    companies = json.loads((folder / f"{name}-companies.json").read_text(encoding="utf-8"))["companies"]
    parsed = score.parse_companies({"format": "sme-match/1", "companies": companies})
    labels, _ = score.parse_labels(json.loads((folder / f"{name}-labels.json").read_text(encoding="utf-8")), parsed)
    hard = json.loads((folder / f"{name}-hard-cases.json").read_text(encoding="utf-8"))["cases"]
    return {
        "companies": companies,
        "parsed": parsed,
        "labels": labels,
        "hard": hard,
        "profiles": profiles_of(companies),
        "score": score,
    }


def distractor_lists(data: dict) -> dict[str, set[str]]:
    """Each firm that has competitor or role-confusion distractors: those distractors."""
    lists: dict[str, set[str]] = {}
    for case in data["hard"]:
        if case["type"] in DISTRACTORS:
            lists.setdefault(case["a"], set()).add(case["b"])
            lists.setdefault(case["b"], set()).add(case["a"])
    return lists


def distractor_counts(data: dict, ranking: dict[str, list[str]]) -> tuple[int, int, int]:
    """(lists whose first suggestion is a distractor, lists where a distractor outranks every labelled
    partner, lists) over the firms with distractors."""
    first = outranks = 0
    lists = distractor_lists(data)
    for firm, distractors in lists.items():
        ranked = ranking.get(firm, [])
        position = {other: i for i, other in enumerate(ranked)}
        if ranked and ranked[0] in distractors:
            first += 1
        best_partner = min((position[o] for o in data["labels"].get(firm, {}) if o in position), default=len(ranked))
        if any(position.get(o, len(ranked)) < best_partner for o in distractors):
            outranks += 1
    return first, outranks, len(lists)


def firms_without_partner(data: dict) -> list[str]:
    """Firms that no label names as anyone's counterpart."""
    return [c["external_id"] for c in data["companies"] if not data["labels"].get(c["external_id"])]
