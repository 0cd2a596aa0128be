"""Chamber staff reviewing suggestions in a real browser at 1366×768 (issue 17): the workbench decided by keyboard
(approve, reject with a one-click reason or a typed note, undo), bulk approval above a confidence, the per-firm
view, the Matches list, the dashboard; "introduce now" through a real Celery worker and SMTP server; and another
chamber's staff never seeing a pair without a firm of theirs.

The suggestions are Match rows made with the factories (the engine is not run). Screenshots go to .local/screenshots/
(git-ignored), named review-*.png."""

from __future__ import annotations

import importlib
import re
import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache
from playwright.sync_api import Browser, Page, expect

from companies.services import CHAMBER_STAFF_GROUP, make_chamber_staff
from config.celery import app as celery_app
from matchmaking import tasks
from matchmaking.digests.weeks import IsoWeek
from matchmaking.models import DigestDelivery, Match, MatchEvent
from tests.factories import ChamberFactory, CompanyFactory, ListingFactory, MatchFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "Mekong-Volga-2026!"
VIEWPORT = {"width": 1366, "height": 768}
WORKBENCH = "/admin/matchmaking/match/review/"
MATCHES = "/admin/matchmaking/match/"
DASHBOARD = "/admin/dashboard/"
# Where the group's permissions are granted: a transactional test empties every table, data migrations' rows too.
GROUP_MIGRATIONS = [
    ("companies", "companies.migrations.0002_chamber_staff_group"),
    ("matchmaking", "matchmaking.migrations.0002_chamber_staff_match_permissions"),
    ("matchmaking", "matchmaking.migrations.0005_chamber_staff_digest_permissions"),
    ("events", "events.migrations.0002_chamber_staff_event_permissions"),
]

VN_FIRMS = [  # (name, city, offer, need): VCCI's members
    (
        "Công ty TNHH Cà phê Tây Nguyên",
        "Buôn Ma Thuột",
        "Cà phê Robusta rang xay, 800 tấn mỗi năm, chứng nhận UTZ",
        "Nhà phân phối cà phê tại Nga và các nước Liên minh Kinh tế Á Âu",
    ),
    (
        "Công ty CP Thủy sản Mekong",
        "Cần Thơ",
        "Cá tra phi lê đông lạnh, tiêu chuẩn HACCP và Halal",
        "Nhà nhập khẩu thủy sản đông lạnh ở Moskva và Sankt-Peterburg",
    ),
    (
        "Công ty TNHH Dệt may Hưng Yên",
        "Hưng Yên",
        "May gia công áo khoác và đồng phục bảo hộ lao động",
        "Vải kỹ thuật chống cháy và phụ liệu từ Nga",
    ),
    (
        "Công ty CP Thiết bị Y tế Hồng Hà",
        "Hải Phòng",
        "Phân phối thiết bị y tế cho 40 bệnh viện tỉnh",
        "Nhà sản xuất máy thở và máy theo dõi bệnh nhân",
    ),
    (
        "Công ty TNHH Gỗ Bình Dương",
        "Thủ Dầu Một",
        "Đồ gỗ nội thất xuất khẩu từ gỗ cao su",
        "Gỗ bạch dương và gỗ thông sấy khô từ Siberia",
    ),
    (
        "Công ty CP Nông sản Đắk Nông",
        "Gia Nghĩa",
        "Hạt điều và hạt tiêu đen, 1.200 tấn mỗi năm",
        "Phân bón kali và NPK cho vùng Tây Nguyên",
    ),
    (
        "Công ty TNHH Phần mềm Đà Nẵng",
        "Đà Nẵng",
        "Gia công phần mềm và kiểm thử ứng dụng di động",
        "Đối tác triển khai hệ thống ERP tại Nga",
    ),
]
RU_FIRMS = [  # (name, city, offer, need)
    (
        "ООО «Волга Кофе Трейд»",
        "Казань",
        "Дистрибуция кофе по 40 регионам России, склады в Казани и Москве",
        "Поставщики вьетнамского кофе робуста от 20 тонн в месяц",
    ),
    (
        "ООО «Балтийские морепродукты»",
        "Санкт-Петербург",
        "Холодильные склады и таможенное оформление в порту",
        "Замороженное филе пангасиуса с сертификатом ХАССП",
    ),
    (
        "АО «Ивановский текстиль»",
        "Иваново",
        "Огнестойкие технические ткани и фурнитура",
        "Пошив спецодежды и курток по контракту",
    ),
    (
        "ООО «МедТехника Урал»",
        "Екатеринбург",
        "Аппараты ИВЛ и прикроватные мониторы собственного производства",
        "Дистрибьютор медицинского оборудования во Вьетнаме",
    ),
    (
        "ООО «Сибирский лес»",
        "Красноярск",
        "Сухие пиломатериалы из берёзы и сосны",
        "Мебель из каучукового дерева для торговых сетей",
    ),
    (
        "АО «Уралкалий-Трейд»",
        "Пермь",
        "Калийные и NPK удобрения оптом",
        "Кешью и чёрный перец для пищевой промышленности",
    ),
    (
        "ООО «Софт Интеграция»",
        "Новосибирск",
        "Внедрение ERP-систем для производственных компаний",
        "Аутсорсинг разработки и тестирования мобильных приложений",
    ),
]
VN_SECTORS = ["10", "03", "14", "46", "16", "01", "62"]  # ISIC divisions, in the order of the firms above
RU_SECTORS = ["46", "52", "13", "26", "16", "20", "62"]
# (VN firm, RU firm, confidence) of the pairs with no firm of Delovaya Rossiya: VCCI's to review.
VCCI_PAIRS = [
    (0, 0, 0.92),
    (1, 1, 0.88),
    (2, 2, 0.83),
    (3, 3, 0.79),
    (4, 4, 0.74),
    (5, 5, 0.71),
    (6, 6, 0.66),
    (0, 1, 0.57),
    (1, 0, 0.52),
    (2, 4, 0.44),
    (3, 6, 0.38),
    (4, 2, 0.31),
    (5, 3, 0.27),
    (6, 5, 0.22),
]


