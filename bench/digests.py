"""Weekly digests end to end: a real Celery worker on Redis sending to an SMTP server, beside bare SMTP.

    python bench/digests.py [--firms 10000] [--concurrency 1,2]

Uses a database of its own beside the configured one (Django's test-database machinery, named
``test_<configured name>_digests`` so that no other benchmark's rows get in the way, kept between runs),
fills it once with ``--firms`` generated firms, one member account with an email per firm, and approved
matches pairing the i-th Vietnamese firm with the i-th Russian one, so every firm has news (setup, timed
apart). Then, for each ``--concurrency`` in turn, on a fresh ISO week and with the matches reset to
*approved* (no deliveries, items or events left from an earlier run, so every run sends the same mails):

1. starts ``celery -A config worker --concurrency=C`` on the benchmark database, on Redis under a key
   prefix of its own, with ``EMAIL_URL`` pointing at an SMTP server (aiosmtpd) in this process;
2. sends ``matchmaking.tasks.dispatch_weekly_digests`` for the week (it queues one task per
   ``matchmaking.digests.planning.FIRMS_PER_TASK`` firms) and waits until every delivery it queued is sent or skipped;
3. reports the wall time from the dispatch to the last email the server accepted, the emails per second,
   and the emails each address got more than once (duplicates) or never (missing).

The baseline is the floor of SMTP itself on this machine, timed in the same run: as many prebuilt trivial
messages sent by a bare loop in this process with Django's SMTP backend, over one connection, to the same
server. The worker's process group is killed (SIGKILL) at the end and on errors, and its Redis keys deleted.
The benchmark process runs with MATCHING_RECOMPUTE_ON_SAVE=false, so setting up queues no recompute.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ["MATCHING_RECOMPUTE_ON_SAVE"] = "false"  # bulk setup must not queue recomputes on anyone's broker

import django  # noqa: E402

django.setup()

from aiosmtpd.controller import Controller  # noqa: E402
from celery import Celery  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.mail import EmailMessage, get_connection  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from companies.models import Company, Membership  # noqa: E402
from matchmaking.digests.planning import FIRMS_PER_TASK, digest_targets  # noqa: E402
from matchmaking.digests.weeks import IsoWeek  # noqa: E402
from matchmaking.models import DigestDelivery, DigestItem, Match, MatchEvent  # noqa: E402

DISPATCH = "matchmaking.tasks.dispatch_weekly_digests"
SETTLED = [DigestDelivery.Status.SENT, DigestDelivery.Status.SKIPPED]
WEEKS = ["2026-W50", "2026-W51", "2026-W52", "2026-W53", "2027-W01", "2027-W02"]  # one fresh week per run
ENGINE_VERSION = "bench-digests"
REASONS = [
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


# --- setup ----------------------------------------------------------------------------------------


def use_bench_database() -> str:
    # A database of the benchmark's own, created with the migrations on the first run and kept afterwards;
    # the configured database (and bench/persistence.py's, which deletes every match) is never touched.
    connection.settings_dict.setdefault("TEST", {})
    connection.settings_dict["TEST"]["NAME"] = f"test_{connection.settings_dict['NAME']}_digests"
    return connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=True)


def ensure_firms(count: int) -> list[Company]:
    if Company.objects.filter(source="generated").count() < count:
        call_command("load_seeds", verbosity=0)
        call_command("generate_companies", count, "--seed", "7", verbosity=1)
    return list(Company.objects.filter(source="generated").order_by("pk").only("pk", "country")[:count])


def ensure_members(firms: list[Company]) -> int:
    """One member account with an email per firm (bulk: no signals, no password hashing)."""
    User = get_user_model()
    have = set(Membership.objects.filter(company__in=firms).values_list("company_id", flat=True))
    missing = [firm for firm in firms if firm.pk not in have]
    if not missing:
        return 0
    with transaction.atomic():
        User.objects.bulk_create(
            [
                User(username=f"bench-digest-{firm.pk}", email=f"firm-{firm.pk}@bench.example", password="!bench")
                for firm in missing
            ],
            ignore_conflicts=True,
        )
        users = dict(
            User.objects.filter(username__in=[f"bench-digest-{firm.pk}" for firm in missing]).values_list(
                "username", "pk"
            )
        )
        Membership.objects.bulk_create(
            Membership(
                user_id=users[f"bench-digest-{firm.pk}"],
                company_id=firm.pk,
                language="vi" if firm.country == "VN" else "ru",
            )
            for firm in missing
        )
    return len(missing)


def reset_matches(firms: list[Company]) -> int:
    """Every firm in exactly the same state before each run: no deliveries, items or match events, and one
    approved match per pair (VN firm i with RU firm i, wrapping round the smaller side)."""
    tables = ", ".join(model._meta.db_table for model in (DigestItem, DigestDelivery, MatchEvent, Match))
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {tables}")
    vn = [firm.pk for firm in firms if firm.country == "VN"]
    ru = [firm.pk for firm in firms if firm.country == "RU"]
    now = timezone.now()
    pairs = [(vn[i % len(vn)], ru[i % len(ru)]) for i in range(max(len(vn), len(ru)))]
    Match.objects.bulk_create(
        (
            Match(
                company_vn_id=a,
                company_ru_id=b,
                score=0.8,
                fit_for_vn=0.8,
                fit_for_ru=0.8,
                score_parts={"forward": 0.8, "backward": 0.8, "sectors": 0.5},
                reasons=REASONS,
                engine_version=ENGINE_VERSION,
                status=Match.Status.APPROVED,
                reviewed_at=now,
            )
            for a, b in pairs
        ),
        batch_size=2000,
    )
    return len(pairs)


# --- SMTP server and worker -----------------------------------------------------------------------


class MailSink:
    """Counts what the SMTP server accepted, per recipient, and when the last message was accepted."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.received: Counter = Counter()
            self.messages = 0
            self.last = 0.0

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.received.update(rcpt.lower() for rcpt in envelope.rcpt_tos)
            self.messages += 1
            self.last = time.perf_counter()
        return "250 Message accepted for delivery"


