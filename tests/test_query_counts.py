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


def test_the_directory_costs_the_same_for_3_or_20_firms(client):
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
            match = MatchFactory(company_vn=vn, company_ru=ru,
                                 reasons=[{"kind": "sectors", "data": {"common": ["21"]}}])
            services.approve([match], by=None)
            services.introduce(match)

    introduce(2)
    few = queries(client, "/my/introductions/")
    introduce(10)
    assert queries(client, "/my/introductions/") == few
