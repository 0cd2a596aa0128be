"""Weekly digests on real parts: a Celery worker process on Redis and an SMTP server (aiosmtpd) in this process.

The worker is another process, so these tests are transactional: it must see the rows they create.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from celery import Celery
from django.db import connection
from django.test import Client

from companies.models import Company, DigestFrequency
from matchmaking import services
from matchmaking.models import DigestDelivery, Match
from tests.factories import ChamberFactory, ChamberStaffFactory, CompanyFactory, MatchFactory, MembershipFactory, UserFactory

pytestmark = [pytest.mark.celery_worker, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parent.parent
WEEK, NEXT_WEEK = "2026-W48", "2026-W49"
DISPATCH = "matchmaking.tasks.dispatch_weekly_digests"
SETTLED = [DigestDelivery.Status.SENT, DigestDelivery.Status.SKIPPED]


class MailSink:
    """What an SMTP server received, and switches to make it refuse or to act before it accepts."""

    def __init__(self) -> None:
        self.received: list[tuple[str, object]] = []  # (recipient, parsed message)
        self.refuse_until = 0.0  # time.monotonic() before which every recipient is refused with a 451
        self.refuse_reader_until: dict[str, float] = {}  # the same, for one address only
        self.refusals = 0
        self.before_accept = None  # called with the number of messages so far; a reply string refuses
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if time.monotonic() < max(self.refuse_until, self.refuse_reader_until.get(address.lower(), 0.0)):
            self.refusals += 1
            return "451 4.3.0 Mail server busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.before_accept:
            reply = self.before_accept(len(self.received))
            if reply:
                return reply
        message = message_from_bytes(envelope.content, policy=policy.default)
        with self.lock:
            self.received.extend((rcpt.lower(), message) for rcpt in envelope.rcpt_tos)
        return "250 Message accepted for delivery"

    def per_recipient(self) -> Counter:
        return Counter(rcpt for rcpt, _ in self.received)

    def to(self, address: str) -> list:
        return [message for rcpt, message in self.received if rcpt == address.lower()]


@pytest.fixture
def sink():
    handler = MailSink()
    with socket.socket() as probe:  # a free port (the controller checks its port by connecting, so not 0)
        probe.bind(("127.0.0.1", 0))
        handler.port = probe.getsockname()[1]
    controller = Controller(handler, hostname="127.0.0.1", port=handler.port)
    controller.start()
    yield handler
    controller.stop()


class Worker:
    """A `celery worker` process on the test database, the given Redis and the sink's SMTP port."""

    def __init__(self, redis_url: str, smtp_port: int, log_dir: Path) -> None:
        self.prefix = f"test-digests-{uuid.uuid4().hex[:8]}:"
        # Short visibility timeout and restore sweeps, so a task of a killed worker comes back in seconds
        # (kombu's defaults make that take about 100 s; see the stack notes).
        self.transport_options = {"global_keyprefix": self.prefix, "visibility_timeout": 5,
                                  "unacked_restore_interval": 1, "unacked_restore_throttle": 1}
        database = connection.settings_dict
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_NAME": database["NAME"],
            "REDIS_URL": redis_url,
            "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
            "CELERY_BROKER_TRANSPORT_OPTIONS": json.dumps(self.transport_options),
            "DIGEST_RETRY_BACKOFF_BASE": "0.5",
            "DIGEST_RETRY_BACKOFF_MAX": "2",
            "DIGEST_BUSY_RETRY_SECONDS": "1",
            "SITE_URL": "https://sme-match.example",
        }
        self.redis_url, self.log_dir, self.process, self.starts = redis_url, log_dir, None, 0
        self.client = Celery("digest-tests", broker=redis_url)
        self.client.conf.broker_transport_options = self.transport_options

    def start(self) -> None:
        self.starts += 1
        log = self.log_dir / f"worker-{self.starts}.log"
        self.log = log
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--concurrency=1", "--loglevel=INFO",
             "--without-gossip", "--without-mingle", "--without-heartbeat"],
            cwd=ROOT, env=self.env, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while "ready." not in log.read_text():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"the worker did not start:\n{log.read_text()}")
            time.sleep(0.1)

    def kill(self) -> None:
        """SIGKILL the worker and its pool children: nothing gets to clean up."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def dispatch(self, week: str, **kwargs) -> None:
        self.client.send_task(DISPATCH, kwargs={"week": week, **kwargs})

    def forget(self) -> None:
        import redis

        server = redis.Redis.from_url(self.redis_url)
        keys = list(server.scan_iter(f"{self.prefix}*"))
        if keys:
            server.delete(*keys)


@pytest.fixture
def worker(sectors_loaded, redis_url, sink, tmp_path, settings):
    # These tests build their matches directly; a recompute queued by a profile save would drop them.
    settings.MATCHING_RECOMPUTE_ON_SAVE = False
    worker = Worker(redis_url, sink.port, tmp_path)
    worker.start()
    yield worker
    worker.kill()  # before the test database is flushed or dropped
    worker.forget()


def wait_until_settled(week: str, deliveries: int, timeout: float = 120) -> None:
    year, number = week.split("-W")
    rows = DigestDelivery.objects.filter(iso_year=int(year), iso_week=int(number))
    deadline = time.monotonic() + timeout
    while rows.filter(status__in=SETTLED).count() < deliveries:
        if time.monotonic() > deadline:
            states = list(rows.values_list("company_id", "chamber_id", "status", "reason"))
            raise AssertionError(f"{deliveries} deliveries expected to settle, got: {states}")
        time.sleep(0.2)


def market(pairs: int, *, second_member_every: int = 3) -> list[str]:
    """Pairs of firms, each pair an approved match; some firms have two members. Returns every address."""
    languages = {"VN": ["vi", "en"], "RU": ["ru", "en"]}
    addresses = []
    for n in range(pairs):
        firms = {}
        for country in ("VN", "RU"):
            company = CompanyFactory(country=country, city="Hanoi" if country == "VN" else "Moscow")
            members = 2 if second_member_every and n % second_member_every == 0 else 1
            for m in range(members):
                user = UserFactory(username=f"{country.lower()}-{n}-{m}")
                MembershipFactory(company=company, user=user, language=languages[country][m])
                addresses.append(user.email)
            firms[country] = company
        services.approve([MatchFactory(company_vn=firms["VN"], company_ru=firms["RU"])], by=None)
    return addresses


def test_each_firm_gets_exactly_one_digest_and_a_second_run_sends_nothing(worker, sink):
    addresses = market(4)
    chamber = ChamberFactory(country="VN", slug="vcci-worker")
    staff = ChamberStaffFactory(chamber=chamber, user=UserFactory(username="vcci-reviewer", is_staff=True))
    ru_firm = Company.objects.filter(country="RU").first()
    MatchFactory(company_vn=CompanyFactory(country="VN", chamber=chamber), company_ru=ru_firm)  # waits for review

    worker.dispatch(WEEK)
    wait_until_settled(WEEK, deliveries=8 + 1)

    assert sink.per_recipient() == Counter({address: 1 for address in [*addresses, staff.user.email]})
    assert set(Match.objects.filter(status=Match.Status.INTRODUCED).values_list("pk", flat=True)) == set(
        Match.objects.exclude(status=Match.Status.SUGGESTED).values_list("pk", flat=True)
    )
    # Each reader in their own language: the Vietnamese and Russian texts are what is checked here.
    vi = sink.to("vn-0-0@example.com")[0]
    ru = sink.to("ru-0-0@example.com")[0]
    assert "giới thiệu" in vi["Subject"] and "Vì sao" in vi.get_body(("plain",)).get_content()
    assert "знакомств" in ru["Subject"] and "Почему" in ru.get_body(("plain",)).get_content()
    assert ru["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    worker.dispatch(WEEK)
    worker.dispatch(WEEK)
    time.sleep(3)  # long enough for the worker to run both dispatchers and whatever they queued
    assert "dispatch_weekly_digests" in worker.log.read_text().split("ready.", 1)[1]
    assert len(sink.received) == len(addresses) + 1


def test_a_worker_killed_mid_batch_and_restarted_still_sends_each_email_once(worker, sink):
    addresses = market(8)
    killed = threading.Event()

    def kill_at_the_seventh_message(count: int) -> str | None:
        if count == 6 and not killed.is_set():  # six accepted, the seventh is on the wire
            killed.set()
            worker.kill()
            return "421 4.3.2 Service shutting down"
        return None

    sink.before_accept = kill_at_the_seventh_message
    worker.dispatch(WEEK)
    assert killed.wait(60), "the worker never reached the seventh message"
    received_before_restart = len(sink.received)
    worker.start()
    wait_until_settled(WEEK, deliveries=16)

    counts = sink.per_recipient()
    duplicates = sum(n - 1 for n in counts.values() if n > 1)
    print(f"\ncrash test: {16} firms, {len(addresses)} readers, {received_before_restart} emails before the kill, "
          f"{len(sink.received)} received in all, {duplicates} duplicates, {len(addresses) - len(counts)} missing")
    assert counts == Counter({address: 1 for address in addresses})
    assert Match.objects.filter(status=Match.Status.INTRODUCED).count() == 8


def test_mail_refused_for_a_while_arrives_when_the_server_is_back_none_twice(worker, sink):
    addresses = market(3)
    sink.refuse_until = time.monotonic() + 3

    worker.dispatch(WEEK)
    wait_until_settled(WEEK, deliveries=6, timeout=90)

    assert sink.refusals > 0
    assert sink.per_recipient() == Counter({address: 1 for address in addresses})
    assert DigestDelivery.objects.filter(attempts__gt=1).exists()  # they were retried, not sent first time


def test_a_reader_refused_for_a_while_gets_the_digest_later_and_the_rest_of_the_batch_is_not_resent(worker, sink):
    addresses = market(4, second_member_every=0)  # eight firms, one batch
    refused = addresses[3]
    sink.refuse_reader_until[refused] = time.monotonic() + 3

    worker.dispatch(WEEK)
    wait_until_settled(WEEK, deliveries=8, timeout=90)

    assert sink.refusals > 0
    assert sink.per_recipient() == Counter({address: 1 for address in addresses})
    retried = DigestDelivery.objects.filter(attempts__gt=1)
    assert list(retried.values_list("company__memberships__user__email", flat=True)) == [refused]
    assert Match.objects.filter(status=Match.Status.INTRODUCED).count() == 4


def test_one_click_unsubscribe_stops_next_weeks_digest(worker, sink):
    market(1, second_member_every=0)
    worker.dispatch(WEEK)
    wait_until_settled(WEEK, deliveries=2)
    vn_reader = sink.to("vn-0-0@example.com")[0]
    unsubscribe = vn_reader["List-Unsubscribe"].split(",")[0].strip().strip("<>")

    response = Client(enforce_csrf_checks=True).post(unsubscribe.removeprefix("https://sme-match.example"),
                                                     {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    vn = Company.objects.get(country="VN")
    assert vn.memberships.get().digest == DigestFrequency.NONE

    newcomer = CompanyFactory(country="RU", city="Kazan")
    MembershipFactory(company=newcomer, user=UserFactory(username="kazan-0"))
    services.approve([MatchFactory(company_vn=vn, company_ru=newcomer)], by=None)
    worker.dispatch(NEXT_WEEK)
    # Three digests that week: the unsubscribed firm's (skipped), the newcomer's, and a reminder to the
    # Russian firm, which has not answered last week's introduction.
    wait_until_settled(NEXT_WEEK, deliveries=3)

    assert len(sink.to("vn-0-0@example.com")) == 1  # only last week's
    assert len(sink.to("kazan-0@example.com")) == 1
    assert len(sink.to("ru-0-0@example.com")) == 2
    assert DigestDelivery.objects.get(company=vn, iso_week=49).reason == "all members opted out"
