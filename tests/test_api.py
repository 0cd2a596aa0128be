import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from companies.models import Company, Listing, Membership
from tests.factories import ChamberFactory, CompanyFactory, ListingFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

CONTACT_FIELDS = {"contact_name", "contact_email", "contact_phone"}


@pytest.fixture
def api() -> APIClient:
    return APIClient()


@pytest.fixture
def member_api(api):
    user = UserFactory()
    api.force_authenticate(user)
    api.user = user
    return api


def new_profile(**overrides) -> dict:
    profile = {
        "name": "ООО «Экспресс-Диагностика»",
        "country": "RU",
        "city": "Novosibirsk",
        "activity_code": "21.20",
        "sectors": ["21"],
        "size": "small",
        "founded": 2011,
        "languages": ["ru", "en"],
        "contact_name": "Иван Петров",
        "contact_email": "ivan@diag.example",
        "contact_phone": "+7 383 000 00 00",
        "consent_purposes": ["cross_border", "matching", "share_profile"],
        "offers": [
            {"kind": "product", "text": "Экспресс-тесты для диагностики инфекций", "cooperation": ["distribution"]}
        ],
        "needs": [
            {
                "kind": "partnership",
                "text": "Distributor of medical devices in Vietnam",
                "cooperation": ["distribution"],
            }
        ],
    }
    return {**profile, **overrides}


# --- the public directory ----------------------------------------------------------------------


def test_directory_lists_published_companies_only_without_contacts(api):
    published = CompanyFactory(name="Visible")
    ListingFactory(company=published)
    for status in ["draft", "pending", "suspended"]:
        CompanyFactory(name=f"Hidden {status}", status=status)
    body = api.get("/api/v1/companies/").json()
    assert [c["name"] for c in body["results"]] == ["Visible"]
    company = body["results"][0]
    assert not CONTACT_FIELDS & set(company) and "contact" not in str(company)
    assert company["offers"][0]["text"].startswith("Rapid diagnostic")


def test_unpublished_company_detail_is_not_found(api):
    draft = CompanyFactory(status="draft")
    assert api.get(f"/api/v1/companies/{draft.pk}/").status_code == 404


def test_directory_is_paginated(api):
    CompanyFactory.create_batch(25)
    first = api.get("/api/v1/companies/").json()
    assert first["count"] == 25 and len(first["results"]) == 20 and first["next"]
    assert len(api.get(first["next"]).json()["results"]) == 5


def test_directory_filters_by_country_sector_cooperation_size_and_city(api):
    vn = CompanyFactory(name="VN pharma", country="VN", city="Hanoi", size="small")
    ListingFactory(company=vn, cooperation=["distribution"])
    ru = CompanyFactory(
        name="RU software", country="RU", activity_code="62.01", activity_division_id="62", size="medium", city="Kazan"
    )
    ListingFactory(company=ru, cooperation=["licensing"], text="Cold-chain monitoring software")
    explicit = CompanyFactory(name="RU coffee", country="RU", city="Moscow", sectors=["10"])

    def names(query: str) -> list[str]:
        return [c["name"] for c in api.get(f"/api/v1/companies/?{query}").json()["results"]]

    assert names("country=RU") == ["RU coffee", "RU software"]
    assert names("sector=62") == ["RU software"]  # from the activity code
    assert names("sector=10") == ["RU coffee"]  # from the sectors given
    assert names("cooperation=licensing") == ["RU software"]
    assert names("size=small") == ["RU coffee", "VN pharma"]
    assert names("city=hanoi") == ["VN pharma"]
    assert api.get("/api/v1/companies/?cooperation=franchise").status_code == 400
    assert explicit.pk


def test_directory_search_finds_words_in_offers_and_names(api):
    company = CompanyFactory(name="Tây Nguyên Coffee")
    ListingFactory(company=company, text="Robusta beans, 200 tonnes a year")
    ListingFactory(company=company, direction="need", text="Robusta roaster partners")
    CompanyFactory(name="Other")
    assert [c["name"] for c in api.get("/api/v1/companies/?search=robusta").json()["results"]] == ["Tây Nguyên Coffee"]
    assert api.get("/api/v1/companies/?search=Nguyên").json()["count"] == 1


