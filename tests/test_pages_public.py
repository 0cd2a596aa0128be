"""The public pages: home with live figures, the directory of published firms, a firm's public profile."""

import html
import re
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from companies.models import Company, Listing, Sector
from matchmaking.models import Match
from seeds.models import TradeFigure
from tests.factories import CompanyFactory, ListingFactory, MatchFactory

pytestmark = pytest.mark.django_db

PHARMA_RU = "Производство лекарственных средств и материалов, применяемых в медицинских целях"


def page_text(response) -> str:
    """What a reader sees of the main content: tags dropped, entities decoded, spaces collapsed."""
    assert response.status_code == 200
    body = response.content.decode()
    main = body[body.index("<main") : body.index("</main>")]
    main = re.sub(r"<select.*?</select>", " ", main, flags=re.S)  # the options are not the page's content
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", main)).split())


def firm_names(response) -> list[str]:
    """The firms listed in the directory, in order (the headings of the result cards)."""
    body = response.content.decode()
    return [
        html.unescape(name) for name in re.findall(r'<article class="card">\s*<h3><a href="[^"]+">([^<]+)</a>', body)
    ]


def next_link(response) -> str:
    match = re.search(r'<a href="([^"]+)" rel="next">', response.content.decode())
    assert match, "no link to the next page"
    return html.unescape(match.group(1))


# --- home -------------------------------------------------------------------------------------------


def test_home_counts_published_firms_and_changes_when_a_firm_is_published(client):
    CompanyFactory.create_batch(2, country="VN")
    CompanyFactory(country="RU", city="Moscow")
    draft = CompanyFactory(country="VN", status=Company.Status.DRAFT)

    text = page_text(client.get(reverse("home")))
    assert "3 published firms in the directory." in text
    assert "Country Published firms Vietnam 2 Russia 1" in text
    assert "21 Manufacture of basic pharmaceutical products and pharmaceutical preparations 3" in text

    draft.status = Company.Status.PUBLISHED
    draft.save()
    text = page_text(client.get(reverse("home")))
    assert "4 published firms in the directory." in text
    assert "Vietnam 3 Russia 1" in text
    assert "21 Manufacture of basic pharmaceutical products and pharmaceutical preparations 4" in text


def test_home_ranks_the_sectors_with_the_most_published_firms(client):
    food, wholesale = Sector.objects.get(code="10"), Sector.objects.get(code="46")
    CompanyFactory.create_batch(3, activity_division_id="10", sectors=[food])
    CompanyFactory(activity_division_id="46", sectors=[wholesale, food])
    CompanyFactory(activity_division_id="46", status=Company.Status.DRAFT)  # not counted

    text = page_text(client.get(reverse("home")))
    assert "10 Manufacture of food products 4" in text
    assert "46 Wholesale trade, except of motor vehicles and motorcycles 1" in text
    assert text.index("10 Manufacture of food products") < text.index("46 Wholesale trade")


def test_home_counts_introductions_made_and_connected(client):
    for status in [
        Match.Status.INTRODUCED,
        Match.Status.CONNECTED,
        Match.Status.CONNECTED,
        Match.Status.DECLINED,
        Match.Status.EXPIRED,
        Match.Status.SUGGESTED,
        Match.Status.APPROVED,
        Match.Status.REJECTED,
    ]:
        MatchFactory(status=status)

    text = page_text(client.get(reverse("home")))
    assert "5 introductions made so far, of which 2 connected (both firms accepted)." in text


def test_home_explains_the_double_opt_in_and_links_to_sign_up_and_directory(client):
    response = client.get(reverse("home"))
    text = page_text(response)
    assert "VCCI" in text and "Delovaya Rossiya" in text
    assert "Only when both accept are contact details exchanged." in text
    body = response.content.decode()
    assert f'href="{reverse("signup")}"' in body and f'href="{reverse("directory")}"' in body


def test_home_lists_trade_figures_with_their_source_article(client):
    TradeFigure.objects.create(
        period="January–November 2024",
        period_start=date(2024, 1, 1),
        period_end=date(2024, 11, 30),
        flow=TradeFigure.Flow.VN_TO_RU,
        value_usd_million=Decimal("2120.0"),
        note="Mainly textiles.",
        source_article="004_272e0d2ba911b024.txt",
    )
    TradeFigure.objects.create(
        period="by 2020",
        period_end=date(2020, 12, 31),
        kind=TradeFigure.Kind.TARGET,
        value_usd_million=Decimal("10000"),
        source_article="000_6ac39ebf8d94dca2.txt",
    )
    TradeFigure.objects.create(
        period="first half of 2018",
        period_start=date(2018, 1, 1),
        period_end=date(2018, 6, 30),
        growth_percent=Decimal("42"),
        source_article="003_0dffd016bf8f521b.txt",
    )

    text = page_text(client.get(reverse("home")))
    assert "Trade between Vietnam and Russia" in text
    assert "01/01/2024 – 11/30/2024 Vietnam's exports to Russia 2,120 004_272e0d2ba911b024.txt Mainly textiles." in text
    assert "by 12/31/2020 Two-way total (Target) 10,000 000_6ac39ebf8d94dca2.txt" in text
    assert "01/01/2018 – 06/30/2018 Two-way total (42% year on year) 003_0dffd016bf8f521b.txt" in text
    assert text.index("2,120") < text.index("10,000") < text.index("42%")  # latest period first: 2024, 2020, 2018