def start_sink() -> tuple[MailSink, Controller, int]:
    handler = MailSink()
    with socket.socket() as probe:  # a free port (the controller checks its port by connecting, so not 0)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    return handler, controller, port


class Worker:
    """A `celery worker` process group on the benchmark database, Redis under its own prefix, and the sink."""

    def __init__(self, redis_url: str, smtp_port: int, concurrency: int, log_dir: Path) -> None:
        self.prefix = f"bench-digests-{uuid.uuid4().hex[:8]}:"
        self.transport_options = {
            "global_keyprefix": self.prefix,
            "visibility_timeout": settings.CELERY_TASK_TIME_LIMIT + 600,
        }
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_NAME": connection.settings_dict["NAME"],
            "REDIS_URL": redis_url,
            "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
            "CELERY_BROKER_TRANSPORT_OPTIONS": json.dumps(self.transport_options),
            "MATCHING_RECOMPUTE_ON_SAVE": "false",
            "SITE_URL": "https://sme-match.example",
        }
        self.redis_url, self.concurrency, self.process = redis_url, concurrency, None
        self.log = log_dir / f"worker-c{concurrency}-{self.prefix.rstrip(':')}.log"
        self.client = Celery("bench-digests", broker=redis_url)
        self.client.conf.broker_transport_options = self.transport_options

    def start(self, timeout: float = 60) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                f"--concurrency={self.concurrency}",
                "--loglevel=INFO",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while "ready." not in self.log.read_text():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the worker did not start:\n{self.log.read_text()[-3000:]}")
            time.sleep(0.1)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def dispatch(self, week: str) -> None:
        self.client.send_task(DISPATCH, kwargs={"week": week})

    def stop(self) -> None:
        """SIGKILL the worker and its pool children, then delete every Redis key of its prefix."""
        if self.process is not None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.process.wait(timeout=10)
        self.client.close()
        import redis

        server = redis.Redis.from_url(self.redis_url)
        keys = list(server.scan_iter(f"{self.prefix}*"))
        if keys:
            server.delete(*keys)
        server.close()


