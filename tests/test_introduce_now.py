"""Introduce now (issue 17, item 5): staff approve a pair and both firms hear of it at once, not next Monday.

The email is the digest's own (its links, its languages, its exactly-once rules), sent by a task queued after the
commit; the weekly digest then counts it as told. The service takes a match as given: checking that the staff
member may see it (their chamber's pairs) is its caller's job, the admin's.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from companies import services as company_services
from companies.models import Company, DigestFrequency, Source
from matchmaking import services, tasks
from matchmaking.digests.delivery import Status, deliver_firm_digest, deliver_firm_digests
from matchmaking.digests.weeks import IsoWeek
from matchmaking.models import DigestDelivery, DigestItem, Match, MatchEvent
from tests.factories import (
    CompanyFactory,
    ListingFactory,
    MatchFactory,
    MembershipFactory,
    UserFactory,
    firm_with_member,
)

pytestmark = pytest.mark.usefixtures("site_url")

OFFER = "Экспресс-тесты для диагностики инфекций"
NEED = "Nhà phân phối thiết bị y tế tại Hà Nội"
REASONS = [
    {"kind": "need_met", "data": {"need": NEED, "offer": OFFER, "need_ref": 1, "offer_ref": 2, "similarity": 0.8}}
]
ALL_THREE = ["cross_border", "matching", "share_profile"]


@pytest.fixture(autouse=True)
def _matches_by_hand(settings):
    settings.MATCHING_RECOMPUTE_ON_SAVE = False  # these tests build their matches by hand


@pytest.fixture
def reviewer(vcci):
    from companies.services import make_chamber_staff

    user = UserFactory(username="vcci-reviewer")
    make_chamber_staff(user, vcci)
    return user


@pytest.fixture
def introduce(reviewer, django_capture_on_commit_callbacks):
    """What the workbench's "introduce now" does: the service, then its task once the transaction commits."""

    def run(match: Match) -> None:
        with django_capture_on_commit_callbacks(execute=True):
            services.introduce_now(match, by=reviewer)

    return run


def reader(company: Company) -> str:
    return company.memberships.order_by("pk").first().user.email


def sent_to(address: str) -> list:
    return [message for message in mail.outbox if address in message.to]


def imported(**fields) -> Company:
    """A firm its chamber imported and published without any consent: shown to nobody, written to at its contact."""
    return CompanyFactory(
        source=Source.IMPORT, consent_version="", consent_purposes=[], consent_given_at=None, **fields
    )


def now_week(weeks: int = 0) -> IsoWeek:
    return IsoWeek(*(IsoWeek.current().monday + timedelta(weeks=weeks)).isocalendar()[:2])


# --- in process ------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_suggestion_introduced_now_is_approved_by_the_reviewer_and_both_firms_get_it_in_their_languages(
    introduce,
    reviewer,
):
    vn = firm_with_member("VN", language="vi", name="Tan Phat Medical")
    MembershipFactory(company=vn, user=UserFactory(email="en-reader@example.com"), language="en")
    ru = firm_with_member("RU", language="ru", name="Vektor Diagnostika")
    ListingFactory(company=ru, text=OFFER)
    match = MatchFactory(company_vn=vn, company_ru=ru, reasons=REASONS)

    introduce(match)

    vi_mail, en_mail = (sent_to(m.user.email)[0] for m in vn.memberships.order_by("pk"))
    [ru_mail] = sent_to(reader(ru))
    assert len(mail.outbox) == 3
    assert "1 lời giới thiệu mới" in vi_mail.subject and "Vì sao" in vi_mail.body
    assert en_mail.subject == "SME Match · 1 new introduction for Tan Phat Medical"
    assert "Vektor Diagnostika" in en_mail.body and OFFER in en_mail.body
    assert "1 новое знакомство" in ru_mail.subject and "Tan Phat Medical" in ru_mail.body
    for message in (vi_mail, en_mail, ru_mail):
        assert "https://sme-match.example/introductions/answer/" in message.body
        assert "https://sme-match.example/email/preferences/" in message.body
        assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert vn.contact_email not in message.body and ru.contact_email not in message.body
    match.refresh_from_db()
    assert match.status == Match.Status.INTRODUCED
    approval = match.events.get(action="approved")
    assert (approval.actor, approval.from_status) == (reviewer, Match.Status.SUGGESTED)
    assert match.events.filter(action="introduced").count() == 1


