"""Each firm's agenda of a B2B event by email: in its readers' languages, once per version of the agenda."""

from __future__ import annotations

import re
import smtplib
import threading
import time
from collections import Counter
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.mail.backends import locmem
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.utils import timezone

from events import agendas, schedule, services
from events.emails import ALREADY, BUSY, NO_MEETINGS, agenda_url, send_agendas
from events.models import Event, Meeting, Participant
from events.tasks import send_event_agendas
from tests.factories import (
    CompanyFactory,
    EventFactory,
    InterpreterFactory,
    MembershipFactory,
    UserFactory,
    register_firm,
)

pytestmark = pytest.mark.usefixtures("site_url")

VN_READER, RU_READER = "lan-vn@example.com", "ivan-ru@example.com"


class Day:
    """A Vietnamese and a Russian firm, with no language in common, meeting once with an interpreter."""

    def __init__(self, *, members: bool = True, others: bool = False) -> None:
        self.event = EventFactory(slug="hanoi-b2b", name="Hanoi B2B day", venue="VCCI Tower, hall A")
        self.vn = CompanyFactory(country="VN", city="Hanoi", name="Sao Mai Pharma", languages=["vi"])
        self.ru = CompanyFactory(country="RU", city="Kazan", name="Vektor Diagnostika", languages=["ru"])
        if members:
            MembershipFactory(company=self.vn, user=UserFactory(username="lan-vn"), language="vi")
            MembershipFactory(company=self.ru, user=UserFactory(username="ivan-ru"), language="ru")
        self.interpreter = InterpreterFactory(event=self.event, name="Nguyen Thi Lan", pairs=["ru-vi"])
        self.vn_participant = register_firm(self.event, self.vn)
        self.ru_participant = register_firm(self.event, self.ru)
        self.request = services.request_meeting(self.vn_participant, self.ru_participant, staff=True)
        if others:  # registered while registration is open: one accepted firm without a meeting, one waiting
            self.idle = register_firm(self.event, CompanyFactory(country="RU", city="Omsk"))
            self.waiting = register_firm(self.event, CompanyFactory(country="RU", city="Tomsk"), accepted=False)
        schedule.build_event_schedule(self.event, time_limit=1)
        self.event.refresh_from_db()

    @property
    def meeting(self) -> Meeting:
        return Meeting.objects.select_related("slot").get(request=self.request)

    def send(self, **kwargs):
        return send_agendas(Event.objects.get(pk=self.event.pk), **kwargs)


def to(address: str) -> list:
    return [message for message in mail.outbox if address in message.to]


def local_times(meeting: Meeting) -> str:
    zone = ZoneInfo("Asia/Ho_Chi_Minh")
    starts, ends = timezone.localtime(meeting.slot.starts_at, zone), timezone.localtime(meeting.slot.ends_at, zone)
    return f"{starts:%H:%M}–{ends:%H:%M}"


def html_of(message) -> str:
    return message.alternatives[0][0]


def ics_of(message) -> tuple[str, str, str]:
    ((name, content, mimetype),) = message.attachments
    return name, content.decode() if isinstance(content, bytes) else content, mimetype


@pytest.mark.django_db
def test_each_firm_gets_its_agenda_once_in_its_readers_language():
    day = Day()
    summary = day.send()

    assert sorted(summary.sent) == sorted([day.vn_participant.pk, day.ru_participant.pk])
    assert [len(to(VN_READER)), len(to(RU_READER))] == [1, 1] and len(mail.outbox) == 2
    vn_mail, ru_mail = to(VN_READER)[0], to(RU_READER)[0]
    assert vn_mail.extra_headers["Content-Language"] == "vi"
    assert ru_mail.extra_headers["Content-Language"] == "ru"
    meeting = day.meeting
    for message, counterpart in ((vn_mail, day.ru), (ru_mail, day.vn)):
        assert "Hanoi B2B day" in message.subject
        for body in (message.body, html_of(message)):
            assert counterpart.name in body and counterpart.city in body
            assert local_times(meeting) in body  # the hall's clock, not UTC
            assert "Nguyen Thi Lan" in body  # the interpreter
            assert "VCCI Tower, hall A" in body
            assert agenda_url(day.event) in body
        assert re.search(rf"· \D*{meeting.table}\n", message.body)  # "· Table 2", in whichever language
        assert f">{meeting.table}</td>" in html_of(message)
        name, ics, mimetype = ics_of(message)
        assert (name, mimetype) == ("hanoi-b2b-agenda.ics", "text/calendar")
        assert ics.count("BEGIN:VEVENT") == 1 and counterpart.name in ics
    for participant in (day.vn_participant, day.ru_participant):
        participant.refresh_from_db()
        assert participant.agenda_sent_hash == agendas.fingerprint(agendas.agenda(participant))
        assert participant.agenda_sent_at is not None


