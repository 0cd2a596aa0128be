"""Weekly digests without a worker: what each firm and chamber is told, once a week, and what is skipped."""

import smtplib
from collections import Counter
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy

import pytest
from django.core import mail
from django.core.mail.backends import locmem
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from companies.models import Company, DigestFrequency
from matchmaking import services
from matchmaking.digests.delivery import Status, deliver_firm_digest, deliver_firm_digests, deliver_staff_digest
from matchmaking.digests.weeks import IsoWeek
from matchmaking.models import DigestDelivery, DigestItem, Match, MatchEvent
from tests.factories import (
    ChamberFactory,
    ChamberStaffFactory,
    CompanyFactory,
    ListingFactory,
    MatchFactory,
    MembershipFactory,
    UserFactory,
    firm_with_member,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("site_url")]

WEEK = IsoWeek(2026, 48)
OFFER = "Экспресс-тесты для диагностики инфекций"
NEED = "Nhà phân phối thiết bị y tế tại Hà Nội"
REASONS = [
    {"kind": "need_met", "data": {"need": NEED, "offer": OFFER, "need_ref": 1, "offer_ref": 2, "similarity": 0.8}}
]


def approved(vn: Company, ru: Company) -> Match:
    match = MatchFactory(company_vn=vn, company_ru=ru, reasons=REASONS)
    services.approve([match], by=None)
    return match


def sent_to(address: str) -> list:
    return [message for message in mail.outbox if address in message.to]


def week(n: int) -> IsoWeek:
    return IsoWeek(*(WEEK.monday + timedelta(weeks=n)).isocalendar()[:2])


def test_each_firm_gets_one_digest_a_week_and_its_matches_become_introduced():
    vn, ru = firm_with_member("VN"), firm_with_member("RU")
    match = approved(vn, ru)

    results = [deliver_firm_digest(vn.pk, WEEK), deliver_firm_digest(ru.pk, WEEK)]

    assert [r.status for r in results] == [Status.SENT, Status.SENT]
    assert len(mail.outbox) == 2
    match.refresh_from_db()
    assert match.status == Match.Status.INTRODUCED
    assert match.events.filter(action="introduced", note__contains="2026-W48").count() == 1
    # Another run of the same week sends nothing, whatever calls it.
    assert deliver_firm_digest(vn.pk, WEEK).status == Status.ALREADY
    call_command("send_digests", "--week", "2026-W48", verbosity=0)
    assert len(mail.outbox) == 2


def test_the_digest_shows_the_counterpart_and_the_reasons_but_no_contact_details():
    vn = firm_with_member("VN")
    ru = firm_with_member("RU", name="Vektor Diagnostika")
    ListingFactory(company=ru, text=OFFER)
    approved(vn, ru)

    deliver_firm_digest(vn.pk, WEEK)

    message = mail.outbox[0]
    html = message.alternatives[0][0]
    for part in (message.body, html):
        assert "Vektor Diagnostika" in part and OFFER in part
        assert f"Their offer “{OFFER}” meets your need “{NEED}”." in part
        assert ru.contact_email not in part and ru.contact_phone not in part
    assert "https://sme-match.example/introductions/answer/" in message.body
    assert message.subject == "SME Match · 1 new introduction for %s" % vn.name


def test_every_digest_has_one_click_unsubscribe_headers():
    vn, ru = firm_with_member("VN"), firm_with_member("RU")
    approved(vn, ru)
    deliver_firm_digest(vn.pk, WEEK)

    headers = message_from_bytes(mail.outbox[0].message().as_bytes(), policy=policy.default)
    https, mailto = [part.strip().strip("<>") for part in headers["List-Unsubscribe"].split(",")]
    assert https.startswith("https://sme-match.example/email/unsubscribe/")
    assert mailto.startswith("mailto:unsubscribe@")
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert https.removeprefix("https://sme-match.example") in mail.outbox[0].body