# --- runs -----------------------------------------------------------------------------------------


def expected_deliveries(week: str) -> int:
    firms, chambers = digest_targets(IsoWeek.parse(week))
    return len(firms) + len(chambers)


def wait_until_settled(week: str, deliveries: int, worker: Worker, timeout: float) -> None:
    year, number = week.split("-W")
    rows = DigestDelivery.objects.filter(iso_year=int(year), iso_week=int(number))
    deadline = time.monotonic() + timeout
    while rows.filter(status__in=SETTLED).count() < deliveries:
        if not worker.alive():
            raise RuntimeError(f"the worker died:\n{worker.log.read_text()[-3000:]}")
        if time.monotonic() > deadline:
            states = Counter(rows.values_list("status", flat=True))
            raise RuntimeError(
                f"{deliveries} deliveries of {week} expected to settle within {timeout:.0f} s, "
                f"got {dict(states)}; worker log: {worker.log}"
            )
        time.sleep(0.25)


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, all cores (Linux; zeros elsewhere)."""
    try:
        fields = [float(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except OSError:
        return 0.0, 0.0
    idle = fields[3] + fields[4]  # idle + iowait
    tick = os.sysconf("SC_CLK_TCK")
    return (sum(fields) - idle) / tick, sum(fields) / tick


def worker_cpu(pid: int) -> float:
    """CPU seconds used so far by the worker process and its pool children (Linux; 0 elsewhere)."""
    tick, total = os.sysconf("SC_CLK_TCK"), 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # The command may contain spaces: the fields after its closing parenthesis are fixed.
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if stat.parent.name == str(pid) or fields[1] == str(pid):  # fields[1] is the parent's pid
            total += (float(fields[11]) + float(fields[12])) / tick  # utime + stime
    return total


def run(
    firms: list[Company],
    addresses: set[str],
    week: str,
    concurrency: int,
    sink: MailSink,
    port: int,
    redis_url: str,
    log_dir: Path,
    timeout: float,
) -> dict:
    reset_matches(firms)
    deliveries = expected_deliveries(week)
    worker = Worker(redis_url, port, concurrency, log_dir)
    try:
        worker.start()
        sink.reset()
        busy_before, total_before = machine_cpu()
        worker_before = worker_cpu(worker.process.pid)
        started = time.perf_counter()
        worker.dispatch(week)
        wait_until_settled(week, deliveries, worker, timeout)
        settled = time.perf_counter()
        # The machine is shared: how busy all its cores were during the run, and how much of that was the worker.
        busy_after, total_after = machine_cpu()
        worker_seconds = worker_cpu(worker.process.pid) - worker_before
    finally:
        worker.stop()
    with sink.lock:
        received, messages, last = Counter(sink.received), sink.messages, sink.last
    seconds = (last or settled) - started
    year, number = week.split("-W")
    statuses = Counter(
        DigestDelivery.objects.filter(iso_year=int(year), iso_week=int(number)).values_list("status", flat=True)
    )
    return {
        "week": week,
        "concurrency": concurrency,
        "emails": messages,
        "seconds": seconds,
        "rate": messages / seconds if seconds > 0 else 0.0,
        "duplicates": sum(n - 1 for n in received.values() if n > 1),
        "missing": len(addresses - set(received)),
        "deliveries": dict(statuses),
        "log": worker.log,
        "machine_busy": (busy_after - busy_before) / (total_after - total_before)
        if total_after > total_before
        else 0.0,
        "worker_cpu": worker_seconds,
    }


def smtp_baseline(count: int, port: int, sink: MailSink) -> float:
    """`count` prebuilt trivial messages over one connection with Django's SMTP backend: SMTP's own floor."""
    messages = [
        EmailMessage("SME Match · baseline", "Hello.", settings.DEFAULT_FROM_EMAIL, [f"baseline-{i}@bench.example"])
        for i in range(count)
    ]
    mail = get_connection(
        "django.core.mail.backends.smtp.EmailBackend",
        host="127.0.0.1",
        port=port,
        username="",
        password="",
        use_tls=False,
        use_ssl=False,
        fail_silently=False,
    )
    sink.reset()
    started = time.perf_counter()
    sent = mail.send_messages(messages)
    seconds = time.perf_counter() - started
    assert sent == count and sink.messages == count, (sent, sink.messages, count)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--firms", type=int, default=10000)
    parser.add_argument("--concurrency", default="1,2", help="worker processes of each run, comma-separated")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds a run may take at most")
    args = parser.parse_args()
    concurrencies = [int(c) for c in args.concurrency.split(",") if c.strip()]
    if len(concurrencies) > len(WEEKS):
        parser.error(f"at most {len(WEEKS)} runs")
    redis_url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"

    started = time.perf_counter()
    name = use_bench_database()
    firms = ensure_firms(args.firms)
    added = ensure_members(firms)
    addresses = {f"firm-{firm.pk}@bench.example" for firm in firms}
    setup_seconds = time.perf_counter() - started
    print(f"setup: {len(firms):,} firms, {added:,} member accounts added, {setup_seconds:.1f} s", flush=True)

    sink, controller, port = start_sink()
    log_dir = Path(tempfile.mkdtemp(prefix="bench-digests-"))
    rows = []
    try:
        for week, concurrency in zip(WEEKS, concurrencies, strict=False):
            row = run(firms, addresses, week, concurrency, sink, port, redis_url, log_dir, args.timeout)
            print(
                f"  {week}, {concurrency} worker process(es): {row['emails']:,} emails in {row['seconds']:.1f} s, "
                f"deliveries {row['deliveries']}, worker CPU {row['worker_cpu']:.1f} s "
                f"({1000 * row['worker_cpu'] / max(row['emails'], 1):.1f} ms an email), all {os.cpu_count()} cores "
                f"{100 * row['machine_busy']:.0f} % busy, log {row['log']}",
                flush=True,
            )
            rows.append(row)
        emails = max((row["emails"] for row in rows), default=len(firms)) or len(firms)
        baseline = smtp_baseline(emails, port, sink)
    finally:
        controller.stop()
        reset_matches(firms)  # leave no introduced matches behind for the next run's setup to trip over

    print(
        f"\nWeekly digests · {date.today()} · {platform.machine()}, {os.cpu_count()} cores · database {name} · "
        f"{len(firms):,} firms, one member each, {len(firms):,} approved matches needed to tell · "
        f"{FIRMS_PER_TASK} firms per task"
    )
    print("firms | worker processes | emails | seconds | emails/s | speed-up | duplicates | missing | vs bare SMTP")
    print("--- | --- | --- | --- | --- | --- | --- | --- | ---")
    first = rows[0]["seconds"] if rows else None
    for row in rows:
        print(
            f"{len(firms):,} | {row['concurrency']} | {row['emails']:,} | {row['seconds']:.1f} | {row['rate']:.0f} | "
            f"{first / row['seconds']:.2f}× | {row['duplicates']} | {row['missing']} | {row['seconds'] / baseline:.1f}×"
        )
    print(
        f"bare SMTP loop, one connection | – | {emails:,} | {baseline:.2f} | {emails / baseline:.0f} | | 0 | 0 | 1.0×"
    )
    print(f"Setup (not in the figures): {setup_seconds:.1f} s. Target: ≥ 50 emails/s, 0 duplicates.")


if __name__ == "__main__":
    main()