@pytest.mark.django_db
def test_sending_again_sends_nothing_and_the_task_and_the_command_agree():
    day = Day()
    day.send()

    again = day.send()
    assert sorted(again.skipped[ALREADY]) == sorted([day.vn_participant.pk, day.ru_participant.pk])
    assert again.sent == [] and again.messages == 0
    assert send_event_agendas.delay(day.event.pk).get()["messages"] == 0
    call_command("send_event_agendas", "hanoi-b2b", verbosity=0)
    assert len(mail.outbox) == 2


@pytest.mark.django_db
def test_a_moved_meeting_sends_each_firm_its_new_agenda_once():
    day = Day()
    day.send()
    first = {address: to(address)[0] for address in (VN_READER, RU_READER)}
    before = day.meeting
    other_slot = day.event.slots.exclude(pk=before.slot_id).order_by("-starts_at").first()

    schedule.pin_meeting(day.request, other_slot, 3, day.interpreter)
    summary = day.send()

    assert len(summary.sent) == 2 and len(mail.outbox) == 4
    moved = day.meeting
    assert local_times(moved) != local_times(before)
    for address in (VN_READER, RU_READER):
        old, new = first[address], to(address)[-1]
        assert len(to(address)) == 2
        assert local_times(moved) in new.body and local_times(moved) in html_of(new)
        assert local_times(before) not in new.body
        assert re.search(r"· \D*3\n", new.body) and ">3</td>" in html_of(new)
        # A new version: a mail client must not take it for a copy of the first, and its subject differs.
        assert new.extra_headers["Message-ID"] != old.extra_headers["Message-ID"]
        assert new.subject != old.subject
        assert (
            timezone.localtime(moved.slot.starts_at, ZoneInfo("Asia/Ho_Chi_Minh")).strftime("%Y%m%dT%H%M")
            in ics_of(new)[1]
        )
    assert day.send().messages == 0  # and that version only once


@pytest.mark.django_db
def test_no_counterpart_contact_details_in_any_message():
    day = Day()
    day.send()

    for message in mail.outbox:
        whole = message.message().as_string()
        for company in (day.vn, day.ru):
            for secret in (company.contact_email, company.contact_name, company.contact_phone):
                assert (
                    secret not in message.body and secret not in html_of(message) and secret not in ics_of(message)[1]
                )
                assert secret not in whole


@pytest.mark.django_db
def test_a_firm_without_members_gets_it_at_its_contact_email_in_its_profiles_language():
    day = Day(members=False)
    day.send()

    assert sorted(address for message in mail.outbox for address in message.to) == sorted(
        [day.vn.contact_email, day.ru.contact_email]
    )
    ru_mail = to(day.ru.contact_email)[0]
    assert ru_mail.extra_headers["Content-Language"] == "ru"
    # Without an account the firm claims its profile first; the link then leads to the agenda.
    path = agenda_url(day.event).removeprefix("https://sme-match.example")
    assert re.search(rf"https://sme-match\.example/claim/\S+\?next={re.escape(path)}\s", ru_mail.body)


@pytest.mark.django_db
def test_only_accepted_firms_with_meetings_are_written_to_and_a_dry_run_sends_nothing():
    day = Day(others=True)
    idle, waiting = day.idle, day.waiting

    dry = day.send(dry_run=True)
    assert mail.outbox == [] and not Participant.objects.exclude(agenda_sent_hash="").exists()
    assert sorted(dry.sent) == sorted([day.vn_participant.pk, day.ru_participant.pk]) and dry.messages == 2

    summary = day.send()
    assert summary.skipped[NO_MEETINGS] == [idle.pk]
    assert waiting.pk in summary.skipped["not an accepted participant"]
    assert len(mail.outbox) == 2


@pytest.mark.django_db
def test_a_firm_whose_meetings_were_all_called_off_is_told_once():
    day = Day()
    day.send()

    services.cancel_request(day.request, day.vn_participant)
    day.send()

    assert len(mail.outbox) == 4
    for address in (VN_READER, RU_READER):
        notice = to(address)[-1]
        assert notice.attachments == []  # nothing to add to a calendar
        assert "Nguyen Thi Lan" not in notice.body
    assert day.send().messages == 0


