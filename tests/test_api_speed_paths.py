"""The API's fast paths keep what readers see: the directory's kept anonymous pages are dropped by every change
of what they show, signed-in readers never get a kept page, and "my matches" says what it said before."""

import datetime
import decimal
import uuid

import numpy as np
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.translation import gettext_lazy
from rest_framework import renderers as drf_renderers
from rest_framework import serializers
from rest_framework.test import APIClient

from companies import directory_cache, selectors, services
from companies.models import Company, Listing, Sector
from companies.renderers import JSONRenderer
from matchmaking.api import MyMatchPagination
from matchmaking.models import Match
from matchmaking.serializers import MyMatchSerializer
from tests.factories import (
    ChamberFactory,
    CompanyFactory,
    ListingFactory,
    MatchFactory,
    MembershipFactory,
    UserFactory,
    member_api,
)

pytestmark = pytest.mark.django_db

DIRECTORY = "/api/v1/companies/"
KEPT = 1


@pytest.fixture
def api() -> APIClient:
    return APIClient()


@pytest.fixture(autouse=True)
def _lexical_search_and_kept_pages(settings):
    settings.DIRECTORY_SEARCH = ""  # the lexical rule: no model needed here
    settings.DIRECTORY_CACHE_SECONDS = 60


def read(client: APIClient, query: str = "", **headers) -> tuple[dict, int]:
    """The page's data and the number of database queries it cost: KEPT for a page served from the cache (the
    check that its firms are all still shown), more for one computed."""
    with CaptureQueriesContext(connection) as context:
        response = client.get(f"{DIRECTORY}{query}", **headers)
    assert response.status_code == 200, response.content
    return response.json(), len(context.captured_queries)


def names(data: dict) -> list[str]:
    return [firm["name"] for firm in data["results"]]


def test_an_anonymous_page_read_again_is_the_same_page_without_the_database(api):
    CompanyFactory(name="Alpha", country="RU")
    CompanyFactory(name="Beta", country="VN")
    first, cost = read(api, "?country=RU")
    again, cost_again = read(api, "?country=RU")
    assert again == first and names(first) == ["Alpha"]
    assert cost > KEPT and cost_again == KEPT
    other, other_cost = read(api, "?country=VN")  # another address is another page
    assert names(other) == ["Beta"] and other_cost > KEPT


def test_a_newly_published_firm_shows_at_once(api):
    CompanyFactory(name="Alpha")
    pending = CompanyFactory(name="Gamma", status=Company.Status.PENDING)
    assert names(read(api)[0]) == ["Alpha"]
    services.change_status(pending, Company.Status.PUBLISHED)
    assert names(read(api)[0]) == ["Alpha", "Gamma"]
    CompanyFactory(name="Beta")  # created published (an import)
    assert names(read(api)[0]) == ["Alpha", "Beta", "Gamma"]


def test_an_unpublished_or_hidden_firm_leaves_at_once(api):
    alpha, beta, gamma = (CompanyFactory(name=name) for name in ("Alpha", "Beta", "Gamma"))
    assert names(read(api)[0]) == ["Alpha", "Beta", "Gamma"]
    services.change_status(beta, Company.Status.SUSPENDED)
    assert names(read(api)[0]) == ["Alpha", "Gamma"]
    services.change_consent(gamma, ["matching"])  # no longer shown to the other country
    assert names(read(api)[0]) == ["Alpha"]
    alpha.delete()
    assert read(api)[0]["results"] == []


