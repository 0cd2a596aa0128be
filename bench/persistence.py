"""Writing a full ranking to PostgreSQL: the top 10 of every firm, beside a bare COPY of the same rows.

    python bench/persistence.py [--firms 20000] [--top 10] [--sides vn|both] [--profile]

Uses a database of its own beside the configured one (Django's test-database machinery, kept between
runs), fills it with ``--firms`` generated firms once, then times the service's own write path
(``matchmaking.services._save``, the step of ``recompute_matches`` after the ranking) on rankings made up
for the benchmark, with reasons of a realistic size: each firm's ``--top`` counterparts are drawn at random,
for every firm of both countries (``--sides both``, the default: a pair is wanted when it is in either
firm's top K, so 100,000 firms make about a million pairs) or for the Vietnamese firms only
(``--sides vn``, half as many pairs, the figures published before 2026-12-04). The engine is not run:
ranking 100,000 firms takes far longer than writing them, and the write path only sees the pairs.

1. first save: every pair new, into an empty table (copied straight into it, matchmaking.bulk._first_save);
2. the same ranking again: nothing to write (what a nightly rerun mostly is);
3. 10 % of the scores changed and 5 % of the pairs replaced, with a few reviewed matches that must stay.

The baselines, timed in the same run: a bare ``COPY`` of the same rows into an unlogged table with the same
columns (the floor any write path on this server has), and the first save written as before issue 20 and as
every later run writes, through the staging table (``bulk.FIRST_SAVE_COPY = False``). Each first save starts
from an empty table after a checkpoint, so that neither pays for the other's dirty pages. ``--profile`` adds,
for each run, the seconds of each SQL statement and the Python functions that took longest (cProfile).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import platform
import pstats
import random
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from companies.models import Company  # noqa: E402
from matchmaking import bulk, services  # noqa: E402
from matchmaking.match_values import MatchValues  # noqa: E402
from matchmaking.models import Match  # noqa: E402


def use_bench_database() -> str:
    # A database of the benchmark's own (named test_<configured name>), created with the migrations on the
    # first run and kept afterwards; the configured database is never touched. Not serialised: that copy of
    # every row is for test cases that roll back by reloading it, and takes minutes at 100,000 firms.
    return connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=True, serialize=False)


def ensure_firms(count: int) -> None:
    have = Company.objects.filter(source="generated").count()
    if have < count:
        call_command("load_seeds", verbosity=0)
        call_command("generate_companies", count, "--seed", "7", verbosity=1)


def ranking(
    vn: list[int],
    ru: list[int],
    top: int,
    seed: int,
    changed: float = 0.0,
    replaced: float = 0.0,
    base: dict | None = None,
    both_sides: bool = True,
) -> dict:
    rng = random.Random(seed)
    reasons = [
        {
            "kind": "need_met",
            "data": {
                "need": "Ищем поставщиков вьетнамского кофе робуста, от 20 тонн в месяц.",
                "offer": "Cà phê Robusta rang xay, 1.200 tấn mỗi năm, chứng nhận UTZ.",
                "need_ref": 1,
                "offer_ref": 2,
                "similarity": 0.61,
            },
        },
        {"kind": "cooperation", "data": {"common": ["distribution", "supply"]}},
        {"kind": "sectors", "data": {"common": ["10", "46"]}},
    ]
    wanted = {}
    if base is None:
        pairs = [(firm, other) for firm in vn for other in rng.sample(ru, top)]
        if both_sides:
            pairs += [(other, firm) for firm in ru for other in rng.sample(vn, top)]
        for pair in pairs:
            score = round(rng.random(), 4)
            wanted[pair] = MatchValues(
                score=score,
                fit_for_vn=score,
                fit_for_ru=score,
                score_parts={"forward": score, "backward": score, "sectors": 0.5},
                reasons=reasons,
            )
        return wanted
    for pair, values in base.items():
        draw = rng.random()
        if draw < replaced:
            pair = (pair[0], rng.choice(ru))
        elif draw < replaced + changed:
            values = MatchValues(**{**values.__dict__, "score": round(values.score * 0.9, 4)})
        wanted[pair] = values
    return wanted


class StatementTimer:
    """Seconds per SQL statement of the save, by its first words (a database execute wrapper)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            key = " ".join(sql.split()[:6])[:70]
            self.seconds[key] = self.seconds.get(key, 0.0) + time.perf_counter() - started


def empty_matches() -> None:
    with connection.cursor() as cursor:  # a million rows: the ORM's delete would collect them one by one
        # CASCADE: every table that refers to matches (events, digest items and deliveries) starts empty too.
        cursor.execute(f"TRUNCATE {Match._meta.db_table} CASCADE")
        cursor.execute("CHECKPOINT")  # the last run's dirty pages written now, not during the next one


