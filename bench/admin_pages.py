"""Chamber staff's admin pages at scale: the dashboard (cold and warm cache), its CSV, the admin index with the
dashboard's summary, and the review workbench if it exists, served by gunicorn beside a bare Django view.

    DATABASE_URL=postgres://... python bench/admin_pages.py [--firms 100000] [--matches-per-firm 10]
        [--seconds 10] [--clients 4] [--copy-from bench_api_load]

Setup (not timed): a database of the benchmark's own, ``bench_admin_pages`` (kept between runs; filled with
``generate_companies``, or copied from another benchmark's with ``--copy-from``, e.g. ``bench_api_load``
filled by api_load.py, which is faster than generating the firms again). Once, in SQL: the firms' registration
dates spread over the last 20 weeks, 2 % of them waiting for vetting and the others' publication recorded
(StatusChange); ``--matches-per-firm`` × firms matches (a million at 100,000 firms), created over the last 16
weeks, with the history the dashboard counts: 88 % still suggested, the others approved or rejected by a
staff member hours to days later, some introduced, answered, connected, declined or expired, and outcomes
told; every match with its "suggested" event, as a recompute writes it. Then ``ANALYZE``. A VCCI staff
member and a superuser, who log in through the admin's login form.

Server: bench/api_load.py's gunicorn (``--workers`` × ``--threads`` gthread, DEBUG off, the production
middleware, the product's URLs plus ``/bench/bare/``, the baseline: gunicorn + Django's middleware, no
database), with the default local-memory cache (one per worker process).

Timed: ``--clients`` keep-alive clients (staff pages are not a public page's crowd) requesting one page back
to back for ``--seconds``, after a 1 s warm-up, page after page: every request's latency, p50/p95/p99.
"Warm" is the product as configured (figures cached DASHBOARD_CACHE_SECONDS per chamber and week, so after
the warm-up every worker serves them from its cache); "cold" is a second server started with
``DASHBOARD_CACHE_SECONDS=0``, where every request computes the figures, timed with one client.

Target (from the issue): p95 ≤ 300 ms at 100,000 firms.
"""

from __future__ import annotations

import argparse
import http.client
import os
import platform
import re
import subprocess
import sys
import time
from datetime import date
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))

import api_load  # noqa: E402  (sets Django up)
from api_load import (  # noqa: E402
    check,
    drain,
    free_port,
    percentile,
    run_load,
    start_gunicorn,
    stop_gunicorn,
    wait_until_up,
)
from databases import use_database  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from companies.models import Company, Organisation  # noqa: E402
from companies.services import make_chamber_staff  # noqa: E402
from matchmaking.models import Match, MatchEvent  # noqa: E402

BENCH_DB = "bench_admin_pages"
TEMPLATE_DB = "bench_api_load"
MARK = "bench-admin-pages"  # the note of the events this benchmark wrote, so a rerun adds none
PASSWORD = "bench-admin-pages-password"
TARGET_MS = 300.0
WORKBENCH = "/admin/matchmaking/match/review/"


# --- setup (not timed) ----------------------------------------------------------------------------------------


def use_bench_database(copy_from: str | None) -> str:
    return use_database(BENCH_DB, copy_from=copy_from)


