"""A scripted reviewer in Chromium: decisions a minute on the review workbench by keyboard only, beside the same
number made with the mouse on the workbench's buttons and through the Matches list's admin action one match at a
time (the way before the workbench), all in the same run on the same server.

    DATABASE_URL=postgres://... python bench/review_speed.py [--decisions 60] [--firms 100000]
        [--copy-from bench_api_load]

Setup (not timed): bench/admin_pages.py's database, ``bench_admin_pages`` (100,000 firms, a million matches and 16
weeks of history; filled by admin_pages.py's setup, which this script runs if needed), a VCCI staff member of
its own (``bench-reviewer``; VCCI vets every generated Vietnamese firm, so its queue holds some 880,000
suggestions). Server: bench/api_load.py's gunicorn (``--workers`` × ``--threads`` gthread, DEBUG off, the
production middleware). Browser: Debian's Chromium (/usr/bin/chromium) driven by Playwright, 1366×768, signed
in through the admin's login form.

Timed, one way after the other, ``--decisions`` decisions each, three approvals to one rejection with a common
reason ("Competitors"):
- **keyboard**: on the workbench, ``a``; or ``r`` then ``1``;
- **mouse, workbench**: the Approve button; or "Reject…" then the reason's button;
- **mouse, Matches list** (baseline): the list filtered to suggestions, best first; tick the first row, pick
  the action (approve, or reject with the note typed), Go; the list comes back without the decided match.
A decision is timed from the key press or the last click to the next page loaded (the browser's load event);
decisions a minute = decisions / the way's wall time (which includes the reviewer's other clicks) × 60. Before
timing, each page is loaded three times (imports, connections, caches).

The scripted reviewer does not read: its rate is the ceiling the pages allow, and the seconds a person spends
reading a pair come on top of the per-decision time shown. At the target of 30 decisions a minute a decision
has 2 s, of which the workbench should take a small part.

Afterwards every decision of the run is taken back in SQL (the matches suggested again, the reviewer's events
deleted; the same at the start, should a run have been interrupted), so the database stays as admin_pages.py
measures it.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import admin_pages  # noqa: E402  (sets Django up, through api_load)
import api_load  # noqa: E402
from api_load import free_port, percentile, start_gunicorn, stop_gunicorn, wait_until_up  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from companies.models import Company, Organisation  # noqa: E402
from companies.services import make_chamber_staff  # noqa: E402
from matchmaking.models import Match, MatchEvent  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-dev-shm-usage",
    "--disable-component-update",
    "--no-first-run",
]
VIEWPORT = {"width": 1366, "height": 768}
REVIEWER = "bench-reviewer"
PASSWORD = "bench-review-speed-password"
WORKBENCH = "/admin/matchmaking/match/review/"
SUGGESTIONS = "/admin/matchmaking/match/?status__exact=suggested"
TARGET_PER_MINUTE = 30.0
REJECT_EVERY = 4  # one rejection in four decisions


# --- setup and clean-up (not timed) -----------------------------------------------------------------------------


def ensure_reviewer() -> int:
    user, _ = get_user_model().objects.get_or_create(username=REVIEWER)
    user.set_password(PASSWORD)
    user.save()
    make_chamber_staff(user, Organisation.objects.get(slug="vcci"))
    return user.pk


def take_back(reviewer: int) -> int:
    """Every decision of the reviewer undone in SQL: its matches suggested again, its events gone. How many."""
    match, event = Match._meta.db_table, MatchEvent._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH decided AS (DELETE FROM {event} WHERE actor_id = %s RETURNING match_id)
            UPDATE {match} SET status = 'suggested', review_note = '', reviewed_by_id = NULL, reviewed_at = NULL
            WHERE id IN (SELECT match_id FROM decided)""",
            [reviewer],
        )
        return cursor.rowcount


# --- the reviewer ---------------------------------------------------------------------------------------------------


def sign_in(browser, base: str):
    page = browser.new_context(viewport=VIEWPORT, locale="en").new_page()
    page.goto(base + "/admin/login/")
    page.fill("#id_username", REVIEWER)
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.click("input[type=submit]")
    if not page.url.rstrip("/").endswith("/admin"):
        raise RuntimeError(f"signing in failed: at {page.url}")
    return page


def shown_pair(page) -> int:
    return int(re.search(r"/review/(\d+)/decide/", page.locator("#decide-form").get_attribute("action"))[1])


def timed(page, act) -> float:
    """Seconds from ``act`` (the last key press or click) to the next page loaded."""
    started = time.perf_counter()
    with page.expect_navigation():
        act()
    return time.perf_counter() - started


