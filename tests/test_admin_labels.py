"""The admin as chamber staff read it: the site's own name, a firm's way to its suggestions, and labels in the
reader's language instead of stored codes and JSON."""

import pytest
from django.conf import settings
from django.urls import reverse

from companies.models import Company, Listing
from tests.factories import CompanyFactory, ListingFactory, MatchFactory

pytestmark = pytest.mark.django_db


def change_page(client, company: Company) -> str:
    response = client.get(reverse("admin:companies_company_change", args=[company.pk]))
    assert response.status_code == 200
    return response.content.decode()


def in_russian(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ru"
    return client


def test_the_admin_is_named_for_the_service(staff_client):
    page = staff_client.get("/admin/").content.decode()

    assert "SME Match · Vietnam–Russia SME matchmaking" in page
    assert "<title>Chamber staff administration | SME Match admin</title>" in page
    assert "Django administration" not in page and "Django site admin" not in page


def test_the_login_page_names_the_service_too(client):
    page = client.get("/admin/login/").content.decode()

    assert "SME Match · Vietnam–Russia SME matchmaking" in page and "Django administration" not in page


def test_a_firms_page_links_to_its_suggestions(staff_client, vcci):
    firm = CompanyFactory(name="Cà phê Phú Thịnh", chamber=vcci)
    MatchFactory(company_vn=firm, company_ru__name="ООО «Меридиан Продукт»")

    page = change_page(staff_client, firm)

    url = reverse("admin:matchmaking_match_review_firm", args=[firm.pk])
    assert f'href="{url}"' in page
    suggestions = staff_client.get(url)
    assert suggestions.status_code == 200 and "ООО «Меридиан Продукт»" in suggestions.content.decode()
    # A firm being added has no suggestions yet.
    assert "review/firm/" not in staff_client.get(reverse("admin:companies_company_add")).content.decode()


def test_languages_cooperation_and_consent_show_labels_not_codes(superuser_client):
    firm = CompanyFactory(languages=["vi", "en"], consent_purposes=["cross_border", "matching"])
    ListingFactory(company=firm, cooperation=["distribution", "supply"])

    page = change_page(superuser_client, firm)

    for raw in ("vi,en", "distribution,supply", "cross_border", "cross_border, matching"):
        assert f">{raw}<" not in page and f'value="{raw}"' not in page, raw
    # Each language and form a labelled checkbox, those of the firm ticked.
    assert 'value="vi" id="id_languages_0" checked>\n Vietnamese</label>' in page
    assert 'value="ru" id="id_languages_1">\n Russian</label>' in page
    assert 'value="distribution" id="id_listings-0-cooperation_0" checked>\n Distribution</label>' in page
    assert 'value="supply" id="id_listings-0-cooperation_5" checked>\n Supply</label>' in page
    assert "Transfer the profile to the other country, Match the profile with counterpart firms" in page


def test_labels_follow_the_readers_language(superuser_client):
    firm = CompanyFactory(languages=["vi", "en"])
    ListingFactory(company=firm, cooperation=["distribution"])

    page = change_page(in_russian(superuser_client), firm)

    assert " вьетнамский</label>" in page and " дистрибуция</label>" in page


def test_labelled_checkboxes_save_the_codes(superuser_client):
    add = reverse("admin:companies_company_add")
    page = superuser_client.get(add)
    data = {
        "name": "Checked in the admin",
        "country": "VN",
        "city": "Hanoi",
        "activity_code": "2100",
        "source": "admin",
        "languages": ["vi", "ru"],
    }
    for inline in page.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        data.update({f"{management.prefix}-{key}": value for key, value in management.initial.items()})
    data.update(
        {
            "listings-TOTAL_FORMS": "1",
            "listings-0-direction": Listing.Direction.OFFER,
            "listings-0-kind": Listing.Kind.PRODUCT,
            "listings-0-text": "Robusta coffee, 500 t a year",
            "listings-0-cooperation": ["distribution", "supply"],
        }
    )

    response = superuser_client.post(add, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    company = Company.objects.get(name="Checked in the admin")
    assert company.languages == ["vi", "ru"]
    assert company.listings.get().cooperation == ["distribution", "supply"]


def test_score_parts_are_a_table_of_labelled_values(superuser_client):
    match = MatchFactory(
        score_parts={"forward": 0.4, "backward": 0.61803, "language": 1.0, "confidence": 0.874, "<b>new</b>": "x"}
    )

    page = superuser_client.get(reverse("admin:matchmaking_match_change", args=[match.pk])).content.decode()

    assert '{"forward"' not in page and "{&quot;forward&quot;" not in page
    assert '<table class="score-parts">' in page
    assert '<tr><th scope="row">Russian offers meet Vietnamese needs</th><td>0.40</td></tr>' in page
    assert '<tr><th scope="row">Vietnamese offers meet Russian needs</th><td>0.62</td></tr>' in page
    assert '<tr><th scope="row">Confidence</th><td>87%</td></tr>' in page
    # A part the admin does not know yet is shown by its name, escaped.
    assert "<b>new</b>" not in page and "&lt;b&gt;new&lt;/b&gt;" in page