def ensure_history(per_firm: int) -> None:
    """The firms' and matches' past, written once in SQL (a million matches in about a minute)."""
    if MatchEvent.objects.filter(note=MARK).exists():
        return
    started = time.perf_counter()
    print("writing the firms' and matches' history (setup)…", file=sys.stderr, flush=True)
    company, match, event = Company._meta.db_table, Match._meta.db_table, MatchEvent._meta.db_table
    status_change = "companies_statuschange"
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT setseed(0.17)")
        cursor.execute(f"""
            UPDATE {company} SET created_at = now() - random() * interval '140 days',
                status = CASE WHEN random() < 0.02 THEN 'pending' ELSE status END
            WHERE source = 'generated'""")
        cursor.execute(
            f"""
            INSERT INTO {status_change} (company_id, from_status, to_status, note, changed_at)
            SELECT id, 'pending', 'published', %s, created_at + random() * interval '5 days'
            FROM {company} WHERE source = 'generated' AND status = 'published'""",
            [MARK],
        )
        cursor.execute("DROP TABLE IF EXISTS bench_pairs")
        # Each Vietnamese firm with per_firm × 2 Russian ones (as many matches as per_firm × all firms); some
        # pairs fall together and are dropped by the unique constraint.
        cursor.execute(
            f"""
            CREATE TEMP TABLE bench_pairs AS
            WITH vn AS (SELECT id, row_number() OVER (ORDER BY id) AS i FROM {company}
                        WHERE source = 'generated' AND country = 'VN'),
                 ru AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS j FROM {company}
                        WHERE source = 'generated' AND country = 'RU'),
                 n AS (SELECT count(*) AS n FROM ru)
            SELECT vn.id AS vn, ru.id AS ru, random() AS fate, now() - random() * interval '112 days' AS created
            FROM vn CROSS JOIN generate_series(0, %s - 1) k CROSS JOIN n
            JOIN ru ON ru.j = (vn.i * 7919 + k * 104729) %% n.n""",
            [per_firm * 2],
        )
        cursor.execute(f"""
            INSERT INTO {match} (company_vn_id, company_ru_id, score, fit_for_vn, fit_for_ru, score_parts, reasons,
                engine_version, status, review_note, response_vn, response_ru, outcome_vn, outcome_ru,
                reviewed_at, introduced_at, connected_at, expired_at, created_at, updated_at)
            SELECT vn, ru, 0.3 + fate * 0.6, 0.5, 0.5,
                jsonb_build_object('confidence', round((fate * 0.9)::numeric, 3)), '[]'::jsonb, 'bench',
                CASE WHEN fate < 0.88 THEN 'suggested' WHEN fate < 0.92 THEN 'rejected'
                     WHEN fate < 0.95 THEN 'approved' WHEN fate < 0.97 THEN 'introduced'
                     WHEN fate < 0.985 THEN 'connected' WHEN fate < 0.995 THEN 'declined'
                     ELSE 'expired' END,
                '', CASE WHEN fate >= 0.97 AND fate < 0.985 THEN 'accepted' ELSE 'pending' END,
                CASE WHEN fate >= 0.97 AND fate < 0.985 THEN 'accepted'
                     WHEN fate >= 0.985 AND fate < 0.995 THEN 'declined'
                     ELSE 'pending' END,
                CASE WHEN fate >= 0.97 AND fate < 0.978 THEN 'met'
                     WHEN fate >= 0.978 AND fate < 0.981 THEN 'agreement' ELSE '' END,
                '',
                CASE WHEN fate >= 0.88 THEN created + (1 + mod(vn + ru, 97)) * interval '1 hour' END,
                CASE WHEN fate >= 0.95 THEN created + interval '3 days' END,
                CASE WHEN fate >= 0.97 AND fate < 0.985 THEN created + interval '6 days' END,
                CASE WHEN fate >= 0.995 THEN created + interval '24 days' END,
                created, created
            FROM bench_pairs ORDER BY vn, ru
            ON CONFLICT (company_vn_id, company_ru_id) DO NOTHING""")
        # Their events, as the services write them (approved/rejected, introduced, answers, outcomes).
        cursor.execute(
            f"""
            INSERT INTO {event} (match_id, action, from_status, to_status, note, at)
            SELECT id, 'suggested', '', 'suggested', 'score, engine bench', created_at FROM {match}
                WHERE engine_version = 'bench'
            UNION ALL SELECT id, CASE WHEN status = 'rejected' THEN 'rejected' ELSE 'approved' END, 'suggested',
                CASE WHEN status = 'rejected' THEN 'rejected' ELSE 'approved' END, %(mark)s, reviewed_at
                FROM {match} WHERE engine_version = 'bench' AND reviewed_at IS NOT NULL
            UNION ALL SELECT id, 'introduced', 'approved', 'introduced', %(mark)s, introduced_at
                FROM {match} WHERE engine_version = 'bench' AND introduced_at IS NOT NULL
            UNION ALL SELECT id, 'accepted', 'introduced', 'introduced', %(mark)s, introduced_at + interval '2 days'
                FROM {match} WHERE engine_version = 'bench' AND status = 'connected'
            UNION ALL SELECT id, 'accepted', 'introduced', 'connected', %(mark)s, connected_at
                FROM {match} WHERE engine_version = 'bench' AND status = 'connected'
            UNION ALL SELECT id, 'declined', 'introduced', 'declined', %(mark)s, introduced_at + interval '4 days'
                FROM {match} WHERE engine_version = 'bench' AND status = 'declined'
            UNION ALL SELECT id, 'expired', 'introduced', 'expired', %(mark)s, expired_at
                FROM {match} WHERE engine_version = 'bench' AND status = 'expired'
            UNION ALL SELECT id, 'outcome', 'connected', 'connected', %(mark)s, connected_at + interval '10 days'
                FROM {match} WHERE engine_version = 'bench' AND outcome_vn <> ''
            """,
            {"mark": MARK},
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"  history written in {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)


def ensure_users() -> dict[str, str]:
    """A VCCI staff member and a superuser: username → password."""
    users = get_user_model().objects
    staff, _ = users.get_or_create(username="bench-vcci-staff")
    staff.set_password(PASSWORD)
    staff.save()
    make_chamber_staff(staff, Organisation.objects.get(slug="vcci"))
    root, _ = users.get_or_create(username="bench-root", defaults={"is_staff": True, "is_superuser": True})
    root.set_password(PASSWORD)
    root.save()
    return {"staff": staff.username, "superuser": root.username}


def ensure_static() -> None:
    """The admin's pages need its CSS in the manifest that DEBUG off serves (whitenoise): collectstatic, once,
    into the git-ignored STATIC_ROOT, as the Dockerfile does."""
    if (Path(settings.STATIC_ROOT) / "staticfiles.json").exists():
        return
    env = {**os.environ, "DJANGO_DEBUG": "false", "DJANGO_SECRET_KEY": "bench-admin-pages-collectstatic-" + "x" * 40}
    subprocess.run(
        [sys.executable, str(api_load.ROOT / "manage.py"), "collectstatic", "--noinput", "-v", "0"],
        cwd=api_load.ROOT,
        env=env,
        check=True,
    )


# --- through the server ---------------------------------------------------------------------------------------


def log_in(port: int, username: str) -> dict:
    """Log in through the admin's form, as a browser would; the headers that carry the session."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/admin/login/")
    response = conn.getresponse()
    page = response.read().decode()
    cookies = SimpleCookie()
    for header in response.headers.get_all("Set-Cookie") or []:
        cookies.load(header)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    body = urlencode({"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token, "next": "/admin/"})
    conn.request(
        "POST",
        "/admin/login/",
        body=body,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"csrftoken={cookies['csrftoken'].value}",
        },
    )
    response = conn.getresponse()
    response.read()
    for header in response.headers.get_all("Set-Cookie") or []:
        cookies.load(header)
    conn.close()
    if response.status != 302 or "sessionid" not in cookies:
        raise RuntimeError(f"logging in as {username} failed: HTTP {response.status}")
    return {"Cookie": f"sessionid={cookies['sessionid'].value}"}


def answer_of(port: int, path: str, headers: dict) -> tuple[int, str]:
    """(HTTP status, Location) of one GET."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    response.read()
    conn.close()
    return response.status, response.getheader("Location") or ""


def workbench_target(port: int, headers: dict) -> tuple[str | None, str]:
    """The workbench's page to time (following it if it sends staff on to a pair), or None and why not.
    Before it was built, the admin took "review" for a match's id and sent staff on to the index."""
    path, hops = WORKBENCH, []
    for _hop in range(5):
        status, location = answer_of(port, path, headers)
        if status not in (301, 302) or not location:
            break
        hops.append(location)
        path = location
    if status == 200 and path.startswith(WORKBENCH) and not path.endswith("/change/"):
        return path, (f"{WORKBENCH} sends staff on to {path}: that page was timed." if hops else "")
    return (
        None,
        f"{WORKBENCH} is not built yet (HTTP {status} after {' → '.join(hops) or 'no redirect'}): not measured.",
    )


def measure(port: int, targets, clients: int, seconds: float) -> list:
    results = []
    for label, path, headers in targets:
        try:
            size = check(port, path, headers)
        except Exception as error:  # noqa: BLE001 - reported; the load still runs and counts its errors
            print(f"  {label}: first request failed: {type(error).__name__}: {error}", file=sys.stderr, flush=True)
            size = 0
        run_load(port, path, headers, clients, 1.0)  # warm-up: imports, connections, each worker's cache
        outcome = run_load(port, path, headers, clients, seconds)
        drain(port)
        results.append((label, path, size, outcome))
        print(f"  {label}: {len(outcome.latencies):,} ok, {outcome.errors} errors", file=sys.stderr, flush=True)
    return results


def serve(database: str, args, cache_seconds: str | None):
    previous = os.environ.get("DASHBOARD_CACHE_SECONDS")
    if cache_seconds is not None:
        os.environ["DASHBOARD_CACHE_SECONDS"] = cache_seconds
    port = free_port()
    server = start_gunicorn(database, port, args.workers, args.threads)
    if previous is None:
        os.environ.pop("DASHBOARD_CACHE_SECONDS", None)
    else:
        os.environ["DASHBOARD_CACHE_SECONDS"] = previous
    wait_until_up(server, port)
    return server, port


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--firms", type=int, default=100000)
    parser.add_argument("--matches-per-firm", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument(
        "--copy-from",
        metavar="DATABASE",
        help=f"start from a copy of this database when {BENCH_DB} does not exist yet (e.g. "
        f"{TEMPLATE_DB}, filled by api_load.py: faster than generating the firms again)",
    )
    args = parser.parse_args()

    database = use_bench_database(args.copy_from)
    if Company.objects.filter(source="generated").count() < args.firms:  # some now wait for vetting
        api_load.ensure_firms(args.firms)
    ensure_history(args.matches_per_firm)
    users = ensure_users()
    ensure_static()
    firms, matches = Company.objects.count(), Match.objects.count()
    events = MatchEvent.objects.count()
    connection.close()

    notes, results = [], []
    server, port = serve(database, args, None)
    try:
        staff, root = log_in(port, users["staff"]), log_in(port, users["superuser"])
        targets = [
            ("bare Django view", "/bench/bare/", {}),
            ("admin index with the summary (VCCI staff)", "/admin/", staff),
            ("dashboard, warm (VCCI staff)", "/admin/dashboard/", staff),
            ("dashboard, warm (superuser, all chambers)", "/admin/dashboard/", root),
            ("dashboard CSV, warm (VCCI staff)", "/admin/dashboard/figures.csv", staff),
            ("Matches list (VCCI staff)", "/admin/matchmaking/match/", staff),
        ]
        workbench, note = workbench_target(port, staff)
        notes += [note] if note else []
        if workbench:
            targets.append(("review workbench (VCCI staff)", workbench, staff))
        results += [(*result, "warm") for result in measure(port, targets, args.clients, args.seconds)]
    finally:
        stop_gunicorn(server)

    server, port = serve(database, args, "0")
    try:
        staff, root = log_in(port, users["staff"]), log_in(port, users["superuser"])
        targets = [
            ("dashboard, cold: figures computed each time (VCCI staff)", "/admin/dashboard/", staff),
            ("dashboard, cold (superuser, all chambers)", "/admin/dashboard/", root),
            ("admin index, cold (VCCI staff)", "/admin/", staff),
        ]
        results += [(*result, "cold, 1 client") for result in measure(port, targets, 1, args.seconds)]
    finally:
        stop_gunicorn(server)

    bare = results[0][3]
    print(
        f"\nAdmin pages · {date.today()} · {platform.machine()}, {os.cpu_count()} cores shared by client, gunicorn "
        f"and PostgreSQL · database {database} · {firms:,} firms, {matches:,} matches, {events:,} match events · "
        f"gunicorn gthread {args.workers} workers × {args.threads} threads · {args.clients} keep-alive clients × "
        f"{args.seconds:g} s (cold: 1 client)"
    )
    print("page | path | cache | body bytes | requests | req/s | p50 ms | p95 ms | p99 ms | errors | p95 target")
    print("--- | --- | --- | --- | --- | --- | --- | --- | --- | --- | ---")
    for label, path, size, o, cache in results:
        p95 = percentile(o.latencies, 95)
        verdict = "baseline" if o is bare else ("met" if p95 <= TARGET_MS and not o.errors else "missed")
        print(
            f"{label} | `{path}` | {cache} | {size:,} | {len(o.latencies) + o.errors:,} | "
            f"{len(o.latencies) / o.elapsed:,.1f} | {percentile(o.latencies, 50):.1f} | {p95:.1f} | "
            f"{percentile(o.latencies, 99):.1f} | {o.errors}"
            f"{' (' + o.first_error + ')' if o.errors else ''} | {verdict}"
        )
    for note in notes:
        print(note)
    print(f"Target: p95 ≤ {TARGET_MS:g} ms.")


if __name__ == "__main__":
    main()