def test_home_in_russian_names_sectors_in_russian(client):
    CompanyFactory()
    text = page_text(client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="ru"))
    assert f"21 {PHARMA_RU} 1" in text


# --- directory --------------------------------------------------------------------------------------


def test_directory_lists_published_firms_only_by_name(client):
    CompanyFactory(name="Zeta Pharma")
    CompanyFactory(name="Alpha Pharma")
    for status in [Company.Status.DRAFT, Company.Status.PENDING, Company.Status.SUSPENDED]:
        CompanyFactory(name=f"Hidden {status}", status=status)

    response = client.get(reverse("directory"))
    assert firm_names(response) == ["Alpha Pharma", "Zeta Pharma"]
    assert "2 firms" in page_text(response)
    assert "Hidden" not in response.content.decode()


def test_directory_row_shows_the_public_summary(client):
    company = CompanyFactory(name="Mekong Diagnostics", city="Da Nang", size=Company.Size.MEDIUM)
    ListingFactory(company=company, text="Rapid diagnostic test kits for infectious diseases")
    ListingFactory(company=company, direction=Listing.Direction.NEED, text="A distributor in Siberia")

    response = client.get(reverse("directory"))
    text = page_text(response)
    assert "Mekong Diagnostics Vietnam · Da Nang · Medium firm" in text
    assert "21 Manufacture of basic pharmaceutical products" in text
    assert "Offers: Rapid diagnostic test kits for infectious diseases" in text
    assert "Needs: A distributor in Siberia" in text
    assert f'href="{reverse("directory-company", args=[company.pk])}"' in response.content.decode()
    assert "1 firm" in text and "1 firms" not in text


@pytest.mark.parametrize("query", ["mekong", "DA NANG", "test kits"])
def test_directory_search_looks_in_name_city_and_listings(client, query, settings):
    settings.DIRECTORY_SEARCH = ""  # the lexical rule; by meaning: tests/test_directory_search.py
    mekong = CompanyFactory(name="Mekong Diagnostics", city="Da Nang")
    ListingFactory(company=mekong, text="Rapid diagnostic test kits")
    ListingFactory(company=mekong, direction=Listing.Direction.NEED, text="Test kits reagents")  # still one row
    other = CompanyFactory(name="Ural Steel", city="Yekaterinburg", country="RU")
    ListingFactory(company=other, text="Rolled steel")

    response = client.get(reverse("directory"), {"q": query})
    assert firm_names(response) == ["Mekong Diagnostics"]
    assert "1 firm" in page_text(response)


def test_directory_filters_each_narrow_the_list(client):
    food = Sector.objects.get(code="10")
    hanoi = CompanyFactory(name="Hanoi Foods", city="Hanoi", activity_division_id="10", sectors=[food])
    ListingFactory(company=hanoi, cooperation=["joint_venture"])
    saigon = CompanyFactory(name="Saigon Pharma", city="Ho Chi Minh City")
    ListingFactory(company=saigon, cooperation=["distribution"])
    moscow = CompanyFactory(name="Moscow Machines", country="RU", city="Moscow", activity_division_id="28")
    ListingFactory(company=moscow, cooperation=["distribution", "licensing"])
    url = reverse("directory")

    assert firm_names(client.get(url)) == ["Hanoi Foods", "Moscow Machines", "Saigon Pharma"]
    assert firm_names(client.get(url, {"country": "RU"})) == ["Moscow Machines"]
    assert firm_names(client.get(url, {"sector": "10"})) == ["Hanoi Foods"]
    assert firm_names(client.get(url, {"sector": "28"})) == ["Moscow Machines"]  # from the activity code
    assert firm_names(client.get(url, {"cooperation": "distribution"})) == ["Moscow Machines", "Saigon Pharma"]
    assert firm_names(client.get(url, {"city": "ho chi minh city"})) == ["Saigon Pharma"]
    assert firm_names(client.get(url, {"country": "VN", "cooperation": "distribution"})) == ["Saigon Pharma"]
    assert "0 firms" in page_text(client.get(url, {"country": "RU", "sector": "10"}))


