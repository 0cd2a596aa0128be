"""Each firm's agenda of a B2B event by email, in each reader's language, once per version of the agenda.

A version is what the agenda says (agendas.fingerprint: meetings, times, tables, counterparts, interpreters).
The participant row stores the fingerprint last sent (``agenda_sent_hash``), so:

1. **Lock.** Each firm is sent in its own transaction holding its participant row (SELECT … FOR UPDATE SKIP
   LOCKED). Another worker that reaches the same firm meanwhile skips it as BUSY instead of waiting and then
   sending it again; the lock goes with the worker's connection if it dies.
2. **Compare.** Under the lock the agenda is read afresh; the same fingerprint as the one sent means nothing
   to do. A moved meeting gives a new fingerprint, so the firm gets its new agenda.
3. **Send, then mark.** One message per reader (companies.recipients.firm_recipients); once the mail server
   accepted them all, the fingerprint and the time are written in the same transaction, which commits.

A reader the server refused fails the firm, but the readers it accepted before are committed with the version
(``agenda_sending_hash``, ``agenda_sent_to``), so the retry writes only to the others. A worker killed between
the server's "250 accepted" and the commit sends that firm's readers the agenda again; each message's
Message-ID is the same for one version and one reader, so a mail client shows such a copy once.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import quote
from zoneinfo import ZoneInfo

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation

from companies.mail import (
    SMTP_ERRORS,
    Mailer,
    claim_url,
    footer_links,
    message_domain,
    reader_key,
    unsubscribe_headers,
)
from companies.recipients import CONTACT, Recipient, firm_recipients
from events import agendas
from events.models import Event, LanguagePair, Participant

logger = logging.getLogger(__name__)

# Agendas go out while firms can still act on them; a draft, held or cancelled event has none to send.
SENDABLE_STATUSES = {Event.Status.OPEN, Event.Status.CLOSED, Event.Status.SCHEDULED}

# Why a participant got no email in a run (the keys of AgendaSummary.skipped).
ALREADY = "already sent"
BUSY = "busy"  # another worker holds the participant right now
NO_MEETINGS = "no meetings"
NO_READERS = "nobody to write to"
NOT_ACCEPTED = "not an accepted participant"


@dataclass
class AgendaSummary:
    """One run over an event's participants: who was sent their agenda, who was skipped and why, what failed."""

    event: str
    dry_run: bool = False
    sent: list[int] = field(default_factory=list)  # participant ids (would be sent, in a dry run)
    messages: int = 0  # accepted by the mail server (would be sent, in a dry run)
    skipped: dict[str, list[int]] = field(default_factory=dict)  # reason → participant ids
    failed: dict[int, str] = field(default_factory=dict)  # participant id → what went wrong
    notes: list[str] = field(default_factory=list)  # readers left out, and why

    def skip(self, reason: str, participant_id: int) -> None:
        self.skipped.setdefault(reason, []).append(participant_id)

    def as_dict(self) -> dict:
        # Plain JSON for the task's result and the worker log.
        return {
            "event": self.event,
            "dry_run": self.dry_run,
            "sent": len(self.sent),
            "messages": self.messages,
            "skipped": {reason: len(ids) for reason, ids in self.skipped.items()},
            "failed": {str(pk): reason for pk, reason in self.failed.items()},
            "notes": self.notes,
        }


def send_agendas(event: Event, participant_ids: Iterable[int] | None = None, *, dry_run: bool = False) -> AgendaSummary:
    """Email each accepted participant of the event (or those of ``participant_ids``) its agenda, unless
    this version of it was sent already. Safe to call any number of times, from any number of workers."""
    summary = AgendaSummary(event=f"{event} ({event.pk})", dry_run=dry_run)
    ids = list(dict.fromkeys(participant_ids)) if participant_ids is not None else None
    participants = list(
        event.participants.filter(**({"pk__in": ids} if ids is not None else {}))
        .select_related("company")
        .prefetch_related("company__memberships__user", "company__listings")
        .order_by("pk")  # one order for every worker
    )
    found = {participant.pk for participant in participants}
    for pk in ids or []:
        if pk not in found:  # another event's, or deleted since the run was queued
            summary.skip(NOT_ACCEPTED, pk)
    if event.status not in SENDABLE_STATUSES:
        summary.notes.append(f"the event is {event.status}: no agendas are sent")
        for participant in participants:
            summary.skip(f"the event is {event.status}", participant.pk)
        return summary
    mail = Mailer()
    try:
        for participant in participants:
            participant.event = event  # one Event instance for all: agendas read its time zone and venue
            if participant.status != Participant.Status.ACCEPTED:
                summary.skip(NOT_ACCEPTED, participant.pk)
                continue
            try:
                _send_agenda(participant, mail, summary)
            except SoftTimeLimitExceeded:
                raise
            except Exception as error:  # a bug or a lost database must not cost the other firms their agendas
                if not isinstance(error, SMTP_ERRORS):
                    logger.exception("agenda of %s for %s failed", participant.company, event)
                summary.failed[participant.pk] = f"{type(error).__name__}: {error}"[:300]
    finally:
        mail.close()
    return summary