def test_each_member_reads_the_digest_in_their_own_language():
    vn, ru = firm_with_member("VN", language="vi"), firm_with_member("RU", language="ru")
    MembershipFactory(company=vn, user=UserFactory(email="en-reader@example.com"), language="en")
    for _ in range(2):
        approved(vn, CompanyFactory(country="RU", city="Kazan"))
    approved(vn, ru)

    deliver_firm_digest(vn.pk, WEEK)
    deliver_firm_digest(ru.pk, WEEK)

    vi_mail, en_mail = (sent_to(m.user.email)[0] for m in vn.memberships.order_by("pk"))
    ru_mail = sent_to(ru.memberships.get().user.email)[0]
    assert "3 new introductions" in en_mail.subject
    assert "Why this match" in en_mail.body
    # Vietnamese has one plural form; Russian three (1 знакомство, 2-4 знакомства, 5+ знакомств).
    assert "3 lời giới thiệu mới" in vi_mail.subject, vi_mail.subject
    assert "Vì sao" in vi_mail.body and "Hủy đăng ký" in vi_mail.body
    assert "1 новое знакомство" in ru_mail.subject, ru_mail.subject
    assert "Почему" in ru_mail.body and "Отписаться" in ru_mail.body


def test_russian_counts_take_the_right_form():
    from django.utils import translation
    from django.utils.translation import ngettext

    with translation.override("ru"):
        forms = [
            ngettext("%(count)d new introduction for %(firm)s", "%(count)d new introductions for %(firm)s", n)
            % {"count": n, "firm": "X"}
            for n in (1, 2, 5, 21)
        ]
    assert [f.split(" для")[0] for f in forms] == [
        "1 новое знакомство",
        "2 новых знакомства",
        "5 новых знакомств",
        "21 новое знакомство",
    ]


def test_a_firm_with_nothing_new_gets_no_digest():
    vn = firm_with_member("VN")
    result = deliver_firm_digest(vn.pk, WEEK)
    assert (result.status, result.reason) == (Status.SKIPPED, "nothing new")
    assert mail.outbox == []


def test_unanswered_introductions_are_reminded_twice_then_expire_and_the_answering_side_is_told(settings):
    vn, ru = firm_with_member("VN"), firm_with_member("RU")
    match = approved(vn, ru)
    for firm_ in (vn, ru):
        deliver_firm_digest(firm_.pk, week(0))
    services.respond(match, vn, True, by=None)  # the Vietnamese firm accepts, the Russian never answers

    kinds = []
    for n in (1, 2, 3):
        mail.outbox.clear()
        results = [deliver_firm_digest(ru.pk, week(n)), deliver_firm_digest(vn.pk, week(n))]
        kinds.append((results[0].status, results[1].status))
    assert kinds == [(Status.SENT, Status.SKIPPED)] * 2 + [(Status.SKIPPED, Status.SKIPPED)]
    assert DigestItem.objects.filter(delivery__company=ru, kind=DigestItem.Kind.REMINDER).count() == 2

    Match.objects.filter(pk=match.pk).update(introduced_at=timezone.now() - timedelta(days=22))
    assert services.expire_introductions() == 1
    match.refresh_from_db()
    assert match.status == Match.Status.EXPIRED
    mail.outbox.clear()
    assert deliver_firm_digest(vn.pk, week(4)).status == Status.SENT
    assert ru.name in mail.outbox[0].body and "did not answer in time" in mail.outbox[0].body
    assert deliver_firm_digest(ru.pk, week(4)).status == Status.SKIPPED  # the silent side is not told


def test_a_recent_introduction_does_not_expire(settings):
    settings.DIGEST_INTRODUCTION_EXPIRY_DAYS = 21
    match = approved(firm_with_member("VN"), firm_with_member("RU"))
    services.introduce(match)
    Match.objects.filter(pk=match.pk).update(introduced_at=timezone.now() - timedelta(days=20))
    assert services.expire_introductions() == 0


