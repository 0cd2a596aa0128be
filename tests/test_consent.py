"""Consent is obeyed, not only recorded (issue 15, item 5), tried as an anonymous visitor and as another firm.

- The directory (API and pages), the home page's figures, event participant lists and event suggestions show
  only firms that consented to be shown across the border (share_profile and cross_border), and the firms
  named in the articles; a firm that withdraws disappears at once.
- Matching ranks firms that consented to matching, and firms their chamber imported without any consent yet.
- A firm hidden for want of consent is introduced by its own chamber (its contact's digest), but its
  counterpart sees nothing of the match until the hidden firm consents.
- The web form and the API ask for the same consents: all three to join; afterwards showing may be withdrawn,
  matching may not (withdrawing it is leaving the service).
"""

import re

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from companies import services as company_services
from companies.models import Company, Listing, Source
from companies.recipients import sign_action
from events.models import MeetingRequest
from matchmaking import recompute_queue, services, warm_index
from matchmaking.digests.delivery import Status, deliver_firm_digest
from matchmaking.digests.rendering import ANSWER_SALT
from matchmaking.digests.weeks import IsoWeek
from matchmaking.models import Match
from tests.factories import (
    CompanyFactory,
    EventFactory,
    ListingFactory,
    MatchFactory,
    MembershipFactory,
    UserFactory,
    register_firm,
)

pytestmark = pytest.mark.django_db

ALL_THREE = ["cross_border", "matching", "share_profile"]
WEEK = IsoWeek(2026, 48)
PASSWORD = "Mekong-Volga-2026!"


@pytest.fixture(autouse=True)
def _lexical_matching(settings, site_url, monkeypatch):
    """Rank on the lexical signal alone (the texts below decide it), and only when a test asks."""
    settings.MATCHING_RECOMPUTE_ON_SAVE = False
    monkeypatch.setattr(services, "matching_embedder", lambda progress=None: None)
    warm_index.forget()
    yield
    warm_index.forget()


def imported(**fields) -> Company:
    """A firm its chamber imported and published without any consent: nothing recorded."""
    return CompanyFactory(
        source=Source.IMPORT, consent_version="", consent_purposes=[], consent_given_at=None, **fields
    )


def api_member(company: Company) -> APIClient:
    client = APIClient()
    client.force_authenticate(MembershipFactory(company=company).user)
    return client


def web_member(company: Company) -> Client:
    client = Client()
    client.force_login(MembershipFactory(company=company).user)
    return client


def withdraw_showing(company: Company):
    """A member of the firm keeps only its consent to matching, through the API."""
    return api_member(company).patch("/api/v1/my/company/", {"consent_purposes": ["matching"]}, format="json")


def api_names(client: APIClient) -> list[str]:
    response = client.get("/api/v1/companies/")
    assert response.status_code == 200
    return [firm["name"] for firm in response.json()["results"]]


def page_names(client: Client) -> list[str]:
    body = client.get("/directory/").content.decode()
    return re.findall(r'<article class="card">\s*<h3><a href="[^"]+">([^<]+)</a>', body)


def assert_shown(firm: Company, *clients, shown: bool = True) -> None:
    """Whether ``firm`` is in the API's and the pages' directory, listed and on its own, for each client."""
    for client in clients:
        if isinstance(client, APIClient):
            assert (firm.name in api_names(client)) is shown
            assert client.get(f"/api/v1/companies/{firm.pk}/").status_code == (200 if shown else 404)
        else:
            assert (firm.name in page_names(client)) is shown
            assert client.get(f"/directory/{firm.pk}/").status_code == (200 if shown else 404)


