"""From sign-up to a connected partner, in a real browser: a Vietnamese and a Russian firm, each in its language."""

import re

import pytest
from django.core import mail
from django.core.management import call_command
from playwright.sync_api import Browser, Page, expect

from companies.models import Company
from matchmaking.models import Match
from matchmaking.services import recompute_matches
from tests.factories import ChamberFactory, CompanyFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "Mekong-Volga-2026!"
VERIFY_LINK = re.compile(r"https?://\S+/accounts/verify/\S+/")

VIETNAMESE_FIRM = {
    "name": "Công ty TNHH Cà phê Tây Nguyên Xanh",
    "country": "VN",
    "city": "Buôn Ma Thuột",
    "code": "1077",
    "sector": "10",
    "contact": "Nguyễn Thị Lan",
    "email": "lan@taynguyen-coffee.example",
    "phone": "+84 262 000 111",
    "offer": "Cà phê Robusta và Arabica rang xay, đóng gói, 1.200 tấn mỗi năm, chứng nhận UTZ và HACCP, xuất khẩu "
    "sang Liên minh Kinh tế Á Âu.",
    "need": "Nhà phân phối cà phê tại Nga, các chuỗi bán lẻ và nhà nhập khẩu thực phẩm ở Moskva và Sankt-Peterburg.",
}
RUSSIAN_FIRM = {
    "name": "ООО «Волга Кофе Трейд»",
    "country": "RU",
    "city": "Казань",
    "code": "46.37",
    "sector": "46",
    "contact": "Ольга Смирнова",
    "email": "olga@volga-coffee.example",
    "phone": "+7 843 000 22 33",
    "offer": "Дистрибуция кофе и чая по 40 регионам России: склады в Казани и Москве, поставки в розничные сети и "
    "рестораны.",
    "need": "Поставщики вьетнамского кофе робуста и арабика, обжаренного и в зёрнах, с сертификатами качества, "
    "от 20 тонн в месяц.",
}


@pytest.fixture
def chambers(sectors_loaded):
    return {
        "VN": ChamberFactory(slug="vcci", name="VCCI", country="VN"),
        "RU": ChamberFactory(slug="delovaya-rossiya", name="Delovaya Rossiya", country="RU"),
    }


def switch_language(page: Page, language: str) -> None:
    with page.expect_navigation():
        page.select_option("#language-switch", language)
    expect(page.locator("html")).to_have_attribute("lang", language)


def sign_up_and_describe(browser: Browser, base: str, firm: dict, language: str, chamber, shots, tag: str) -> Page:
    page = browser.new_context(locale=language).new_page()
    page.goto(base + "/")
    switch_language(page, language)
    page.screenshot(path=shots / f"{tag}-1-home.png", full_page=True)
    page.goto(base + "/accounts/signup/")
    page.fill("#id_email", firm["email"])
    page.click("main form button[type=submit]")
    expect(page).to_have_url(re.compile("/accounts/signup/sent/$"))

    [message] = [m for m in mail.outbox if firm["email"] in m.to]
    page.goto(VERIFY_LINK.search(message.body).group(0))
    page.fill("#id_new_password1", PASSWORD)  # the link's page asks for the password
    page.fill("#id_new_password2", PASSWORD)
    page.click("main form button[type=submit]")
    expect(page).to_have_url(re.compile("/my/profile/$"))

    page.fill("#id_firm-name", firm["name"])
    page.select_option("#id_firm-country", firm["country"])
    page.fill("#id_firm-city", firm["city"])
    page.fill("#id_firm-activity_code", firm["code"])
    page.check(f"input[name=firm-sectors][value='{firm['sector']}']")  # its section opens with the code
    page.select_option("#id_firm-size", "small")
    for index in range(3):  # vi, ru, en
        page.check(f"#id_firm-languages_{index}")
    page.select_option("#id_firm-chamber", str(chamber.pk))
    page.fill("#id_firm-contact_name", firm["contact"])
    page.fill("#id_firm-contact_email", firm["email"])
    page.fill("#id_firm-contact_phone", firm["phone"])
    page.fill("#id_offers-0-text", firm["offer"])
    page.check("#id_offers-0-cooperation_0")  # distribution
    page.check("#id_offers-0-cooperation_5")  # supply
    page.fill("#id_needs-0-text", firm["need"])
    page.check("#id_needs-0-cooperation_0")
    page.check("#id_needs-0-cooperation_5")
    for purpose in ("matching", "share_profile", "cross_border"):
        page.check(f"#id_consent-{purpose}")
    page.screenshot(path=shots / f"{tag}-2-profile-form.png", full_page=True)
    page.click("[data-testid=save-profile]")
    expect(page.locator("[data-testid=activity-division]")).to_contain_text(firm["sector"])
    page.click("[data-testid=submit-profile]")
    expect(page.locator("[data-testid=profile-status]")).to_have_text(
        str(Company.Status.PENDING.label) if language == "en" else re.compile(r"\S")
    )
    page.screenshot(path=shots / f"{tag}-3-profile-submitted.png", full_page=True)
    return page


