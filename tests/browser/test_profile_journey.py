"""The Vietnamese coffee exporter from sign-up to a profile submitted for review, in Vietnamese, on the new profile
form, at 1366×768 and at 390×844: nothing scrolls sideways on any page of the way, and the clicks, choices and
typed fields it takes are counted and printed (issue 18: before, about 38 clicks and 3 saves)."""

import re
from dataclasses import dataclass, field

import pytest
from django.core import mail
from django.utils import translation
from playwright.sync_api import Browser, Page, expect

from companies.models import Company, Sector
from tests.browser.axe import assert_accessible
from tests.browser.test_journey import PASSWORD, VERIFY_LINK, VIETNAMESE_FIRM, switch_language
from tests.factories import MEMBER_PASSWORD, ChamberFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

VIEWPORTS = {"desktop": {"width": 1366, "height": 768}, "phone": {"width": 390, "height": 844}}
PROFILE_STEPS = ("step-firm", "step-offers", "step-needs", "step-consent", "step-save")


@pytest.fixture
def chambers(sectors_loaded):
    return {
        "VN": ChamberFactory(slug="vcci", name="VCCI", country="VN"),
        "RU": ChamberFactory(slug="delovaya-rossiya", name="Delovaya Rossiya", country="RU"),
    }


@dataclass
class CountingPage:
    """The page, with each thing the user does counted: clicks (buttons, links, boxes), choices in a list, and
    fields typed into. Saves are the clicks that send the profile form."""

    page: Page
    clicks: int = 0
    choices: int = 0
    fills: int = 0
    saves: int = 0
    pages: list[str] = field(default_factory=list)

    def click(self, selector: str) -> None:
        self.clicks += 1
        self.page.click(selector)

    def check(self, selector: str) -> None:
        self.clicks += 1
        self.page.check(selector)

    def select(self, selector: str, value) -> None:
        self.choices += 1
        self.page.select_option(selector, value)

    def fill(self, selector: str, text: str) -> None:
        self.fills += 1
        self.page.fill(selector, text)

    def save(self, selector: str) -> None:
        self.saves += 1
        self.click(selector)

    def no_sideways_scroll(self, name: str) -> None:
        """Checked on every page of the journey, as it is shown."""
        self.pages.append(name)
        fits = self.page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        width = self.page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert fits, f"{name} scrolls sideways: {width[0]} px of content in a {width[1]} px window"


