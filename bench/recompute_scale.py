"""Full ranking at growing sizes, side by side with two baselines timed in the same run.

    python bench/recompute_scale.py [--sizes 10000,25000,50000,100000] [--embedder hashed|model]

For each size N (half per country, from companies.synthetic, the generator behind `generate_companies`),
a child process ranks every firm with ``rank_counterparts`` and reports:

* wall time and peak memory (the child's max RSS) of the whole ranking, and of its similarity part;
* a bare NumPy matrix product of the same shapes (every need against every offer of the other country,
  once, in the same blocks), timed in the same child: the floor the similarity part is compared with;
  and the same product over distinct texts only, the shapes the engine multiplies (generated firms copy
  listings from templates, as real ones copy boilerplate; the more distinct the texts, the closer the
  engine's cost comes to the full shape);
* a straightforward per-pair Python implementation of the same score, timed on a random sample of pairs
  and extrapolated to all pairs: what the vectorised engine is compared with.

``--embedder hashed`` (the default) gives each distinct text a deterministic pseudo-random unit vector of
the model's size: the ranking's cost does not depend on the vectors' values, and it stands for "embeddings
cached". ``--embedder model`` embeds with the real model (about 30 texts a second here: slow at large N).
Runs engine-only, without Django or a database.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import random
import resource
import subprocess
import sys
import time
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from companies.languages import detect_language  # noqa: E402
from companies.synthetic import generate_profiles  # noqa: E402
from matchmaking.engine import (  # noqa: E402
    DEFAULT_WEIGHTS,
    NEED,
    OFFER,
    Listing,
    Profile,
    default_embedder,
    rank_counterparts,
)
from matchmaking.engine import rank as rank_module  # noqa: E402
from matchmaking.engine.corpus import Corpus  # noqa: E402

DIMENSIONS = 384  # multilingual-e5-small


class HashedEmbedder:
    """A deterministic unit vector per (role, text): the cost of a cached embedding, none of the model's."""

    name = "hashed"

    def embed(self, texts, role):
        out = np.empty((len(texts), DIMENSIONS), dtype=np.float32)
        cache: dict[str, np.ndarray] = {}
        for i, text in enumerate(texts):
            vector = cache.get(text)
            if vector is None:
                seed = int.from_bytes(hashlib.blake2b(f"{role}\0{text}".encode(), digest_size=8).digest(), "little")
                vector = np.random.default_rng(seed).standard_normal(DIMENSIONS).astype(np.float32)
                vector /= np.linalg.norm(vector)
                cache[text] = vector
            out[i] = vector
        return out


def engine_profiles(n: int, seed: int = 1) -> list[Profile]:
    """Generated firms as ``matchable_profiles`` gives them, each listing with the language detected when
    it was saved (not timed: the database holds it)."""
    detected: dict[str, str] = {}

    def language(text: str) -> str:
        if text not in detected:
            detected[text] = detect_language(text)
        return detected[text]

    return [
        Profile(
            key=i,
            country=p.country,
            sectors=tuple(p.sectors),
            activity_division=p.activity_code[:2] or None,
            languages=tuple(p.languages),
            listings=tuple(
                Listing(
                    direction=x.direction,
                    text=x.text,
                    cooperation=x.cooperation,
                    sectors=(),
                    ref=(i, j),
                    language=language(x.text),
                )
                for j, x in enumerate(p.listings)
            ),
        )
        for i, p in enumerate(generate_profiles(n, seed))
    ]


# --- baselines ----------------------------------------------------------------------------------------------