def test_a_changed_profile_shows_at_once(api):
    firm = CompanyFactory(name="Alpha", city="Hanoi")
    listing = ListingFactory(company=firm, text="Green coffee beans")
    read(api)
    services.update_company(firm, fields={"city": "Da Nang"}, sector_codes=["10"])
    data = read(api)[0]["results"][0]
    assert data["city"] == "Da Nang" and [s["code"] for s in data["sectors"]] == ["10"]
    listing.text = "Roasted coffee"
    listing.save()
    assert read(api)[0]["results"][0]["offers"][0]["text"] == "Roasted coffee"
    listing.sectors.set(["10"])
    assert read(api)[0]["results"][0]["offers"][0]["sectors"] == ["10"]
    ListingFactory(company=firm, direction=Listing.Direction.NEED, text="Packaging film")
    assert [x["text"] for x in read(api)[0]["results"][0]["needs"]] == ["Packaging film"]
    Listing.objects.filter(pk=listing.pk).delete()
    assert read(api)[0]["results"][0]["offers"] == []


def test_a_renamed_chamber_or_sector_shows_at_once(api):
    chamber = ChamberFactory(slug="vcci-hanoi")
    CompanyFactory(name="Alpha", chamber=chamber)
    assert read(api)[0]["results"][0]["chamber"] == "vcci-hanoi"
    chamber.slug = "vcci-hn"
    chamber.save()
    assert read(api)[0]["results"][0]["chamber"] == "vcci-hn"
    sector = Sector.objects.get(code="21")
    sector.name_en = "Medicines"
    sector.save()
    selectors.forget_sectors()  # the process's copy of the sector table, as load_seeds does after renaming
    try:
        assert read(api, HTTP_ACCEPT_LANGUAGE="en")[0]["results"][0]["sectors"][0]["name"] == "Medicines"
    finally:
        selectors.forget_sectors()  # the rename is rolled back after the test: later tests read the table again


def test_a_search_and_a_filter_see_a_change_at_once(api):
    ListingFactory(company=CompanyFactory(name="Alpha", country="RU"), text="Coffee roasting machines")
    assert read(api, "?search=coffee")[0]["count"] == 1
    ListingFactory(company=CompanyFactory(name="Beta", country="RU"), text="Instant coffee")
    assert names(read(api, "?search=coffee")[0]) == ["Alpha", "Beta"]
    CompanyFactory(name="Gamma", country="RU", sectors=["10"])
    assert names(read(api, "?sector=10")[0]) == ["Gamma"]


def test_each_language_has_its_own_page(api):
    CompanyFactory(name="Alpha", sectors=["10"])
    english = read(api, HTTP_ACCEPT_LANGUAGE="en")[0]["results"][0]["sectors"][0]["name"]
    russian = read(api, HTTP_ACCEPT_LANGUAGE="ru")[0]["results"][0]["sectors"][0]["name"]
    assert english != russian
    assert read(api, HTTP_ACCEPT_LANGUAGE="en")[0]["results"][0]["sectors"][0]["name"] == english
    assert read(api, HTTP_ACCEPT_LANGUAGE="ru")[0]["results"][0]["sectors"][0]["name"] == russian


def test_signed_in_readers_neither_get_nor_leave_a_kept_page(api):
    CompanyFactory(name="Alpha")
    member = APIClient()
    member.force_authenticate(MembershipFactory().user)
    staff = APIClient()
    staff.force_authenticate(UserFactory(is_staff=True, is_superuser=True))
    read(api)  # kept for anonymous readers
    for client in (member, staff):
        data, cost = read(client)
        assert cost > KEPT and "Alpha" in names(data)
    read(api)
    # A page a signed-in reader asked for first is not kept for the anonymous ones either.
    read(member, "?country=VN")
    assert read(api, "?country=VN")[1] > KEPT


def test_a_page_read_while_a_change_was_not_yet_committed_is_dropped_at_commit(api, django_capture_on_commit_callbacks):
    firm = CompanyFactory(name="Alpha")
    with django_capture_on_commit_callbacks(execute=True):
        firm.name = "Alpha Trading"
        firm.save()
        # A reader whose page is kept meanwhile (in production: one who read the rows before the commit).
        read(api)
        assert read(api)[1] == KEPT
    assert read(api)[1] > KEPT  # the commit dropped it


def test_without_kept_pages_every_request_reads_the_database(api, settings):
    settings.DIRECTORY_CACHE_SECONDS = 0
    CompanyFactory(name="Alpha")
    read(api)
    assert read(api)[1] > KEPT


