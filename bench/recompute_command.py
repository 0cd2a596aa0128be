"""``manage.py recompute_matches`` as a user runs it, beside the bare product of the same shapes and the engine alone.

    DATABASE_URL=postgres://... python bench/recompute_command.py [--sizes 10000,25000,100000] [--prepare-only]

Setup (not timed; run it with ``--prepare-only`` outside the benchmark lock): for each size N a database of its
own, ``<--database-prefix>_<N>`` (kept between runs), filled with N generated published firms
(``generate_companies``), and its embedding cache filled with stand-in vectors of the model's size for every
text, as ``scale_out.py`` does: the cache is warm, the model is never called.

Timed, per size, each in a child process (wall seconds and its peak resident memory):

* start-up: ``manage.py recompute_matches --help`` (Django set up, the command and what it imports loaded);
* the first save: ``manage.py recompute_matches`` on an empty match table (every pair written);
* the unchanged rerun: the same command again (every pair compared, nothing written);
* the engine alone: ``rank_counterparts`` on the profiles the command reads, in a child of this script, with the
  cached vectors already in memory (reading the profiles and the vectors is not timed);

and in a child too, the bare float32 product of the half-size shapes (N/2 × 384 by 384 × N/2: every firm of one
country against every firm of the other), the best of three (one at 100,000 firms): what every row is compared
with. Peak memory is each child's maximum resident set, from /usr/bin/time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("MATCHING_RECOMPUTE_ON_SAVE", "false")

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402
from databases import DIMENSIONS, empty_matches, fill_market, use_database  # noqa: E402  (bench/, the script's folder)
from django.db import connection  # noqa: E402

from companies.models import Company, Listing  # noqa: E402
from matchmaking.embedding_cache import DatabaseEmbeddingStore  # noqa: E402
from matchmaking.engine import CachedEmbedder, MemoryStore, rank_counterparts  # noqa: E402
from matchmaking.engine.embedding import PASSAGE, QUERY, E5Embedder, text_key  # noqa: E402
from matchmaking.models import Match  # noqa: E402
from matchmaking.selectors import matchable_profiles  # noqa: E402


def prepare(firms: int) -> None:
    """Generated firms and a warm embedding cache (stand-in vectors) in the current database."""
    fill_market(firms, model_name=E5Embedder.name)


def timed_child(args: list[str], database: str) -> dict:
    """Wall seconds, peak RSS (MB) and last output line of one child process.

    The peak comes from /usr/bin/time around the child, not from this process's wait4: a child that Python
    spawns (vfork, then exec) starts its maximum RSS at this process's own peak, gigabytes after the bare
    product at 100,000 firms."""
    env = {**os.environ, "DATABASE_NAME": database, "MATCHING_RECOMPUTE_ON_SAVE": "false"}
    connection.close()
    out_path = Path(f"/tmp/recompute_command_{os.getpid()}.out")
    peak_path = Path(f"/tmp/recompute_command_{os.getpid()}.peak")
    with out_path.open("w") as out:
        started = time.perf_counter()
        process = subprocess.run(
            ["/usr/bin/time", "-f", "%M", "-o", str(peak_path), *args],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.DEVNULL,  # the command's progress bar
        )
        seconds = time.perf_counter() - started
    text = out_path.read_text()
    peak_kb = int(peak_path.read_text().split()[-1])
    out_path.unlink()
    peak_path.unlink()
    if process.returncode:
        raise RuntimeError(f"{' '.join(args)} failed with {process.returncode}:\n{text[-3000:]}")
    lines = text.strip().splitlines()
    return {"seconds": seconds, "peak_mb": peak_kb / 1024, "last": lines[-1] if lines else ""}


def bare_child(firms: int) -> None:
    """In a child (its 10 GB result at 100,000 firms stays out of this process): the bare product, the best of
    three (one at 100,000 firms, where it takes half a minute)."""
    half = firms // 2
    rng = np.random.default_rng(0)
    a = rng.standard_normal((half, DIMENSIONS), dtype=np.float32)
    b = rng.standard_normal((DIMENSIONS, half), dtype=np.float32)
    best = float("inf")
    for _ in range(3 if firms <= 25000 else 1):
        started = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - started)
    print(json.dumps({"seconds": best}))


def engine_child() -> None:
    """In a child: the engine alone on the command's profiles, the cached vectors already in memory."""
    profiles = matchable_profiles()
    roles = {Listing.Direction.NEED: QUERY, Listing.Direction.OFFER: PASSAGE}
    keys = {text_key(E5Embedder.name, roles[x.direction], x.text) for p in profiles for x in p.listings}
    store = MemoryStore()
    store.put_many(DatabaseEmbeddingStore().get_many(list(keys)))
    model = type("NoModel", (), {"name": E5Embedder.name, "embed": lambda self, texts, role: 1 / 0})()
    connection.close()
    started = time.perf_counter()
    ranking = rank_counterparts(profiles, top_k=10, embedder=CachedEmbedder(model, store))
    seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "firms": len(ranking.suggestions)}))