SEARCHES = [
    "robusta",
    "ROBUSTA",
    "Nguyên",
    "nguyên",
    "NGUYÊN",
    "nguyen",
    "cà phê",
    "CÀ PHÊ",
    "ca phe",
    "экспресс",
    "ЭКСПРЕСС-ТЕСТЫ",
    "тесты Novosibirsk",
    "Moscow тесты",
    "robusta roaster",
    "robusta tonnes",
    '"roaster partners"',
    "beans,partners",
    "50%",
    "a_b",
    "Hanoi",
    "Coffee Hanoi",
    "kits",
    "zzz",
    "  ",
]


def test_directory_search_finds_what_drf_search_found(api, settings):
    """The indexed search keeps DRF SearchFilter's rule over name, city and offers and needs: every term is in
    the name, the city or one and the same listing; case-insensitive in Cyrillic and Vietnamese too, accents
    kept (as UPPER(...) LIKE did)."""
    from rest_framework.filters import SearchFilter
    from rest_framework.request import Request
    from rest_framework.test import APIRequestFactory

    settings.DIRECTORY_SEARCH = ""  # the lexical rule; by meaning: tests/test_directory_search.py
    coffee = CompanyFactory(name="Tây Nguyên Coffee", city="Buôn Ma Thuột")
    ListingFactory(company=coffee, text="Robusta beans, 200 tonnes a year")
    ListingFactory(company=coffee, direction="need", text="Robusta roaster partners")
    ListingFactory(company=CompanyFactory(name="Công ty Cà phê Đà Lạt"), text="Cà phê Robusta rang xay, 50% arabica")
    diag = CompanyFactory(name="ООО «Экспресс-Диагностика»", country="RU", city="Novosibirsk")
    ListingFactory(company=diag, text="Экспресс-тесты для диагностики инфекций")
    ListingFactory(company=CompanyFactory(name="Moscow a_b", country="RU", city="Moscow"), text="тесты")
    CompanyFactory(name="No listings", city="Hanoi")
    CompanyFactory(name="Hidden robusta", status="draft")

    class View:
        search_fields = ["name", "city", "listings__text"]

    for search in SEARCHES:
        request = Request(APIRequestFactory().get("/", {"search": search}))
        before = SearchFilter().filter_queryset(request, Company.objects.published(), View())
        expected = sorted(before.values_list("name", flat=True))
        found = api.get("/api/v1/companies/", {"search": search}).json()
        assert sorted(c["name"] for c in found["results"]) == expected, search
        assert found["count"] == len(expected)
    assert api.get("/api/v1/companies/", {"search": "экспресс"}).json()["count"] == 1
    assert api.get("/api/v1/companies/", {"search": "CÀ PHÊ"}).json()["count"] == 1
    assert api.get("/api/v1/companies/", {"search": "robusta tonnes"}).json()["count"] == 1  # one offer
    assert api.get("/api/v1/companies/", {"search": "tonnes partners"}).json()["count"] == 0  # two listings


