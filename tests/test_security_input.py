"""What a hostile member may send, refused where it is sent: control and invisible characters in texts (issue 15,
item 7), JSON nested thousands deep (item 8), endless offers and needs (item 11), a chamber of the other country or
none (item 12), and websites the schema does not describe (item 14)."""

import io
import json
from pathlib import Path

import jsonschema_rs
import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from companies.models import LISTINGS_PER_DIRECTION_MAX, Company, Listing, StatusChange
from events.models import MeetingRequest
from matchmaking import services as match_services
from matchmaking.digests.delivery import Status, deliver_firm_digest
from matchmaking.digests.weeks import IsoWeek
from tests.factories import (
    ChamberFactory,
    CompanyFactory,
    EventFactory,
    ListingFactory,
    MatchFactory,
    MembershipFactory,
    member_api,
    profile_data,
    register_firm,
)

pytestmark = pytest.mark.django_db

INJECTED_NAME = "Acme\r\nBcc: x@y"


def new_profile(**overrides) -> dict:
    profile = {
        "name": "Tay Nguyen Coffee",
        "country": "VN",
        "city": "Buon Ma Thuot",
        "activity_code": "1077",
        "sectors": ["10"],
        "size": "small",
        "languages": ["vi", "en"],
        "contact_name": "Nguyen Thi Lan",
        "contact_email": "lan@firm.example",
        "contact_phone": "+84 262 000 111",
        "consent_purposes": ["matching", "share_profile", "cross_border"],
        "offers": [{"kind": "product", "text": "Roasted robusta coffee, 1,200 t a year", "cooperation": ["supply"]}],
    }
    return {**profile, **overrides}


def import_errors(tmp_path: Path, records: list) -> str:
    path = tmp_path / "companies.json"
    path.write_text(json.dumps({"format": "sme-match/1", "companies": records}), encoding="utf-8")
    err = io.StringIO()
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_companies", str(path), stdout=io.StringIO(), stderr=err)
    return err.getvalue()


def import_record(external_id: str = "vn-900", **overrides) -> dict:
    return {
        "external_id": external_id,
        "name": "Cong ty Ca phe Tay Nguyen",
        "country": "VN",
        "city": "Buon Ma Thuot",
        "activity_code": "1077",
        "sectors": ["10"],
        "offers": "Ca phe robusta rang xay",
        "needs": "",
        "contact": {"name": "Nguyen Van Hung", "email": "hung@taynguyen.example", "phone": "+84 262 000 000"},
        **overrides,
    }


# --- item 7: control characters, bidi overrides, invisible-only texts -----------------------------------------


@pytest.mark.parametrize(
    "field, value",
    [
        ("name", INJECTED_NAME),
        ("city", "Hanoi\x1b[31m"),
        ("name", "Acme \u202egnp.exe"),  # a right-to-left override turns the rest around on screen
        ("contact_name", "\u200b\u200d\ufeff"),  # nothing a reader can see
        ("contact_phone", "+84 24\n0000"),
    ],
)
def test_the_api_refuses_control_and_invisible_characters_with_a_field_error(field, value):
    response = member_api().post("/api/v1/my/company/", new_profile(**{field: value}), format="json")

    assert response.status_code == 400 and field in response.json(), response.json()
    assert not Company.objects.exists()


def test_the_api_refuses_a_bell_in_an_offer_but_keeps_its_line_breaks_and_tabs():
    client = member_api()
    bell = new_profile(offers=[{"kind": "product", "text": "Coffee\x07 beans"}])
    refused = client.post("/api/v1/my/company/", bell, format="json")
    assert refused.status_code == 400 and "offers" in refused.json()

    lines = new_profile(offers=[{"kind": "product", "text": "Coffee beans:\n\t- robusta\r\n\t- arabica"}])
    assert client.post("/api/v1/my/company/", lines, format="json").status_code == 201


