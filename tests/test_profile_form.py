"""The member's profile form as a first-time firm meets it: sections, defaults, checked chambers, linked errors,
accessible help texts, and the password rules shown before the password is chosen (issue 18)."""

import re
from html.parser import HTMLParser

import pytest
from django.test import Client
from django.utils.translation import trans_real

from companies.models import Company
from companies.recipients import claim_token
from tests.factories import ChamberFactory, CompanyFactory, UserFactory, profile_data
from tests.test_pages_member import sign_up

pytestmark = pytest.mark.django_db

OFFER_EXAMPLE = (
    "Roasted Robusta coffee in 500 g and 1 kg bags, 1,200 tonnes a year, UTZ and HACCP certified, "
    "shipped from Da Nang; we look for importers and distributors in Russia."
)
NEED_EXAMPLE = (
    "A distributor of our coffee in Moscow and Saint Petersburg, with its own warehouse and supermarket "
    "contracts, from two containers a month."
)


class Page(HTMLParser):
    """The ids, aria-describedby references, legends and labels of a page."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.described_by: list[str] = []
        self.label_fors: list[str] = []
        self.legends: list[str] = []
        self.selects: list[dict] = []
        self._in_legend = False
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if attrs.get("aria-describedby"):
            self.described_by += attrs["aria-describedby"].split()
        if tag == "label" and "for" in attrs:
            self.label_fors.append(attrs["for"] or "")
        if tag == "legend":
            self._in_legend = True
            self.legends.append("")
        if tag == "select":
            self.selects.append(attrs)

    def handle_endtag(self, tag):
        if tag == "legend":
            self._in_legend = False

    def handle_data(self, data):
        if self._in_legend:
            self.legends[-1] += data


@pytest.fixture
def chambers():
    return {
        "VN": ChamberFactory(slug="vcci", name="VCCI", country="VN"),
        "RU": ChamberFactory(slug="delovaya-rossiya", name="Delovaya Rossiya", country="RU"),
    }


def summary_of(html: str) -> str:
    return re.search(r'<div class="error" id="error-summary"(.*?)</div>', html, re.S).group(0)


def selected(html: str, select_id: str) -> str:
    """The text of the selected option of a <select>."""
    block = re.search(rf'<select[^>]*id="{select_id}"[^>]*>(.*?)</select>', html, re.S).group(1)
    return re.search(r"<option[^>]*selected[^>]*>([^<]*)</option>", block).group(1)


def options(html: str, select_id: str) -> list[str]:
    block = re.search(rf'<select[^>]*id="{select_id}"[^>]*>(.*?)</select>', html, re.S).group(1)
    return [text for text in re.findall(r"<option[^>]*>([^<]*)</option>", block) if text != "---------"]


def test_a_chamber_of_the_other_country_is_a_field_error_linked_from_the_summary(member_client, chambers):
    response = member_client.post("/my/profile/", profile_data(**{"firm-chamber": str(chambers["RU"].pk)}))

    assert response.status_code == 400 and not Company.objects.exists()
    assert "choose a chamber of your firm's country" in response.context["form"].errors["chamber"][0]
    summary = summary_of(response.text)
    assert '<a href="#id_firm-chamber">' in summary and "choose a chamber of your firm" in summary
    assert (
        member_client.post("/my/profile/", profile_data(**{"firm-chamber": str(chambers["VN"].pk)})).status_code == 302
    )


@pytest.mark.parametrize(
    "language, email, country, chamber",
    [
        ("vi", "lan@firm.example", "VN", "VCCI"),
        ("ru", "olga@firm.example", "RU", "Delovaya Rossiya"),
        ("en", "olga@volga-coffee.ru", "RU", "Delovaya Rossiya"),  # the address's domain tells the country
        ("ru", "lan@taynguyen.com.vn", "VN", "VCCI"),
    ],
)
def test_a_new_firm_gets_its_country_and_chamber_preset(client, chambers, language, email, country, chamber):
    client.force_login(UserFactory(username=email, email=email))
    client.cookies.load({"django_language": language})
    page = client.get("/my/profile/", HTTP_ACCEPT_LANGUAGE=language).content.decode()

    country_select = re.search(r'<select[^>]*id="id_firm-country"[^>]*>(.*?)</select>', page, re.S).group(1)
    assert re.search(rf'<option value="{country}" selected>', country_select)
    assert chamber in selected(page, "id_firm-chamber")
    assert chamber in options(page, "id_firm-chamber")[0]  # its own country's chambers come first
    assert f'value="{email}"' in page  # the contact address is the one the account signed up with


def test_the_error_summary_links_every_error_and_takes_the_focus(member_client, chambers):
    response = member_client.post(
        "/my/profile/",
        profile_data(
            **{
                "firm-name": "",
                "firm-activity_code": "21.20",
                "offers-0-text": "",
                "consent-matching": None,
            }
        ),
    )
    page = Page(response.text)
    summary = summary_of(response.text)
    opening = summary.split(">")[0]
    assert 'tabindex="-1"' in opening and "autofocus" in opening
    assert response.text.index('id="error-summary"') < response.text.index('id="profile-form"')  # at the top
    links = re.findall(r'<a href="#([^"]+)">', summary)
    assert links == ["id_firm-name", "id_firm-activity_code", "id_offers-0-text", "id_consent-matching"]
    assert all(target in page.ids for target in links)
    assert "The service cannot introduce your firm without this consent." in summary  # consent errors are in it
    assert "Describe at least one offer or one need" in summary  # said with the other errors, not after them
    assert "21.20 is not an activity code of this country" in summary


def test_every_aria_describedby_points_at_an_element_of_the_page(member_client, chambers):
    failed = member_client.post("/my/profile/", profile_data(**{"firm-city": "", "offers-0-text": "x" * 2001}))
    for response in (member_client.get("/my/profile/"), failed):
        page = Page(response.text)
        assert page.described_by, "help texts are referenced"
        missing = [ref for ref in page.described_by if ref not in page.ids]
        assert not missing
    assert 'id="id_firm-activity_code_helptext"' in response.text and '_help"' not in response.text


def test_sectors_are_boxes_with_codes_without_a_ctrl_hint(member_client, chambers):
    page = member_client.get("/my/profile/").content.decode()
    assert "Ctrl" not in page and "⌘" not in page
    assert not re.search(r"<select[^>]*multiple", page)
    assert re.search(
        r'<input type="checkbox" name="firm-sectors" value="10"[^>]*>\s*10 Manufacture of food products', page
    )
    assert "C Manufacturing" in page  # grouped by ISIC section
    assert "Find a sector by a word or a code" in page  # the search box (shown by the page's script)


def test_the_code_hint_says_what_a_code_looks_like_and_its_division(member_client, chambers):
    page = member_client.get("/my/profile/").content.decode()
    hint = page.split('data-testid="activity-code-help"')[1].split("</details>")[0]
    assert "VSIC 2018" in hint and "1077" in hint and "OKVED2" in hint and "10.83" in hint and "division 10" in hint

    saved_badly = member_client.post("/my/profile/", profile_data(**{"firm-name": ""})).content.decode()
    assert "Code 1077 belongs to ISIC division 10: Manufacture of food products." in saved_badly  # before any save


def test_required_parts_are_marked_before_any_failure(member_client, chambers):
    page = member_client.get("/my/profile/").content.decode()
    assert re.search(r'<label for="id_firm-name">Name <span class="required"[^>]*>\*</span>', page)
    assert not re.search(r'<label for="id_firm-website">[^<]*<span class="required"', page)
    note = page.split('data-testid="required-note"')[1].split("</p>")[0]
    assert "at least one offer or one need" in note
    assert page.count("At least one offer or one need is required.") == 2  # in the offers' and the needs' part


def test_each_group_of_cooperation_boxes_is_a_fieldset_named_after_its_offer_or_need(member_client, chambers):
    page = Page(member_client.get("/my/profile/").content.decode())
    assert "" not in page.label_fors
    legends = [" ".join(legend.split()) for legend in page.legends]
    for group in (
        "Forms of cooperation for offer 1",
        "Forms of cooperation for offer 2",
        "Forms of cooperation for need 1",
        "Forms of cooperation for need 2",
    ):
        assert group in legends
    assert "Offer 1" in legends and "Need 2" in legends


@pytest.fixture
def vietnamese_examples():
    """The examples as a translator will give them: they must come out of the catalogue, in the reader's
    language (the project's .po files are regenerated by the lead, so the test brings its own entries)."""
    catalog = trans_real.translation("vi")._catalog
    entries = {
        OFFER_EXAMPLE: "Cà phê Robusta rang xay (ví dụ)",
        NEED_EXAMPLE: "Nhà phân phối cà phê tại Moskva (ví dụ)",
    }
    previous = {msgid: catalog.get(msgid) for msgid in entries}
    for msgid, text in entries.items():
        catalog[msgid] = text
    yield
    for msgid, text in previous.items():
        if text is None:
            for part in catalog._catalogs:
                part.pop(msgid, None)
        else:
            catalog[msgid] = text


@pytest.mark.parametrize("language", ["vi", "ru"])
def test_examples_of_good_offers_and_needs_are_shown_in_the_readers_language(
    member_client, chambers, vietnamese_examples, language
):
    page = member_client.get("/my/profile/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
    offers = page.split('id="step-offers"')[1].split("</details>")[0]
    needs = page.split('id="step-needs"')[1].split("</details>")[0]
    assert f'<html lang="{language}">' in page
    if language == "vi":
        assert "Cà phê Robusta rang xay (ví dụ)" in offers and "Nhà phân phối cà phê tại Moskva (ví dụ)" in needs
    else:  # not in the Vietnamese words, whatever the Russian catalogue holds yet
        assert "(ví dụ)" not in page and "<li>" in offers and "<li>" in needs


def test_saving_and_submitting_is_one_click(member_client, chambers):
    response = member_client.post(
        "/my/profile/", profile_data(**{"firm-chamber": str(chambers["VN"].pk), "then": "submit"})
    )
    assert response.status_code == 302
    company = Company.objects.get()
    assert company.status == Company.Status.PENDING
    assert "reviewing the profile" in member_client.get("/my/profile/").text


def test_the_password_rules_are_shown_where_the_password_is_chosen(client):
    choose = client.get(sign_up(client, "a@firm.example")).url
    page = client.get(choose).content.decode()
    rules = page.index("at least 8 characters")
    assert rules < page.index('id="id_new_password1"')  # above the box, before any failure
    assert 'aria-describedby="id_new_password1_helptext"' in page and 'id="id_new_password1_helptext"' in page

    imported = CompanyFactory(country="RU", city="Kazan", contact_email="director@kazan.example")
    claim = Client().get(f"/claim/{claim_token(imported)}/").content.decode()  # in the firm's language
    rules = re.search(r'<div[^>]*id="id_password1_helptext">(.*?)</div>', claim, re.S).group(1)
    assert rules.count("<li>") == 4  # one per validator
    assert claim.index('id="id_password1_helptext"') < claim.index('id="id_password1"')
    assert 'aria-describedby="id_password1_helptext"' in claim
