"""The schedule button end to end: ``events.schedule.build_event_schedule`` on an event in PostgreSQL, beside
the plain scheduler on the same event's data.

    python bench/event_schedule.py [--firms 300] [--requests 1500] [--tables 60] [--interpreters 6]
                                   [--limit 5] [--seed 1]

Uses a database of its own (as bench/persistence.py does: Django's test-database machinery, kept between
runs) and builds in it, once per set of arguments, an event like bench/scheduling.py's: ``--firms`` generated
firms (half Vietnamese, half Russian) registered and accepted, each available in one window of at least half
the day (16 slots of 25 minutes), business languages as firms state them (every Vietnamese firm Vietnamese,
every Russian one Russian, four in five also English), ``--requests`` accepted requests between a Vietnamese
and a Russian firm scored 0.1–0.6, and interpreters of ru–vi, some also en–vi or en–ru. Rows are inserted in
bulk: the setup is not what is measured.

Timed in the same run:
* the service: read the event (``selectors.event_problem``), solve, write the meetings and the reasons of the
  requests left out, all in one transaction (what staff wait for after pressing the button), twice: the first
  build, and a rebuild that replaces the unpinned meetings;
* ``events.scheduling.build_schedule`` alone on the problem the service read (no database), the floor;
* ``greedy_schedule`` on the same problem, the baseline of meetings placed.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sys
import time
from datetime import date
from datetime import time as clock
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from companies.models import Company, Organisation  # noqa: E402
from events import schedule, selectors, services  # noqa: E402
from events.models import AvailabilityWindow, Event, Interpreter, Meeting, MeetingRequest, Participant  # noqa: E402
from events.scheduling import build_schedule, greedy_schedule  # noqa: E402


def use_bench_database() -> str:
    return connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=True, serialize=False)


@transaction.atomic
def bench_event(firms: int, requests: int, tables: int, interpreters: int, seed: int) -> Event:
    slug = f"bench-{firms}-{requests}-{tables}-{interpreters}-{seed}"
    event = Event.objects.filter(slug=slug).first()
    if event is not None:
        return event
    if Company.objects.filter(source="generated").count() < firms * 2:
        call_command("load_seeds", verbosity=0)
        call_command("generate_companies", firms * 2, "--seed", "7", verbosity=0)
    rng = random.Random(seed)
    organiser = Organisation.objects.get(slug="vcci")
    day = date(2027, 3, 15)
    # 09:00–17:00 with 25-minute meetings and 5-minute breaks: 16 slots.
    event = Event.objects.create(
        slug=slug,
        name=f"Bench event {slug}",
        organiser=organiser,
        city="Hanoi",
        starts_on=day,
        ends_on=day,
        day_starts_at=clock(9, 0),
        day_ends_at=clock(17, 0),
        tables=tables,
        status=Event.Status.CLOSED,
    )
    slots = services.generate_slots(event)
    assert len(slots) == 16, len(slots)
    vn = list(Company.objects.filter(source="generated", country="VN").order_by("pk")[: firms // 2])
    ru = list(Company.objects.filter(source="generated", country="RU").order_by("pk")[: firms - firms // 2])
    for company in vn + ru:
        own = "vi" if company.country == "VN" else "ru"
        company.languages = [own, "en"] if rng.random() < 0.8 else [own]
    Company.objects.bulk_update(vn + ru, ["languages"])
    participants = Participant.objects.bulk_create(
        Participant(event=event, company=c, status=Participant.Status.ACCEPTED) for c in vn + ru
    )
    windows = []
    for participant in participants:
        length = rng.randint(len(slots) // 2, len(slots))
        start = rng.randint(0, len(slots) - length)
        windows.append(
            AvailabilityWindow(
                participant=participant, starts_at=slots[start].starts_at, ends_at=slots[start + length - 1].ends_at
            )
        )
    AvailabilityWindow.objects.bulk_create(windows)
    by_company = {p.company_id: p for p in participants}
    pairs = set()
    while len(pairs) < requests:
        pairs.add((rng.choice(vn).pk, rng.choice(ru).pk))
    MeetingRequest.objects.bulk_create(
        MeetingRequest(
            event=event,
            requester=by_company[a],
            invitee=by_company[b],
            status=MeetingRequest.Status.ACCEPTED,
            score=round(rng.uniform(0.1, 0.6), 3),
            added_by_staff=True,
        )
        for a, b in sorted(pairs)
    )
    extra = ["en-vi", "en-ru"]
    Interpreter.objects.bulk_create(
        Interpreter(
            event=event, name=f"Interpreter {n}", pairs=sorted({"ru-vi"} | ({extra[n % 2]} if n % 3 else set()))
        )
        for n in range(interpreters)
    )
    return event


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--firms", type=int, default=300)
    parser.add_argument("--requests", type=int, default=1500)
    parser.add_argument("--tables", type=int, default=60)
    parser.add_argument("--interpreters", type=int, default=6)
    parser.add_argument("--limit", type=float, default=5.0, help="seconds the solver may take (EVENT_SCHEDULE_SECONDS)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    name = use_bench_database()
    event = bench_event(args.firms, args.requests, args.tables, args.interpreters, args.seed)
    Meeting.objects.filter(event=event).delete()

    started = time.perf_counter()
    data = selectors.event_problem(event)
    read = time.perf_counter() - started
    started = time.perf_counter()
    alone = build_schedule(data.problem, time_limit=args.limit)
    solve = time.perf_counter() - started
    started = time.perf_counter()
    greedy = greedy_schedule(data.problem)
    first_fit = time.perf_counter() - started

    runs = []
    for label in ("build_event_schedule, first build", "build_event_schedule, rebuild"):
        started = time.perf_counter()
        result = schedule.build_event_schedule(event, time_limit=args.limit)
        runs.append((label, time.perf_counter() - started, result.placed, result.weight))
    needing = sum(1 for r in data.problem.requests if r.pair)

    print(
        f"\nSchedule button · {date.today()} · {platform.machine()}, {os.cpu_count()} cores · database {name} · "
        f"{args.firms} firms, {len(data.problem.requests):,} accepted requests ({needing} need an interpreter), "
        f"{data.problem.slots} slots, {args.tables} tables, {args.interpreters} interpreters, "
        f"solver limit {args.limit:g} s"
    )
    print("run | seconds | meetings | weight | vs scheduler alone")
    print("--- | --- | --- | --- | ---")
    for label, seconds, placed, weight in runs:
        print(f"{label} | {seconds:.2f} | {placed:,} | {weight:,.3f} | {seconds / solve:.2f}× the time")
    print(f"build_schedule alone (no database) | {solve:.2f} | {len(alone.placements):,} | {alone.weight:,.3f} | 1.00×")
    print(
        f"greedy first fit (baseline) | {first_fit:.2f} | {len(greedy.placements):,} | {greedy.weight:,.3f} | "
        f"{greedy.weight / alone.weight:.2%} of its weight"
    )
    print(f"reading the event: {read:.2f} s; database share of the first build: {runs[0][1] - solve:.2f} s")
    print("Target: ≤ 10 s for the button on this event.")


if __name__ == "__main__":
    main()