@pytest.fixture
def chamber_staff_group():
    """The "Chamber staff" group as its migrations make it: a transactional test before this one flushed it."""
    group, _ = Group.objects.get_or_create(name=CHAMBER_STAFF_GROUP)
    for app_label, module in GROUP_MIGRATIONS:
        codenames = importlib.import_module(module).PERMISSIONS
        group.permissions.add(*Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames))
    return group


def staff_of(chamber, username: str):
    user = UserFactory(username=username, password=PASSWORD)
    make_chamber_staff(user, chamber)
    return user


def firm_of_chamber(country: str, chamber, entry: tuple[str, str, str, str], sector: str = "46"):
    """A published firm of ``chamber`` (or of none) in one sector, with one offer and one need: ``entry`` is
    (name, city, offer, need)."""
    name, city, offer, need = entry
    company = CompanyFactory(country=country, chamber=chamber, name=name, city=city, sectors=[sector])
    ListingFactory(company=company, direction="offer", text=offer, cooperation=["supply"])
    ListingFactory(company=company, direction="need", text=need, cooperation=["distribution"])
    return company


def suggest(vn, ru, confidence: float) -> Match:
    """A suggestion as the engine leaves it: score parts with a confidence, and the reason quoting both texts."""
    vn_need = vn.listings.get(direction="need").text
    ru_offer = ru.listings.get(direction="offer").text
    return MatchFactory(
        company_vn=vn,
        company_ru=ru,
        score=round(0.3 + confidence * 0.5, 3),
        score_parts={
            "forward": round(confidence, 2),
            "backward": round(confidence * 0.6, 2),
            "sectors": 1.0,
            "cooperation": 0.5,
            "language": 1.0,
            "confidence": confidence,
        },
        reasons=[{"kind": "need_met", "data": {"need": vn_need, "offer": ru_offer, "similarity": 0.8}}],
    )


