"""Celery tasks of companies: thin wrappers around services, safe to run twice."""

from smtplib import SMTPException

from celery import shared_task

from companies import publication_mail


# A mail server that is down is retried with backoff; the publication itself has long committed.
@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(SMTPException, OSError),
    retry_backoff=True,
    max_retries=5,
)
def send_published_email(change_id: int) -> int:
    """Tell the firm's members that the publication ``change_id`` made it visible (publication_mail)."""
    return publication_mail.send_published_email(change_id)
