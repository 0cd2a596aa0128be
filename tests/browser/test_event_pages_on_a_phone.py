"""The events pages on a 390 px phone screen (issue 18, "Phones"): the events table was 585 px wide, so the whole
page scrolled sideways. Its tables now scroll inside their own box; the page itself does not."""

import pytest

from tests.browser.test_journey import switch_language
from tests.factories import ChamberFactory, EventFactory

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 844}


@pytest.mark.parametrize("language", ["vi", "ru"])
def test_the_events_list_fits_a_phone(browser, live_server, screenshots, language):
    chamber = ChamberFactory(slug="vcci", name="Vietnam Chamber of Commerce and Industry (VCCI)", country="VN")
    EventFactory(organiser=chamber, name="Vietnam–Russia supplier and distributor meeting day", city="Ho Chi Minh City")
    EventFactory(organiser=chamber, name="Vietnam–Russia SME meeting in Moscow", status="finished", city="Moscow")
    page = browser.new_context(viewport=PHONE, locale=language).new_page()
    page.goto(live_server.url + "/events/")
    switch_language(page, language)

    page.screenshot(path=str(screenshots / f"events-list-390-{language}.png"), full_page=True)
    page_width = page.evaluate("document.documentElement.scrollWidth")
    table = page.locator("#upcoming-events table")
    assert page_width <= PHONE["width"], f"the page is {page_width} px wide on a {PHONE['width']} px screen"
    # The table keeps its columns, inside a box a finger (or the keyboard) scrolls.
    assert table.locator("th").count() == 5
    box = page.locator("#upcoming-events .table-scroll")
    assert box.get_attribute("tabindex") == "0" and box.evaluate("e => getComputedStyle(e).overflowX") == "auto"