def _send_agenda(participant: Participant, mail: Mailer, summary: AgendaSummary) -> None:
    recipients, left_out = firm_recipients(participant.company)
    summary.notes.extend(f"{participant.company}: {why}" for why in left_out)
    if summary.dry_run:
        items = agendas.agenda(participant)
        reason = _nothing_to_send(participant, items, agendas.fingerprint(items), recipients)
        if reason:
            summary.skip(reason, participant.pk)
        else:
            summary.sent.append(participant.pk)
            summary.messages += len(recipients)
        return
    with transaction.atomic():
        locked = (
            Participant.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(pk=participant.pk)
            .order_by("pk")
            .first()
        )
        if locked is None:  # held by another worker (or deleted this instant: the retry will tell)
            summary.skip(BUSY, participant.pk)
            return
        # The row as it is now (an earlier holder may have sent it), with what was already loaded for it.
        locked.event, locked.company = participant.event, participant.company
        if locked.status != Participant.Status.ACCEPTED:
            summary.skip(NOT_ACCEPTED, participant.pk)
            return
        items = agendas.agenda(locked)
        fp = agendas.fingerprint(items)
        reason = _nothing_to_send(locked, items, fp, recipients)
        if reason:
            summary.skip(reason, participant.pk)
            return
        reached = list(locked.agenda_sent_to) if locked.agenda_sending_hash == fp else []
        refused = None
        for recipient in recipients:
            if recipient.email in reached:
                continue
            try:
                mail.send(_render(locked, items, fp, recipient))
            except SMTP_ERRORS as error:
                refused = error
                break
            reached.append(recipient.email)
            summary.messages += 1
        row = Participant.objects.filter(pk=locked.pk)
        if refused is None:
            row.update(agenda_sent_hash=fp, agenda_sent_at=timezone.now(), agenda_sending_hash="", agenda_sent_to=[])
        else:  # committed with the readers reached; the error still fails the firm, so the retry comes
            row.update(agenda_sending_hash=fp, agenda_sent_to=reached)
    if refused is not None:
        raise refused
    summary.sent.append(participant.pk)


def _nothing_to_send(
    participant: Participant, items: list[agendas.AgendaItem], fp: str, recipients: list[Recipient]
) -> str | None:
    """Why this participant gets no email now, or None."""
    if fp == participant.agenda_sent_hash:
        return ALREADY
    # A firm that never had an agenda and has no meeting hears nothing; one whose meetings were all called
    # off after it got its agenda is told, or it would come for meetings that are no longer there.
    if not items and not participant.agenda_sent_hash:
        return NO_MEETINGS
    if not recipients:
        return NO_READERS
    return None


def agenda_url(event: Event) -> str:
    """The firm's agenda page. Its URL name comes with the event pages; until they are in, its known path."""
    try:
        path = reverse("event-agenda", args=[event.slug])
    except NoReverseMatch:
        path = f"/events/{event.slug}/agenda/"
    return settings.SITE_URL + path


def _reader_url(event: Event, participant: Participant, recipient: Recipient) -> str:
    url = agenda_url(event)
    if recipient.kind == CONTACT:  # a firm without an account claims its profile first, then sees its agenda
        return f"{claim_url(participant.company)}?next={quote(url.removeprefix(settings.SITE_URL))}"
    return url


def _pair_label(pair: str) -> str:
    return str(LanguagePair(pair).label) if pair in LanguagePair.values else pair


def _render(
    participant: Participant, items: list[agendas.AgendaItem], fp: str, recipient: Recipient
) -> EmailMultiAlternatives:
    event, company = participant.event, participant.company
    # Times in the event's own time zone: that is the clock in the hall, wherever the reader lives.
    with translation.override(recipient.language), timezone.override(ZoneInfo(event.time_zone)):
        context = {
            "recipient": recipient,
            "event": event,
            "firm": company,
            "count": len(items),
            "items": [
                {
                    "starts_at": item.starts_at,
                    "ends_at": item.ends_at,
                    "table": item.table,
                    # Name and place only: contact details are shared when both firms opt in, not here.
                    "counterpart": {
                        "name": item.counterpart.name,
                        "city": item.counterpart.city,
                        "country": item.counterpart.get_country_display(),
                    },
                    "interpreter": item.interpreter,
                    "language_pair": _pair_label(item.language_pair) if item.interpreter else "",
                }
                for item in items
            ],
            "place": ", ".join(part for part in (event.local_venue, event.local_city) if part),
            "updated": bool(participant.agenda_sent_hash),
            "previous_sent_at": participant.agenda_sent_at,
            "agenda_url": _reader_url(event, participant, recipient),
            "ics_name": f"{event.slug}-agenda.ics",
            **footer_links(recipient),
        }
        subject = " ".join(render_to_string("events/email/agenda_subject.txt", context).split())
        text = render_to_string("events/email/agenda.txt", context)
        html = render_to_string("events/email/agenda.html", context)
        ics = agendas.agenda_ics(participant, items) if items else None
    domain, reader = message_domain(), reader_key(recipient.email)
    message = EmailMultiAlternatives(
        subject=f"SME Match · {subject}",
        body=text,
        to=[recipient.email],
        headers={
            **unsubscribe_headers(context),
            # The same for every attempt at this version of the agenda to this reader, so a resent copy shows once.
            "Message-ID": f"<agenda-{participant.pk}-{fp[:16]}-{reader}@{domain}>",
            "Content-Language": recipient.language,
            "X-SME-Match-Agenda": f"{event.slug} {participant.pk}",
            "Auto-Submitted": "auto-generated",
        },
    )
    message.attach_alternative(html, "text/html")
    if ics is not None:  # an empty calendar would remove nothing from the reader's: the text says it instead
        message.attach(context["ics_name"], ics, "text/calendar")
    return message