@pytest.fixture
def review_market(sectors_loaded, chamber_staff_group, settings):
    """VCCI's Vietnamese members and Russian firms of no chamber (14 pairs only VCCI sees), two pairs of a VCCI
    member with a Delovaya Rossiya member (both see them), one pair only Delovaya Rossiya sees, and one nobody
    but a superuser sees."""
    settings.MATCHING_RECOMPUTE_ON_SAVE = False  # the pairs are made here; a recompute would replace them
    vcci = ChamberFactory(slug="vcci", name="VCCI", country="VN")
    dr = ChamberFactory(slug="delovaya-rossiya", name="Delovaya Rossiya", country="RU")
    vn = [firm_of_chamber("VN", vcci, entry, sector) for entry, sector in zip(VN_FIRMS, VN_SECTORS, strict=True)]
    ru = [firm_of_chamber("RU", None, entry, sector) for entry, sector in zip(RU_FIRMS, RU_SECTORS, strict=True)]
    dr_firms = [
        firm_of_chamber(
            "RU",
            dr,
            (
                "ООО «Дальневосточный импорт»",
                "Владивосток",
                "Импорт продуктов питания из Азии",
                "Кофе и специи из Вьетнама",
            ),
        ),
        firm_of_chamber(
            "RU",
            dr,
            (
                "ООО «Кубань Агро»",
                "Краснодар",
                "Пшеница и подсолнечное масло на экспорт",
                "Рыба и морепродукты из Вьетнама",
            ),
        ),
    ]
    outsider_vn = firm_of_chamber(
        "VN",
        None,
        (
            "Công ty TNHH Thương mại Sài Gòn",
            "TP. Hồ Chí Minh",
            "Thủy sản và gia vị xuất khẩu",
            "Dầu hướng dương và lúa mì",
        ),
    )
    vcci_only = [suggest(vn[i], ru[j], confidence) for i, j, confidence in VCCI_PAIRS]
    shared = [suggest(vn[0], dr_firms[0], 0.64), suggest(vn[1], dr_firms[1], 0.47)]
    dr_only = [suggest(outsider_vn, dr_firms[1], 0.81)]
    nobodys = suggest(outsider_vn, ru[0], 0.9)
    return {
        "vcci": vcci,
        "dr": dr,
        "vn": vn,
        "ru": ru,
        "dr_firms": dr_firms,
        "vcci_only": vcci_only,
        "shared": shared,
        "dr_only": dr_only,
        "nobodys": nobodys,
        "vcci_staff": staff_of(vcci, "lan-vcci"),
        "dr_staff": staff_of(dr, "olga-deloros"),
    }


# --- in the browser -------------------------------------------------------------------------------------------------


