"""Issue 15, accounts: sign-up and its verification link cannot take over an account, sign-up does not tell which
addresses have accounts, log-in lock-outs count per user and client address (behind proxies too), production
refuses the development key, and /healthz keeps database errors to the log."""

import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.core import mail
from django.db import OperationalError
from django.test import Client

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "Mekong-Volga-2026!"
ATTACKER_PASSWORD = "Attacker-Chose-This-1!"
VERIFY_LINK = re.compile(r"http://testserver(/accounts/verify/\S+/)")
LOGIN = "/accounts/login/"


def sign_up(client: Client, email: str, password: str = PASSWORD, **extra) -> None:
    # The password fields are sent as a person filling in the old form would; the sign-up may ignore them.
    response = client.post("/accounts/signup/", {"email": email, "password1": password, "password2": password}, **extra)
    assert response.status_code == 302 and response.url == "/accounts/signup/sent/"


def mails_to(email: str) -> list:
    return [message for message in mail.outbox if email in message.to]


def link_in(message) -> str:
    return VERIFY_LINK.search(message.body).group(1)


def confirm(client: Client, link: str, password: str = PASSWORD):
    """Open a verification link and choose the account's password on the page it leads to."""
    opened = client.get(link)
    assert opened.status_code == 302, opened.status_code
    return client.post(opened.url, {"new_password1": password, "new_password2": password})


def logs_in(email: str, password: str, **extra) -> bool:
    client = Client()
    response = client.post(LOGIN, {"username": email, "password": password}, **extra)
    return response.status_code == 302 and "_auth_user_id" in client.session


def is_signed_in(client: Client) -> bool:
    return client.get("/my/profile/").status_code == 200


# --- item 2: a second sign-up never changes an account's password ------------------------------------------


def test_a_second_sign_up_does_not_replace_the_password_of_an_unverified_account():
    owner, attacker = Client(), Client()
    sign_up(owner, "lan@firm.example")
    first_link = link_in(mails_to("lan@firm.example")[-1])
    sign_up(attacker, "lan@firm.example", password=ATTACKER_PASSWORD)

    response = confirm(owner, first_link)

    assert response.status_code == 302 and response.url == "/my/profile/" and is_signed_in(owner)
    assert not logs_in("lan@firm.example", ATTACKER_PASSWORD)
    assert logs_in("lan@firm.example", PASSWORD)


def test_a_sign_up_for_an_active_account_changes_nothing_of_it():
    UserFactory(username="lan@firm.example", email="lan@firm.example", password=PASSWORD)
    sign_up(Client(), "lan@firm.example", password=ATTACKER_PASSWORD)

    assert logs_in("lan@firm.example", PASSWORD) and not logs_in("lan@firm.example", ATTACKER_PASSWORD)
    assert not VERIFY_LINK.search(mails_to("lan@firm.example")[-1].body)  # no link that could open the account


# --- item 10: sign-up does not reveal which addresses have accounts ----------------------------------------


def test_sign_up_answers_alike_for_known_and_unknown_addresses():
    UserFactory(username="known@firm.example", email="known@firm.example", password=PASSWORD)
    pages = {}
    for email in ("known@firm.example", "unknown@firm.example"):
        client = Client()
        response = client.post(
            "/accounts/signup/",
            {"email": email, "password1": ATTACKER_PASSWORD, "password2": ATTACKER_PASSWORD},
            follow=True,
        )
        assert response.status_code == 200 and response.redirect_chain == [("/accounts/signup/sent/", 302)]
        pages[email] = re.sub(r'name="csrfmiddlewaretoken" value="\w+"', "", response.text.replace(email, "ADDRESS"))
        assert "already exists" not in response.text
    assert pages["known@firm.example"] == pages["unknown@firm.example"]
    assert len(mails_to("known@firm.example")) == 1 and len(mails_to("unknown@firm.example")) == 1


def test_the_owner_of_an_active_account_is_told_in_the_readers_language_with_login_and_reset_links():
    UserFactory(username="lan@firm.example", email="lan@firm.example", password=PASSWORD)
    sign_up(Client(), "lan@firm.example", HTTP_ACCEPT_LANGUAGE="vi")

    [message] = mails_to("lan@firm.example")
    assert "http://testserver/accounts/login/" in message.body
    assert "http://testserver/accounts/password-reset/" in message.body
    assert "Đăng nhập" in message.body and "Đặt lại mật khẩu" in message.body  # "Log in", "Reset your password"