def measure(firms: int, database: str) -> dict:
    manage = [sys.executable, "manage.py", "recompute_matches"]
    this = [sys.executable, str(Path(__file__).resolve())]
    row = {
        "firms": firms,
        "bare": json.loads(timed_child([*this, "--bare-child", str(firms)], database)["last"])["seconds"],
    }
    row["startup"] = timed_child([*manage, "--help"], database)
    empty_matches()
    row["first"] = timed_child(manage, database)
    row["rerun"] = timed_child(manage, database)
    engine = timed_child([*this, "--engine-child"], database)
    engine["seconds_engine"] = json.loads(engine["last"])["seconds"]
    row["engine"] = engine
    row["matches"] = Match.objects.count()
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,25000,100000", help="firms, comma-separated")
    parser.add_argument("--database-prefix", default="bench_cmd", help="databases <prefix>_<firms>, kept")
    parser.add_argument("--prepare-only", action="store_true", help="fill the databases and caches, time nothing")
    parser.add_argument("--engine-child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--bare-child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.engine_child:
        engine_child()
        return
    if args.bare_child:
        bare_child(args.bare_child)
        return

    sizes = [int(size) for size in args.sizes.split(",")]
    rows = []
    for firms in sizes:
        database = use_database(f"{args.database_prefix}_{firms}")
        if args.prepare_only:
            print(f"preparing {database} with {firms:,} firms…", file=sys.stderr, flush=True)
            prepare(firms)
            continue
        if Company.objects.published().count() < firms:
            raise SystemExit(f"{database} has fewer than {firms:,} firms: run with --prepare-only first")
        print(f"{firms:,} firms…", file=sys.stderr, flush=True)
        rows.append(measure(firms, database))
    if not rows:
        return

    print(
        f"\nrecompute_matches as a whole command · {date.today()} · {platform.machine()}, {os.cpu_count()} cores · "
        "warm embedding cache (stand-in vectors)"
    )
    print(
        "firms | matches | bare N/2×384·384×N/2 s | start-up s | first save s | × bare | peak MB | "
        "unchanged rerun s | × bare | peak MB | engine alone s | × bare | peak MB"
    )
    print("--- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | ---")
    for row in rows:
        bare = row["bare"]
        print(
            f"{row['firms']:,} | {row['matches']:,} | {bare:.3f} | {row['startup']['seconds']:.1f} | "
            f"{row['first']['seconds']:.1f} | {row['first']['seconds'] / bare:.0f}× | {row['first']['peak_mb']:,.0f} | "
            f"{row['rerun']['seconds']:.1f} | {row['rerun']['seconds'] / bare:.0f}× | {row['rerun']['peak_mb']:,.0f} | "
            f"{row['engine']['seconds_engine']:.1f} | {row['engine']['seconds_engine'] / bare:.0f}× | "
            f"{row['engine']['peak_mb']:,.0f}"
        )
    for row in rows:
        print(f"{row['firms']:,}: first save said: {row['first']['last']}; rerun said: {row['rerun']['last']}")


if __name__ == "__main__":
    main()
