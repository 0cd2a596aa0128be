"""A real Celery worker process and a real SMTP server (aiosmtpd), for tests of tasks that send mail.

The worker is another process, so tests using it are transactional (it must see the rows they create); mark
them ``celery_worker``, ``redis`` and ``django_db(transaction=True)``, and ask for the ``worker`` and ``sink``
fixtures, which tests/conftest.py gives every test module.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from email import message_from_bytes, policy
from pathlib import Path

from celery import Celery
from django.db import connection

from tests.factories import SITE_URL

ROOT = Path(__file__).resolve().parent.parent


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


class Worker:
    """A `celery worker` process on the test database, the given Redis and the sink's SMTP port."""

    def __init__(self, redis_url: str, smtp_port: int, log_dir: Path) -> None:
        self.prefix = f"test-worker-{uuid.uuid4().hex[:8]}:"
        # Short visibility timeout and restore sweeps, so a task of a killed worker comes back in seconds
        # (kombu's defaults make that take about 100 s; see the stack notes).
        self.transport_options = {
            "global_keyprefix": self.prefix,
            "visibility_timeout": 5,
            "unacked_restore_interval": 1,
            "unacked_restore_throttle": 1,
        }
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
            "SITE_URL": SITE_URL,
        }
        self.redis_url, self.log_dir, self.process, self.starts = redis_url, log_dir, None, 0
        self.client = Celery("worker-tests", broker=redis_url)
        self.client.conf.broker_transport_options = self.transport_options

    def start(self) -> None:
        self.starts += 1
        log = self.log_dir / f"worker-{self.starts}.log"
        self.log = log
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--concurrency=1",
                "--loglevel=INFO",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
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

    def send(self, task: str, *args, **kwargs) -> None:
        """Queue a task by name, as another process of the service would."""
        self.client.send_task(task, args=args, kwargs=kwargs)

    def runs_finished(self, task: str) -> int:
        """How many runs of the task the worker finished (succeeded, retried or failed) since it started."""
        log = self.log.read_text().split("ready.", 1)[-1]
        return sum(
            1
            for line in log.splitlines()
            if f"Task {task}[" in line and any(word in line for word in ("] succeeded in ", "] retry: ", "] raised "))
        )

    def forget(self) -> None:
        import redis

        server = redis.Redis.from_url(self.redis_url)
        keys = list(server.scan_iter(f"{self.prefix}*"))
        if keys:
            server.delete(*keys)