def signed_in(browser: Browser, base: str, username: str, *, locale: str = "en") -> Page:
    page = browser.new_context(viewport=VIEWPORT, locale=locale).new_page()
    page.goto(base + "/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    expect(page).to_have_url(re.compile("/admin/$"))
    return page


def press(page: Page, key: str) -> None:
    """A key that sends the page on (a decision, undo, next): returns once the next page has loaded."""
    with page.expect_navigation():
        page.keyboard.press(key)


def shown_pair(page: Page) -> int:
    """The pair the workbench shows (its decide form's address names it)."""
    action = page.locator("#decide-form").get_attribute("action")
    return int(re.search(r"/review/(\d+)/decide/", action)[1])


def assert_no_horizontal_scroll(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= VIEWPORT["width"], f"{page.url} is {width} px wide"


def rows_above_the_fold(page: Page) -> int:
    return page.evaluate(
        "Array.from(document.querySelectorAll('#result_list tbody tr'))"
        ".filter(row => row.getBoundingClientRect().bottom <= window.innerHeight).length"
    )


def statuses(pks) -> dict[int, str]:
    return dict(Match.objects.filter(pk__in=pks).values_list("pk", "status"))


def wait_for(condition: Callable[[], object], what: str, timeout: float = 60) -> None:
    """Poll the database or the mail sink until ``condition`` holds (the worker is another process)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def test_a_vcci_reviewer_decides_by_keyboard_undoes_bulk_approves_and_reads_the_dashboard(
    browser,
    live_server,
    review_market,
    screenshots,
):
    base, market = live_server.url, review_market
    staff = market["vcci_staff"]
    ours = [match.pk for match in market["vcci_only"] + market["shared"]]
    page = signed_in(browser, base, staff.username)

    # From the admin index to the workbench: one pair, both firms side by side, the keys on the page.
    page.click(f"a[href='{WORKBENCH}']")
    expect(page.locator("#review-keys")).to_contain_text("approve")
    expect(page.locator("#firm-vn h2")).to_be_visible()
    expect(page.locator("#firm-ru h2")).to_be_visible()
    expect(page.locator(".review-firm mark").first).to_be_visible()  # the quoted texts
    expect(page.locator("#review-bar")).to_contain_text(f"{len(ours)} pairs waiting")
    assert_no_horizontal_scroll(page)
    page.screenshot(path=screenshots / "review-1-workbench.png")
    page.keyboard.press("?")
    expect(page.locator("#review-help")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator("#review-help")).to_be_hidden()

    # The per-firm view of the Vietnamese firm shown: its suggestions, ranked.
    first = Match.objects.select_related("company_vn").get(pk=shown_pair(page))
    page.click("#firm-vn a[href*='/review/firm/']")
    expect(page.locator("#firm-suggestions")).to_contain_text(first.company_ru.name)
    waiting = Match.objects.filter(company_vn=first.company_vn, status="suggested").count()
    expect(page.locator("#firm-suggestions tbody tr")).to_have_count(waiting)
    assert_no_horizontal_scroll(page)
    page.screenshot(path=screenshots / "review-2-firm.png", full_page=True)
    page.goto(base + WORKBENCH)

    # Three approvals with `a`, each leading to another pair.
    approved = []
    for _ in range(3):
        pk = shown_pair(page)
        press(page, "a")
        expect(page.locator(".messagelist")).to_contain_text("Approved:")
        assert shown_pair(page) != pk
        approved.append(pk)
    # A rejection with `r` and the one-click reason "Already in contact" (key 2).
    rejected = shown_pair(page)
    page.keyboard.press("r")
    expect(page.locator("#reject-panel")).to_be_visible()
    expect(page.locator("#reject-note")).to_be_focused()
    press(page, "2")
    expect(page.locator(".messagelist")).to_contain_text("Rejected:")
    assert statuses(approved + [rejected]) == {**{pk: "approved" for pk in approved}, rejected: "rejected"}
    assert Match.objects.get(pk=rejected).review_note == "Already in contact"
    for pk in approved:
        assert MatchEvent.objects.filter(match_id=pk, action="approved", actor=staff).count() == 1
    assert MatchEvent.objects.filter(match_id=rejected, action="rejected", actor=staff).count() == 1

    # Undo (`u`): the rejection is taken back and the pair shown again, waiting; then rejected with a typed note.
    expect(page.locator("#review-undo")).to_be_visible()
    press(page, "u")
    expect(page.locator(".messagelist")).to_contain_text("Decision undone")
    assert shown_pair(page) == rejected
    undone = Match.objects.get(pk=rejected)
    assert (undone.status, undone.review_note, undone.reviewed_by) == ("suggested", "", None)
    assert MatchEvent.objects.get(match_id=rejected, action="undone").actor == staff
    page.keyboard.press("r")
    expect(page.locator("#reject-note")).to_be_focused()
    page.keyboard.type("Already met at the Hanoi fair in October")
    press(page, "Enter")
    decided = Match.objects.get(pk=rejected)
    assert (decided.status, decided.review_note, decided.reviewed_by) == (
        "rejected",
        "Already met at the Hanoi fair in October",
        staff,
    )
    assert Match.objects.filter(pk__in=ours, status="suggested").count() == len(ours) - 4

    # Bulk approve above 60 %: the count first, nothing changed; then the approval, one audit row each.
    page.click("#review-bar a:text('Bulk approve')")
    page.fill("input[name=least]", "60")
    page.click("#bulk-count button[type=submit]")
    above = [m.pk for m in Match.objects.filter(pk__in=ours, status="suggested") if m.score_parts["confidence"] >= 0.6]
    assert above, "the keyboard took every pair above 60 %"
    expect(page.locator("#bulk-count-result")).to_contain_text(
        f"{len(above)} suggestion{'s' if len(above) > 1 else ''} with a confidence of at least 60% will be approved"
    )
    assert set(statuses(above).values()) == {"suggested"}
    assert_no_horizontal_scroll(page)
    page.screenshot(path=screenshots / "review-6-bulk.png")
    with page.expect_navigation():
        page.click("#bulk-confirm button[type=submit]")
    expect(page.locator(".messagelist")).to_contain_text(f"{len(above)} match")
    assert set(statuses(above).values()) == {"approved"}
    bulk_events = MatchEvent.objects.filter(match_id__in=above, action="approved")
    assert bulk_events.count() == len(above) and {event.actor for event in bulk_events} == {staff}
    below = Match.objects.filter(pk__in=ours, status="suggested")
    assert below.exists() and all(m.score_parts["confidence"] < 0.6 for m in below)
    others = [m.pk for m in market["dr_only"]] + [market["nobodys"].pk]
    assert set(statuses(others).values()) == {"suggested"}  # not VCCI's to approve

    # The Matches list fits the laptop: at least ten rows above the fold, no horizontal scroll.
    page.goto(base + MATCHES)
    expect(page.locator("#result_list tbody tr")).to_have_count(len(ours))
    assert rows_above_the_fold(page) >= 10
    assert_no_horizontal_scroll(page)
    page.screenshot(path=screenshots / "review-3-matches.png")

    # The dashboard, from the admin index: what this reviewer did, this week. The figures are cached a few
    # minutes (the index cached them when the reviewer signed in): as if those minutes had passed.
    cache.clear()
    page.goto(base + "/admin/")
    page.click(f"#content a[href='{DASHBOARD}']")
    expect(page).to_have_url(re.compile(f"{DASHBOARD}$"))
    waiting_now = Match.objects.filter(pk__in=ours, status="suggested").count()
    headline = page.locator(".dashboard-headline li")
    expect(headline.filter(has_text="Suggestions waiting").locator("strong")).to_have_text(str(waiting_now))
    approved_row = page.locator("#dashboard-figures tr").filter(has_text="Suggestions approved")
    expect(approved_row.locator("td").last).to_have_text(str(3 + len(above)))
    expect(page.locator(".dashboard-charts svg").first).to_be_visible()
    assert_no_horizontal_scroll(page)
    page.screenshot(path=screenshots / "review-4-dashboard.png", full_page=True)


def test_a_delovaya_rossiya_reviewer_never_sees_a_pair_without_a_firm_of_theirs(
    browser,
    live_server,
    review_market,
    screenshots,
):
    base, market = live_server.url, review_market
    theirs = {match.pk for match in market["shared"] + market["dr_only"]}
    vcci_only = market["vcci_only"]
    page = signed_in(browser, base, market["dr_staff"].username, locale="ru")

    # The workbench, in Russian: walking the whole queue with `j` shows their pairs and no other.
    page.goto(base + WORKBENCH)
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    assert_no_horizontal_scroll(page)
    page.screenshot(path=screenshots / "review-5-workbench-ru.png")
    seen = [shown_pair(page)]
    for _ in range(len(theirs) + 1):
        press(page, "j")
        if shown_pair(page) == seen[-1]:  # the last pair: it stays
            break
        seen.append(shown_pair(page))
    assert sorted(seen) == sorted(theirs)
    vcci_names = {match.company_ru.name for match in vcci_only}
    for name in vcci_names:
        expect(page.locator("#content")).not_to_contain_text(name)

    # A VCCI pair's page, its decision and a VCCI member's suggestions are a 404, and nothing changes.
    assert page.goto(base + f"{WORKBENCH}{vcci_only[0].pk}/").status == 404
    member = market["vn"][2]  # paired with no Delovaya Rossiya member
    assert page.goto(base + f"{WORKBENCH}firm/{member.pk}/").status == 404
    page.goto(base + WORKBENCH)
    csrf = next(cookie["value"] for cookie in page.context.cookies() if cookie["name"] == "csrftoken")
    response = page.request.post(
        base + f"{WORKBENCH}{vcci_only[0].pk}/decide/",
        form={"action": "approve"},
        headers={"X-CSRFToken": csrf, "Referer": base + WORKBENCH},
    )
    assert response.status == 404
    assert Match.objects.get(pk=vcci_only[0].pk).status == "suggested"

    # Their Matches list holds their pairs only.
    page.goto(base + MATCHES)
    expect(page.locator("#result_list tbody tr")).to_have_count(len(theirs))
    for name in vcci_names:
        expect(page.locator("#result_list")).not_to_contain_text(name)
    assert_no_horizontal_scroll(page)


@pytest.mark.celery_worker
@pytest.mark.redis
@pytest.mark.usefixtures("site_url")
def test_introduce_now_on_a_real_worker_mails_both_firms_once_and_the_next_digest_does_not_repeat_it(
    browser, live_server, review_market, worker, sink, monkeypatch
):
    # The live server and the worker share the test database: the worker process is started on its name
    # (tests/workers.py), and this test, the live server's thread and the worker all commit what they write.
    # The workbench queues the task in the live server's thread, whose Celery app is the project's (this thread's
    # is the test worker's client): both send it to the test worker's own queue.
    name = tasks.send_introduction_now.name
    for task in {celery_app.tasks[name], tasks.send_introduction_now._get_current_object()}:
        monkeypatch.setattr(task, "delay", lambda match_id: worker.send(name, match_id))
    base, market = live_server.url, review_market
    staff = market["vcci_staff"]
    match = market["vcci_only"][0]
    readers = {}
    for company, language in ((match.company_vn, "vi"), (match.company_ru, "ru")):
        user = UserFactory(username=f"{language}-reader")
        MembershipFactory(company=company, user=user, language=language)
        readers[language] = user.email
    page = signed_in(browser, base, staff.username)

    page.goto(base + f"{WORKBENCH}{match.pk}/")
    expect(page.locator("#introduce-button")).to_be_visible()
    press(page, "i")
    expect(page.locator(".messagelist")).to_contain_text("being emailed the introduction now")
    expect(page.locator("#review-undo")).to_have_count(0)  # nothing to take back once the emails are on their way

    sent = DigestDelivery.objects.filter(
        kind=DigestDelivery.Kind.INTRODUCTION, match=match, status=DigestDelivery.Status.SENT
    )
    wait_for(lambda: sent.count() == 2 and len(sink.received) >= 2, "both introduction emails")
    match.refresh_from_db()
    assert match.status == Match.Status.INTRODUCED
    assert match.events.get(action="approved").actor == staff
    assert match.events.get(action="introduction_requested").actor == staff
    assert "giới thiệu" in sink.to(readers["vi"])[0]["Subject"]
    assert "знакомств" in sink.to(readers["ru"])[0]["Subject"]

    # Next Monday's weekly digest, through the worker: both firms' digests have nothing new to tell.
    monday = IsoWeek(*(IsoWeek.current().monday + timedelta(weeks=1)).isocalendar()[:2])
    worker.send("matchmaking.tasks.dispatch_weekly_digests", week=str(monday))
    weekly = DigestDelivery.objects.filter(
        kind=DigestDelivery.Kind.WEEKLY,
        iso_year=monday.year,
        iso_week=monday.week,
        company__in=[match.company_vn, match.company_ru],
    )
    wait_for(lambda: weekly.filter(status=DigestDelivery.Status.SKIPPED).count() == 2, "next week's digests")
    assert set(weekly.values_list("reason", flat=True)) == {"nothing new"}
    assert Counter(address for address in sink.per_recipient().elements() if address in readers.values()) == Counter(
        {readers["vi"]: 1, readers["ru"]: 1}
    )

    # The dashboard counts the introduction this week (its figures computed afresh, not those cached at sign-in).
    cache.clear()
    page.goto(base + DASHBOARD)
    introductions = page.locator(".dashboard-headline li").filter(has_text="Introductions this week")
    expect(introductions.locator("strong")).to_have_text("1")