def test_directory_profiles_are_what_drf_fields_give(api):
    """PublicCompanySerializer builds its output without a field per value: the same as DRF's generic
    path, in each language, for a page of the directory and for one firm read alone."""
    from django.utils import translation
    from rest_framework import serializers

    from companies.serializers import PublicCompanySerializer

    chamber = ChamberFactory()
    named = CompanyFactory(
        name="Named", sectors=["46", "10"], chamber=chamber, founded=1998, website="https://a.example"
    )
    ListingFactory(company=named, cooperation=["supply", "distribution"]).sectors.set(["10", "01"])
    ListingFactory(company=named, direction="need", kind="service", text="Cold storage")
    CompanyFactory(name="By activity code", founded=None, size="", languages=[])
    CompanyFactory(name="No sector", activity_code="", activity_division_id=None)
    for language in ["en", "vi", "ru"]:
        with translation.override(language):
            page = api.get("/api/v1/companies/", HTTP_ACCEPT_LANGUAGE=language).json()["results"]
            for shown in page:
                company = Company.objects.get(pk=shown["id"])
                generic = serializers.ModelSerializer.to_representation(PublicCompanySerializer(), company)
                assert shown == json_roundtrip(generic)
                assert api.get(f"/api/v1/companies/{company.pk}/", HTTP_ACCEPT_LANGUAGE=language).json() == shown
    first = api.get(f"/api/v1/companies/{named.pk}/").json()
    assert first["chamber"] == chamber.slug and first["sectors"] == [
        {"code": "10", "name": "Manufacture of food products"},
        {"code": "46", "name": "Wholesale trade, except of motor vehicles and motorcycles"},
    ]
    assert [listing["sectors"] for listing in first["offers"]] == [["01", "10"]]


def json_roundtrip(data):
    import json

    from rest_framework.utils.encoders import JSONEncoder

    return json.loads(json.dumps(data, cls=JSONEncoder))


def test_a_large_directory_count_is_kept_a_minute_and_a_small_one_is_exact(api, monkeypatch):
    from companies import api as companies_api

    monkeypatch.setattr(companies_api, "COUNT_CACHE_ABOVE", 4)
    CompanyFactory.create_batch(3, country="VN")
    CompanyFactory.create_batch(4, country="RU")
    assert api.get("/api/v1/companies/?country=VN").json()["count"] == 3
    assert api.get("/api/v1/companies/?country=RU").json()["count"] == 4
    CompanyFactory(country="VN")
    CompanyFactory(country="RU")
    assert api.get("/api/v1/companies/?country=VN").json()["count"] == 4  # small: counted again
    ru = api.get("/api/v1/companies/?country=RU").json()
    assert ru["count"] == 4 and len(ru["results"]) == 5  # large: the count of a minute ago, the rows of now


def test_directory_query_count_does_not_grow_with_companies(api):
    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert api.get("/api/v1/companies/").status_code == 200
        return len(ctx.captured_queries)

    for company in CompanyFactory.create_batch(3, sectors=["21"]):
        ListingFactory(company=company)
    few = queries()
    for company in CompanyFactory.create_batch(15, sectors=["21", "72"]):
        ListingFactory(company=company)
        ListingFactory(company=company, direction="need")
    assert queries() == few


def test_user_text_is_returned_as_written_and_escaped_in_the_browsable_api(api):
    company = CompanyFactory(name="<script>alert(1)</script>")
    assert api.get(f"/api/v1/companies/{company.pk}/").json()["name"] == "<script>alert(1)</script>"
    html = api.get(f"/api/v1/companies/{company.pk}/", HTTP_ACCEPT="text/html").content.decode()
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html


# --- the member's own company ------------------------------------------------------------------


