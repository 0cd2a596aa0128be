"""Weekly digests on real parts: a Celery worker process on Redis and an SMTP server (aiosmtpd) in this process.

The worker is another process, so these tests are transactional: it must see the rows they create.
"""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest
from django.test import Client

from companies.models import Company, DigestFrequency
from matchmaking import services
from matchmaking.models import DigestDelivery, Match
from tests.factories import (
    ChamberFactory,
    ChamberStaffFactory,
    CompanyFactory,
    MatchFactory,
    MembershipFactory,
    UserFactory,
)

pytestmark = [pytest.mark.celery_worker, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

WEEK, NEXT_WEEK = "2026-W48", "2026-W49"
DISPATCH = "matchmaking.tasks.dispatch_weekly_digests"
SETTLED = [DigestDelivery.Status.SENT, DigestDelivery.Status.SKIPPED]


def dispatch(worker, week: str, **kwargs) -> None:
    worker.send(DISPATCH, week=week, **kwargs)


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

    dispatch(worker, WEEK)
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

    dispatch(worker, WEEK)
    dispatch(worker, WEEK)
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
    dispatch(worker, WEEK)
    assert killed.wait(60), "the worker never reached the seventh message"
    received_before_restart = len(sink.received)
    worker.start()
    wait_until_settled(WEEK, deliveries=16)

    counts = sink.per_recipient()
    duplicates = sum(n - 1 for n in counts.values() if n > 1)
    print(
        f"\ncrash test: {16} firms, {len(addresses)} readers, {received_before_restart} emails before the kill, "
        f"{len(sink.received)} received in all, {duplicates} duplicates, {len(addresses) - len(counts)} missing"
    )
    assert counts == Counter({address: 1 for address in addresses})
    assert Match.objects.filter(status=Match.Status.INTRODUCED).count() == 8


def test_mail_refused_for_a_while_arrives_when_the_server_is_back_none_twice(worker, sink):
    addresses = market(3)
    sink.refuse_until = time.monotonic() + 3

    dispatch(worker, WEEK)
    wait_until_settled(WEEK, deliveries=6, timeout=90)

    assert sink.refusals > 0
    assert sink.per_recipient() == Counter({address: 1 for address in addresses})
    assert DigestDelivery.objects.filter(attempts__gt=1).exists()  # they were retried, not sent first time


def test_a_reader_refused_for_a_while_gets_the_digest_later_and_the_rest_of_the_batch_is_not_resent(worker, sink):
    addresses = market(4, second_member_every=0)  # eight firms, one batch
    refused = addresses[3]
    sink.refuse_reader_until[refused] = time.monotonic() + 3

    dispatch(worker, WEEK)
    wait_until_settled(WEEK, deliveries=8, timeout=90)

    assert sink.refusals > 0
    assert sink.per_recipient() == Counter({address: 1 for address in addresses})
    retried = DigestDelivery.objects.filter(attempts__gt=1)
    assert list(retried.values_list("company__memberships__user__email", flat=True)) == [refused]
    assert Match.objects.filter(status=Match.Status.INTRODUCED).count() == 4


def test_one_click_unsubscribe_stops_next_weeks_digest(worker, sink):
    market(1, second_member_every=0)
    dispatch(worker, WEEK)
    wait_until_settled(WEEK, deliveries=2)
    vn_reader = sink.to("vn-0-0@example.com")[0]
    unsubscribe = vn_reader["List-Unsubscribe"].split(",")[0].strip().strip("<>")

    response = Client(enforce_csrf_checks=True).post(
        unsubscribe.removeprefix("https://sme-match.example"), {"List-Unsubscribe": "One-Click"}
    )
    assert response.status_code == 200
    vn = Company.objects.get(country="VN")
    assert vn.memberships.get().digest == DigestFrequency.NONE

    newcomer = CompanyFactory(country="RU", city="Kazan")
    MembershipFactory(company=newcomer, user=UserFactory(username="kazan-0"))
    services.approve([MatchFactory(company_vn=vn, company_ru=newcomer)], by=None)
    dispatch(worker, NEXT_WEEK)
    # Three digests that week: the unsubscribed firm's (skipped), the newcomer's, and a reminder to the
    # Russian firm, which has not answered last week's introduction.
    wait_until_settled(NEXT_WEEK, deliveries=3)

    assert len(sink.to("vn-0-0@example.com")) == 1  # only last week's
    assert len(sink.to("kazan-0@example.com")) == 1
    assert len(sink.to("ru-0-0@example.com")) == 2
    assert DigestDelivery.objects.get(company=vn, iso_week=49).reason == "all members opted out"