@pytest.mark.django_db
def test_the_answer_link_of_the_email_answers_the_introduction(introduce):
    vn, ru = firm_with_member("VN"), firm_with_member("RU")
    match = MatchFactory(company_vn=vn, company_ru=ru, reasons=REASONS)
    introduce(match)

    link = re.search(r"https://sme-match\.example(/introductions/answer/\S+/)", sent_to(reader(vn))[0].body)[1]
    assert Client().post(link, {"answer": "accept"}).status_code == 302

    match.refresh_from_db()
    assert match.response_vn == Match.Response.ACCEPTED


@pytest.mark.django_db
def test_an_imported_firm_is_written_to_at_its_contact_with_a_claim_link(introduce):
    vn = firm_with_member("VN")
    ru = CompanyFactory(country="RU", city="Kazan", languages=["ru"], contact_email="director@kazan.example")
    introduce(MatchFactory(company_vn=vn, company_ru=ru, reasons=REASONS))

    [message] = sent_to("director@kazan.example")
    assert "https://sme-match.example/claim/" in message.body and "Отписаться" in message.body
    assert len(sent_to(reader(vn))) == 1


@pytest.mark.django_db
def test_the_task_run_again_or_introduce_now_clicked_again_sends_nothing_more(introduce):
    vn, ru = firm_with_member("VN"), firm_with_member("RU")
    match = MatchFactory(company_vn=vn, company_ru=ru, reasons=REASONS)
    introduce(match)
    assert Counter(m.to[0] for m in mail.outbox) == Counter({reader(vn): 1, reader(ru): 1})

    # A redelivered task, and the same task queued twice.
    for _ in range(2):
        tasks.send_introduction_now.delay(match.pk)
    with pytest.raises(services.MatchWorkflowError, match="introduced"):
        introduce(match)

    assert len(mail.outbox) == 2
    assert MatchEvent.objects.filter(match=match, action="introduced").count() == 1
    deliveries = DigestDelivery.objects.filter(match=match)
    assert sorted(deliveries.values_list("company_id", "status")) == [
        (vn.pk, DigestDelivery.Status.SENT),
        (ru.pk, DigestDelivery.Status.SENT),
    ]


@pytest.mark.django_db
def test_the_weekly_digest_after_it_tells_the_firm_only_its_other_news(introduce):
    vn, ru, other = (
        firm_with_member("VN"),
        firm_with_member("RU", name="Vektor Diagnostika"),
        firm_with_member("RU", name="Ural Instruments"),
    )
    match = MatchFactory(company_vn=vn, company_ru=ru, reasons=REASONS)
    services.approve([MatchFactory(company_vn=vn, company_ru=other, reasons=REASONS)], by=None)
    introduce(match)
    mail.outbox.clear()

    # The same week's digest (its own row beside the introduction's), and next week's: nothing repeated.
    results = deliver_firm_digests([vn.pk, ru.pk], now_week())
    assert (results[vn.pk].status, results[ru.pk].status) == (Status.SENT, Status.SKIPPED)
    [weekly] = mail.outbox
    assert "Ural Instruments" in weekly.body and "Vektor Diagnostika" not in weekly.body
    assert weekly.subject.startswith("SME Match · 1 new introduction")
    assert deliver_firm_digest(ru.pk, now_week(1)).status == Status.SKIPPED
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_an_unanswered_introduction_sent_now_is_reminded_a_week_later_not_the_next_morning(introduce):
    vn, ru = firm_with_member("VN"), firm_with_member("RU")
    match = MatchFactory(company_vn=vn, company_ru=ru, reasons=REASONS)
    introduce(match)
    mail.outbox.clear()

    assert deliver_firm_digest(ru.pk, now_week(1)).status == Status.SKIPPED

    DigestDelivery.objects.filter(match=match).update(sent_at=timezone.now() - timedelta(days=7))
    assert deliver_firm_digest(ru.pk, now_week(2)).status == Status.SENT
    [reminder] = mail.outbox
    assert "waits for your answer" in reminder.subject
    assert DigestItem.objects.filter(match=match, kind=DigestItem.Kind.REMINDER).count() == 1


