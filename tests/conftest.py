import os
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parent.parent.parent / "shared"


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix) -> None:
    """Two test runs on one server (two developers, or CI beside a run by hand) must not drop each
    other's test database, so each run gets its own, named after its process."""
    from pytest_django.fixtures import _set_suffix_to_test_databases

    _set_suffix_to_test_databases(suffix=str(os.getpid()))


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Every test database starts with the ISIC sectors, which nearly every profile refers to."""
    from collections import Counter

    from seeds.loader import load_sectors

    with django_db_blocker.unblock():
        load_sectors(Counter())


@pytest.fixture
def sectors_loaded(db):
    """Sectors for a transactional test, which may run after another one flushed the database."""
    from collections import Counter

    from seeds.loader import load_sectors

    load_sectors(Counter())


@pytest.fixture(autouse=True)
def _tasks_run_in_process(request):
    """Tasks run inside the test unless it is about a real worker (marked celery_worker): the same code path
    as the README's first command, whether or not REDIS_URL is set."""
    from config.celery import app

    if request.node.get_closest_marker("celery_worker"):
        yield
        return
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Throttling counters live in the cache: one test's requests must not throttle the next test."""
    from django.core.cache import cache

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
    from tests.factories import ChamberFactory

    return ChamberFactory(slug="vcci-test", name="VCCI test")


@pytest.fixture
def staff_client(client, vcci):
    """A signed-in member of VCCI's staff, who vets only VCCI's companies."""
    from companies.services import make_chamber_staff
    from tests.factories import UserFactory

    user = UserFactory(username="vcci-staff")
    make_chamber_staff(user, vcci)
    client.force_login(user)
    client.user = user
    return client


@pytest.fixture
def superuser_client(client):
    from tests.factories import UserFactory

    user = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(user)
    client.user = user
    return client


@pytest.fixture(autouse=True)
def _default_language():
    """A page served in Russian leaves Russian active in this thread (Django activates per request, and never
    resets): each test starts and ends in the default language."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def member_client(client):
    """A signed-in user who has no firm yet: the profile page's first visitor (password: MEMBER_PASSWORD)."""
    from tests.factories import MEMBER_PASSWORD, UserFactory

    user = UserFactory(username="lan@firm.example", email="lan@firm.example", password=MEMBER_PASSWORD)
    client.force_login(user)
    client.user = user
    return client