@pytest.mark.usefixtures("site_url")
def test_a_rename_to_a_mail_header_is_refused_and_the_firms_digest_still_goes_out():
    vn = CompanyFactory(country="VN", name="Tay Nguyen Coffee")
    client = member_api(vn)
    ru = CompanyFactory(country="RU", city="Moscow")
    MembershipFactory(company=ru)

    response = client.patch("/api/v1/my/company/", {"name": INJECTED_NAME}, format="json")

    assert response.status_code == 400 and "name" in response.json()
    vn.refresh_from_db()
    assert vn.name == "Tay Nguyen Coffee"
    match = MatchFactory(company_vn=vn, company_ru=ru)
    match_services.approve([match], by=None)
    assert deliver_firm_digest(vn.pk, IsoWeek(2026, 48)).status == Status.SENT


def test_the_profile_form_refuses_a_name_with_a_line_break_and_keeps_an_offer_typed_on_several_lines(member_client):
    refused = member_client.post("/my/profile/", profile_data(**{"firm-name": INJECTED_NAME}))
    assert refused.status_code == 400 and refused.context["form"].errors["name"]
    assert not Company.objects.exists()

    # Browsers send a textarea's line breaks as CR LF.
    text = "Roasted robusta coffee:\r\n- 1,200 t a year\r\n- UTZ certified"
    saved = member_client.post("/my/profile/", profile_data(**{"offers-0-text": text}))
    assert saved.status_code == 302
    assert Listing.objects.get().text == text


def test_the_profile_form_refuses_a_bidi_override_in_an_offer(member_client):
    response = member_client.post("/my/profile/", profile_data(**{"offers-0-text": "Coffee \u2066beans\u2069"}))
    assert response.status_code == 400 and response.context["offers"].forms[0].errors["text"]


def test_the_import_names_the_record_and_field_of_a_control_character(tmp_path):
    from seeds.loader import load_seeds

    load_seeds()
    errors = import_errors(
        tmp_path,
        [
            import_record(name=INJECTED_NAME),
            import_record("vn-901", contact={"name": "Hung", "email": "hung@x.example", "phone": "\u2067+84\u2069"}),
            import_record("vn-902", offers="\u200b"),
        ],
    )
    assert "record 1 (vn-900): name:" in errors
    assert "record 2 (vn-901): contact.phone:" in errors
    assert "record 3 (vn-902): offers:" in errors
    assert not Company.objects.filter(external_id__startswith="vn-9").exists()


def test_event_notes_and_messages_refuse_control_characters_in_the_api_and_the_pages(client):
    event = EventFactory(slug="hanoi-day")
    vn, ru = CompanyFactory(country="VN"), CompanyFactory(country="RU", city="Moscow")
    api = member_api(vn)
    slots = list(event.slots.order_by("starts_at"))
    window = {"starts_at": slots[0].starts_at.isoformat(), "ends_at": slots[-1].ends_at.isoformat()}

    refused = api.put(
        "/api/v1/events/hanoi-day/registration/", {"note": "Hi\x1b[2J", "windows": [window]}, format="json"
    )
    assert refused.status_code == 400 and "note" in refused.json()

    client.force_login(api.user)
    day = event.starts_on.isoformat()
    page = client.post(
        "/events/hanoi-day/register/",
        {
            "role": "both",
            "note": "Sam\x0bples",
            "window_1_day": day,
            "window_1_start": "09:00",
            "window_1_end": "12:00",
        },
    )
    assert page.context["form"].errors["note"]
    assert not vn.event_participations.exists()

    register_firm(event, vn)
    other = register_firm(event, ru)
    invitation = api.post(
        "/api/v1/events/hanoi-day/requests/", {"invitee": other.pk, "message": "\u202eyalp"}, format="json"
    )
    assert invitation.status_code == 400 and "message" in invitation.json()

    client.post("/events/hanoi-day/requests/", {"invitee": other.pk, "message": "Sam\x7fples"})
    assert not MeetingRequest.objects.exists()


# --- item 8: JSON nested thousands deep ---------------------------------------------------------------------


DEEP = "[" * 5000 + "]" * 5000


@pytest.mark.parametrize(
    "method, url",
    [
        ("post", "/api/v1/my/company/"),
        ("patch", "/api/v1/my/company/"),
        ("post", "/api/v1/my/company/offers/"),
        ("put", "/api/v1/events/hanoi-day/registration/"),
        ("post", "/api/v1/auth/token/"),
    ],
)
def test_json_nested_thousands_deep_is_a_clear_400(method, url):
    EventFactory(slug="hanoi-day")
    client = member_api(None if method == "post" and url == "/api/v1/my/company/" else CompanyFactory())

    response = getattr(client, method)(url, DEEP, content_type="application/json")

    assert response.status_code == 400
    assert "nested" in response.json()["detail"]


