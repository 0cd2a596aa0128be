"""The home page on a 390 px phone: the trade table fits the screen, without scrolling sideways."""

import pytest
from playwright.sync_api import Browser

from seeds.loader import load_article_facts

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("language", ["vi", "ru"])
def test_home_trade_table_fits_a_390_px_phone(browser: Browser, live_server, sectors_loaded, language, screenshots):
    from collections import Counter

    load_article_facts(Counter())
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale=language)
    page = context.new_page()
    page.goto(live_server.url + "/")
    page.locator("#trade").scroll_into_view_if_needed()
    page_width = page.evaluate("document.documentElement.scrollWidth")
    assert page_width <= 390, f"the page is {page_width} px wide"
    box = page.locator("section[aria-labelledby=trade] .table-scroll")
    # Not even the table's own box has to scroll: the whole table is in view.
    inner, outer = box.evaluate("e => [e.scrollWidth, e.clientWidth]")
    assert inner <= outer, f"the trade table is {inner} px wide in a {outer} px box"
    page.screenshot(path=str(screenshots / f"home-trade-390-{language}.png"), full_page=True)
    context.close()