def test_a_lost_version_drops_every_kept_page(api):
    CompanyFactory(name="Alpha")
    read(api)
    directory_cache.cache.delete(directory_cache.VERSION_KEY)  # evicted by the cache
    assert read(api)[1] > KEPT


def test_a_firm_hidden_without_a_signal_is_never_served_from_a_kept_page(api):
    alpha, beta = CompanyFactory(name="Alpha"), CompanyFactory(name="Beta")
    ListingFactory(company=beta, text="Coffee")
    assert names(read(api)[0]) == ["Alpha", "Beta"] and names(read(api, "?search=coffee")[0]) == ["Beta"]
    Company.objects.filter(pk=beta.pk).update(status=Company.Status.SUSPENDED)  # no signal: the version stays
    assert names(read(api)[0]) == ["Alpha"]
    assert read(api, "?search=coffee")[0]["results"] == []
    Company.objects.filter(pk=alpha.pk).update(consent_purposes=["matching"])
    assert read(api)[0]["results"] == []


# --- my matches ------------------------------------------------------------------------------------------------

MY_MATCHES = "/api/v1/me/matches/"
REASONS = [
    {"kind": "need_met", "data": {"need": "Máy xét nghiệm", "offer": "Экспресс-тесты", "similarity": 0.78}},
    {"kind": "sectors", "data": {"common": ["21", "46"]}},
    {"kind": "cooperation", "data": {"common": ["distribution", "supply"]}},
    {"kind": "language", "data": {"common": ["en"]}},
]


@pytest.fixture
def matched_firms(vn_firm, ru_firm):
    """The Vietnamese firm of tests/conftest.py with matches in every status a member sees, one with a firm that
    hid its profile, and Russian firms with sectors, listings of each direction and a chamber."""
    chamber = ChamberFactory(slug="cci-novosibirsk", country="RU")
    others = [ru_firm]
    for number in range(5):
        firm = CompanyFactory(name=f"RU {number}", country="RU", chamber=chamber, sectors=["21", "46"][: number % 3])
        ListingFactory(company=firm, text=f"Offer {number}").sectors.set(["21"])
        ListingFactory(company=firm, direction=Listing.Direction.NEED, text=f"Need {number}", cooperation=[])
        others.append(firm)
    hidden = CompanyFactory(name="RU hidden", country="RU", consent_purposes=["matching"])
    moments = {"introduced_at": "2026-12-01T09:30:00.123456Z", "connected_at": None}
    statuses = ["introduced", "connected", "declined", "expired", "withdrawn", "introduced", "introduced"]
    for number, (firm, status) in enumerate(zip([*others, hidden], statuses, strict=True)):
        fields = {**moments, "response_vn": "", "response_ru": "", "outcome_vn": "", "outcome_ru": ""}
        if status == "connected":
            fields.update(response_vn="accepted", response_ru="accepted", connected_at="2026-12-02T10:00:00Z")
            fields.update(outcome_vn="met")
        if status == "declined":
            fields.update(response_vn="accepted", response_ru="declined")
        MatchFactory(
            company_vn=vn_firm, company_ru=firm, status=status, score=0.9 - number / 50, reasons=REASONS, **fields
        )
    return vn_firm, ru_firm


@pytest.mark.parametrize("language", ["en", "vi", "ru"])
def test_my_matches_read_as_drf_fields_would_give_them(matched_firms, language, monkeypatch):
    vn_firm, ru_firm = matched_firms
    vn, ru = member_api(vn_firm), member_api(ru_firm)
    first = Match.objects.filter(company_vn=vn_firm).order_by("pk").first()

    def pages() -> list:
        return [
            client.get(path, HTTP_ACCEPT_LANGUAGE=language).json()
            for client, path in (
                (vn, MY_MATCHES),
                (vn, f"{MY_MATCHES}?status=connected"),
                (vn, f"{MY_MATCHES}{first.pk}/"),
                (ru, MY_MATCHES),
            )
        ]

    fast = pages()
    assert len(fast[0]["results"]) == 6 and fast[1]["count"] == 1 and fast[3]["count"] == 1
    assert fast[1]["results"][0]["counterpart_contact"]["contact_name"] == "Secret Person"
    monkeypatch.setattr(MyMatchSerializer, "to_representation", serializers.ModelSerializer.to_representation)
    assert fast == pages()


