"""The pages that grow with the data run a fixed number of queries, however many rows they show (no N+1)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from matchmaking import services
from tests.factories import CompanyFactory, ListingFactory, MatchFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as context:
        assert client.get(url).status_code == 200
    return len(context.captured_queries)


def add_published_firms(count: int) -> None:
    for _ in range(count):
        firm = CompanyFactory(country="RU", city="Moscow")
        firm.sectors.set(["21"])
        ListingFactory(company=firm)


def test_the_directory_costs_the_same_for_3_or_20_firms(client, settings):
    settings.DIRECTORY_SEARCH = ""  # the lexical rule; by meaning: tests/test_directory_search.py
    add_published_firms(3)
    few = queries(client, "/directory/")
    add_published_firms(17)
    assert queries(client, "/directory/") == few
    assert queries(client, "/directory/?country=RU&sector=21&q=diagnostic") <= few + 1


def test_my_introductions_cost_the_same_for_2_or_12_matches(client):
    vn = CompanyFactory(country="VN")
    user = UserFactory()
    MembershipFactory(company=vn, user=user)
    client.force_login(user)

    def introduce(count: int) -> None:
        for _ in range(count):
            ru = CompanyFactory(country="RU", city="Moscow")
            ru.sectors.set(["21"])
            ListingFactory(company=ru)
            match = MatchFactory(
                company_vn=vn, company_ru=ru, reasons=[{"kind": "sectors", "data": {"common": ["21"]}}]
            )
            services.approve([match], by=None)
            services.introduce(match)

    introduce(2)
    few = queries(client, "/my/introductions/")
    introduce(10)
    assert queries(client, "/my/introductions/") == few


# --- the REST API ------------------------------------------------------------------------------------------------
# Pinned, not only constant: the directory is a count, a page and the page's offers and needs (sector codes come
# as arrays with the rows, sector names from a per-process copy of the ISIC table); my matches are the token,
# the member's firm and the page, its count and the other firms' profiles read with it (issue 20).

DIRECTORY_QUERIES = 3
MY_MATCHES_QUERIES = 3


@pytest.fixture
def sectors_read():
    """The process's copy of the sector table, read once (every few minutes) rather than per request."""
    from companies.selectors import sectors_by_code

    sectors_by_code()


@pytest.mark.parametrize(
    "query", ["", "?country=RU&sector=21&page=2", "?search=diagnostic", "?search=rapid%20kits&cooperation=distribution"]
)
def test_the_api_directory_costs_the_same_for_25_or_60_firms(client, query, sectors_read, settings):
    settings.DIRECTORY_SEARCH = ""  # the lexical rule; by meaning: tests/test_directory_search.py
    add_published_firms(25)  # two pages
    assert queries(client, f"/api/v1/companies/{query}") == DIRECTORY_QUERIES
    add_published_firms(35)
    assert queries(client, f"/api/v1/companies/{query}") == DIRECTORY_QUERIES


def test_my_matches_in_the_api_cost_the_same_for_2_or_12_matches(client, sectors_read):
    from rest_framework.authtoken.models import Token

    vn = CompanyFactory(country="VN")
    ListingFactory(company=vn)
    user = UserFactory()
    MembershipFactory(company=vn, user=user)
    token = Token.objects.create(user=user)

    def introduce(count: int) -> None:
        for _ in range(count):
            ru = CompanyFactory(country="RU", city="Moscow", sectors=["21", "46"])
            ListingFactory(company=ru).sectors.set(["21"])
            ListingFactory(company=ru, direction="need")
            MatchFactory(
                company_vn=vn,
                company_ru=ru,
                status="introduced",
                reasons=[{"kind": "sectors", "data": {"common": ["21"]}}],
            )

    def cost() -> int:
        with CaptureQueriesContext(connection) as context:
            response = client.get("/api/v1/me/matches/", HTTP_AUTHORIZATION=f"Token {token.key}")
            assert response.status_code == 200
        assert all(match["counterpart"]["offers"] for match in response.json()["results"])
        return len(context.captured_queries)

    introduce(2)
    assert cost() == MY_MATCHES_QUERIES
    introduce(10)
    assert cost() == MY_MATCHES_QUERIES


def test_one_match_in_the_api_costs_the_same_whatever_the_other_firms_listings(sectors_read):
    from rest_framework.test import APIClient

    vn = CompanyFactory(country="VN")
    client = APIClient()
    client.force_authenticate(MembershipFactory(company=vn).user)
    ru = CompanyFactory(country="RU", sectors=["21"])
    match = MatchFactory(company_vn=vn, company_ru=ru, status="introduced")

    def cost() -> int:
        with CaptureQueriesContext(connection) as context:
            assert client.get(f"/api/v1/me/matches/{match.pk}/").status_code == 200
        return len(context.captured_queries)

    ListingFactory(company=ru).sectors.set(["21"])
    one = cost()
    for _ in range(5):
        ListingFactory(company=ru, direction="need").sectors.set(["21", "46"])
    assert cost() == one
