"""What a deployment relies on: production settings pass Django's deploy checks, docker-compose is complete."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent


def test_production_settings_pass_the_deploy_checks():
    env = {
        # Production does not inherit the browser tests' allowance (tests/browser/conftest.py).
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": "x7#kP2$vQ9!mZ4&rT8*wL1^nB6@hJ3%cF5-dG0+sY7=eA2_uI9~oK4|pM8",
        "DJANGO_ALLOWED_HOSTS": "match.example.org",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_default_settings_are_flagged_by_the_deploy_checks():
    """The development defaults (DEBUG, a known key) must never pass for production."""
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "DEBUG" in result.stdout + result.stderr


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_runs_every_part_of_the_service(compose):
    assert {"db", "redis", "web", "worker", "beat", "mailpit"} <= set(compose["services"])
    services = compose["services"]
    assert services["db"]["image"].startswith("postgres:")
    assert services["redis"]["image"].startswith("redis:")
    assert "celery -A config worker" in services["worker"]["command"]
    assert "celery -A config beat" in services["beat"]["command"]
    assert "gunicorn config.wsgi" in services["web"]["command"]


@pytest.mark.parametrize("name", ["web", "worker", "beat"])
def test_compose_app_services_get_the_real_backends(compose, name):
    service = compose["services"][name]
    env = service["environment"]
    assert env["DATABASE_URL"].startswith("postgres://") and "@db:5432/" in env["DATABASE_URL"]
    assert env["REDIS_URL"] == "redis://redis:6379/0"
    assert env["EMAIL_URL"].startswith("smtp://mailpit:")
    assert env["DJANGO_DEBUG"] == "false" and "DJANGO_SECRET_KEY" in env
    assert {"db", "redis"} <= set(service["depends_on"])
    assert (ROOT / service["build"] / "Dockerfile").exists()
