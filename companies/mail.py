"""Outgoing mail, whatever sends it (weekly digests, introductions, event agendas, the publication email): the
sender, the mail server's errors and the one retry policy for them, and the links every email carries.

Retry policy: a task whose mail the server refused, or could not be reached for, is retried with exponential
backoff and jitter (``retry_delay``), at most DIGEST_MAX_RETRIES times (``retry_refused``); after that the
caller logs it and what was not sent stays for the next run. Mail another worker is sending right now is
looked at again after ``busy_delay()`` seconds, with no retry spent on it.
"""

from __future__ import annotations

import hashlib
import random
import smtplib
from collections.abc import Mapping
from urllib.parse import quote

from celery import Task
from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.urls import reverse

from companies.models import Company
from companies.recipients import Recipient, claim_token

SMTP_ERRORS = (smtplib.SMTPException, OSError)  # refused, dropped, timed out: worth a retry


class Mailer:
    """One SMTP connection for many messages: opened on first use, and again after an error broke it. Once
    the server cannot even be reached, every later message fails at once with that error, so the rest of a
    batch is left to the retry instead of waiting on a dead server message by message."""

    def __init__(self) -> None:
        self._connection = None
        self._unreachable: Exception | None = None

    def send(self, message: EmailMultiAlternatives) -> None:
        if self._unreachable is not None:
            raise self._unreachable
        if self._connection is None:
            connection_ = get_connection()
            try:
                connection_.open()
            except SMTP_ERRORS as error:
                self._unreachable = error
                raise
            self._connection = connection_
        message.connection = self._connection
        try:
            message.send()
        except SMTP_ERRORS:
            self.close()  # a refused message may leave the session in any state: the next one starts afresh
            raise

    def close(self) -> None:
        if self._connection is not None:
            connection_, self._connection = self._connection, None
            connection_.close()


# --- headers and links ----------------------------------------------------------------------------


def message_domain() -> str:
    """The right-hand side of our Message-IDs: the sender's domain."""
    return settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1].rstrip(">") or "sme-match.example"


def reader_key(email: str) -> str:
    """A reader's part of a Message-ID: the same for every attempt at one email to one address, and no address
    in the header."""
    return hashlib.sha256(email.lower().encode()).hexdigest()[:16]


def unsubscribe_headers(links: Mapping[str, str]) -> dict[str, str]:
    """RFC 8058 one-click unsubscribe, plus the RFC 2369 mailto for clients that only know that; ``links`` holds
    the ``footer_links`` of the reader."""
    return {
        "List-Unsubscribe": f"<{links['unsubscribe_url']}>, <{links['unsubscribe_mailto']}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def claim_url(company: Company) -> str:
    return settings.SITE_URL + reverse("claim-profile", args=[claim_token(company)])


def footer_links(recipient: Recipient) -> dict:
    token = recipient.token
    return {
        "unsubscribe_url": settings.SITE_URL + reverse("unsubscribe", args=[token]),
        "preferences_url": settings.SITE_URL + reverse("email-preferences", args=[token]),
        "unsubscribe_mailto": f"mailto:{settings.DIGEST_UNSUBSCRIBE_MAILTO}?subject={quote('unsubscribe ' + token)}",
    }


# --- retries --------------------------------------------------------------------------------------


def retry_delay(retries: int) -> float:
    # Exponential backoff with jitter, so a mail server coming back is not hit by every retry at once.
    base = settings.DIGEST_RETRY_BACKOFF_BASE * (2**retries)
    return min(settings.DIGEST_RETRY_BACKOFF_MAX, base) * random.uniform(0.8, 1.2)


def retry_refused(task: Task, *, args: tuple | None = None, exc: BaseException | None = None) -> None:
    """Retry ``task`` (with ``args``, else its own) after the mail server refused it, while its retries last:
    raises celery's Retry then. Returns once they are spent, for the caller to log what is given up."""
    if task.request.retries < settings.DIGEST_MAX_RETRIES:
        raise task.retry(
            args=args, exc=exc, countdown=retry_delay(task.request.retries), max_retries=settings.DIGEST_MAX_RETRIES
        )


def busy_delay() -> float:
    """Seconds before looking again at mail another worker is sending right now."""
    return settings.DIGEST_BUSY_RETRY_SECONDS
