"""A firm's way through a B2B event in a real browser: registration, a suggested meeting requested, the other
firm accepting, the schedule, and the agenda as a page, a printable page and an .ics file."""

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from events import schedule, services
from events.models import Meeting, MeetingRequest, Participant
from tests.browser.test_journey import PASSWORD, switch_language
from tests.factories import (
    ChamberFactory,
    CompanyFactory,
    EventFactory,
    InterpreterFactory,
    ListingFactory,
    MembershipFactory,
    UserFactory,
    register_firm,
)

pytestmark = pytest.mark.django_db(transaction=True)

VN_CONTACT = "lan@robusta-daklak.example"
RU_CONTACT = "olga@kazan-coffee.example"


@pytest.fixture
def b2b_day(sectors_loaded):
    vcci = ChamberFactory(slug="vcci", name="VCCI", country="VN")
    event = EventFactory(organiser=vcci, name="Ngày gặp gỡ B2B Việt Nam – Nga", tables=3)
    InterpreterFactory(event=event, name="Trần Minh Anh", pairs=["ru-vi"])
    vn = CompanyFactory(name="Công ty TNHH Cà phê Đắk Lắk", languages=["vi"], contact_email=VN_CONTACT)
    ListingFactory(
        company=vn,
        direction="offer",
        cooperation=["supply"],
        text="Cà phê Robusta rang xay và cà phê nhân, 800 tấn mỗi năm, chứng nhận UTZ, xuất khẩu sang Nga.",
    )
    ru = CompanyFactory(
        name="ООО «Казань Кофе»", country="RU", city="Казань", languages=["ru"], contact_email=RU_CONTACT
    )
    ListingFactory(
        company=ru,
        direction="need",
        cooperation=["supply"],
        text="Ищем поставщика вьетнамского кофе робуста, жареного и в зёрнах, от 20 тонн в месяц.",
    )
    for company, username, language in ((vn, "lan@member.example", "vi"), (ru, "olga@member.example", "ru")):
        MembershipFactory(company=company, user=UserFactory(username=username, password=PASSWORD), language=language)
    register_firm(event, ru)  # the Russian firm registered earlier and was accepted
    return {"event": event, "vn": vn, "ru": ru}


def signed_in(browser: Browser, base: str, username: str, language: str) -> Page:
    page = browser.new_context(locale=language).new_page()
    page.goto(base + "/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("main form button[type=submit]")
    switch_language(page, language)
    return page


def test_a_firm_goes_from_registration_to_its_agenda(browser, live_server, b2b_day, screenshots):
    base, event, vn, ru = live_server.url, b2b_day["event"], b2b_day["vn"], b2b_day["ru"]
    page = signed_in(browser, base, "lan@member.example", "vi")

    # The firm finds the event in the list and registers for the morning it has free.
    page.goto(base + "/events/")
    page.click(f"text={event.name}")
    expect(page).to_have_url(re.compile(f"/events/{event.slug}/$"))
    form = page.locator("#register-form")
    form.locator("select[name=role]").select_option("seller")
    form.locator("select[name=window_1_day]").select_option(event.starts_on.isoformat())
    form.locator("input[name=window_1_start]").fill("09:00")
    form.locator("input[name=window_1_end]").fill("11:00")
    # A second, overlapping stretch is refused with the reason, and nothing is registered.
    form.locator("select[name=window_2_day]").select_option(event.starts_on.isoformat())
    form.locator("input[name=window_2_start]").fill("10:30")
    form.locator("input[name=window_2_end]").fill("12:00")
    form.locator("button[type=submit]").click()
    expect(page.locator("#window-errors")).to_be_visible()
    assert not Participant.objects.filter(company=vn).exists()
    page.screenshot(path=screenshots / "event-1-overlap.png", full_page=True)
    page.locator("select[name=window_2_day]").select_option("")
    page.locator("input[name=window_2_start]").fill("")
    page.locator("input[name=window_2_end]").fill("")
    page.locator("#register-form button[type=submit]").click()
    expect(page.locator("#participant-status")).to_be_visible()
    participant = Participant.objects.get(event=event, company=vn)
    assert participant.status == Participant.Status.REGISTERED and participant.role == "seller"
    page.screenshot(path=screenshots / "event-2-registered.png", full_page=True)

    # Staff accept the registration; the firm then sees the engine's suggestion and requests a meeting.
    services.set_participant_status([participant], Participant.Status.ACCEPTED)
    page.reload()
    suggestion = page.locator(".suggestion").filter(has_text=ru.name)
    expect(suggestion).to_be_visible()
    expect(suggestion.locator(".reasons li").first).to_be_visible()
    expect(page.locator("main")).not_to_contain_text(RU_CONTACT)
    page.screenshot(path=screenshots / "event-3-suggestions.png", full_page=True)
    suggestion.locator("textarea").fill("Chúng tôi muốn giới thiệu cà phê Robusta của mình.")
    suggestion.locator("button[type=submit]").click()
    expect(page.locator("#requests-sent .request").filter(has_text=ru.name)).to_be_visible()
    request = MeetingRequest.objects.get(requester__company=vn, invitee__company=ru)
    assert request.status == MeetingRequest.Status.PENDING and request.score > 0

    # The Russian firm accepts, on its own page, in Russian.
    other = signed_in(browser, base, "olga@member.example", "ru")
    other.goto(base + f"/events/{event.slug}/")
    received = other.locator("#requests-received .request").filter(has_text=vn.name)
    expect(received).to_be_visible()
    received.locator("button[value=accept]").click()
    expect(other.locator(f"#request-{request.pk}")).to_have_attribute("data-status", "accepted")

    # Staff build the schedule; the meeting needs the Vietnamese–Russian interpreter.
    schedule.build_event_schedule(event, time_limit=1)
    meeting = Meeting.objects.get(request=request)
    assert meeting.interpreter is not None

    page.goto(base + f"/events/{event.slug}/")
    page.click("#agenda-link")
    agenda = page.locator("#agenda")
    expect(agenda).to_contain_text(ru.name)
    expect(agenda).to_contain_text("Trần Minh Anh")
    expect(page.locator(f"#meeting-{meeting.pk}")).to_contain_text(str(meeting.table))
    expect(page.locator("main")).not_to_contain_text(RU_CONTACT)
    page.screenshot(path=screenshots / "event-4-agenda.png", full_page=True)

    with page.expect_download() as download:
        page.click("#agenda-ics-link")
    ics = download.value.path().read_text(encoding="utf-8")
    assert "BEGIN:VEVENT" in ics and "Trần Minh Anh" in ics.replace("\r\n ", "")
    assert download.value.suggested_filename == f"{event.slug}-agenda.ics"

    page.click("#agenda-print-link")
    expect(page.locator("body")).to_contain_text(ru.name)
    expect(page.locator("body")).to_contain_text(event.venue)
    page.screenshot(path=screenshots / "event-5-printable.png", full_page=True)
