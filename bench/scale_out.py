"""A full recompute fanned out over Celery workers (``recompute_matches --chunks``), beside the same command
run in one process on every core.

    DATABASE_URL=postgres://... REDIS_URL=redis://127.0.0.1:6379/0 \
        python bench/scale_out.py [--firms 20000] [--chunk 2000] [--processes 1,2,4] [--database NAME] [--prepare-only]

Setup (not timed; ``--prepare-only`` does only this, outside the benchmark lock): a database of the
benchmark's own (``--database``, default ``bench_scale_out``, kept between runs), filled with ``--firms``
generated published firms, and its embedding cache filled with stand-in vectors of the model's size for every
text ("embeddings cached", as in ``recompute_scale.py``), so the model is never called.

Timed, each run on an empty match table (every pair a first save), as a user runs it, end to end:

* one process: ``manage.py recompute_matches`` in a child process, NumPy and Numba on every core;
* the fan-out, for each ``--processes`` count C: ``celery -A config worker --concurrency=C`` is started (not
  timed: workers run all the time) on the benchmark database, Redis under a key prefix of its own, each pool
  process single-threaded (BLAS and Numba set to one thread), as one runs several worker processes per
  machine; then ``manage.py recompute_matches --chunks <--chunk>`` is run and the time runs until the last
  chunk task finished (the one that merges every chunk's lists and writes: matchmaking/fanout.py). Each
  process reads the profiles and builds the run's corpus once, ranks its chunks (``--chunk`` firms of one
  country against every firm of the other), and the last one merges and writes. Also reported: the merge's
  own seconds, the peak resident memory of each pool process, and how many pairs differ from the one-process
  run's (near-equal scores at a tenth place may fall either way with other thread counts).
"""

from __future__ import annotations

import argparse
import ast
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

import databases  # noqa: E402  (bench/, the script's folder)
import redis  # noqa: E402
from databases import fill_market  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402

from companies.models import Company  # noqa: E402
from matchmaking import fanout  # noqa: E402
from matchmaking.engine import default_embedder  # noqa: E402
from matchmaking.engine.blocks import piece_size  # noqa: E402
from matchmaking.models import Match  # noqa: E402

BENCH_DB = "bench_scale_out"
CHUNK_TASK = "matchmaking.tasks.recompute_fanout_chunk"
SINGLE_THREAD = {
    name: "1" for name in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
}


def use_bench_database(name: str = BENCH_DB) -> None:
    connection.settings_dict.setdefault("TEST", {})["NAME"] = name
    settings.DATABASES["default"].setdefault("TEST", {})["NAME"] = name
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=True, serialize=False)


def ensure_market(firms: int) -> None:
    model = default_embedder()
    if model is None:
        raise SystemExit("the embedding model cannot load here: the workers would rank without it")
    fill_market(firms, model_name=model.name)


def empty_matches() -> None:
    databases.empty_matches()
    connection.close()


def pairs() -> set[tuple[int, int]]:
    return set(Match.objects.values_list("company_vn_id", "company_ru_id"))


def peak_rss_mb(pids: list[int]) -> list[float]:
    peaks = []
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        peaks.append(int(re.search(r"VmHWM:\s+(\d+)", status).group(1)) / 1024)
    return peaks


def command(args: list[str], env: dict) -> tuple[str, float]:
    """``manage.py`` with ``args`` in a child process: its output and its peak resident memory (MB)."""
    process = subprocess.Popen(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    output = process.stdout.read().decode()
    _, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status):
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{output[-3000:]}")
    return output, usage.ru_maxrss / 1024


def one_process(database: str) -> dict:
    empty_matches()
    env = {**os.environ, "DATABASE_NAME": database, "MATCHING_RECOMPUTE_ON_SAVE": "false"}
    started = time.perf_counter()
    _, peak = command(["recompute_matches", "--verbosity", "0"], env)
    return {"seconds": time.perf_counter() - started, "peak_mb": [peak], "pairs": pairs()}


def finished(log: str) -> int:
    return sum(f"Task {CHUNK_TASK}[" in line and "] succeeded in " in line for line in log.splitlines())