# --- item 3: the verification link is single-use and never logs in an active account -----------------------


def test_the_verification_link_works_once():
    client = Client()
    sign_up(client, "lan@firm.example")
    link = link_in(mails_to("lan@firm.example")[-1])
    confirm(client, link)
    assert is_signed_in(client)

    again = Client()
    response = again.get(link, follow=True)

    assert response.status_code == 404 and not is_signed_in(again)
    assert "/accounts/login/" in response.text  # the page says to log in instead


def test_a_used_link_does_not_log_in_after_a_password_reset_or_once_the_account_is_staff():
    client = Client()
    sign_up(client, "lan@firm.example")
    link = link_in(mails_to("lan@firm.example")[-1])
    confirm(client, link)
    client.post("/accounts/password-reset/", {"email": "lan@firm.example"})
    reset = re.search(r"http://testserver(/accounts/reset/\S+/)", mails_to("lan@firm.example")[-1].body).group(1)
    resetter = Client()
    resetter.post(resetter.get(reset).url, {"new_password1": "Another-2027!", "new_password2": "Another-2027!"})
    assert logs_in("lan@firm.example", "Another-2027!")
    get_user_model().objects.filter(username="lan@firm.example").update(is_staff=True)

    stranger = Client()
    stranger.get(link, follow=True)
    assert "_auth_user_id" not in stranger.session


def test_a_password_set_on_an_unverified_account_kills_its_link():
    sign_up(Client(), "lan@firm.example")
    link = link_in(mails_to("lan@firm.example")[-1])
    user = get_user_model().objects.get(username="lan@firm.example")
    user.set_password("Set-By-Staff-2026!")
    user.save()

    stranger = Client()
    response = stranger.get(link, follow=True)

    assert response.status_code == 404 and "_auth_user_id" not in stranger.session


# --- item 9: lock-outs count per user and client address ---------------------------------------------------


def fail_logins(email: str, times: int, **extra) -> None:
    for _ in range(times):
        Client().post(LOGIN, {"username": email, "password": "wrong"}, **extra)


def test_one_users_failures_from_one_address_do_not_lock_them_out_elsewhere(settings):
    UserFactory(username="lan@firm.example", email="lan@firm.example", password=PASSWORD)
    fail_logins("lan@firm.example", settings.AXES_FAILURE_LIMIT, REMOTE_ADDR="203.0.113.9")

    assert not logs_in("lan@firm.example", PASSWORD, REMOTE_ADDR="203.0.113.9")  # the attacker's address is locked
    assert logs_in("lan@firm.example", PASSWORD, REMOTE_ADDR="198.51.100.7")  # the owner's is not


def test_failures_for_many_users_from_one_address_do_not_lock_another_user(settings):
    UserFactory(username="lan@firm.example", email="lan@firm.example", password=PASSWORD)
    for n in range(settings.AXES_FAILURE_LIMIT):
        fail_logins(f"guess{n}@firm.example", 1, REMOTE_ADDR="203.0.113.9")

    assert logs_in("lan@firm.example", PASSWORD, REMOTE_ADDR="203.0.113.9")


def test_failures_during_a_lock_out_do_not_restart_its_cool_off(settings):
    UserFactory(username="lan@firm.example", email="lan@firm.example", password=PASSWORD)
    fail_logins("lan@firm.example", settings.AXES_FAILURE_LIMIT)
    locked_at = AccessAttempt.objects.get(username="lan@firm.example").attempt_time

    fail_logins("lan@firm.example", 3)

    assert AccessAttempt.objects.get(username="lan@firm.example").attempt_time == locked_at