def bare_matmul_seconds(profiles: list[Profile], block: int, distinct: bool = False) -> float:
    """The dense products the ranking needs, with nothing around them: every need against every offer of
    the other country, once (the score is symmetric), in blocks of ``block`` firms of the first country.
    With ``distinct``, each side's repeated texts count once: the shapes the engine multiplies."""
    rng = np.random.default_rng(0)

    def count(country: str, direction: str, firms: list[Profile]) -> int:
        texts = [x.text for p in firms if p.country == country for x in p.listings if x.direction == direction]
        return len(set(texts)) if distinct else len(texts)

    first, second = sorted({p.country for p in profiles})
    firms_first = [p for p in profiles if p.country == first]
    other_offers = rng.standard_normal((count(second, OFFER, profiles), DIMENSIONS), dtype=np.float32)
    other_needs = rng.standard_normal((count(second, NEED, profiles), DIMENSIONS), dtype=np.float32)
    shapes = [
        (count(first, NEED, firms_first[s : s + block]), count(first, OFFER, firms_first[s : s + block]))
        for s in range(0, len(firms_first), block)
    ]
    started = time.perf_counter()
    for needs_rows, offers_rows in shapes:
        rng.standard_normal((needs_rows, DIMENSIONS), dtype=np.float32) @ other_offers.T
        rng.standard_normal((offers_rows, DIMENSIONS), dtype=np.float32) @ other_needs.T
    return time.perf_counter() - started


def _per_pair_score(a: Profile, b: Profile, vectors: dict, weights) -> float:
    """The engine's score for one pair, written the obvious way: loops over listings, one dot at a time
    (the lexical part left out, which only flatters this baseline)."""

    def forward(x: Profile, y: Profile) -> float:
        best = 0.0
        found = False
        for need in x.listings:
            if need.direction != NEED:
                continue
            for offer in y.listings:
                if offer.direction != OFFER:
                    continue
                sim = weights.embedding * float(np.dot(vectors[("query", need.text)], vectors[("passage", offer.text)]))
                best = sim if not found else max(best, sim)
                found = True
        return best

    def jaccard(s: set, t: set) -> float:
        return len(s & t) / len(s | t) if s | t else 0.0

    cooperation = jaccard(
        {f for x in a.listings for f in x.cooperation}, {f for x in b.listings for f in x.cooperation}
    )
    sectors = jaccard(set(a.sectors) | {a.activity_division}, set(b.sectors) | {b.activity_division})
    language = 1.0 if set(a.languages) & set(b.languages) else 0.0
    return (
        (forward(a, b) + forward(b, a)) / 2
        + weights.cooperation * cooperation
        + weights.sectors * sectors
        + weights.language * language
    )


def per_pair_seconds_extrapolated(profiles: list[Profile], sample: int, embedder) -> tuple[float, int]:
    """Seconds the per-pair implementation would take over every VN×RU pair, from a timed sample; and the
    number of pairs (each pair is scored once here, as the engine's symmetric score allows)."""
    vn = [p for p in profiles if p.country == "VN"]
    ru = [p for p in profiles if p.country == "RU"]
    rng = random.Random(0)
    pairs = [(rng.choice(vn), rng.choice(ru)) for _ in range(sample)]
    texts = {(role, x.text) for a, b in pairs for p in (a, b) for x in p.listings for role in ("query", "passage")}
    vectors = {}
    for role in ("query", "passage"):
        chosen = [text for r, text in texts if r == role]
        vectors.update({(role, text): v for text, v in zip(chosen, embedder.embed(chosen, role), strict=False)})
    started = time.perf_counter()
    for a, b in pairs:
        _per_pair_score(a, b, vectors, rank_module.DEFAULT_WEIGHTS)
    per_pair = (time.perf_counter() - started) / sample
    return per_pair * len(vn) * len(ru), len(vn) * len(ru)


# --- one size, in a child process ------------------------------------------------------------------------