def test_directory_form_has_a_label_for_every_field_and_a_submit_button(client):
    body = client.get(reverse("directory")).content.decode()
    for name in ["q", "country", "sector", "cooperation", "size", "city"]:
        assert f'<label for="id_{name}">' in body
        assert f'name="{name}"' in body
    assert '<button type="submit">Search</button>' in body
    assert '<option value="21">21 Manufacture of basic pharmaceutical products' in body


def test_directory_paginates_twenty_a_page_and_keeps_the_filters(client):
    for n in range(25):
        CompanyFactory(name=f"Firm {n:02d}", country="VN")
    CompanyFactory(name="Russian firm", country="RU", city="Moscow")

    first = client.get(reverse("directory"), {"country": "VN"})
    assert firm_names(first) == [f"Firm {n:02d}" for n in range(20)]
    text = page_text(first)
    assert "25 firms" in text and "Page 1 of 2" in text
    link = next_link(first)
    assert "country=VN" in link and "page=2" in link

    second = client.get(reverse("directory") + link)
    assert firm_names(second) == [f"Firm {n:02d}" for n in range(20, 25)]
    assert "Page 2 of 2" in page_text(second)


def test_no_contact_details_on_any_public_page(client):
    company = CompanyFactory(
        name="Mekong Diagnostics",
        contact_name="Nguyen Secret",
        contact_email="boss@mekong.example",
        contact_phone="+84 24 1234 5678",
    )
    ListingFactory(company=company)

    for url in [
        reverse("home"),
        reverse("directory"),
        reverse("directory") + "?q=mekong",
        reverse("directory-company", args=[company.pk]),
    ]:
        body = client.get(url).content.decode()
        assert "Mekong Diagnostics" in body or url == reverse("home")
        for secret in ["Nguyen Secret", "boss@mekong.example", "+84 24 1234 5678", "1234 5678"]:
            assert secret not in body, f"{secret} shown on {url}"


def test_directory_in_russian_names_the_sector_in_russian(client):
    CompanyFactory(name="Mekong Diagnostics")
    response = client.get(reverse("directory"), HTTP_ACCEPT_LANGUAGE="ru")
    assert response.headers["Content-Language"] == "ru"
    assert f"21 {PHARMA_RU}" in page_text(response)  # in the firm's row, not only in the select
    assert f'<option value="21">21 {PHARMA_RU}</option>' in response.content.decode()


# --- a firm's public profile ------------------------------------------------------------------------


def test_company_detail_shows_the_public_profile(client):
    company = CompanyFactory(
        name="Mekong Diagnostics",
        city="Da Nang",
        founded=2009,
        website="https://mekong.example",
        activity_code="2100",
        languages=["vi", "en"],
    )
    ListingFactory(
        company=company, kind=Listing.Kind.PRODUCT, text="Rapid test kits", cooperation=["distribution", "licensing"]
    )
    ListingFactory(
        company=company, direction=Listing.Direction.NEED, kind=Listing.Kind.SERVICE, text="A distributor in Siberia"
    )

    response = client.get(reverse("directory-company", args=[company.pk]))
    text = page_text(response)
    for shown in [
        "Mekong Diagnostics",
        "Vietnam · Da Nang",
        "Size Small",
        "Founded 2009",
        "Business languages Vietnamese, English",
        "Activity code 2100 (VSIC 2018)",
        "ISIC division 21 Manufacture of basic pharmaceutical products",
        "Website https://mekong.example",
        "Offers Product Rapid test kits Cooperation: Distribution, Licensing",
        "Needs Service A distributor in Siberia",
        "Contact details are exchanged only when both firms accept an introduction",
    ]:
        assert shown in text, shown
    assert f'href="{reverse("signup")}"' in response.content.decode()


def test_company_detail_is_not_found_for_a_firm_not_published(client):
    for status in [Company.Status.DRAFT, Company.Status.PENDING, Company.Status.SUSPENDED]:
        company = CompanyFactory(name="Hidden Firm", status=status)
        response = client.get(reverse("directory-company", args=[company.pk]))
        assert response.status_code == 404
        assert "Hidden Firm" not in response.content.decode()
    assert client.get(reverse("directory-company", args=[999999])).status_code == 404


def test_company_detail_in_russian(client):
    company = CompanyFactory(name="Mekong Diagnostics")
    text = page_text(client.get(reverse("directory-company", args=[company.pk]), HTTP_ACCEPT_LANGUAGE="ru"))
    assert f"21 {PHARMA_RU}" in text