def test_member_registers_a_company_as_a_draft(member_api):
    response = member_api.post("/api/v1/my/company/", new_profile(), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "draft" and body["activity_division"] == "21"
    assert body["contact_email"] == "ivan@diag.example"
    assert body["offers"][0]["language"] == "ru" and body["needs"][0]["language"] == "en"
    assert body["consent_purposes"] == ["cross_border", "matching", "share_profile"] and body["consent_version"]
    company = Company.objects.get(pk=body["id"])
    assert Membership.objects.get(user=member_api.user).company == company
    assert company.consent_given_at is not None


def test_sector_defaults_to_the_activity_code_division(member_api, api):
    response = member_api.post("/api/v1/my/company/", new_profile(sectors=[]), format="json")
    company = Company.objects.get(pk=response.json()["id"])
    company.status = "published"
    company.save()
    public = api.get(f"/api/v1/companies/{company.pk}/").json()
    assert [s["code"] for s in public["sectors"]] == ["21"]


@pytest.mark.parametrize(
    ("overrides", "field", "says"),
    [
        ({"activity_code": "2120"}, "activity_code", "OKVED2"),
        ({"country": "VN"}, "activity_code", "VSIC 2018"),
        ({"sectors": ["40"]}, "sectors", "Unknown sector 40"),
        ({"sectors": ["2\x00"]}, "sectors", "2-digit ISIC Rev.4 division code"),  # not a database error
        ({"sectors": ["C"]}, "sectors", "2-digit ISIC Rev.4 division code"),
        ({"offers": [], "needs": []}, "offers", "at least one offer or one need"),
        ({"languages": ["de"]}, "languages", "not a valid choice"),
        ({"offers": [{"text": "Tests", "cooperation": ["franchise"]}]}, "offers", "not a valid choice"),
        ({"offers": [{"text": "x" * 2001}]}, "offers", "no more than 2000 characters"),
        ({"consent_purposes": ["news"]}, "consent_purposes", "Consent to matching is needed"),
        ({"consent_purposes": []}, "consent_purposes", ""),
        ({"contact_email": "nope"}, "contact_email", "valid email"),
    ],
)
def test_bad_profiles_get_field_level_errors_and_write_nothing(member_api, overrides, field, says):
    response = member_api.post("/api/v1/my/company/", new_profile(**overrides), format="json")
    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert says in str(response.json()[field])
    assert not Company.objects.exists() and not Listing.objects.exists()


def test_a_member_registers_only_one_company(member_api):
    assert member_api.post("/api/v1/my/company/", new_profile(), format="json").status_code == 201
    assert member_api.post("/api/v1/my/company/", new_profile(), format="json").status_code == 400
    assert Company.objects.count() == 1


def test_member_updates_the_profile_and_code_is_checked_against_the_new_country(member_api):
    member_api.post("/api/v1/my/company/", new_profile(), format="json")
    assert member_api.patch("/api/v1/my/company/", {"city": "Tomsk"}, format="json").json()["city"] == "Tomsk"
    response = member_api.patch("/api/v1/my/company/", {"country": "VN"}, format="json")
    assert response.status_code == 400 and "activity_code" in response.json()
    both = member_api.patch("/api/v1/my/company/", {"country": "VN", "activity_code": "6201"}, format="json").json()
    assert both["country"] == "VN" and both["activity_division"] == "62"


def test_offers_and_needs_are_nested_resources(member_api):
    member_api.post("/api/v1/my/company/", new_profile(), format="json")
    created = member_api.post(
        "/api/v1/my/company/needs/",
        {"kind": "technology", "text": "Công nghệ sản xuất vắc-xin", "sectors": ["21"]},
        format="json",
    )
    assert created.status_code == 201 and created.json()["language"] == "vi"
    needs = member_api.get("/api/v1/my/company/needs/").json()
    assert len(needs) == 2
    need_id = created.json()["id"]
    assert (
        member_api.patch(f"/api/v1/my/company/needs/{need_id}/", {"text": "Vaccine know-how"}, format="json").json()[
            "language"
        ]
        == "en"
    )
    assert member_api.delete(f"/api/v1/my/company/needs/{need_id}/").status_code == 204
    assert len(member_api.get("/api/v1/my/company/offers/").json()) == 1


def test_submit_for_review_moves_a_draft_to_pending(member_api):
    member_api.post("/api/v1/my/company/", new_profile(), format="json")
    response = member_api.post("/api/v1/my/company/submit/")
    assert response.status_code == 200 and response.json()["status"] == "pending"
    again = member_api.post("/api/v1/my/company/submit/")
    assert again.status_code == 400 and "status" in again.json()


def test_submit_without_offers_or_needs_is_refused(member_api):
    member_api.post("/api/v1/my/company/", new_profile(needs=[]), format="json")
    offer_id = member_api.get("/api/v1/my/company/offers/").json()[0]["id"]
    member_api.delete(f"/api/v1/my/company/offers/{offer_id}/")
    response = member_api.post("/api/v1/my/company/submit/")
    assert response.status_code == 400 and "at least one offer or need" in response.json()["status"][0]


# --- permissions -------------------------------------------------------------------------------


def test_anonymous_users_cannot_reach_own_company_endpoints(api):
    assert api.get("/api/v1/my/company/").status_code in (401, 403)
    assert api.post("/api/v1/my/company/", new_profile(), format="json").status_code in (401, 403)


def test_public_directory_is_read_only(member_api):
    company = CompanyFactory()
    assert member_api.patch(f"/api/v1/companies/{company.pk}/", {"name": "Mine"}, format="json").status_code == 405
    assert member_api.delete(f"/api/v1/companies/{company.pk}/").status_code == 405


def test_a_member_cannot_read_or_change_another_companys_offers(member_api):
    other = MembershipFactory()
    their_offer = ListingFactory(company=other.company)
    member_api.post("/api/v1/my/company/", new_profile(), format="json")
    url = f"/api/v1/my/company/offers/{their_offer.pk}/"
    assert member_api.get(url).status_code == 404
    assert member_api.patch(url, {"text": "hijacked"}, format="json").status_code == 404
    assert member_api.delete(url).status_code == 404
    their_offer.refresh_from_db()
    assert their_offer.text != "hijacked"
    assert other.company.name not in str(member_api.get("/api/v1/my/company/").json())


def test_another_members_draft_is_invisible(member_api):
    other = MembershipFactory()
    assert member_api.get(f"/api/v1/companies/{other.company.pk}/").status_code == 404
    assert member_api.get("/api/v1/my/company/").status_code == 404  # this member has none yet


def test_token_authentication(api):
    user = UserFactory(username="tokenuser")
    response = api.post("/api/v1/auth/token/", {"username": "tokenuser", "password": "correct horse battery staple"})
    assert response.status_code == 200
    token = response.json()["token"]
    assert Token.objects.get(user=user).key == token
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.post("/api/v1/my/company/", new_profile(), format="json").status_code == 201


def test_a_token_request_with_an_overlong_username_gets_a_field_error(api):
    """Not a server error from the login audit's 255-character column (found by the schema fuzzer)."""
    response = api.post("/api/v1/auth/token/", {"username": "u" * 300, "password": "whatever"})
    assert response.status_code == 400
    assert "username" in response.json()


def test_anonymous_requests_are_throttled(api, settings):
    from django.core.cache import cache
    from rest_framework.settings import api_settings
    from rest_framework.throttling import AnonRateThrottle

    cache.clear()
    rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "anon": "3/min"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    previous, AnonRateThrottle.THROTTLE_RATES = AnonRateThrottle.THROTTLE_RATES, api_settings.DEFAULT_THROTTLE_RATES
    try:
        codes = [api.get("/api/v1/companies/").status_code for _ in range(4)]
    finally:
        AnonRateThrottle.THROTTLE_RATES = previous  # read once at import: later tests need the real rates back
        cache.clear()
    assert codes == [200, 200, 200, 429]


# --- service endpoints -------------------------------------------------------------------------


def test_healthz_checks_the_database(api):
    response = api.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok", "database": "ok"}


def test_openapi_schema_and_docs_are_served(api):
    schema = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/companies/" in schema["paths"] and "/api/v1/my/company/submit/" in schema["paths"]
    assert api.get("/api/docs/").status_code == 200


def test_a_nul_character_in_a_query_is_refused_not_a_server_error(api):
    CompanyFactory(name="Robusta")
    for query in [
        "search=rob%00usta",
        "city=Ha%00noi",
        "ordering=na%00me",
        "sector=2%00",
        "country=V%00N",
        "page=1%00",
    ]:
        assert api.get(f"/api/v1/companies/?{query}").status_code in (200, 400, 404), query
