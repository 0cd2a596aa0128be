"""Celery tasks of companies: thin wrappers around services, safe to run twice."""

from celery import shared_task

from companies import publication_mail
from companies.mail import SMTP_ERRORS, retry_refused


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True)
def send_published_email(self, change_id: int) -> int:
    """Tell the firm's members that the publication ``change_id`` made it visible (publication_mail)."""
    try:
        return publication_mail.send_published_email(change_id)
    except SMTP_ERRORS as error:
        # A mail server that is down is retried by the mail retry policy; the publication itself has long committed.
        retry_refused(self, exc=error)
        raise