@pytest.mark.parametrize(
    "problem, expected",
    [
        ({"email": ""}, "no email address"),
        ({"email": "not-an-address"}, "invalid email address 'not-an-address'"),
    ],
)
def test_members_without_a_usable_address_are_skipped_with_the_reason(problem, expected):
    vn = firm_with_member("VN", **problem)
    approved(vn, firm_with_member("RU"))
    result = deliver_firm_digest(vn.pk, WEEK)
    assert result.status == Status.SKIPPED and expected in result.reason
    assert mail.outbox == []


def test_a_firm_whose_members_all_opted_out_is_skipped():
    vn = firm_with_member("VN")
    vn.memberships.update(digest=DigestFrequency.NONE)
    approved(vn, firm_with_member("RU"))
    result = deliver_firm_digest(vn.pk, WEEK)
    assert (result.status, result.reason) == (Status.SKIPPED, "all members opted out")


def test_a_deleted_counterpart_or_a_match_rejected_after_it_was_queued_is_left_out(settings):
    vn, ru, gone = firm_with_member("VN"), firm_with_member("RU"), firm_with_member("RU")
    rejected, deleted = approved(vn, ru), approved(vn, gone)
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 9  # nothing listens: the mail server is down
    assert deliver_firm_digest(vn.pk, WEEK).status == Status.FAILED
    assert DigestItem.objects.filter(delivery__company=vn).count() == 2  # queued

    Match.objects.filter(pk=rejected.pk).update(status=Match.Status.REJECTED)
    gone.delete()
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    result = deliver_firm_digest(vn.pk, WEEK)

    assert result.status == Status.SKIPPED
    assert "a counterpart was deleted" in result.reason and "rejected after it was queued" in result.reason
    assert mail.outbox == []
    assert not Match.objects.filter(pk=deleted.pk).exists()


def test_one_bad_firm_does_not_stop_the_others_and_the_summary_names_it(capsys):
    good_vn, bad_vn, ru = firm_with_member("VN"), firm_with_member("VN", email="broken@"), firm_with_member("RU")
    approved(good_vn, ru)
    approved(bad_vn, ru)

    call_command("send_digests", "--week", "2026-W48", verbosity=1)

    out = capsys.readouterr().out
    assert "2 sent (2 emails), 1 skipped" in out
    assert f"{bad_vn} ({bad_vn.pk}): skipped (member " in out and "invalid email address" in out
    assert {tuple(m.to) for m in mail.outbox} == {
        (good_vn.memberships.get().user.email,),
        (ru.memberships.get().user.email,),
    }


def test_dry_run_says_what_would_go_and_changes_nothing(capsys):
    vn, ru = firm_with_member("VN"), firm_with_member("RU")
    match = approved(vn, ru)

    call_command("send_digests", "--week", "2026-W48", "--dry-run", "--firm", str(vn.pk))

    out = capsys.readouterr().out
    assert "2026-W48 (dry run): 1 would send (1 emails)" in out
    assert mail.outbox == [] and not DigestDelivery.objects.exists()
    match.refresh_from_db()
    assert match.status == Match.Status.APPROVED


def test_firm_option_sends_only_that_firms_digest():
    vn, ru = firm_with_member("VN"), firm_with_member("RU")
    approved(vn, ru)
    call_command("send_digests", "--week", "2026-W48", "--firm", str(ru.pk), verbosity=0)
    assert [m.to for m in mail.outbox] == [[ru.memberships.get().user.email]]


def test_a_bad_week_is_refused_with_the_expected_format():
    with pytest.raises(CommandError, match="2026-W48"):
        call_command("send_digests", "--week", "next week")


def test_imported_firm_is_written_to_at_its_contact_with_a_claim_link():
    imported = CompanyFactory(country="RU", city="Kazan", languages=["ru"])
    approved(firm_with_member("VN"), imported)

    assert deliver_firm_digest(imported.pk, WEEK).status == Status.SENT
    message = sent_to(imported.contact_email)[0]
    assert "https://sme-match.example/claim/" in message.body
    assert "Отписаться" in message.body  # the profile's language