def staff_session(browser: Browser, base: str) -> Page:
    UserFactory(username="chamber-admin", is_staff=True, is_superuser=True, password=PASSWORD)
    page = browser.new_context(locale="en").new_page()
    page.goto(base + "/admin/login/")
    page.fill("#id_username", "chamber-admin")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    expect(page).to_have_url(re.compile("/admin/$"))
    return page


def admin_action(page: Page, changelist: str, pk: int, action: str, note: str = "") -> None:
    page.goto(changelist)
    page.check(f"input[name=_selected_action][value='{pk}']")
    page.select_option("select[name=action]", action)
    if note:
        page.fill("input[name=note]", note)
    page.click("button[name=index]")
    expect(page.locator(".messagelist")).to_be_visible()


def test_two_firms_go_from_sign_up_to_a_connected_partner(browser, live_server, chambers, screenshots):
    base = live_server.url
    vn_page = sign_up_and_describe(browser, base, VIETNAMESE_FIRM, "vi", chambers["VN"], screenshots, "vi")
    ru_page = sign_up_and_describe(browser, base, RUSSIAN_FIRM, "ru", chambers["RU"], screenshots, "ru")
    vn = Company.objects.get(name=VIETNAMESE_FIRM["name"])
    ru = Company.objects.get(name=RUSSIAN_FIRM["name"])
    assert (vn.status, ru.status) == (Company.Status.PENDING, Company.Status.PENDING)
    assert vn.listings.get(direction="offer").language == "vi" and ru.listings.get(direction="need").language == "ru"

    staff = staff_session(browser, base)
    for firm in (vn, ru):
        admin_action(staff, base + "/admin/companies/company/?status=pending", firm.pk, "publish")
    recompute_matches()
    match = Match.objects.get(company_vn=vn, company_ru=ru)
    admin_action(
        staff,
        base + "/admin/matchmaking/match/?status=suggested",
        match.pk,
        "approve",
        note="Coffee supplier for a coffee distributor",
    )
    call_command("send_digests", verbosity=0)  # the weekly digest introduces the approved match
    match.refresh_from_db()
    assert match.status == Match.Status.INTRODUCED
    mails_to_vn = [m.subject for m in mail.outbox if VIETNAMESE_FIRM["email"] in m.to]
    assert any("lời giới thiệu" in subject for subject in mails_to_vn), mails_to_vn

    for page, other in ((vn_page, RUSSIAN_FIRM), (ru_page, VIETNAMESE_FIRM)):
        page.goto(base + "/my/introductions/")
        card = page.locator("[data-testid=introduction]")
        expect(card).to_contain_text(other["name"])
        expect(card).not_to_contain_text(other["email"])  # nothing before both accept
        page.screenshot(
            path=screenshots / f"{page.locator('html').get_attribute('lang')}-4-introductions.png", full_page=True
        )
        page.click("[data-testid=accept]")

    for page, other in ((vn_page, RUSSIAN_FIRM), (ru_page, VIETNAMESE_FIRM)):
        page.goto(base + "/my/introductions/")
        expect(page.locator("[data-testid=contact]")).to_contain_text(other["email"])
        expect(page.locator("[data-testid=contact]")).to_contain_text(other["phone"])
    vn_page.screenshot(path=screenshots / "vi-5-connected.png", full_page=True)
    match.refresh_from_db()
    assert match.status == Match.Status.CONNECTED

    # A third firm sees neither the introduction nor the contacts, and another firm's match is a 404.
    third = CompanyFactory(country="VN", name="Third Firm")
    MembershipFactory(company=third, user=UserFactory(username="third@firm.example", password=PASSWORD))
    outsider = browser.new_context().new_page()
    outsider.goto(base + "/accounts/login/")
    outsider.fill("#id_username", "third@firm.example")
    outsider.fill("#id_password", PASSWORD)
    outsider.click("main form button[type=submit]")
    outsider.goto(base + "/my/introductions/")
    expect(outsider.locator("main")).not_to_contain_text(RUSSIAN_FIRM["email"])
    expect(outsider.locator("main")).not_to_contain_text(RUSSIAN_FIRM["name"])
    csrf = next(c["value"] for c in outsider.context.cookies() if c["name"] == "csrftoken")
    response = outsider.request.post(
        base + f"/my/introductions/{match.pk}/answer/", form={"answer": "accept"}, headers={"X-CSRFToken": csrf}
    )
    assert response.status == 404
    outsider.goto(base + f"/directory/{ru.pk}/")
    expect(outsider.locator("main")).to_contain_text(RUSSIAN_FIRM["name"])
    expect(outsider.locator("main")).not_to_contain_text(RUSSIAN_FIRM["email"])


def test_the_language_switch_shows_the_same_page_in_each_language(page, live_server, sectors_loaded, screenshots):
    page.goto(live_server.url + "/directory/")
    headings = {}
    for language in ("en", "vi", "ru"):
        switch_language(page, language)
        expect(page).to_have_url(re.compile("/directory/$"))
        headings[language] = page.locator("h1").inner_text()
        page.screenshot(path=screenshots / f"directory-{language}.png", full_page=True)
    assert len(set(headings.values())) == 3, headings