@pytest.mark.django_db
def test_a_refused_reader_is_retried_later_and_the_other_firm_is_not_sent_again(settings):
    day = Day()
    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"
    RefusingBackend.refuse = {RU_READER}

    summary = day.send()
    assert (
        list(summary.failed) == [day.ru_participant.pk]
        and "SMTPRecipientsRefused" in summary.failed[day.ru_participant.pk]
    )
    assert [len(to(VN_READER)), len(to(RU_READER))] == [1, 0]
    day.ru_participant.refresh_from_db()
    assert day.ru_participant.agenda_sent_hash == ""  # not marked: the next run sends it

    RefusingBackend.refuse = set()
    assert sorted(day.send().skipped[ALREADY]) == [day.vn_participant.pk]
    assert [len(to(VN_READER)), len(to(RU_READER))] == [1, 1]


@pytest.mark.django_db
def test_a_retry_writes_only_to_the_readers_the_server_refused(settings):
    day = Day()
    second = "dmitry-ru@example.com"
    MembershipFactory(company=day.ru, user=UserFactory(username="dmitry-ru"), language="ru")
    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"
    RefusingBackend.refuse = {second}

    assert list(day.send().failed) == [day.ru_participant.pk]
    assert [len(to(RU_READER)), len(to(second))] == [1, 0]
    RefusingBackend.refuse = set()
    assert day.send().sent == [day.ru_participant.pk]
    assert [len(to(RU_READER)), len(to(second))] == [1, 1]  # Ivan is not written to twice
    day.ru_participant.refresh_from_db()
    assert day.ru_participant.agenda_sent_hash and day.ru_participant.agenda_sent_to == []
    assert day.send().messages == 0


class RefusingBackend(locmem.EmailBackend):
    """The test outbox behind a mail server that refuses some readers (451)."""

    refuse: set[str] = set()

    def send_messages(self, messages):
        for message in messages:
            for address in message.to:
                if address in RefusingBackend.refuse:
                    raise smtplib.SMTPRecipientsRefused({address: (451, b"4.3.0 try again later")})
        return super().send_messages(messages)


@pytest.mark.django_db(transaction=True)
def test_a_firm_another_worker_is_sending_is_skipped_as_busy_not_sent_twice(sectors_loaded, settings):
    settings.MATCHING_RECOMPUTE_ON_SAVE = False
    day = Day()
    held, release = threading.Event(), threading.Event()

    def other_worker() -> None:
        try:
            with transaction.atomic():
                list(Participant.objects.select_for_update().filter(pk=day.vn_participant.pk).order_by("pk"))
                held.set()
                release.wait(20)
        finally:
            connection.close()

    thread = threading.Thread(target=other_worker)
    thread.start()
    try:
        assert held.wait(20)
        summary = day.send()
    finally:
        release.set()
        thread.join()

    assert summary.skipped[BUSY] == [day.vn_participant.pk]
    assert [len(to(VN_READER)), len(to(RU_READER))] == [0, 1]
    assert day.send().sent == [day.vn_participant.pk]  # once it is free, this run sends it
    assert [len(to(VN_READER)), len(to(RU_READER))] == [1, 1]


@pytest.mark.django_db
def test_the_command_prints_what_it_would_send_and_refuses_an_unknown_event(capsys):
    day = Day()
    call_command("send_event_agendas", "hanoi-b2b", "--dry-run")
    out = capsys.readouterr().out
    assert "2 would send (2 emails)" in out and mail.outbox == []
    with pytest.raises(CommandError, match="No event"):
        call_command("send_event_agendas", "nowhere")
    Event.objects.filter(pk=day.event.pk).update(status=Event.Status.CANCELLED)
    assert day.send().sent == [] and mail.outbox == []


# --- on real parts: a Celery worker on Redis and an SMTP server -------------------------------------------


@pytest.mark.celery_worker
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_the_task_on_a_worker_twice_sends_each_reader_one_message(worker, sink):  # noqa: F811
    day = Day()
    task = "events.tasks.send_event_agendas"

    worker.send(task, day.event.pk)
    worker.send(task, day.event.pk)
    deadline = time.monotonic() + 60
    while worker.runs_finished(task) < 2:
        assert time.monotonic() < deadline, worker.log.read_text()
        time.sleep(0.2)

    assert sink.per_recipient() == Counter({VN_READER: 1, RU_READER: 1})
    vi, ru = sink.to(VN_READER)[0], sink.to(RU_READER)[0]
    assert (vi["Content-Language"], ru["Content-Language"]) == ("vi", "ru")
    assert day.ru.name in vi.get_body(("plain",)).get_content()
    calendar = next(part for part in ru.iter_attachments() if part.get_content_type() == "text/calendar")
    assert calendar.get_filename() == "hanoi-b2b-agenda.ics" and "BEGIN:VEVENT" in calendar.get_content()
    assert "" not in set(Participant.objects.values_list("agenda_sent_hash", flat=True))