def test_staff_digest_counts_what_waits_for_review():
    chamber = ChamberFactory(country="RU", slug="delovaya")
    staff = ChamberStaffFactory(chamber=chamber, language="ru")
    ru = firm_with_member("RU", chamber=chamber)
    for _ in range(3):
        MatchFactory(company_vn=firm_with_member("VN"), company_ru=ru)  # suggested, waiting
    CompanyFactory(country="RU", chamber=chamber, status=Company.Status.PENDING)

    assert deliver_staff_digest(chamber.pk, WEEK).status == Status.SENT
    assert deliver_staff_digest(chamber.pk, WEEK).status == Status.ALREADY
    [message] = mail.outbox
    assert message.to == [staff.user.email]
    assert "3 предложенных совпадения ждут проверки" in message.subject, message.subject
    assert "/admin/matchmaking/match/?status=suggested" in message.body


def test_a_chamber_with_nothing_waiting_gets_no_staff_digest():
    chamber = ChamberFactory(slug="quiet")
    ChamberStaffFactory(chamber=chamber)
    assert deliver_staff_digest(chamber.pk, WEEK).status == Status.SKIPPED
    assert mail.outbox == []


def test_the_weekly_schedule_is_in_the_database_at_eight_on_monday_local_time():
    tasks = PeriodicTask.objects.filter(task="matchmaking.tasks.dispatch_weekly_digests").select_related("crontab")
    schedule = {
        task.kwargs: (task.crontab.minute, task.crontab.hour, task.crontab.day_of_week, str(task.crontab.timezone))
        for task in tasks
    }
    assert schedule == {
        '{"country": "VN"}': ("0", "8", "1", "Asia/Ho_Chi_Minh"),
        '{"country": "RU"}': ("0", "8", "1", "Europe/Moscow"),
    }


def test_the_dispatcher_sends_each_firms_digest_once_however_often_it_runs():
    from matchmaking.tasks import dispatch_weekly_digests

    vn, ru = firm_with_member("VN"), firm_with_member("RU")
    approved(vn, ru)
    first = dispatch_weekly_digests(country="VN", week="2026-W48")
    second = dispatch_weekly_digests(country="VN", week="2026-W48")
    assert (first["firms"], second["firms"]) == (1, 0)
    assert [m.to for m in mail.outbox] == [[vn.memberships.get().user.email]]


def test_iso_weeks_parse_and_follow_the_chamber_clock():
    assert str(IsoWeek.parse("2026-w48")) == "2026-W48"
    with pytest.raises(ValueError):
        IsoWeek.parse("2026-W60")
    sunday_night_utc = datetime(2026, 11, 29, 20, 0, tzinfo=UTC)
    assert IsoWeek.of(sunday_night_utc, "Asia/Ho_Chi_Minh") == IsoWeek(2026, 49)  # already Monday in Hanoi
    assert IsoWeek.of(sunday_night_utc, "Europe/Moscow") == IsoWeek(2026, 48)


def test_chamber_staff_see_their_firms_deliveries_in_the_admin(staff_client, vcci):
    ours = firm_with_member("VN", chamber=vcci)
    theirs = firm_with_member("RU")
    approved(ours, theirs)
    for company in (ours, theirs):
        deliver_firm_digest(company.pk, WEEK)

    page = staff_client.get("/admin/matchmaking/digestdelivery/?status=sent")

    assert page.status_code == 200
    assert ours.name in page.text and theirs.name not in page.text
    assert staff_client.get("/admin/matchmaking/digestdelivery/add/").status_code == 403


def test_a_digest_the_mail_server_refused_goes_out_on_the_next_run(settings):
    vn, ru = firm_with_member("VN"), firm_with_member("RU")
    match = approved(vn, ru)
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 9  # nothing listens: the mail server is down

    with pytest.raises(CommandError, match="2 digest\\(s\\) failed; run the command again"):
        call_command("send_digests", "--week", "2026-W48", verbosity=0)
    match.refresh_from_db()
    assert match.status == Match.Status.APPROVED  # nobody was told, so nothing was introduced
    assert set(DigestDelivery.objects.values_list("status", flat=True)) == {DigestDelivery.Status.FAILED}

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    call_command("send_digests", "--week", "2026-W48", verbosity=0)
    assert len(mail.outbox) == 2
    match.refresh_from_db()
    assert match.status == Match.Status.INTRODUCED


