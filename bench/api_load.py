"""The REST API under load, served by gunicorn on loopback, beside a bare Django view of the same server.

    DATABASE_URL=postgres://... CACHE_URL=redis://... python bench/api_load.py [--firms 100000] [--seconds 20]
        [--clients 50] [--database bench_api_load] [--prepare-only] [--no-uncached]

Setup (not timed; ``--prepare-only`` does it and stops, so it can run outside an exclusive lock): a database of
the benchmark's own, ``test_``-style through Django's test-database machinery, named ``--database``
(``bench_api_load`` unless given; kept between runs, never shared with persistence.py or digests.py, which
delete rows), filled once with ``--firms`` generated published firms (``generate_companies`` only adds missing
firms); one member user with an API token whose (Vietnamese) firm has ~20 introduced matches; hashed
stand-in vectors under the model's keys for the texts the embedding cache lacks (as
``directory_search.py --stand-in``: the same work for the search by meaning, without 22 minutes of
embedding); then ``ANALYZE``, so the planner has the statistics autovacuum would keep in production.

Server: ``gunicorn config.wsgi --workers 2 --threads 4`` (gthread workers, so the clients' keep-alive
connections are kept) on 127.0.0.1, DEBUG off, the production middleware, throttling raised out of the
way (a million a *second*: the throttle keeps each client's request times over its window, and with every
bench client on one address and a one-minute window that list grew to tens of thousands of entries, pickled to
and from the cache on every request, about 1 ms at 20,000; a real client keeps at most its rate, 120 or 600),
``DJANGO_ROOT_URLCONF=bench.load_urls`` (the product's URLs plus ``/bench/bare/``, a view returning
``{"ok": true}``, which is the baseline: the cost of gunicorn + Django's middleware with no database and no
DRF). ``DATABASE_CONN_MAX_AGE`` is passed through from the environment; unset, the benchmark uses 60 (each
gunicorn thread keeps its PostgreSQL connection a minute, as a deployment should: the product's default 0 opens
a connection per request, a few milliseconds of PostgreSQL start-up each, which the bare view never pays).

Load: ``--clients`` threads, each with one http.client keep-alive connection, send requests back to back
for ``--seconds`` against each target in turn (the bare view; the directory filtered by country, sector
and page; the member's matches with the token; the directory searched, last because it is the slowest),
waiting between targets until the server is idle again; before the search, every worker builds its search
index (tens of seconds at 100,000 firms, set-up). Then a second server with the directory's kept pages off
(``DIRECTORY_CACHE_SECONDS=0``) takes the two directory targets again: what a request costs that nobody made in
the last minute (another page, another filter), each one computed. Every request's latency is recorded; errors are
non-2xx answers and exceptions (a request unanswered after 30 s times out). req/s counts the answered
requests over the wall time of the run, which includes waiting for the last answers. With a closed loop of
50 clients, latency ≈ 50 / throughput (Little's law): p95 ≤ 50 ms needs about 1,000 req/s.

Caveat: the load generator (Python threads under one GIL), gunicorn's two workers and PostgreSQL all share
this machine's 2 cores, so the absolute figures are a floor of what a separate client would see, and the
ratio to the bare view, measured in the same run, is the figure to compare.

The kept pages live in Django's cache: pass ``CACHE_URL`` (Redis) as a deployment with several processes
does; without it each gunicorn worker keeps its own in local memory.

Targets (issue 20): the directory, filtered or searched, p95 ≤ 100 ms; me/matches p95 ≤ 200 ms; 0 errors;
req/s reported as a share of the bare view.
"""

from __future__ import annotations

import argparse
import http.client
import os
import platform
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from databases import hashed_stand_in_vectors, use_database  # noqa: E402  (bench/, the script's folder)
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402
from rest_framework.authtoken.models import Token  # noqa: E402

from companies.models import Company, Membership  # noqa: E402
from matchmaking.models import Match  # noqa: E402