@pytest.mark.django_db
def test_a_firm_that_opted_out_gets_no_email_but_the_introduction_is_made_and_on_its_page(introduce):
    vn, ru = firm_with_member("VN", name="Tan Phat Medical"), firm_with_member("RU", name="Vektor Diagnostika")
    vn.memberships.update(digest=DigestFrequency.NONE)
    match = MatchFactory(company_vn=vn, company_ru=ru, reasons=REASONS)

    introduce(match)

    assert [m.to for m in mail.outbox] == [[reader(ru)]]
    match.refresh_from_db()
    assert match.status == Match.Status.INTRODUCED
    member = Client()
    member.force_login(vn.memberships.get().user)
    assert "Vektor Diagnostika" in member.get("/my/introductions/").content.decode()
    skipped = DigestDelivery.objects.get(company=vn, match=match)
    assert (skipped.status, skipped.reason) == (DigestDelivery.Status.SKIPPED, "all members opted out")


@pytest.mark.django_db
def test_when_both_firms_opted_out_nobody_is_emailed_and_the_match_is_still_introduced(introduce):
    vn, ru = firm_with_member("VN"), firm_with_member("RU")
    for company in (vn, ru):
        company.memberships.update(digest=DigestFrequency.NONE)
    match = MatchFactory(company_vn=vn, company_ru=ru, reasons=REASONS)

    introduce(match)

    assert mail.outbox == []
    match.refresh_from_db()
    assert match.status == Match.Status.INTRODUCED
    assert "no email" in match.events.get(action="introduced").note


@pytest.mark.django_db
def test_a_counterpart_hidden_for_want_of_consent_is_not_mailed_until_it_consents(introduce):
    vn = firm_with_member("VN", name="Tay Nguyen Roasters")
    ru = imported(name="Kazan Instruments", country="RU", city="Kazan", contact_email="director@kazan.example")
    match = MatchFactory(company_vn=vn, company_ru=ru, reasons=REASONS)

    introduce(match)

    # The imported firm's contact hears of the visible firm; the visible firm hears nothing of the hidden one.
    [message] = mail.outbox
    assert message.to == ["director@kazan.example"] and "Tay Nguyen Roasters" in message.body
    match.refresh_from_db()
    assert match.status == Match.Status.INTRODUCED

    company_services.claim_company(
        ru, email=ru.contact_email, password="Mekong-Volga-2026!", consent_purposes=ALL_THREE, language="ru"
    )
    mail.outbox.clear()
    assert deliver_firm_digest(vn.pk, now_week(1)).status == Status.SENT
    assert deliver_firm_digest(ru.pk, now_week(1)).status == Status.SKIPPED
    [told] = mail.outbox
    assert told.to == [reader(vn)] and "Kazan Instruments" in told.body


@pytest.mark.django_db
@pytest.mark.parametrize("status", [Match.Status.REJECTED, Match.Status.DECLINED, Match.Status.CONNECTED])
def test_only_a_suggestion_or_an_approved_match_can_be_introduced_now(introduce, status):
    match = MatchFactory(company_vn=firm_with_member("VN"), company_ru=firm_with_member("RU"), status=status)
    with pytest.raises(services.MatchWorkflowError):
        introduce(match)
    assert mail.outbox == [] and not DigestDelivery.objects.exists()
    match.refresh_from_db()
    assert match.status == status


@pytest.mark.django_db
def test_a_pair_with_an_unpublished_firm_is_refused_and_stays_a_suggestion(introduce):
    ru = firm_with_member("RU", status=Company.Status.PENDING)
    match = MatchFactory(company_vn=firm_with_member("VN"), company_ru=ru)
    with pytest.raises(services.MatchWorkflowError, match="published"):
        introduce(match)
    match.refresh_from_db()
    assert match.status == Match.Status.SUGGESTED and not match.events.exists()
    assert mail.outbox == []


@pytest.mark.django_db
def test_an_approved_match_introduced_now_keeps_its_approval_and_records_who_asked(introduce, reviewer):
    match = MatchFactory(company_vn=firm_with_member("VN"), company_ru=firm_with_member("RU"))
    services.approve([match], by=None)
    introduce(match)
    assert match.events.get(action="introduction_requested").actor == reviewer
    assert match.events.filter(action="approved").count() == 1
    assert len(mail.outbox) == 2