def profile_form(company: Company, **changes) -> dict:
    """The profile page's form as the firm would send it back, with ``changes`` (None leaves a box unticked)."""
    data = {
        "firm-name": company.name,
        "firm-country": company.country,
        "firm-city": company.city,
        "firm-activity_code": company.activity_code,
        "firm-sectors": ["21"],
        "firm-size": company.size,
        "firm-languages": company.languages,
        "firm-contact_name": company.contact_name,
        "firm-contact_email": company.contact_email,
        "firm-contact_phone": company.contact_phone,
        "offers-TOTAL_FORMS": "1",
        "offers-INITIAL_FORMS": "0",
        "offers-0-kind": "product",
        "offers-0-text": "Rapid diagnostic test kits for infectious diseases",
        "needs-TOTAL_FORMS": "0",
        "needs-INITIAL_FORMS": "0",
        "consent-matching": "on",
        "consent-share_profile": "on",
        "consent-cross_border": "on",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


# --- the directory and the home page ---------------------------------------------------------------------


def test_a_firm_that_withdraws_share_profile_in_the_api_leaves_the_directory_at_once():
    firm = CompanyFactory(name="Volga Diagnostics", country="RU", city="Kazan")
    ListingFactory(company=firm)
    other_firm = api_member(CompanyFactory(name="Saigon Pharma", country="VN"))
    visitors = (APIClient(), other_firm, Client())
    assert_shown(firm, *visitors)

    response = withdraw_showing(firm)

    assert response.status_code == 200 and response.json()["consent_purposes"] == ["matching"]
    assert_shown(firm, *visitors, shown=False)
    assert "Saigon Pharma" in api_names(APIClient())


def test_a_firm_that_unticks_share_profile_in_the_profile_form_leaves_the_directory_at_once():
    firm = CompanyFactory(name="Volga Diagnostics", country="RU", city="Kazan", activity_code="21.20")
    ListingFactory(company=firm)
    member = web_member(firm)
    page = member.get("/my/profile/").content.decode()
    assert re.search(r'name="consent-share_profile"[^>]*checked', page)  # what the firm gave shows as given

    response = member.post("/my/profile/", profile_form(firm, **{"consent-share_profile": None}))

    assert response.status_code == 302, response.content.decode()
    firm.refresh_from_db()
    assert firm.consent_purposes == ["cross_border", "matching"]
    assert_shown(firm, APIClient(), Client(), web_member(CompanyFactory(country="VN")), shown=False)


def test_a_firm_without_consent_to_the_transfer_abroad_is_not_shown():
    firm = CompanyFactory(
        name="Kama Bearings", country="RU", city="Kazan", consent_purposes=["matching", "share_profile"]
    )
    assert_shown(firm, APIClient(), Client(), shown=False)


def test_an_imported_firm_is_shown_only_once_it_claims_its_profile_and_consents_while_article_firms_show():
    firm = imported(name="Kazan Instruments", country="RU", city="Kazan", contact_email="director@kazan.example")
    article = CompanyFactory(
        name="Vietsovpetro", source=Source.ARTICLE, consent_version="", consent_purposes=[], consent_given_at=None
    )
    visitors = (APIClient(), Client(), api_member(CompanyFactory(country="VN")))
    assert_shown(firm, *visitors, shown=False)
    assert_shown(article, *visitors)

    company_services.claim_company(
        firm, email=firm.contact_email, password=PASSWORD, consent_purposes=ALL_THREE, language="ru"
    )

    assert_shown(firm, *visitors)


def test_the_home_page_counts_only_the_firms_the_directory_shows():
    CompanyFactory.create_batch(2, country="VN")
    imported(country="VN")
    CompanyFactory(country="RU", city="Kazan", consent_purposes=["matching"])
    CompanyFactory(country="RU", city="Moscow")

    text = " ".join(re.sub(r"<[^>]+>", " ", Client().get("/").content.decode()).split())

    assert "3 published firms in the directory." in text
    assert "Vietnam 2 Russia 1" in text


# --- the same consents asked by the form and the API ---------------------------------------------------------


def new_profile(purposes: list[str]) -> dict:
    return {
        "name": "ООО «Экспресс-Диагностика»",
        "country": "RU",
        "city": "Novosibirsk",
        "activity_code": "21.20",
        "contact_name": "Иван Петров",
        "contact_email": "ivan@diag.example",
        "consent_purposes": purposes,
        "offers": [{"kind": "product", "text": "Экспресс-тесты для диагностики инфекций"}],
    }


@pytest.mark.parametrize("missing", ["share_profile", "cross_border"])
def test_the_api_asks_a_new_profile_for_every_consent_the_form_asks_for(missing):
    client = APIClient()
    client.force_authenticate(UserFactory())
    purposes = [purpose for purpose in ALL_THREE if purpose != missing]

    refused = client.post("/api/v1/my/company/", new_profile(purposes), format="json")

    assert refused.status_code == 400 and "consent_purposes" in refused.json(), refused.json()
    assert not Company.objects.exists()
    created = client.post("/api/v1/my/company/", new_profile(ALL_THREE), format="json")
    assert created.status_code == 201 and created.json()["consent_purposes"] == ALL_THREE


def test_afterwards_showing_may_be_withdrawn_but_matching_may_not_in_the_api_and_the_form_alike():
    firm = CompanyFactory(country="RU", city="Kazan", activity_code="21.20")
    ListingFactory(company=firm)
    api, web = api_member(firm), web_member(firm)

    refused = api.patch("/api/v1/my/company/", {"consent_purposes": ["cross_border", "share_profile"]}, format="json")
    assert refused.status_code == 400 and "Consent to matching is needed" in str(refused.json()["consent_purposes"])
    refused = web.post("/my/profile/", profile_form(firm, **{"consent-matching": None}))
    assert refused.status_code == 400 and "The service cannot introduce your firm without this consent." in refused.text
    firm.refresh_from_db()
    assert firm.consent_purposes == ALL_THREE

    unticked = {"consent-share_profile": None, "consent-cross_border": None}
    withdrawn = web.post("/my/profile/", profile_form(firm, **unticked))
    assert withdrawn.status_code == 302
    firm.refresh_from_db()
    assert firm.consent_purposes == ["matching"]
    given_again = api.patch("/api/v1/my/company/", {"consent_purposes": ALL_THREE}, format="json")
    assert given_again.status_code == 200
    assert_shown(firm, APIClient())


# --- matching ------------------------------------------------------------------------------------------------

VN_NEED = "Wireless humidity and temperature monitoring for cold-chain warehouses"
RU_OFFER = "Wireless humidity and temperature monitoring sensors for cold-chain warehouses"


def firm_with(country: str, direction: str, text: str, **fields) -> Company:
    company = (imported if fields.pop("imported", False) else CompanyFactory)(
        country=country, city="Hanoi" if country == "VN" else "Kazan", **fields
    )
    ListingFactory(company=company, direction=direction, text=text)
    return company


def test_a_firm_that_dropped_matching_is_not_ranked_but_a_firm_imported_without_consent_is():
    vn = firm_with("VN", Listing.Direction.NEED, VN_NEED)
    dropped = firm_with("RU", Listing.Direction.OFFER, RU_OFFER, consent_purposes=["cross_border", "share_profile"])
    without_consent = firm_with("RU", Listing.Direction.OFFER, RU_OFFER, imported=True)

    services.recompute_matches(top_k=10)

    assert not Match.objects.filter(company_ru=dropped).exists()
    assert Match.objects.filter(company_vn=vn, company_ru=without_consent).exists()


@pytest.mark.parametrize("warm", [False, True], ids=["fresh read", "warm index"])
def test_a_firm_whose_matching_consent_ends_loses_its_suggestions_when_it_is_saved(
    settings,
    warm,
    django_capture_on_commit_callbacks,
    monkeypatch,
):
    monkeypatch.setattr(recompute_queue._pending, "ids", set(), raising=False)
    settings.MATCHING_INDEX_MIN_FIRMS = 0 if warm else 10**6
    vn = firm_with("VN", Listing.Direction.NEED, VN_NEED)
    ru = firm_with("RU", Listing.Direction.OFFER, RU_OFFER)
    other = firm_with("RU", Listing.Direction.OFFER, "Humidity monitoring for warehouses")
    services.recompute_matches(top_k=10)
    if warm:
        services.recompute_matches([other.pk])  # builds this process's index with ru in it
    assert Match.objects.filter(company_ru=ru).exists()

    settings.MATCHING_RECOMPUTE_ON_SAVE = True
    with django_capture_on_commit_callbacks(execute=True):
        # As a chamber's import records a consent it collected (the claim saves the same fields).
        company_services.record_consent(ru, ["cross_border", "share_profile"])
        ru.save(update_fields=["consent_version", "consent_purposes", "consent_given_at", "updated_at"])

    assert not Match.objects.filter(company_ru=ru).exists()
    assert Match.objects.filter(company_vn=vn, company_ru=other).exists()


# --- introductions: what the counterpart of a hidden firm sees -----------------------------------------------


def test_the_counterpart_sees_no_introduction_to_an_imported_firm_until_it_consents():
    vn = CompanyFactory(name="Tay Nguyen Roasters", country="VN")
    ru = imported(name="Kazan Instruments", country="RU", city="Kazan", contact_email="director@kazan.example")
    match = MatchFactory(company_vn=vn, company_ru=ru, status=Match.Status.INTRODUCED, introduced_at=timezone.now())
    api, web = api_member(vn), web_member(vn)

    assert api.get("/api/v1/me/matches/").json()["count"] == 0
    assert api.get(f"/api/v1/me/matches/{match.pk}/").status_code == 404
    assert api.post(f"/api/v1/me/matches/{match.pk}/accept/").status_code == 404
    assert "Kazan Instruments" not in web.get("/my/introductions/").content.decode()
    assert web.post(f"/my/introductions/{match.pk}/answer/", {"answer": "accept"}).status_code == 404
    token = sign_action({"match": match.pk, "company": vn.pk, "member": None}, ANSWER_SALT)
    assert Client().get(f"/introductions/answer/{token}/").status_code == 404
    match.refresh_from_db()
    assert match.response_vn == Match.Response.PENDING

    company_services.claim_company(
        ru, email=ru.contact_email, password=PASSWORD, consent_purposes=ALL_THREE, language="ru"
    )

    assert [m["id"] for m in api.get("/api/v1/me/matches/").json()["results"]] == [match.pk]
    assert "Kazan Instruments" in web.get("/my/introductions/").content.decode()
    assert Client().get(f"/introductions/answer/{token}/").status_code == 200


def test_a_connection_disappears_from_the_counterparts_list_when_the_firm_withdraws_share_profile():
    vn = CompanyFactory(name="Tay Nguyen Roasters", country="VN")
    ru = CompanyFactory(name="Volga Coffee Trading", country="RU", city="Kazan")
    MatchFactory(
        company_vn=vn,
        company_ru=ru,
        status=Match.Status.CONNECTED,
        introduced_at=timezone.now(),
        connected_at=timezone.now(),
        response_vn="accepted",
        response_ru="accepted",
    )
    api = api_member(vn)
    assert api.get("/api/v1/me/matches/").json()["count"] == 1

    assert withdraw_showing(ru).status_code == 200

    assert api.get("/api/v1/me/matches/").json()["count"] == 0
    assert ru.contact_email not in web_member(vn).get("/my/introductions/").content.decode()


def test_the_digest_introduces_the_imported_firm_but_tells_its_counterpart_only_once_it_consents(mailoutbox):
    vn = CompanyFactory(name="Tay Nguyen Roasters", country="VN")
    reader = MembershipFactory(company=vn).user
    ru = imported(name="Kazan Instruments", country="RU", city="Kazan", contact_email="director@kazan.example")
    match = MatchFactory(company_vn=vn, company_ru=ru)
    services.approve([match], by=None)

    assert deliver_firm_digest(vn.pk, WEEK).status == Status.SKIPPED
    assert not [m for m in mailoutbox if reader.email in m.to]
    assert deliver_firm_digest(ru.pk, WEEK).status == Status.SENT
    [message] = [m for m in mailoutbox if "director@kazan.example" in m.to]
    assert "Tay Nguyen Roasters" in message.body and "/claim/" in message.body
    match.refresh_from_db()
    assert match.status == Match.Status.INTRODUCED

    company_services.claim_company(
        ru, email=ru.contact_email, password=PASSWORD, consent_purposes=ALL_THREE, language="ru"
    )
    next_week = IsoWeek(2026, 49)
    assert deliver_firm_digest(vn.pk, next_week).status == Status.SENT
    [told] = [m for m in mailoutbox if reader.email in m.to]
    assert "Kazan Instruments" in told.body


# --- events --------------------------------------------------------------------------------------------------


def test_event_lists_and_suggestions_leave_out_a_firm_that_withdrew_share_profile():
    event = EventFactory(slug="hanoi-coffee")
    vn = firm_with("VN", Listing.Direction.OFFER, "Robusta coffee beans, roasted", name="Tay Nguyen Roasters")
    ru = firm_with(
        "RU", Listing.Direction.NEED, "Vietnamese robusta coffee beans supplier", name="Volga Coffee Trading"
    )
    register_firm(event, vn)
    ru_participant = register_firm(event, ru)
    web, api = web_member(vn), api_member(vn)
    assert "Volga Coffee Trading" in web.get("/events/hanoi-coffee/").content.decode()
    assert [row["firm"]["name"] for row in api.get("/api/v1/events/hanoi-coffee/suggestions/").json()] == [
        "Volga Coffee Trading"
    ]

    assert withdraw_showing(ru).status_code == 200

    assert "Volga Coffee Trading" not in web.get("/events/hanoi-coffee/").content.decode()
    assert api.get("/api/v1/events/hanoi-coffee/suggestions/").json() == []
    # Nor can it be asked for a meeting by its id, which would show it in the requests.
    assert web.post("/events/hanoi-coffee/requests/", {"invitee": ru_participant.pk}).status_code == 404
    refused = api.post("/api/v1/events/hanoi-coffee/requests/", {"invitee": ru_participant.pk}, format="json")
    assert refused.status_code == 400 and "invitee" in refused.json()
    assert not MeetingRequest.objects.exists()