BENCH_DB = "bench_api_load"
MEMBER = "bench-api-load-member"
MATCHES = 20
P95_DIRECTORY_MS = 100.0  # issue 20: the directory, filtered or searched
P95_MATCHES_MS = 200.0  # issue 20: me/matches
CONN_MAX_AGE = os.environ.get("DATABASE_CONN_MAX_AGE", "60")


# --- setup (not timed) ----------------------------------------------------------------------------------------


def ensure_firms(count: int) -> None:
    have = Company.objects.filter(source="generated", status=Company.Status.PUBLISHED).count()
    if have < count:
        call_command("load_seeds", verbosity=0)
        call_command("generate_companies", count, "--seed", "7", verbosity=1)


def ensure_member() -> str:
    """A member of a published VN firm with ~MATCHES introduced matches; returns the member's API token."""
    user, _ = get_user_model().objects.get_or_create(username=MEMBER, defaults={"email": "bench@example.com"})
    membership = Membership.objects.filter(user=user).select_related("company").first()
    if membership is None:
        firm = (
            Company.objects.filter(source="generated", status=Company.Status.PUBLISHED, country="VN")
            .order_by("pk")
            .first()
        )
        membership = Membership.objects.create(user=user, company=firm)
    firm = membership.company
    have = Match.objects.filter(company_vn=firm, status=Match.Status.INTRODUCED).count()
    if have < MATCHES:
        ru = list(
            Company.objects.filter(source="generated", status=Company.Status.PUBLISHED, country="RU")
            .exclude(matches_as_ru__company_vn=firm)
            .order_by("pk")
            .values_list("pk", flat=True)[: MATCHES - have]
        )
        now = timezone.now()
        Match.objects.bulk_create(
            [
                Match(
                    company_vn=firm,
                    company_ru_id=pk,
                    score=round(0.9 - i * 0.01, 4),
                    fit_for_vn=0.8,
                    fit_for_ru=0.7,
                    score_parts={"forward": 0.8, "backward": 0.7, "sectors": 0.5},
                    reasons=[
                        {"kind": "cooperation", "data": {"common": ["distribution", "supply"]}},
                        {"kind": "sectors", "data": {"common": ["10", "46"]}},
                    ],
                    engine_version="bench",
                    status=Match.Status.INTRODUCED,
                    introduced_at=now,
                )
                for i, pk in enumerate(ru)
            ],
            ignore_conflicts=True,
        )
    token, _ = Token.objects.get_or_create(user=user)
    return token.key


# --- server -----------------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(database: str, port: int, workers: int, threads: int, extra_env: dict) -> subprocess.Popen:
    env = {
        **os.environ,
        "OMP_NUM_THREADS": "1",  # as in a web process (bench/directory_search.py): the model's threads busy-wait
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_ROOT_URLCONF": "bench.load_urls",
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": "bench-api-load-" + secrets.token_urlsafe(48),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DATABASE_NAME": database,
        "DATABASE_CONN_MAX_AGE": CONN_MAX_AGE,
        "API_THROTTLE_ANON": "1000000/s",
        "API_THROTTLE_USER": "1000000/s",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        **extra_env,
    }
    command = [
        str(ROOT / ".venv" / "bin" / "gunicorn"),
        "config.wsgi",
        "--chdir",
        str(ROOT),
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--worker-class",
        "gthread",
        "--keep-alive",
        "30",
        "--log-level",
        "warning",
    ]
    return subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)