@pytest.mark.parametrize("size", VIEWPORTS)
def test_the_coffee_exporter_signs_up_and_submits_its_profile_in_vietnamese(
    browser: Browser, live_server, chambers, screenshots, size
):
    firm, base = VIETNAMESE_FIRM, live_server.url
    viewport = VIEWPORTS[size]
    tag = f"profile-journey-{viewport['width']}x{viewport['height']}"
    me = CountingPage(browser.new_context(locale="vi", viewport=viewport).new_page())
    page = me.page

    page.goto(base + "/")
    me.choices += 1  # the language switch
    switch_language(page, "vi")
    me.no_sideways_scroll("home")
    me.click("header a[href='/accounts/signup/']")
    me.no_sideways_scroll("sign-up")
    me.fill("#id_email", firm["email"])
    me.click("main form button[type=submit]")
    expect(page).to_have_url(re.compile("/accounts/signup/sent/$"))
    me.no_sideways_scroll("sign-up sent")

    [message] = [m for m in mail.outbox if firm["email"] in m.to]
    page.goto(VERIFY_LINK.search(message.body).group(0))  # the link in the email
    expect(page.locator("#id_new_password1_helptext li")).to_have_count(4)  # the rules, before any failure
    me.no_sideways_scroll("choose a password")
    page.screenshot(path=screenshots / f"{tag}-0-password.png", full_page=True)
    me.fill("#id_new_password1", PASSWORD)
    me.fill("#id_new_password2", PASSWORD)
    me.click("main form button[type=submit]")
    expect(page).to_have_url(re.compile("/my/profile/$"))
    me.no_sideways_scroll("empty profile form")
    assert_accessible(page)

    # What is known is already filled in: the country and its chamber, the contact address, the page's language.
    expect(page.locator("#id_firm-country")).to_have_value("VN")
    expect(page.locator("#id_firm-chamber")).to_have_value(str(chambers["VN"].pk))
    expect(page.locator("#id_firm-contact_email")).to_have_value(firm["email"])
    expect(page.locator("input[name=firm-languages][value=vi]")).to_be_checked()
    expect(page.locator("[data-testid=need]:visible")).to_have_count(1)  # a spare row waits behind a button

    me.fill("#id_firm-name", firm["name"])
    me.fill("#id_firm-city", firm["city"])
    me.fill("#id_firm-activity_code", firm["code"])
    with translation.override("vi"):  # said as it is typed, in the reader's language
        said = translation.gettext("Code %(code)s belongs to ISIC division %(division)s: %(name)s.") % {
            "code": firm["code"],
            "division": "10",
            "name": Sector.objects.get(code="10").name_vi,
        }
    expect(page.locator("[data-testid=activity-division]")).to_have_text(said)
    me.check(f"input[name=firm-sectors][value='{firm['sector']}']")  # its section opened with the code
    me.select("#id_firm-size", "small")
    me.check("input[name=firm-languages][value=ru]")
    me.check("input[name=firm-languages][value=en]")
    me.fill("#id_firm-contact_name", firm["contact"])
    me.fill("#id_firm-contact_phone", firm["phone"])
    me.fill("#id_offers-0-text", firm["offer"])
    me.check("input[name=offers-0-cooperation][value=distribution]")
    me.check("input[name=offers-0-cooperation][value=supply]")
    me.fill("#id_needs-0-text", firm["need"])
    me.check("input[name=needs-0-cooperation][value=distribution]")
    me.check("input[name=needs-0-cooperation][value=supply]")
    for purpose in ("matching", "share_profile", "cross_border"):
        me.check(f"#id_consent-{purpose}")
    me.no_sideways_scroll("filled profile form")
    for number, step in enumerate(PROFILE_STEPS, start=1):
        page.locator(f"#{step}").screenshot(path=screenshots / f"{tag}-{number}-{step}.png")
    page.screenshot(path=screenshots / f"{tag}-filled-form.png", full_page=True)

    me.save("[data-testid=save-and-submit]")
    with translation.override("vi"):
        expect(page.locator("[data-testid=profile-status]")).to_have_text(str(Company.Status.PENDING.label))
    me.no_sideways_scroll("submitted profile")
    page.screenshot(path=screenshots / f"{tag}-6-submitted.png", full_page=True)

    company = Company.objects.get(name=firm["name"])
    assert (company.status, company.country, company.chamber) == (Company.Status.PENDING, "VN", chambers["VN"])
    assert company.activity_division_id == "10" and list(company.sectors.values_list("code", flat=True)) == ["10"]
    assert sorted(company.languages) == ["en", "ru", "vi"] and company.contact_email == firm["email"]
    assert company.listings.get(direction="offer").language == "vi"
    print(
        f"\n{tag}: {me.clicks} clicks, {me.choices} choices from a list, {me.fills} fields typed, "
        f"{me.saves} save(s) of the profile form; pages without sideways scroll: {', '.join(me.pages)}"
    )


def test_a_failed_save_moves_the_focus_to_linked_errors_on_a_phone(
    browser: Browser, live_server, chambers, screenshots
):
    UserFactory(username="lan@firm.example", email="lan@firm.example", password=MEMBER_PASSWORD)
    page = browser.new_context(locale="vi", viewport=VIEWPORTS["phone"]).new_page()
    page.goto(live_server.url + "/accounts/login/")
    page.fill("#id_username", "lan@firm.example")
    page.fill("#id_password", MEMBER_PASSWORD)
    page.click("main form button[type=submit]")
    expect(page).to_have_url(re.compile("/my/profile/$"))

    search = page.locator("#id_firm-sectors-search")
    search.fill("thuc pham")  # "thực phẩm" without its accents, as typed without a Vietnamese keyboard
    expect(page.locator("input[name=firm-sectors][value='10']")).to_be_visible()
    assert page.locator("#id_firm-sectors-count").inner_text()  # how many divisions match, said aloud
    search.fill("46")
    expect(page.locator("input[name=firm-sectors][value='46']")).to_be_visible()
    expect(page.locator("input[name=firm-sectors][value='10']")).to_be_hidden()

    page.click("[data-testid=save-profile]")
    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    expect(summary.locator("a[href='#id_firm-name']")).to_be_visible()
    expect(summary.locator("a[href='#id_consent-matching']")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=screenshots / "profile-journey-390x844-errors.png")
    summary.locator("a[href='#id_consent-matching']").click()
    expect(page).to_have_url(re.compile("#id_consent-matching$"))
    expect(page.locator("#id_consent-matching")).to_be_in_viewport()
