"""A full recompute fanned out over Celery workers: one worker process, then two, on the same firms.

    DATABASE_URL=postgres://... REDIS_URL=redis://127.0.0.1:6379/0 \
        python bench/scale_out.py [--firms 20000] [--chunk 2000]

Setup (not timed): a database of the benchmark's own, ``bench_scale_out`` (kept between runs), filled
with ``--firms`` generated published firms, and its embedding cache filled with stand-in vectors of the
model's size for every text ("embeddings cached", as in ``recompute_scale.py``), so the workers' model
is never called.

Each run empties the match tables, starts ``celery -A config worker --concurrency=C`` (C = 1, then 2)
on the benchmark database, Redis under a key prefix of its own, and queues ``recompute_in_chunks``'s
tasks: one partial recompute per ``--chunk`` firms. Each pool process is single-threaded (NumPy's BLAS
and Numba set to one thread), as one would run several worker processes per machine; each builds its
warm index once, then ranks its chunks on it a block at a time. Timed: from queueing to the last chunk
done (the worker's log), and the peak resident memory of each pool process (what a worker holds:
the index and one block's scores). Beside it, in the same run: ``recompute_matches`` in this process
with every core (the one-machine path) on the same firms.
"""

from __future__ import annotations

import argparse
import hashlib
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
from celery import Celery  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from companies.models import Company, Listing  # noqa: E402
from matchmaking import services  # noqa: E402
from matchmaking.embedding_cache import DatabaseEmbeddingStore  # noqa: E402
from matchmaking.engine import default_embedder  # noqa: E402
from matchmaking.engine.embedding import PASSAGE, QUERY, text_key  # noqa: E402
from matchmaking.models import Match  # noqa: E402

BENCH_DB = "bench_scale_out"
DIMENSIONS = 384
CHUNK_TASK = "matchmaking.tasks.recompute_companies_matches"
SINGLE_THREAD = {
    name: "1" for name in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
}


def use_bench_database() -> None:
    connection.settings_dict.setdefault("TEST", {})["NAME"] = BENCH_DB
    settings.DATABASES["default"].setdefault("TEST", {})["NAME"] = BENCH_DB
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=True, serialize=False)


def stand_in(role: str, text: str) -> np.ndarray:
    seed = int.from_bytes(hashlib.blake2b(f"{role}\0{text}".encode(), digest_size=8).digest(), "little")
    vector = np.random.default_rng(seed).standard_normal(DIMENSIONS).astype(np.float32)
    return vector / np.linalg.norm(vector)


def ensure_market(firms: int) -> None:
    if Company.objects.published().count() < firms:
        call_command("load_seeds", verbosity=0)
        call_command("generate_companies", firms, "--seed", "11", verbosity=1)
    model = default_embedder()
    if model is None:
        raise SystemExit("the embedding model cannot load here: the workers would rank without it")
    store = DatabaseEmbeddingStore()
    for direction, role in ((Listing.Direction.NEED, QUERY), (Listing.Direction.OFFER, PASSAGE)):
        texts = set(Listing.objects.filter(direction=direction).values_list("text", flat=True))
        keys = {text_key(model.name, role, text): text for text in texts}
        missing = set(keys) - set(store.get_many(list(keys)))
        store.put_many({key: stand_in(role, keys[key]) for key in missing})
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def empty_matches() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {Match._meta.db_table} CASCADE")


def peak_rss_mb(pids: list[int]) -> list[float]:
    peaks = []
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        peaks.append(int(re.search(r"VmHWM:\s+(\d+)", status).group(1)) / 1024)
    return peaks


def run_workers(concurrency: int, chunks: list[list[int]], redis_url: str, log_dir: Path) -> dict:
    prefix = f"bench-scale-out-{uuid.uuid4().hex[:8]}:"
    options = {"global_keyprefix": prefix, "visibility_timeout": settings.CELERY_TASK_TIME_LIMIT + 600}
    log = log_dir / f"worker-c{concurrency}.log"
    env = {
        **os.environ,
        **SINGLE_THREAD,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_NAME": connection.settings_dict["NAME"],
        "REDIS_URL": redis_url,
        "CELERY_BROKER_TRANSPORT_OPTIONS": json.dumps(options),
        "MATCHING_RECOMPUTE_ON_SAVE": "false",
        "MATCHING_INDEX_MIN_FIRMS": "0",
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            f"--concurrency={concurrency}",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    client = Celery("bench-scale-out", broker=redis_url)
    client.conf.broker_transport_options = options
    try:
        while "ready." not in log.read_text():
            if process.poll() is not None:
                raise RuntimeError(log.read_text()[-3000:])
            time.sleep(0.1)
        children = [
            int(pid)
            for pid in subprocess.run(
                ["ps", "--ppid", str(process.pid), "-o", "pid="], capture_output=True, text=True
            ).stdout.split()
        ]
        empty_matches()
        connection.close()
        started = time.perf_counter()
        for chunk in chunks:
            client.send_task(CHUNK_TASK, args=[chunk])
        while log.read_text().count(" succeeded in ") < len(chunks):
            if process.poll() is not None or " raised " in log.read_text():
                raise RuntimeError(log.read_text()[-3000:])
            time.sleep(0.2)
        seconds = time.perf_counter() - started
        peaks = peak_rss_mb(children)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
        client.close()
        import redis

        server = redis.Redis.from_url(redis_url)
        keys = list(server.scan_iter(f"{prefix}*"))
        if keys:
            server.delete(*keys)
    return {"processes": concurrency, "seconds": seconds, "matches": Match.objects.count(), "peak_mb": peaks}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--firms", type=int, default=20000)
    parser.add_argument("--chunk", type=int, default=2000)
    args = parser.parse_args()
    redis_url = os.environ.get("REDIS_URL")
    if not redis_url:
        raise SystemExit("set REDIS_URL: the workers need a broker")

    use_bench_database()
    ensure_market(args.firms)
    chunks = services.recompute_chunks(args.chunk)
    rows = []
    with tempfile.TemporaryDirectory() as logs:
        for concurrency in (1, 2):
            print(f"{concurrency} worker process(es)…", file=sys.stderr, flush=True)
            rows.append(run_workers(concurrency, chunks, redis_url, Path(logs)))
    empty_matches()
    started = time.perf_counter()
    services.recompute_matches()
    in_process = time.perf_counter() - started

    print(
        f"\nFull recompute fanned out · {date.today()} · {platform.machine()}, {os.cpu_count()} cores · "
        f"{Company.objects.published().count():,} firms · {len(chunks)} chunks of {args.chunk:,} firms"
    )
    print("worker processes (1 thread each) | seconds | speed-up | matches | peak MB per process")
    print("--- | --- | --- | --- | ---")
    for row in rows:
        print(
            f"{row['processes']} | {row['seconds']:.1f} | {rows[0]['seconds'] / row['seconds']:.2f}× | "
            f"{row['matches']:,} | {', '.join(f'{mb:,.0f}' for mb in row['peak_mb'])}"
        )
    print(
        f"one process, every core, no fan-out (recompute_matches) | {in_process:.1f} | "
        f"{rows[0]['seconds'] / in_process:.2f}× | {Match.objects.count():,} |"
    )


if __name__ == "__main__":
    main()