def test_the_other_firm_in_my_matches_is_its_directory_profile(matched_firms):
    """Read with the match in one query, the other firm's profile is what the directory shows of it."""
    vn_firm, ru_firm = matched_firms
    for language in ("en", "ru"):
        results = member_api(vn_firm).get(MY_MATCHES, HTTP_ACCEPT_LANGUAGE=language).json()["results"]
        assert {match["counterpart"]["offers"][0]["sectors"] == ["21"] for match in results[1:]} == {True}
        for match in results:
            profile = APIClient().get(f"{DIRECTORY}{match['counterpart']['id']}/", HTTP_ACCEPT_LANGUAGE=language)
            assert match["counterpart"] == profile.json()


# --- the JSON renderer ------------------------------------------------------------------------------------------


def test_the_json_renderer_writes_what_drfs_writes():
    moment = datetime.datetime(2026, 12, 7, 9, 30, 1, 123456, tzinfo=datetime.UTC)
    data = {
        "text": 'Cà phê «кофе» \u2028 line \u2029 tab\t"quoted" </script>',
        "numbers": [1, -2, 0.1, 1e21, 3.0, True, None, decimal.Decimal("1.50"), np.float32(0.5), 2**70],
        "moments": [moment, moment.astimezone(datetime.timezone(datetime.timedelta(hours=7))), moment.date()],
        "others": [datetime.time(9, 30), datetime.timedelta(hours=1), uuid.UUID(int=7), gettext_lazy("Small")],
        "keys": {1: "int key", "nested": {"set": {3}, "tuple": (1, 2)}},
    }
    ours, drfs = JSONRenderer(), drf_renderers.JSONRenderer()
    assert ours.render(data) == drfs.render(data)
    del data["numbers"][-1]  # without the number beyond 64 bits, orjson writes it all
    assert ours.render(data) == drfs.render(data)
    indented = "application/json; indent=4"
    assert ours.render(data, indented) == drfs.render(data, indented)
    assert ours.render(None) == b""


def test_the_api_answers_json_and_its_browsable_pages(api):
    CompanyFactory(name="Alpha «Кофе» \u2028")
    response = api.get(DIRECTORY)
    assert response["Content-Type"] == "application/json" and b"\\u2028" in response.content
    assert response.json()["results"][0]["name"] == "Alpha «Кофе» \u2028"
    assert "text/html" in api.get(DIRECTORY, HTTP_ACCEPT="text/html").headers["Content-Type"]


def test_my_matches_pages_count_as_before(monkeypatch):
    monkeypatch.setattr(MyMatchPagination, "page_size", 2)
    vn = CompanyFactory(country="VN")
    for number in range(5):
        MatchFactory(company_vn=vn, company_ru=CompanyFactory(country="RU", name=f"RU {number}"), status="introduced")
    client = member_api(vn)
    pages = [client.get(MY_MATCHES, {"page": page}) for page in (1, 2, 3, "last")]
    assert [page.json()["count"] for page in pages] == [5, 5, 5, 5]
    assert [len(page.json()["results"]) for page in pages] == [2, 2, 1, 1]
    assert pages[0].json()["next"].endswith("page=2") and pages[0].json()["previous"] is None
    for page in (4, 10**30, 0, "x"):
        assert client.get(MY_MATCHES, {"page": page}).status_code == 404
    assert member_api(CompanyFactory(country="VN")).get(MY_MATCHES).json() == {
        "count": 0,
        "next": None,
        "previous": None,
        "results": [],
    }
