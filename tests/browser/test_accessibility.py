"""The main pages, in Vietnamese and Russian, checked by axe-core and on a phone's width.

Each page is opened as its usual reader would (a visitor, a member who has no firm yet, a member of a published
firm with an introduction) at 1366×768 and at 390×844: axe-core must find no critical or serious violation at
either size, and on the phone nothing may scroll sideways. Every problem of every page is listed at the end, so
one run shows them all.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from playwright.sync_api import Browser, Page, expect

from companies.account_views import email_verification_token
from companies.models import Company
from companies.recipients import claim_token, firm_recipients
from matchmaking import services as match_services
from tests.browser.axe import axe_violations, horizontal_overflow, overflowing_elements
from tests.browser.test_journey import PASSWORD
from tests.factories import (
    ChamberFactory,
    CompanyFactory,
    EventFactory,
    ListingFactory,
    MatchFactory,
    MembershipFactory,
    UserFactory,
    register_firm,
)

pytestmark = pytest.mark.django_db(transaction=True)

DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
NEWCOMER, MEMBER = "anh@newcomer.example", "lan@member.example"


@dataclass
class Screen:
    name: str
    reader: str | None  # None: a visitor; else the username signed in
    open: Callable[[Page, str, dict], None]  # (page, base URL, site) -> the page is shown
    shows: str = "main h1"  # what proves it is the page meant, not a 404 or a redirect


def _goto(path: str) -> Callable[[Page, str, dict], None]:
    return lambda page, base, site: page.goto(base + path.format(**site))


def _profile_after_a_failed_save(page: Page, base: str, site: dict) -> None:
    page.goto(base + "/my/profile/")
    page.locator("[data-testid=save-profile], main form button[type=submit]").first.click()
    page.wait_for_load_state()


def _sign_up_refused(page: Page, base: str, site: dict) -> None:
    page.goto(base + "/accounts/signup/")
    page.fill("#id_email", "not an address")
    # The browser's own check would stop the form before the server answers.
    page.locator("main form").evaluate("form => form.noValidate = true")
    page.click("main form button[type=submit]")
    page.wait_for_load_state()


def _login_refused(page: Page, base: str, site: dict) -> None:
    page.goto(base + "/accounts/login/")
    page.fill("#id_username", "nobody@nowhere.example")
    page.fill("#id_password", "wrong password")
    page.click("main form button[type=submit]")
    page.wait_for_load_state()


SCREENS = [
    Screen("home", None, _goto("/")),
    Screen("directory", None, _goto("/directory/"), "main article"),
    Screen("directory search", None, _goto("/directory/?q=coffee&country=VN"), "main article"),
    Screen("firm's public page", None, _goto("/directory/{firm_pk}/")),
    Screen("sign-up", None, _goto("/accounts/signup/")),
    Screen("sign-up refused", None, _sign_up_refused),
    Screen("verify email", None, _goto("{verify_path}"), "#id_new_password1"),
    Screen("claim", None, _goto("/claim/{claim_token}/"), "main form input[type=password]"),
    Screen("login", None, _goto("/accounts/login/")),
    Screen("login refused", None, _login_refused),
    Screen("password reset", None, _goto("/accounts/password-reset/")),
    Screen("unsubscribe", None, _goto("/email/unsubscribe/{unsubscribe_token}/"), "main form button"),
    Screen("mail preferences", None, _goto("/email/preferences/{unsubscribe_token}/"), "main form button"),
    Screen("events", None, _goto("/events/")),
    Screen("event", None, _goto("/events/{event_slug}/")),
    Screen("profile, empty", NEWCOMER, _goto("/my/profile/")),
    Screen("profile, failed save", NEWCOMER, _profile_after_a_failed_save, "main .errorlist"),
    Screen("profile, published", MEMBER, _goto("/my/profile/")),
    Screen("preferences", MEMBER, _goto("/my/preferences/")),
    Screen("my introductions", MEMBER, _goto("/my/introductions/"), "[data-testid=introduction]"),
    Screen("event, as a member", MEMBER, _goto("/events/{event_slug}/"), "#register-form"),
]


@pytest.fixture
def site(sectors_loaded, settings) -> dict:
    settings.MATCHING_RECOMPUTE_ON_SAVE = False  # the one introduction below is made by hand
    call_command("load_seeds", verbosity=0)  # the home page's trade figures and the articles' events
    vcci = ChamberFactory(slug="vcci", name="VCCI", country="VN")
    ChamberFactory(slug="delovaya-rossiya", name="Delovaya Rossiya", country="RU")
    vn = CompanyFactory(
        name="Công ty TNHH Cà phê Đắk Lắk",
        city="Buôn Ma Thuột",
        activity_code="1077",
        activity_division_id="10",
        languages=["vi", "en"],
        chamber=vcci,
    )
    ListingFactory(
        company=vn,
        direction="offer",
        cooperation=["supply", "distribution"],
        text="Cà phê Robusta rang xay và cà phê nhân, 800 tấn mỗi năm, chứng nhận UTZ, xuất khẩu sang Nga.",
    )
    ListingFactory(
        company=vn,
        direction="need",
        cooperation=["distribution"],
        text="Nhà phân phối cà phê tại Nga, các chuỗi bán lẻ ở Moskva và Sankt-Peterburg.",
    )
    ru = CompanyFactory(
        name="ООО «Казань Кофе»",
        country="RU",
        city="Казань",
        activity_code="46.37",
        activity_division_id="46",
        languages=["ru"],
    )
    ListingFactory(
        company=ru,
        direction="need",
        cooperation=["supply"],
        text="Ищем поставщика вьетнамского кофе робуста, жареного и в зёрнах, от 20 тонн в месяц.",
    )
    ListingFactory(
        company=ru,
        direction="offer",
        cooperation=["distribution"],
        text="Дистрибуция кофе и чая по 40 регионам России, склады в Казани и Москве.",
    )
    for index in range(3):
        ListingFactory(company=CompanyFactory(name=f"Coffee roaster {index}", country="VN"), text="Roasted coffee")
    member = UserFactory(username=MEMBER, email=MEMBER, password=PASSWORD)
    membership = MembershipFactory(company=ru, user=member, language="ru")
    UserFactory(username=NEWCOMER, email=NEWCOMER, password=PASSWORD)

    match = MatchFactory(company_vn=vn, company_ru=ru, score=0.8, fit_for_vn=0.8, fit_for_ru=0.8)
    match_services.approve([match], by=None)
    match_services.introduce(match)

    event = EventFactory(organiser=vcci, name="Ngày gặp gỡ B2B Việt Nam – Nga")
    register_firm(event, vn)

    unverified = UserFactory(username="new@signup.example", email="new@signup.example", is_active=False)
    unverified.set_unusable_password()
    unverified.save()
    verify_path = "/accounts/verify/{}/{}/".format(
        urlsafe_base64_encode(force_bytes(unverified.pk)), email_verification_token.make_token(unverified)
    )
    imported = CompanyFactory(
        name="Công ty Chè Thái Nguyên",
        status=Company.Status.PUBLISHED,
        consent_purposes=[],
        contact_email="tra@thai-nguyen.example",
    )
    [recipient], _ = firm_recipients(ru)
    assert recipient.pk == membership.pk
    return {
        "firm_pk": vn.pk,
        "event_slug": event.slug,
        "verify_path": verify_path,
        "claim_token": claim_token(imported),
        "unsubscribe_token": recipient.token,
    }


def _signed_in(browser: Browser, base: str, language: str, username: str | None) -> Page:
    context = browser.new_context(locale=language, viewport=DESKTOP)
    # The language cookie is what the site's language switch sets (tests/browser/test_journey.py).
    context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": base}])
    page = context.new_page()
    if username:
        page.goto(base + "/accounts/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", PASSWORD)
        page.click("main form button[type=submit]")
        expect(page).not_to_have_url(re.compile("/accounts/login/"))
    return page


@pytest.mark.parametrize("language", ["vi", "ru"])
def test_the_main_pages_pass_axe_and_fit_a_phone(browser, live_server, site, language, screenshots):
    base = live_server.url
    pages = {reader: _signed_in(browser, base, language, reader) for reader in (None, NEWCOMER, MEMBER)}
    problems = []
    for screen in SCREENS:
        page = pages[screen.reader]
        page.set_viewport_size(DESKTOP)
        screen.open(page, base, site)
        expect(page.locator("html")).to_have_attribute("lang", language)
        expect(page.locator(screen.shows).first).to_be_visible()
        problems += [f"{screen.name} at {DESKTOP['width']} px: {line}" for line in axe_violations(page)]
        page.set_viewport_size(PHONE)
        problems += [f"{screen.name} at {PHONE['width']} px: {line}" for line in axe_violations(page)]
        overflow = horizontal_overflow(page)
        if overflow:
            problems.append(
                f"{screen.name} at {PHONE['width']} px: the page scrolls sideways by {overflow} px, "
                f"past the edge: {', '.join(overflowing_elements(page))}"
            )
        slug = screen.name.replace(" ", "-").replace(",", "").replace("'", "")
        page.screenshot(path=screenshots / f"a11y-{language}-{slug}-phone.png", full_page=True)
    assert not problems, f"{len(problems)} problems in {language}:\n" + "\n".join(problems)


def test_on_a_phone_the_directory_shows_firms_on_the_first_screen_and_keeps_every_filter(
    browser, live_server, site, screenshots
):
    base = live_server.url
    page = _signed_in(browser, base, "ru", None)
    page.set_viewport_size(PHONE)
    page.goto(base + "/directory/")
    first_firm = page.locator("main article h3").first
    expect(first_firm).to_be_visible()
    assert first_firm.bounding_box()["y"] + first_firm.bounding_box()["height"] < PHONE["height"]
    page.screenshot(path=screenshots / "directory-phone-first-screen.png")

    # The folded filters are one tap away, and stay unfolded while one of them is in use.
    expect(page.locator("select[name=size]")).to_be_hidden()
    page.locator("#more-filters summary").click()
    page.fill("input[name=city]", "Казань")
    page.locator("main form[role=search] button[type=submit]").click()
    expect(page.locator("main article h3")).to_have_text(["ООО «Казань Кофе»"])
    expect(page.locator("input[name=city]")).to_be_visible()

    # A wide screen has room for all of them at once.
    page.set_viewport_size(DESKTOP)
    page.goto(base + "/directory/")
    expect(page.locator("select[name=size]")).to_be_visible()
    page.screenshot(path=screenshots / "directory-desktop-first-screen.png")