@pytest.mark.django_db
def test_mail_server_down_the_introduction_waits_and_the_weekly_run_resumes_it_once(introduce, settings):
    vn, ru = firm_with_member("VN"), firm_with_member("RU")
    match = MatchFactory(company_vn=vn, company_ru=ru, reasons=REASONS)
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 9  # nothing listens: the mail server is down

    introduce(match)

    match.refresh_from_db()
    assert match.status == Match.Status.APPROVED  # nobody was told yet
    assert set(DigestDelivery.objects.values_list("status", flat=True)) == {DigestDelivery.Status.FAILED}

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    tasks.dispatch_weekly_digests(week=str(now_week()))
    tasks.dispatch_weekly_digests(week=str(now_week()))

    assert Counter(m.to[0] for m in mail.outbox) == Counter({reader(vn): 1, reader(ru): 1})
    match.refresh_from_db()
    assert match.status == Match.Status.INTRODUCED
    weekly = DigestDelivery.objects.filter(kind=DigestDelivery.Kind.WEEKLY)
    assert not DigestItem.objects.filter(delivery__in=weekly).exists()


@pytest.mark.django_db
def test_staff_retrying_a_failed_introduction_email_send_that_email_not_a_weekly_digest(
    introduce, settings, staff_client
):
    vn, ru = firm_with_member("VN", chamber=staff_client.user.chamber_staff.chamber), firm_with_member("RU")
    match = MatchFactory(company_vn=vn, company_ru=ru, reasons=REASONS)
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 9  # nothing listens: the mail server is down
    introduce(match)
    failed = DigestDelivery.objects.get(company=vn, status=DigestDelivery.Status.FAILED)

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    staff_client.post("/admin/matchmaking/digestdelivery/", {"action": "retry", "_selected_action": [failed.pk]})

    assert [m.to[0] for m in mail.outbox if reader(vn) in m.to] == [reader(vn)]
    failed.refresh_from_db()
    assert failed.status == DigestDelivery.Status.SENT
    assert not DigestDelivery.objects.filter(kind=DigestDelivery.Kind.WEEKLY).exists()


@pytest.mark.django_db
def test_a_firm_whose_weekly_digest_already_holds_the_match_is_not_told_twice(introduce, settings):
    vn, ru = firm_with_member("VN"), firm_with_member("RU")
    match = MatchFactory(company_vn=vn, company_ru=ru, reasons=REASONS)
    services.approve([match], by=None)
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 9
    assert deliver_firm_digest(vn.pk, now_week()).status == Status.FAILED  # queued, to be retried
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

    introduce(match)
    assert [m.to for m in mail.outbox] == [[reader(ru)]]
    assert deliver_firm_digest(vn.pk, now_week()).status == Status.SENT  # the retry of the weekly digest

    assert Counter(m.to[0] for m in mail.outbox) == Counter({reader(vn): 1, reader(ru): 1})


# --- on a real worker and a real SMTP server ----------------------------------------------------------------------


@pytest.mark.celery_worker
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_on_a_real_worker_both_firms_get_exactly_one_email_and_the_weekly_run_does_not_repeat_it(
    worker,
    sink,
    monkeypatch,
):
    vn = firm_with_member("VN", language="vi", username="vn-now")
    ru = firm_with_member("RU", language="ru", username="ru-now")
    match = MatchFactory(company_vn=vn, company_ru=ru, reasons=REASONS)
    staff = UserFactory(username="staff-now", is_staff=True)
    # The service queues through this process's Celery app; send it to the test worker's queue instead.
    monkeypatch.setattr(
        tasks.send_introduction_now, "delay", lambda match_id: worker.send(tasks.send_introduction_now.name, match_id)
    )

    services.introduce_now(match, by=staff)

    deadline = time.monotonic() + 60
    while len(sink.received) < 2 or DigestDelivery.objects.filter(status=DigestDelivery.Status.SENT).count() < 2:
        assert time.monotonic() < deadline, f"got {sink.per_recipient()}"
        time.sleep(0.2)
    week = now_week()
    worker.send("matchmaking.tasks.dispatch_weekly_digests", week=str(week))
    weekly = DigestDelivery.objects.filter(kind=DigestDelivery.Kind.WEEKLY, iso_year=week.year, iso_week=week.week)
    while weekly.filter(status=DigestDelivery.Status.SKIPPED).count() < 2:
        assert time.monotonic() < deadline + 60, list(weekly.values_list("company_id", "status", "reason"))
        time.sleep(0.2)

    assert sink.per_recipient() == Counter({"vn-now@example.com": 1, "ru-now@example.com": 1})
    assert "giới thiệu" in sink.to("vn-now@example.com")[0]["Subject"]
    assert "знакомств" in sink.to("ru-now@example.com")[0]["Subject"]
    assert set(weekly.values_list("reason", flat=True)) == {"nothing new"}
    match.refresh_from_db()
    assert match.status == Match.Status.INTRODUCED
