"""One firm edits a need among 100,000: how long until its matches are fresh, beside a cold partial recompute.

    DATABASE_URL=postgres://... python bench/incremental.py [--firms 100000] [--edits 5]

Setup (not timed): a database of the benchmark's own, ``bench_incremental`` (kept between runs; filled
with ``generate_companies``, or copied from another benchmark's with ``--copy-from``), with a full
``recompute_matches`` run once so every firm has its suggestions. Stored embeddings stand in as hashed
vectors of the model's size (as in ``recompute_scale.py``: "embeddings cached"); a text the database has
never seen is embedded by the real model, so each edit pays for one model call.

Timed, in this process, for ``--edits`` published Vietnamese firms in turn: one of its needs gets a new
text, saved, then the task body ``recompute_company_matches(firm)`` runs: read the edit (and any other
firm saved since), embed the new text, rank the firm and the counterparts of its current suggestions
against all firms of the other country, and write the changed suggestions. The first partial recompute
of a process builds its warm index (timed and shown apart). Baseline, in the same run: the same task with
the warm index switched off (``MATCHING_INDEX_MIN_FIRMS`` above the market's size), which reads every
profile and ranks from scratch.

Target (from the issue): matches fresh ≤ 300 ms after the task starts.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import statistics
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("MATCHING_RECOMPUTE_ON_SAVE", "false")  # the benchmark runs the task itself

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402
from databases import use_database  # noqa: E402  (bench/, the script's folder)
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from companies.models import Company, Listing  # noqa: E402
from matchmaking import services, tasks, warm_index  # noqa: E402
from matchmaking.engine import default_embedder  # noqa: E402
from matchmaking.models import Match  # noqa: E402

BENCH_DB = "bench_incremental"
TEMPLATE_DB = "bench_api_load"
DIMENSIONS = 384
TARGET_MS = 300


class StandInEmbedder:
    """Hashed vectors for the texts the database held at setup ("cached"); the real model for any other."""

    name = "bench-stand-in"

    def __init__(self, known: set[str]) -> None:
        self.known = known
        self.model = default_embedder()
        self.model_texts = 0
        self.embedded: dict[tuple[str, str], np.ndarray] = {}  # what the database cache would keep

    def embed(self, texts, role):
        out = np.empty((len(texts), DIMENSIONS), dtype=np.float32)
        new = [i for i, text in enumerate(texts) if text not in self.known and (role, text) not in self.embedded]
        if new and self.model is not None:
            vectors = self.model.embed([texts[i] for i in new], role)
            self.embedded.update(((role, texts[i]), v) for i, v in zip(new, vectors, strict=True))
            self.model_texts += len(new)
        for i, text in enumerate(texts):
            if (role, text) in self.embedded:
                out[i] = self.embedded[role, text]
            elif text in self.known or self.model is None:
                seed = int.from_bytes(hashlib.blake2b(f"{role}\0{text}".encode(), digest_size=8).digest(), "little")
                vector = np.random.default_rng(seed).standard_normal(DIMENSIONS).astype(np.float32)
                out[i] = vector / np.linalg.norm(vector)
        return out


def use_bench_database(copy_from: str | None) -> str:
    return use_database(BENCH_DB, copy_from=copy_from)


def ensure_market(firms: int) -> StandInEmbedder:
    """The firms, every firm's suggestions, and the stand-in embedder knowing every text they hold."""
    if Company.objects.published().count() < firms:
        call_command("load_seeds", verbosity=0)
        call_command("generate_companies", firms, "--seed", "7", verbosity=1)
    embedder = StandInEmbedder(set(Listing.objects.values_list("text", flat=True).distinct()))
    services.matching_embedder = lambda progress=None: embedder
    if Match.objects.count() < firms * 4:
        print("ranking every firm once (setup)…", file=sys.stderr, flush=True)
        started = time.perf_counter()
        result = services.recompute_matches()
        print(
            f"  full recompute: {time.perf_counter() - started:.0f} s, {result.created:,} suggestions", file=sys.stderr
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return embedder


def current_rss_mb() -> float:
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def edit_and_recompute(firm: Company, text: str) -> tuple[float, int]:
    """Save a new need text for ``firm`` and run its recompute task; (milliseconds of the task, suggestions)."""
    need = firm.listings.filter(direction=Listing.Direction.NEED).order_by("pk").first()
    need.text = text
    need.save()
    started = time.perf_counter()
    tasks.recompute_company_matches.run(firm.pk)
    elapsed = (time.perf_counter() - started) * 1000
    return elapsed, Match.objects.filter(company_vn=firm, status=Match.Status.SUGGESTED).count()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--firms", type=int, default=100000)
    parser.add_argument("--edits", type=int, default=5)
    parser.add_argument(
        "--copy-from",
        metavar="DATABASE",
        help=f"start from a copy of this database when {BENCH_DB} does not exist yet (e.g. {TEMPLATE_DB}, "
        "filled by api_load.py: faster than generating the firms again)",
    )
    args = parser.parse_args()

    use_bench_database(args.copy_from)
    embedder = ensure_market(args.firms)
    published = Company.objects.published().count()
    firms = list(
        Company.objects.published()
        .filter(country="VN", listings__direction=Listing.Direction.NEED)
        .distinct()
        .order_by("pk")[: args.edits + 1]
    )
    stamp = int(time.time())
    new_text = lambda i: f"Refrigerated trucks and cold rooms for {100 + i} tonnes of frozen seafood, batch {stamp}-{i}"  # noqa: E731

    settings.MATCHING_INDEX_MIN_FIRMS = 0
    warm_index.forget()
    rss_before = current_rss_mb()
    started = time.perf_counter()
    first_ms, _ = edit_and_recompute(firms[0], new_text(0))
    build_s = time.perf_counter() - started
    index_mb = current_rss_mb() - rss_before
    warm = []
    for i, firm in enumerate(firms[1:], start=1):
        model_before = embedder.model_texts
        ms, suggestions = edit_and_recompute(firm, new_text(i))
        warm.append((ms, suggestions, embedder.model_texts - model_before))

    settings.MATCHING_INDEX_MIN_FIRMS = published + 1  # the cold path, as before the warm index
    warm_index.forget()
    cold_ms, cold_suggestions = edit_and_recompute(firms[1], new_text(args.edits + 1))

    print(
        f"\nIncremental update · {date.today()} · {platform.machine()}, {os.cpu_count()} cores · "
        f"{published:,} published firms · database {connection.settings_dict['NAME']}"
    )
    print("run | task ms | suggestions of the firm | texts embedded by the model")
    print("--- | --- | --- | ---")
    print(f"first edit in this process (builds the warm index) | {first_ms:,.0f} | | ")
    for i, (ms, suggestions, embedded) in enumerate(warm, start=1):
        print(f"edit {i} (warm index) | {ms:,.0f} | {suggestions} | {embedded}")
    print(f"cold partial recompute (baseline) | {cold_ms:,.0f} | {cold_suggestions} | 1")
    median = statistics.median(ms for ms, _, _ in warm)
    print(
        f"\nwarm index: median {median:,.0f} ms per edit ({cold_ms / median:,.0f}× faster than the cold path; "
        f"target ≤ {TARGET_MS} ms: {'met' if median <= TARGET_MS else 'not met'}); "
        f"index build {build_s:.1f} s once per process, "
        f"about {index_mb:,.0f} MB resident"
    )


if __name__ == "__main__":
    main()