def stop_gunicorn(server: subprocess.Popen) -> None:
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)  # the arbiter stops its workers
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def wait_until_up(server: subprocess.Popen, port: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited with code {server.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/bench/bare/")
            if conn.getresponse().status == 200:
                conn.close()
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer in time")


# --- load -------------------------------------------------------------------------------------------------------


@dataclass
class Outcome:
    latencies: list[float] = field(default_factory=list)  # seconds, successful requests
    errors: int = 0
    first_error: str = ""
    elapsed: float = 0.0


def check(port: int, path: str, headers: dict, timeout: float = 30) -> int:
    """One request before the load: the target answers 2xx with a body of some size."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    body = response.read()
    conn.close()
    if not 200 <= response.status < 300:
        raise RuntimeError(f"{path}: HTTP {response.status} {body[:300]!r}")
    return len(body)


def run_load(port: int, path: str, headers: dict, clients: int, seconds: float) -> Outcome:
    outcome = Outcome()
    lock = threading.Lock()
    start = threading.Barrier(clients + 1)
    deadline = [0.0]

    def client() -> None:
        latencies, errors, first_error = [], 0, ""
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        start.wait()
        while time.perf_counter() < deadline[0]:
            began = time.perf_counter()
            try:
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                response.read()
                if 200 <= response.status < 300:
                    latencies.append(time.perf_counter() - began)
                else:
                    errors += 1
                    first_error = first_error or f"HTTP {response.status}"
                if response.will_close:
                    conn.close()
            except Exception as error:  # noqa: BLE001 - every failure counts as an error
                errors += 1
                first_error = first_error or f"{type(error).__name__}: {error}"
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.close()
        with lock:
            outcome.latencies.extend(latencies)
            outcome.errors += errors
            outcome.first_error = outcome.first_error or first_error

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    began = time.perf_counter()
    deadline[0] = began + seconds
    start.wait()
    for thread in threads:
        thread.join()
    outcome.elapsed = time.perf_counter() - began
    return outcome


def drain(port: int, timeout: float = 120.0) -> None:
    """Wait until the server is idle again: requests a client gave up on (timed out) still run in gunicorn and
    PostgreSQL and would slow the next target down. Idle = a bare request answers within 50 ms."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        began = time.perf_counter()
        try:
            check(port, "/bench/bare/", {})
            if time.perf_counter() - began < 0.05:
                return
        except Exception:  # noqa: BLE001
            pass
        time.sleep(0.5)


def warm_every_worker(port: int, path: str, headers: dict, timeout: float = 600.0) -> None:
    """Until 8 requests at once all answer within a second: the first search of each gunicorn worker builds its
    directory index (tens of seconds at 100,000 firms), which is set-up, not load."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        took: list[float] = []

        def one(took: list[float] = took) -> None:
            began = time.perf_counter()
            try:
                check(port, path, headers, timeout=timeout)
                took.append(time.perf_counter() - began)
            except Exception:  # noqa: BLE001
                took.append(float("inf"))

        threads = [threading.Thread(target=one) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if max(took) < 1.0:
            return
    raise RuntimeError(f"{path} still slow after {timeout:g} s of warming up")


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))] * 1000


def serve_and_load(database: str, targets: list, args, extra_env: dict) -> list:
    """One gunicorn with ``extra_env``, each target loaded in turn; returns (label, path, size, outcome) rows."""
    port = free_port()
    server = start_gunicorn(database, port, args.workers, args.threads, extra_env)
    results = []
    try:
        wait_until_up(server, port)
        for label, path, headers in targets:
            try:
                if "search=" in path:
                    warm_every_worker(port, path, headers)
                size = check(port, path, headers)
            except Exception as error:  # noqa: BLE001 - reported, and the load still runs and counts its errors
                print(f"  {label}: first request failed: {type(error).__name__}: {error}", file=sys.stderr, flush=True)
                size = 0
            run_load(port, path, headers, min(args.clients, 8), 1.0)  # warm-up: imports, caches, connections
            outcome = run_load(port, path, headers, args.clients, args.seconds)
            drain(port)
            results.append((label, path, size, outcome))
            print(f"  {label}: {len(outcome.latencies):,} ok, {outcome.errors} errors", file=sys.stderr, flush=True)
    finally:
        stop_gunicorn(server)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--firms", type=int, default=100000)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--search", default="coffee", help="search term of the directory's search variant")
    parser.add_argument("--database", default=BENCH_DB, help=f"the benchmark's database (default {BENCH_DB})")
    parser.add_argument("--copy-from", help="start from a copy of this database when --database does not exist yet")
    parser.add_argument("--prepare-only", action="store_true", help="fill the database and stop (nothing timed)")
    parser.add_argument(
        "--no-uncached",
        action="store_true",
        help="skip the second server with the directory's response cache off (DIRECTORY_CACHE_SECONDS=0)",
    )
    args = parser.parse_args()

    database = use_database(args.database, copy_from=args.copy_from)
    ensure_firms(args.firms)
    token = ensure_member()
    written = hashed_stand_in_vectors()
    if written:
        print(f"stand-in vectors written for {written:,} texts", file=sys.stderr, flush=True)
    with connection.cursor() as cursor:
        # Planner statistics of the freshly loaded tables, as autovacuum would keep them in production (it may be
        # off on a test server): without them the directory's search is a quadratic nested loop (23 s at 2,000 firms).
        cursor.execute("ANALYZE")
    published = Company.objects.published().count()
    connection.close()
    if args.prepare_only:
        print(f"{database}: {published:,} published firms; ready", file=sys.stderr, flush=True)
        return

    auth = {"Authorization": f"Token {token}"}
    filtered = ("directory: country+sector, page 2", "/api/v1/companies/?country=RU&sector=10&page=2", {})
    searched = ("directory: search", f"/api/v1/companies/?search={args.search}", {})  # last: the slowest, drain()
    targets = [("bare Django view", "/bench/bare/", {}), filtered, ("me/matches (token)", "/api/v1/me/matches/", auth)]
    results = serve_and_load(database, [*targets, searched], args, {})
    if not args.no_uncached:
        # The same directory requests with the response cache off: what a request nobody made in the last
        # DIRECTORY_CACHE_SECONDS costs (another page, another filter), each one computed.
        off = [(label + ", cache off", path, headers) for label, path, headers in (filtered, searched)]
        results += serve_and_load(database, off, args, {"DIRECTORY_CACHE_SECONDS": "0"})

    bare_rate = len(results[0][3].latencies) / results[0][3].elapsed
    print(
        f"\nAPI load · {date.today()} · {platform.machine()}, {os.cpu_count()} cores shared by client, gunicorn "
        f"and PostgreSQL · database {database} · {published:,} published firms · gunicorn gthread "
        f"{args.workers} workers × {args.threads} threads · {args.clients} keep-alive clients × {args.seconds:g} s · "
        f"CONN_MAX_AGE {CONN_MAX_AGE} · cache {os.environ.get('CACHE_URL') or 'local memory (per process)'}"
    )
    print("endpoint | path | body bytes | requests | req/s | p50 ms | p95 ms | p99 ms | errors | vs bare | targets")
    print("--- | --- | --- | --- | --- | --- | --- | --- | --- | --- | ---")
    for label, path, size, o in results:
        rate = len(o.latencies) / o.elapsed
        share = rate / bare_rate
        p95 = percentile(o.latencies, 95)
        if path == "/bench/bare/":
            verdict = "baseline"
        else:
            target = P95_MATCHES_MS if "matches" in path else P95_DIRECTORY_MS
            misses = [name for name, ok in (("p95", p95 <= target), ("errors", o.errors == 0)) if not ok]
            verdict = f"p95 ≤ {target:g} ms: " + ("met" if not misses else "missed: " + ", ".join(misses))
        print(
            f"{label} | `{path}` | {size:,} | {len(o.latencies) + o.errors:,} | {rate:,.0f} | "
            f"{percentile(o.latencies, 50):.1f} | {p95:.1f} | {percentile(o.latencies, 99):.1f} | {o.errors}"
            f"{' (' + o.first_error + ')' if o.errors else ''} | {share:.0%} | {verdict}"
        )
    print(
        f"Targets (issue 20): the directory p95 ≤ {P95_DIRECTORY_MS:g} ms, me/matches p95 ≤ {P95_MATCHES_MS:g} ms, "
        "0 errors; req/s as a share of the bare view."
    )


if __name__ == "__main__":
    main()