def timed_save(wanted: dict, profile: bool = False) -> tuple[float, services.RecomputeResult]:
    result = services.RecomputeResult()
    profiler, timer = cProfile.Profile(), StatementTimer()
    started = time.perf_counter()
    with connection.execute_wrapper(timer):
        if profile:
            profiler.runcall(services._save, result, wanted, "bench", None, None)
        else:
            services._save(result, wanted, "bench", None, None)
    seconds = time.perf_counter() - started
    if profile:
        print(f"\n--- {seconds:.2f} s; SQL statements (COPY is inside the Python profile):")
        for key, spent in sorted(timer.seconds.items(), key=lambda item: -item[1]):
            print(f"{spent:8.2f} s  {key}")
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(18)
    return seconds, result


def copy_baseline(wanted: dict) -> float:
    import json

    buffer = io.StringIO()
    for (vn, ru), v in wanted.items():
        buffer.write(
            "\t".join(
                [
                    str(vn),
                    str(ru),
                    str(v.score),
                    str(v.fit_for_vn),
                    str(v.fit_for_ru),
                    json.dumps(v.score_parts).replace("\\", "\\\\"),
                    json.dumps(v.reasons, ensure_ascii=False).replace("\\", "\\\\"),
                ]
            )
            + "\n"
        )
    data = buffer.getvalue().encode()
    del buffer
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_copy")
        cursor.execute(
            "CREATE UNLOGGED TABLE bench_copy (company_vn_id int, company_ru_id int, score float8, "
            "fit_for_vn float8, fit_for_ru float8, score_parts jsonb, reasons jsonb)"
        )
        started = time.perf_counter()
        with cursor.copy("COPY bench_copy FROM STDIN") as copy:
            copy.write(data)
        seconds = time.perf_counter() - started
        cursor.execute("DROP TABLE bench_copy")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--firms", type=int, default=20000)
    parser.add_argument("--top", type=int, default=10)
    parser.add_argument(
        "--sides",
        choices=["both", "vn"],
        default="both",
        help="whose top K make the pairs: every firm's (default) or the Vietnamese firms' only",
    )
    parser.add_argument("--profile", action="store_true", help="print SQL and Python profiles of each save")
    parser.add_argument(
        "--prepare-only",
        action="store_true",
        help="create the database and its firms, then stop (run it outside the timing lock)",
    )
    args = parser.parse_args()
    both = args.sides == "both"
    name = use_bench_database()
    ensure_firms(args.firms)
    if args.prepare_only:
        print(f"{name}: {Company.objects.filter(source='generated').count():,} generated firms ready")
        return
    firms = Company.objects.filter(source="generated").order_by("pk")[: args.firms]
    vn = [pk for pk, country in firms.values_list("pk", "country") if country == "VN"]
    ru = [pk for pk, country in firms.values_list("pk", "country") if country == "RU"]
    first = ranking(vn, ru, args.top, seed=1, both_sides=both)
    rows = []
    empty_matches()
    bulk.FIRST_SAVE_COPY = False
    seconds, result = timed_save(first, args.profile)
    bulk.FIRST_SAVE_COPY = True
    staged = ("first save through the staging table (before)", seconds, result)
    empty_matches()
    seconds, result = timed_save(first, args.profile)
    rows.append(("first save (all new)", seconds, result))
    seconds, result = timed_save(first, args.profile)
    rows.append(("same ranking again", seconds, result))
    reviewed = list(Match.objects.order_by("pk").values_list("pk", flat=True)[:100])
    Match.objects.filter(pk__in=reviewed).update(status=Match.Status.APPROVED)
    seconds, result = timed_save(
        ranking(vn, ru, args.top, seed=2, changed=0.10, replaced=0.05, base=first), args.profile
    )
    rows.append(("10 % rescored, 5 % replaced", seconds, result))
    assert Match.objects.filter(pk__in=reviewed, status=Match.Status.APPROVED).count() == len(reviewed)
    copy_seconds = copy_baseline(first)

    print(
        f"\nPersistence · {date.today()} · {platform.machine()}, {os.cpu_count()} cores · database {name} · "
        f"{args.firms:,} firms, {len(first):,} pairs (top {args.top} of each {'firm' if both else 'VN firm'})"
    )
    print("run | seconds | created | updated | dropped | kept reviewed | vs bare COPY")
    print("--- | --- | --- | --- | --- | --- | ---")
    for label, seconds, r in rows:
        print(
            f"{label} | {seconds:.2f} | {r.created:,} | {r.updated:,} | {r.dropped:,} | {r.kept_reviewed:,} | "
            f"{seconds / copy_seconds:.1f}×"
        )
    label, seconds, r = staged
    print(
        f"{label} | {seconds:.2f} | {r.created:,} | | | | {seconds / copy_seconds:.1f}× "
        f"(first save now: {rows[0][1] / seconds:.2f}× of it)"
    )
    print(f"bare COPY of the same {len(first):,} rows | {copy_seconds:.2f} | | | | | 1.0×")
    print("Reviewed matches left untouched by every save: checked.")


if __name__ == "__main__":
    main()