def by_keyboard(page, base: str, decisions: int) -> list[float]:
    page.goto(base + WORKBENCH)
    times = []
    for n in range(decisions):
        before = shown_pair(page)
        if n % REJECT_EVERY == REJECT_EVERY - 1:
            page.keyboard.press("r")
            page.locator("#reject-note").wait_for(state="visible")
            times.append(timed(page, lambda: page.keyboard.press("1")))
        else:
            times.append(timed(page, lambda: page.keyboard.press("a")))
        if shown_pair(page) == before:
            raise RuntimeError(f"the workbench stayed on pair {before}: {page.locator('.messagelist').inner_text()}")
    return times


def by_mouse(page, base: str, decisions: int) -> list[float]:
    page.goto(base + WORKBENCH)
    times = []
    for n in range(decisions):
        if n % REJECT_EVERY == REJECT_EVERY - 1:
            page.click("#reject-button")
            times.append(timed(page, lambda: page.click("#reject-panel button[name=reason][value=competitors]")))
        else:
            times.append(timed(page, lambda: page.click("#approve-button")))
    return times


def by_matches_list(page, base: str, decisions: int) -> list[float]:
    page.goto(base + SUGGESTIONS)
    times = []
    for n in range(decisions):
        page.check("#result_list tbody tr:first-child input.action-select")
        if n % REJECT_EVERY == REJECT_EVERY - 1:
            page.select_option("select[name=action]", "reject")
            page.fill("input[name=note]", "Competitors")
        else:
            page.select_option("select[name=action]", "approve")
            page.fill("input[name=note]", "")
        times.append(timed(page, lambda: page.click("button[name=index]")))
    return times


WAYS = [
    ("keyboard, workbench (`a`; `r` `1`)", by_keyboard, WORKBENCH),
    ("mouse, workbench buttons", by_mouse, WORKBENCH),
    ("mouse, Matches list admin action one at a time (baseline)", by_matches_list, SUGGESTIONS),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--decisions", type=int, default=60, help="decisions made each way")
    parser.add_argument("--firms", type=int, default=100000)
    parser.add_argument("--matches-per-firm", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument(
        "--copy-from",
        metavar="DATABASE",
        help=f"start from a copy of this database when {admin_pages.BENCH_DB} does not exist yet",
    )
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        sys.exit(f"needs Debian's Chromium at {CHROMIUM} (apt-get install chromium)")

    database = admin_pages.use_bench_database(args.copy_from)
    if Company.objects.filter(source="generated").count() < args.firms:
        api_load.ensure_firms(args.firms)
    admin_pages.ensure_history(args.matches_per_firm)
    admin_pages.ensure_static()
    reviewer = ensure_reviewer()
    take_back(reviewer)
    firms, matches = Company.objects.count(), Match.objects.count()
    waiting = Match.objects.filter(status=Match.Status.SUGGESTED).count()
    connection.close()

    port = free_port()
    server = start_gunicorn(database, port, args.workers, args.threads)
    results = []
    try:
        wait_until_up(server, port)
        base = f"http://127.0.0.1:{port}"
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = sign_in(browser, base)
            for _label, _way, path in WAYS:
                for _ in range(3):
                    page.goto(base + path)
            for label, way, _path in WAYS:
                started = time.perf_counter()
                times = way(page, base, args.decisions)
                elapsed = time.perf_counter() - started
                results.append((label, times, elapsed))
                print(f"  {label}: {len(times)} decisions in {elapsed:.1f} s", file=sys.stderr, flush=True)
            browser.close()
    finally:
        stop_gunicorn(server)
        decided = take_back(reviewer)
        connection.close()

    keyboard_rate = len(results[0][1]) / results[0][2] * 60
    print(
        f"\nReview speed · {date.today()} · {platform.machine()}, {os.cpu_count()} cores shared by Chromium, gunicorn "
        f"and PostgreSQL · database {database} · {firms:,} firms, {matches:,} matches ({waiting:,} suggested) · "
        f"gunicorn gthread {args.workers} workers × {args.threads} threads · {args.decisions} decisions each way, "
        f"one in {REJECT_EVERY} a rejection · Chromium {VIEWPORT['width']}×{VIEWPORT['height']}"
    )
    print("way | decisions | seconds | decisions/min | per decision p50 ms | p95 ms | max ms | vs keyboard | target")
    print("--- | --- | --- | --- | --- | --- | --- | --- | ---")
    for label, times, elapsed in results:
        rate = len(times) / elapsed * 60
        verdict = ("met" if rate >= TARGET_PER_MINUTE else "missed") if label.startswith("keyboard") else ""
        print(
            f"{label} | {len(times)} | {elapsed:.1f} | {rate:.0f} | {percentile(times, 50):.0f} | "  # ms
            f"{percentile(times, 95):.0f} | {max(times) * 1000:.0f} | {rate / keyboard_rate:.2f}× | {verdict}"
        )
    print(f"{decided} decisions taken back afterwards. Target: ≥ {TARGET_PER_MINUTE:g} decisions a minute by keyboard.")


if __name__ == "__main__":
    main()