# --- batches: many firms' digests in one call, as each worker task sends them ------------------------------


class RefusingBackend(locmem.EmailBackend):
    """The test outbox behind a mail server that refuses some readers (451) the first times it sees them."""

    refusals: Counter = Counter()  # address → refusals still to come
    attempts: Counter = Counter()  # address → messages offered to the server
    message_ids: dict[str, list[str]] = {}  # address → the Message-ID of each message offered

    def send_messages(self, messages):
        for message in messages:
            for address in message.to:
                RefusingBackend.attempts[address] += 1
                RefusingBackend.message_ids.setdefault(address, []).append(message.extra_headers["Message-ID"])
                if RefusingBackend.refusals[address] > 0:
                    RefusingBackend.refusals[address] -= 1
                    raise smtplib.SMTPRecipientsRefused({address: (451, b"4.3.0 try again later")})
        return super().send_messages(messages)


@pytest.fixture
def refusing_server(settings):
    settings.EMAIL_BACKEND = "tests.test_digests.RefusingBackend"
    RefusingBackend.refusals, RefusingBackend.attempts, RefusingBackend.message_ids = Counter(), Counter(), {}
    return RefusingBackend


def pairs(count: int) -> list[Company]:
    """`count` approved pairs; the firms in pk order, a Vietnamese and a Russian one after the other."""
    firms = []
    for _ in range(count):
        vn, ru = firm_with_member("VN"), firm_with_member("RU")
        approved(vn, ru)
        firms += [vn, ru]
    return firms


def reader(company: Company) -> str:
    return company.memberships.get().user.email


def test_a_firm_the_server_refuses_in_a_batch_does_not_hold_up_the_others_and_goes_out_on_the_next_run(
    refusing_server,
):
    firms = pairs(3)
    refused = firms[2]
    refusing_server.refusals[reader(refused)] = 1
    ids = [company.pk for company in firms]

    first = deliver_firm_digests(ids, WEEK)

    assert [first[pk].status for pk in ids] == [
        Status.SENT,
        Status.SENT,
        Status.FAILED,
        Status.SENT,
        Status.SENT,
        Status.SENT,
    ]
    assert "SMTPRecipientsRefused" in first[refused.pk].reason
    assert sorted(m.to[0] for m in mail.outbox) == sorted(reader(c) for c in firms if c != refused)
    # Its match stays approved: the Russian side was told, the Vietnamese side not yet.
    assert Match.objects.get(company_vn=refused).status == Match.Status.INTRODUCED

    # The same batch again (what a retry or a redelivered task runs): only the refused firm is sent.
    second = deliver_firm_digests(ids, WEEK)

    assert [second[pk].status for pk in ids] == [Status.ALREADY] * 2 + [Status.SENT] + [Status.ALREADY] * 3
    assert Counter(m.to[0] for m in mail.outbox) == Counter({reader(c): 1 for c in firms})
    assert set(DigestDelivery.objects.values_list("status", flat=True)) == {DigestDelivery.Status.SENT}
    assert DigestDelivery.objects.get(company=refused).attempts == 2
    # Both attempts carried the same Message-ID, so a reader's mail client would show a resent copy once.
    first_try, second_try = refusing_server.message_ids[reader(refused)]
    assert first_try == second_try