def test_behind_one_trusted_proxy_the_forwarded_address_is_the_one_counted(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    UserFactory(username="lan@firm.example", email="lan@firm.example", password=PASSWORD)
    proxy = {"REMOTE_ADDR": "10.0.0.2"}
    # The attacker also forges an entry; only the one the proxy appended counts.
    fail_logins(
        "lan@firm.example", settings.AXES_FAILURE_LIMIT, HTTP_X_FORWARDED_FOR="198.51.100.7, 203.0.113.9", **proxy
    )

    assert not logs_in("lan@firm.example", PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.9", **proxy)
    assert logs_in("lan@firm.example", PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.7", **proxy)


def test_without_trusted_proxies_a_forwarded_address_is_ignored(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    UserFactory(username="lan@firm.example", email="lan@firm.example", password=PASSWORD)
    fail_logins(
        "lan@firm.example", settings.AXES_FAILURE_LIMIT, REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="192.0.2.1"
    )

    assert not logs_in("lan@firm.example", PASSWORD, REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="192.0.2.2")


@pytest.mark.parametrize(
    "path, data",
    [
        (
            "/accounts/signup/",
            lambda n: {"email": f"bot{n}@spam.example", "password1": PASSWORD, "password2": PASSWORD},
        ),
        ("/accounts/password-reset/", lambda n: {"email": f"bot{n}@spam.example"}),
        (LOGIN, lambda n: {"username": f"bot{n}@spam.example", "password": "wrong"}),
    ],
)
def test_rate_limits_count_the_client_behind_the_proxy_not_the_proxy(settings, path, data):
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = {"REMOTE_ADDR": "10.0.0.2"}
    limit = {"/accounts/signup/": 5, "/accounts/password-reset/": 5, LOGIN: 20}[path]
    statuses = [
        Client().post(path, data(n), HTTP_X_FORWARDED_FOR="203.0.113.9", **proxy).status_code for n in range(limit + 1)
    ]
    assert statuses[-1] == 403  # the noisy client is limited...
    other = Client().post(path, data(99), HTTP_X_FORWARDED_FOR="198.51.100.7", **proxy)
    assert other.status_code != 403  # ...and another client of the same proxy is not


# --- item 4: production refuses to start on the development key -------------------------------------------


def test_production_without_a_secret_key_stops_with_a_clear_message():
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env |= {"DJANGO_DEBUG": "false", "DJANGO_ALLOWED_HOSTS": "match.example.org"}
    for command in (["check"], ["check", "--deploy"]):
        result = subprocess.run(
            [sys.executable, "manage.py", *command], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
        )
        assert result.returncode != 0
        assert "ImproperlyConfigured" in result.stderr and "DJANGO_SECRET_KEY" in result.stderr


# --- item 13: /healthz says only "unavailable" --------------------------------------------------------------


def test_healthz_hides_the_database_error_and_logs_it(client, monkeypatch, caplog):
    detail = 'connection to server at "10.1.2.3", port 5432 failed: password authentication failed for user "sme"'

    class BrokenConnection:
        def cursor(self):
            raise OperationalError(detail)

    monkeypatch.setattr("config.urls.connection", BrokenConnection())
    with caplog.at_level(logging.ERROR):
        response = client.get("/healthz")

    assert response.status_code == 503 and response.json() == {"status": "error", "database": "unavailable"}
    assert detail in caplog.text


def test_a_sign_up_first_with_a_firms_contact_address_neither_blocks_its_claim_nor_keeps_a_way_in():
    """Someone signs up with the contact address of a firm its chamber imported, before the firm claims its
    profile: the claim link (mailed to that address) still works, and the sign-up's link dies with it."""
    from companies.services import claim_company
    from tests.factories import CompanyFactory

    firm = CompanyFactory(
        country="RU", city="Kazan", consent_purposes=[], consent_given_at=None, contact_email="director@kazan.example"
    )
    squatter = Client()
    sign_up(squatter, "director@kazan.example", ATTACKER_PASSWORD)
    squatters_link = link_in(mails_to("director@kazan.example")[-1])

    membership = claim_company(
        firm,
        email="director@kazan.example",
        password=PASSWORD,
        consent_purposes=["matching", "share_profile", "cross_border"],
        language="ru",
    )

    assert (
        membership.user.is_active
        and get_user_model().objects.filter(email__iexact="director@kazan.example").count() == 1
    )
    assert logs_in("director@kazan.example", PASSWORD) and not logs_in("director@kazan.example", ATTACKER_PASSWORD)
    assert squatter.get(squatters_link).status_code == 404