def fanned_out(concurrency: int, chunk: int, database: str, redis_url: str, log_dir: Path) -> dict:
    prefix = f"bench-scale-out-{uuid.uuid4().hex[:8]}:"
    options = {"global_keyprefix": prefix, "visibility_timeout": settings.CELERY_TASK_TIME_LIMIT + 600}
    log = log_dir / f"worker-c{concurrency}.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_NAME": database,
        "REDIS_URL": redis_url,
        "CELERY_BROKER_TRANSPORT_OPTIONS": json.dumps(options),
        "MATCHING_RECOMPUTE_ON_SAVE": "false",
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
        env={**env, **SINGLE_THREAD},
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
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
        started = time.perf_counter()
        output, _ = command(["recompute_matches", "--chunks", str(chunk)], env)
        chunks = int(re.search(r"Queued (\d+) recompute tasks", output).group(1))
        while finished(text := log.read_text()) < chunks:
            if process.poll() is not None or " raised " in text:
                raise RuntimeError(text[-3000:])
            time.sleep(0.1)
        seconds = time.perf_counter() - started
        peaks = peak_rss_mb(children)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
        server = redis.Redis.from_url(redis_url)
        for pattern in (f"{prefix}*", f"{fanout.KEY_PREFIX}*"):
            keys = list(server.scan_iter(pattern))
            if keys:
                server.delete(*keys)
    # The merging task's summary, as the worker logged its return value.
    merged = next(
        ast.literal_eval(found.group(1))["merged"]
        for found in re.finditer(r"\] succeeded in [\d.]+s: (\{.*'merged'.*\})$", log.read_text(), re.MULTILINE)
    )
    return {"seconds": seconds, "chunks": chunks, "merge": merged["seconds"], "peak_mb": peaks, "pairs": pairs()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--firms", type=int, default=20000)
    parser.add_argument("--chunk", type=int, default=2000)
    parser.add_argument("--processes", default="1,2,4", help="worker processes of each fanned-out run")
    parser.add_argument("--database", default=BENCH_DB, help=f"the benchmark's database (default {BENCH_DB})")
    parser.add_argument("--prepare-only", action="store_true", help="fill the database and the cache, time nothing")
    args = parser.parse_args()
    redis_url = os.environ.get("REDIS_URL")
    if not redis_url and not args.prepare_only:
        raise SystemExit("set REDIS_URL: the workers need a broker")

    use_bench_database(args.database)
    ensure_market(args.firms)
    if args.prepare_only:
        return
    database = connection.settings_dict["NAME"]
    firms = Company.objects.matchable().count()
    print("one process…", file=sys.stderr, flush=True)
    base = one_process(database)
    rows = []
    with tempfile.TemporaryDirectory() as logs:
        for concurrency in [int(n) for n in args.processes.split(",")]:
            print(f"{concurrency} worker process(es)…", file=sys.stderr, flush=True)
            rows.append((concurrency, fanned_out(concurrency, args.chunk, database, redis_url, Path(logs))))

    print(
        f"\nFull recompute, first save · {date.today()} · {platform.machine()}, {os.cpu_count()} cores · "
        f"{firms:,} matchable firms · chunks of {piece_size(args.chunk):,} firms "
        f"of one country ({rows[0][1]['chunks'] if rows else '?'} chunks)"
    )
    print(
        "run | seconds | vs one process | merge s | matches | pairs unlike the one-process run's | peak MB per process"
    )
    print("--- | --- | --- | --- | --- | --- | ---")
    print(
        f"one process, every core (`recompute_matches`) | {base['seconds']:.1f} | 1.00× | | "
        f"{len(base['pairs']):,} | | {base['peak_mb'][0]:,.0f}"
    )
    for concurrency, row in rows:
        print(
            f"`--chunks {args.chunk}`, {concurrency} worker process(es) × 1 thread | {row['seconds']:.1f} | "
            f"{row['seconds'] / base['seconds']:.2f}× | {row['merge']:.1f} | {len(row['pairs']):,} | "
            f"{len(row['pairs'] ^ base['pairs']):,} | {', '.join(f'{mb:,.0f}' for mb in row['peak_mb'])}"
        )


if __name__ == "__main__":
    main()