def test_without_a_broker_the_batch_task_sends_the_others_and_leaves_a_refused_firm_to_the_next_run(
    refusing_server,
):
    from matchmaking.tasks import send_firm_digests

    firms = pairs(2)
    refused = firms[1]
    refusing_server.refusals[reader(refused)] = 1

    # In-process (no broker, the README's first command) there is no worker to retry later: no waiting.
    summary = send_firm_digests.delay([company.pk for company in firms], "2026-W48").get()

    assert (summary["counts"]["sent"], summary["counts"]["failed"], summary["messages"]) == (3, 1, 3)
    assert DigestDelivery.objects.get(company=refused).status == DigestDelivery.Status.FAILED
    call_command("send_digests", "--week", "2026-W48", verbosity=0)
    assert Counter(m.to[0] for m in mail.outbox) == Counter({reader(c): 1 for c in firms})
    assert refusing_server.attempts == Counter({**{reader(c): 1 for c in firms}, reader(refused): 2})
    assert set(Match.objects.values_list("status", flat=True)) == {Match.Status.INTRODUCED}


def test_both_firms_of_a_match_in_one_batch_are_told_and_it_is_introduced_once():
    vn, ru = firm_with_member("VN", name="Tan Phat Logistics"), firm_with_member("RU", name="Vektor Diagnostika")
    match = approved(vn, ru)

    results = deliver_firm_digests([vn.pk, ru.pk], WEEK)

    assert [r.status for r in results.values()] == [Status.SENT, Status.SENT]
    assert "Vektor Diagnostika" in sent_to(reader(vn))[0].body
    assert "Tan Phat Logistics" in sent_to(reader(ru))[0].body
    match.refresh_from_db()
    assert match.status == Match.Status.INTRODUCED
    assert MatchEvent.objects.filter(match=match, action="introduced").count() == 1


def test_a_batch_costs_a_few_queries_per_firm_whatever_its_size():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries_for(firms: list[Company], week_: IsoWeek) -> int:
        with CaptureQueriesContext(connection) as captured:
            deliver_firm_digests([company.pk for company in firms], week_)
        return len(captured)

    small, large = pairs(2), pairs(6)
    # Per firm: its send recorded together with its match introduced, in one transaction (1 to 6 queries,
    # counting the savepoints a test's transaction adds); everything else is per batch.
    extra = queries_for(large, WEEK) - queries_for(small, WEEK)
    assert extra <= 6 * (len(large) - len(small)), extra


def test_the_batch_plan_tells_each_firm_what_its_own_plan_tells_it_week_after_week():
    from matchmaking import selectors
    from matchmaking.selectors import firm_digest_plans

    vn, vn_quiet, ru, ru_pending = (
        firm_with_member("VN"),
        firm_with_member("VN"),
        firm_with_member("RU"),
        firm_with_member("RU"),
    )
    answered, waiting = approved(vn, ru), approved(vn_quiet, ru)
    approved(vn, ru_pending)
    Company.objects.filter(pk=ru_pending.pk).update(status=Company.Status.PENDING)
    MatchFactory(company_vn=vn_quiet, company_ru=ru_pending)  # suggested: nobody hears of it
    firms = list(Company.objects.order_by("pk"))

    def both_plans() -> tuple[dict, dict]:
        batch = firm_digest_plans(firms)
        ids = {
            company.pk: {kind: [m.pk for m in matches] for kind, matches in batch[company.pk].items()}
            for company in firms
        }
        alone = {
            company.pk: {kind: [m.pk for m in matches] for kind, matches in selectors.firm_digest_plan(company).items()}
            for company in firms
        }
        return ids, alone

    for n in range(5):
        batch, alone = both_plans()
        assert batch == alone, f"week {n}"
        if n == 0:
            assert any(plan["new"] for plan in batch.values())
        deliver_firm_digests([company.pk for company in firms], week(n))
        if n == 0:
            services.respond(answered, vn, True, by=None)
        if n == 2:
            Match.objects.filter(pk=answered.pk).update(introduced_at=timezone.now() - timedelta(days=22))
            services.expire_introductions()
    assert DigestItem.objects.filter(kind=DigestItem.Kind.REMINDER).exists()
    assert DigestItem.objects.filter(kind=DigestItem.Kind.EXPIRED).exists()
    assert Match.objects.get(pk=waiting.pk).status == Match.Status.INTRODUCED