def test_the_import_of_a_file_nested_thousands_deep_is_a_named_error(tmp_path):
    path = tmp_path / "deep.json"
    path.write_text('{"format": "sme-match/1", "companies": ' + DEEP + "}", encoding="utf-8")
    err = io.StringIO()

    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_companies", str(path), stdout=io.StringIO(), stderr=err)

    assert "nested too deeply" in err.getvalue()


# --- item 11: at most ten offers and ten needs ----------------------------------------------------------------


def test_a_new_profile_has_at_most_ten_offers_and_ten_needs_as_on_the_site():
    client = member_api()
    offer = {"kind": "product", "text": "Roasted robusta coffee"}
    too_many = client.post(
        "/api/v1/my/company/", new_profile(offers=[offer] * (LISTINGS_PER_DIRECTION_MAX + 1)), format="json"
    )
    assert too_many.status_code == 400 and "offers" in too_many.json()

    enough = client.post(
        "/api/v1/my/company/",
        new_profile(offers=[offer] * LISTINGS_PER_DIRECTION_MAX, needs=[offer] * LISTINGS_PER_DIRECTION_MAX),
        format="json",
    )
    assert enough.status_code == 201


def test_an_eleventh_offer_is_refused_but_a_need_still_fits():
    company = CompanyFactory()
    ListingFactory.create_batch(LISTINGS_PER_DIRECTION_MAX, company=company)
    client = member_api(company)

    refused = client.post("/api/v1/my/company/offers/", {"kind": "product", "text": "Green coffee"}, format="json")
    assert refused.status_code == 400 and "text" in refused.json()
    assert company.listings.filter(direction="offer").count() == LISTINGS_PER_DIRECTION_MAX

    need = client.post("/api/v1/my/company/needs/", {"kind": "product", "text": "Roasting machines"}, format="json")
    assert need.status_code == 201


# --- item 12: the vetting chamber ---------------------------------------------------------------------------------


@pytest.fixture
def chambers():
    return (
        ChamberFactory(slug="vcci-test", country="VN"),
        ChamberFactory(slug="hcm-test", country="VN"),
        ChamberFactory(slug="dr-test", country="RU"),
    )


@pytest.mark.parametrize("status", ["published", "pending"])
@pytest.mark.parametrize("chamber", [None, "dr-test"])
def test_a_firm_under_review_or_published_cannot_leave_its_country_s_chambers(chambers, status, chamber):
    vcci = chambers[0]
    company = CompanyFactory(country="VN", chamber=vcci, status=status)

    response = member_api(company).patch("/api/v1/my/company/", {"chamber": chamber}, format="json")

    assert response.status_code == 400 and "chamber" in response.json()
    company.refresh_from_db()
    assert (company.chamber, company.status) == (vcci, status)


def test_even_a_draft_cannot_choose_the_other_country_s_chamber(chambers):
    response = member_api().post("/api/v1/my/company/", new_profile(chamber="dr-test"), format="json")
    assert response.status_code == 400 and "chamber" in response.json()

    fine = member_api().post("/api/v1/my/company/", new_profile(chamber="hcm-test"), format="json")
    assert fine.status_code == 201 and fine.json()["chamber"] == "hcm-test"


def test_a_published_firm_changing_chamber_goes_back_to_review_with_its_audit_row(chambers):
    vcci, hcm, _ = chambers
    company = CompanyFactory(country="VN", chamber=vcci, status="published")
    client = member_api(company)

    response = client.patch("/api/v1/my/company/", {"chamber": "hcm-test"}, format="json")

    assert response.status_code == 200 and response.json()["status"] == "pending"
    company.refresh_from_db()
    assert (company.chamber, company.status) == (hcm, "pending")
    change = StatusChange.objects.get(company=company)
    assert (change.from_status, change.to_status, change.changed_by) == ("published", "pending", client.user)
    assert company not in Company.objects.shown_to_others()