def measure(n: int, embedder_name: str, sample: int) -> dict:
    profiles = engine_profiles(n)
    embedder = HashedEmbedder() if embedder_name == "hashed" else default_embedder()
    similarity = {"seconds": 0.0}
    original = Corpus.directional

    def timed(self, *args, **kwargs):
        started = time.perf_counter()
        try:
            return original(self, *args, **kwargs)
        finally:
            similarity["seconds"] += time.perf_counter() - started

    # Compiled kernels load from their on-disk cache (or compile, once per machine) on first use: not timed.
    rank_counterparts(profiles[:50], top_k=10, embedder=embedder)
    Corpus.directional = timed
    started = time.perf_counter()
    ranking = rank_counterparts(profiles, top_k=10, embedder=embedder)
    engine_seconds = time.perf_counter() - started
    Corpus.directional = original
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    # The engine before issue 16, ranking by score alone (no confidence features, no reordering), same run.
    started = time.perf_counter()
    rank_counterparts(profiles, top_k=10, embedder=embedder, weights=replace(DEFAULT_WEIGHTS, confidence=False))
    score_only_seconds = time.perf_counter() - started

    matmul = bare_matmul_seconds(profiles, rank_module.BLOCK)
    matmul_distinct = bare_matmul_seconds(profiles, rank_module.BLOCK, distinct=True)
    per_pair, pairs = per_pair_seconds_extrapolated(profiles, sample, embedder)
    return {
        "n": n,
        "listings": sum(len(p.listings) for p in profiles),
        "distinct_texts": len({x.text for p in profiles for x in p.listings}),
        "suggestions": sum(len(s) for s in ranking.suggestions.values()),
        "engine_s": engine_seconds,
        "score_only_s": score_only_seconds,
        "similarity_s": similarity["seconds"],
        "matmul_s": matmul,
        "matmul_distinct_s": matmul_distinct,
        "per_pair_s": per_pair,
        "pairs": pairs,
        "peak_mb": peak_mb,
    }


def run_child(n: int, embedder: str, sample: int) -> dict:
    output = subprocess.run(
        [sys.executable, __file__, "--one", str(n), "--embedder", embedder, "--sample", str(sample)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def print_table(rows: list[dict], embedder: str) -> None:
    print(
        f"\nFull ranking (rank_counterparts, top 10) · {date.today()} · {platform.machine()}, "
        f"{os.cpu_count()} cores · embeddings: {embedder}"
    )
    header = (
        "firms",
        "listings",
        "distinct texts",
        "engine s",
        "by score only s",
        "similarity s",
        "bare matmul s",
        "sim/matmul",
        "matmul of distinct s",
        "per-pair s (est.)",
        "speed-up",
        "peak MB",
    )
    print(" | ".join(header))
    print(" | ".join("---" for _ in header))
    for r in rows:
        print(
            " | ".join(
                [
                    f"{r['n']:,}",
                    f"{r['listings']:,}",
                    f"{r['distinct_texts']:,}",
                    f"{r['engine_s']:.1f}",
                    f"{r['score_only_s']:.1f} ({r['engine_s'] / r['score_only_s']:.2f}×)",
                    f"{r['similarity_s']:.1f}",
                    f"{r['matmul_s']:.1f}",
                    f"{r['similarity_s'] / r['matmul_s']:.2f}×",
                    f"{r['matmul_distinct_s']:.1f}",
                    f"{r['per_pair_s']:,.0f}",
                    f"{r['per_pair_s'] / r['engine_s']:,.0f}×",
                    f"{r['peak_mb']:,.0f}",
                ]
            )
        )
    if len(rows) > 1:
        first, last = rows[0], rows[-1]
        growth = last["n"] / first["n"]
        print(
            f"\nFrom {first['n']:,} to {last['n']:,} firms (×{growth:g}): "
            f"time ×{last['engine_s'] / first['engine_s']:.1f}, "
            f"peak memory ×{last['peak_mb'] / first['peak_mb']:.1f} (quadratic would be ×{growth**2:g})."
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,25000", help="comma-separated numbers of firms")
    parser.add_argument("--embedder", choices=["hashed", "model"], default="hashed")
    parser.add_argument("--sample", type=int, default=3000, help="pairs timed for the per-pair baseline")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # the child process's job
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one, args.embedder, args.sample)))
        return
    rows = []
    for n in (int(size) for size in args.sizes.split(",")):
        print(f"ranking {n:,} firms…", file=sys.stderr, flush=True)
        rows.append(run_child(n, args.embedder, args.sample))
    print_table(rows, args.embedder)


if __name__ == "__main__":
    main()
