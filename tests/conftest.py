import os
import socket
from collections import Counter
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from django.conf import settings as django_settings
from django.core.cache import cache
from django.utils import translation
from pytest_django.fixtures import _set_suffix_to_test_databases

from companies.models import Listing
from companies.services import make_chamber_staff
from config.celery import app as celery_app
from seeds.loader import load_sectors
from tests.factories import (
    MEMBER_PASSWORD,
    RU_OFFER,
    SITE_URL,
    VN_NEED,
    ChamberFactory,
    CompanyFactory,
    EventFactory,
    ListingFactory,
    UserFactory,
    register_firm,
)
from tests.workers import MailSink, Worker

SHARED = Path(__file__).resolve().parent.parent.parent / "shared"


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix) -> None:
    """Two test runs on one server (two developers, or CI beside a run by hand) must not drop each
    other's test database, so each run gets its own, named after its process."""
    _set_suffix_to_test_databases(suffix=str(os.getpid()))


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Every test database starts with the ISIC sectors, which nearly every profile refers to."""
    with django_db_blocker.unblock():
        load_sectors(Counter())


@pytest.fixture
def sectors_loaded(db):
    """Sectors for a transactional test, which may run after another one flushed the database."""
    load_sectors(Counter())


@pytest.fixture(autouse=True)
def _tasks_run_in_process(request):
    """Tasks run inside the test unless it is about a real worker (marked celery_worker): the same code path
    as the README's first command, whether or not REDIS_URL is set."""
    if request.node.get_closest_marker("celery_worker"):
        yield
        return
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Throttling counters live in the cache: one test's requests must not throttle the next test."""
    cache.clear()


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.skip(f"shared folder not found at {SHARED}")
    return SHARED


@pytest.fixture
def redis_url() -> str:
    url = os.environ.get("REDIS_URL")
    if not url:
        pytest.skip("needs a Redis server: set REDIS_URL")
    return url


# --- admin clients, shared by the admin tests of both apps ---------------------------------------


@pytest.fixture
def vcci():
    return ChamberFactory(slug="vcci-test", name="VCCI test")


@pytest.fixture
def staff_client(client, vcci):
    """A signed-in member of VCCI's staff, who vets only VCCI's companies."""
    user = UserFactory(username="vcci-staff")
    make_chamber_staff(user, vcci)
    client.force_login(user)
    client.user = user
    return client


@pytest.fixture
def superuser_client(client):
    user = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(user)
    client.user = user
    return client


@pytest.fixture(autouse=True)
def _default_language():
    """A page served in Russian leaves Russian active in this thread (Django activates per request, and never
    resets): each test starts and ends in the default language."""
    translation.activate(django_settings.LANGUAGE_CODE)
    yield
    translation.activate(django_settings.LANGUAGE_CODE)


@pytest.fixture
def member_client(client):
    """A signed-in user who has no firm yet: the profile page's first visitor (password: MEMBER_PASSWORD)."""
    user = UserFactory(username="lan@firm.example", email="lan@firm.example", password=MEMBER_PASSWORD)
    client.force_login(user)
    client.user = user
    return client


@pytest.fixture
def site_url(settings) -> str:
    """The site's address in the links of mails (the test worker's too). Modules that read links ask for it:
    ``pytestmark = pytest.mark.usefixtures("site_url")``."""
    settings.SITE_URL = SITE_URL
    return SITE_URL


# --- a real SMTP server and a real Celery worker (tests/workers.py) ------------------------------------------


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


@pytest.fixture
def worker(sectors_loaded, redis_url, sink, tmp_path, settings):
    # These tests build their matches directly; a recompute queued by a profile save would drop them.
    settings.MATCHING_RECOMPUTE_ON_SAVE = False
    worker = Worker(redis_url, sink.port, tmp_path)
    worker.start()
    yield worker
    worker.kill()  # before the test database is flushed or dropped
    worker.forget()


# --- firms shared by several modules -----------------------------------------------------------------------


@pytest.fixture
def vn_firm():
    """A Hanoi maker of medical equipment, with a member's full contact, that needs rapid tests (VN_NEED)."""
    company = CompanyFactory(
        name="Công ty Thiết bị Y tế Hà Nội",
        country="VN",
        contact_name="Nguyễn Văn Hùng",
        contact_email="hung@thietbi.example",
        contact_phone="+84 24 1111 2222",
        website="https://thietbi.example",
        external_id="vn-42",
        sectors=["21"],
    )
    ListingFactory(company=company, direction=Listing.Direction.NEED, text=VN_NEED)
    return company


@pytest.fixture
def ru_firm():
    """A Novosibirsk maker of rapid tests (RU_OFFER), with a full contact."""
    company = CompanyFactory(
        name="ООО «Экспресс-Диагностика»",
        country="RU",
        city="Novosibirsk",
        contact_name="Иван Петров",
        contact_email="ivan@diag.example",
        contact_phone="+7 383 000 00 00",
    )
    ListingFactory(company=company, text=RU_OFFER)
    return company


@pytest.fixture
def coffee_pair():
    """An open event with a Vietnamese coffee roaster and a Russian buyer looking for one, both accepted."""
    event = EventFactory(name="Hanoi coffee B2B day", slug="hanoi-coffee")
    vn = CompanyFactory(name="Tay Nguyen Roasters", country="VN", city="Buon Ma Thuot")
    ru = CompanyFactory(
        name="Volga Coffee Trading",
        country="RU",
        city="Kazan",
        contact_name="Ivan Petrov",
        contact_email="ivan@volga.example",
        contact_phone="+7 843 000 00 00",
    )
    ListingFactory(company=vn, direction=Listing.Direction.OFFER, text="Robusta coffee beans, roasted")
    ListingFactory(company=ru, direction=Listing.Direction.NEED, text="Vietnamese robusta coffee supplier")
    return event, register_firm(event, vn), register_firm(event, ru)