def test_the_profile_form_keeps_the_chamber_rules(member_client, chambers):
    vcci, hcm, dr = chambers
    company = CompanyFactory(country="VN", chamber=vcci, status="published")
    MembershipFactory(user=member_client.user, company=company)
    ListingFactory(company=company)

    for chamber in ("", str(dr.pk)):
        refused = member_client.post("/my/profile/", profile_data(**{"firm-chamber": chamber}))
        assert refused.status_code == 400 and refused.context["form"].errors["chamber"]
    company.refresh_from_db()
    assert (company.chamber, company.status) == (vcci, "published")

    moved = member_client.post("/my/profile/", profile_data(**{"firm-chamber": str(hcm.pk)}))

    assert moved.status_code == 302
    company.refresh_from_db()
    assert (company.chamber, company.status) == (hcm, "pending")
    assert (
        StatusChange.objects.filter(
            company=company, from_status="published", to_status="pending", changed_by=member_client.user
        ).count()
        == 1
    )
    # Saving again with the same chamber changes nothing more.
    member_client.post("/my/profile/", profile_data(**{"firm-chamber": str(hcm.pk)}))
    assert StatusChange.objects.filter(company=company).count() == 1


# --- item 14: the schema and the data agree ---------------------------------------------------------------------


def _schema() -> dict:
    return APIClient().get("/api/schema/?format=json").json()


def test_the_schema_says_a_published_firm_may_have_no_chamber():
    CompanyFactory(name="No chamber", chamber=None)

    body = APIClient().get("/api/v1/companies/").json()["results"][0]

    assert body["chamber"] is None
    assert _schema()["components"]["schemas"]["PublicCompany"]["properties"]["chamber"].get("nullable") is True


@pytest.mark.parametrize("website", ["ftp://files.firm.example/", "https://vcci.com.vn@evil.example/"])
def test_a_website_must_be_an_http_address(website):
    response = member_api().post("/api/v1/my/company/", new_profile(website=website), format="json")
    assert response.status_code == 400 and "website" in response.json()


@pytest.mark.parametrize(
    "given, stored",
    [
        ("https://кремль.рф/путь", "https://xn--e1ajeds9e.xn--p1ai/%D0%BF%D1%83%D1%82%D1%8C"),
        ("https://firm.example/a|b{c}?q=1 2#x#y", "https://firm.example/a%7Cb%7Bc%7D?q=1%202#x%23y"),
        ("https://firm.example/caf%C3%A9/100%", "https://firm.example/caf%C3%A9/100%25"),
    ],
)
def test_a_website_is_kept_as_a_uri_as_the_schema_says(given, stored):
    uri = jsonschema_rs.validator_for({"type": "string", "format": "uri"}, validate_formats=True)
    response = member_api().post("/api/v1/my/company/", new_profile(website=given), format="json")

    assert response.status_code == 201, response.json()
    assert response.json()["website"] == stored and uri.is_valid(stored)


def test_the_profile_form_refuses_an_ftp_website_and_stores_an_international_one_as_a_uri(member_client):
    refused = member_client.post("/my/profile/", profile_data(**{"firm-website": "ftp://firm.example/"}))
    assert refused.status_code == 400 and refused.context["form"].errors["website"]

    saved = member_client.post("/my/profile/", profile_data(**{"firm-website": "кремль.рф"}))
    assert saved.status_code == 302
    assert Company.objects.get().website == "https://xn--e1ajeds9e.xn--p1ai"


@pytest.mark.usefixtures("site_url")
def test_a_name_with_a_line_break_stored_before_the_check_no_longer_blocks_the_digest():
    vn = CompanyFactory(country="VN", name=INJECTED_NAME)  # written straight to the database, as old rows were
    MembershipFactory(company=vn)
    ru = CompanyFactory(country="RU", city="Moscow")
    match_services.approve([MatchFactory(company_vn=vn, company_ru=ru)], by=None)

    assert deliver_firm_digest(vn.pk, IsoWeek(2026, 48)).status == Status.SENT
    assert "\n" not in mail.outbox[-1].subject and "Bcc" in mail.outbox[-1].subject
