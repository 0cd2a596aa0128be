"""Celery tasks of B2B events: thin wrappers around events.emails, safe to run twice."""

import logging

from celery import shared_task

from companies.mail import busy_delay, retry_refused
from events import emails
from events.models import Event

logger = logging.getLogger(__name__)


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True)
def send_event_agendas(self, event_id: int, participant_ids: list[int] | None = None) -> dict:
    """Email the event's participants (or those given) their agendas; any number of runs send each version of
    a firm's agenda once. The mail server's refusals are caught firm by firm (one refused firm must not keep
    the others from theirs), so a retry carries only the firms that failed, by companies.mail's retry policy."""
    event = Event.objects.select_related("organiser").filter(pk=event_id).first()
    if event is None:
        return {"event": event_id, "skipped": "the event was deleted"}
    summary = emails.send_agendas(event, participant_ids)
    busy = summary.skipped.get(emails.BUSY, [])
    failed = sorted(summary.failed)
    if busy and not self.request.is_eager:  # eager: nobody to wait for
        # Another worker is sending them; look again later, with no retry budget spent, in case the schedule
        # changed after that worker read it.
        send_event_agendas.apply_async((event_id, busy), countdown=busy_delay())
    if failed and not self.request.is_eager:  # eager: the caller would wait; a later run resumes them
        retry_refused(self, args=(event_id, failed))
        logger.error(
            "agendas of %s: %d firm(s) failed after %d retries: %s",
            event,
            len(failed),
            self.request.retries,
            "; ".join(f"{pk}: {summary.failed[pk]}" for pk in failed),
        )
    return summary.as_dict()
