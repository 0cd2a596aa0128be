import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from companies.models import Company, StatusChange
from companies.resources import CompanyResource
from tests.factories import ChamberFactory, CompanyFactory, ListingFactory, UserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/companies/company/"


def test_chamber_staff_see_and_vet_only_their_chambers_companies(staff_client, vcci):
    ours = CompanyFactory(name="Ours", chamber=vcci, status="pending")
    theirs = CompanyFactory(name="Theirs", chamber=ChamberFactory(slug="dr-test"), status="pending")
    page = staff_client.get(CHANGELIST).content.decode()
    assert "Ours" in page and "Theirs" not in page
    assert staff_client.get(reverse("admin:companies_company_change", args=[ours.pk])).status_code == 200
    assert (
        staff_client.get(reverse("admin:companies_company_change", args=[theirs.pk])).status_code == 302
    )  # "doesn't exist"
    staff_client.post(CHANGELIST, {"action": "publish", "_selected_action": [ours.pk, theirs.pk]})
    assert Company.objects.get(pk=ours.pk).status == "published"
    assert Company.objects.get(pk=theirs.pk).status == "pending"


def test_superusers_see_every_company(superuser_client, vcci):
    CompanyFactory(name="Ours", chamber=vcci)
    CompanyFactory(name="Unvetted", chamber=None)
    page = superuser_client.get(CHANGELIST).content.decode()
    assert "Ours" in page and "Unvetted" in page


def test_bulk_publish_and_suspend_record_the_acting_user(superuser_client):
    pending = CompanyFactory.create_batch(2, status="pending")
    draft = CompanyFactory(name="Still a draft", status="draft")
    response = superuser_client.post(
        CHANGELIST, {"action": "publish", "_selected_action": [c.pk for c in [*pending, draft]]}, follow=True
    )
    messages = [str(m) for m in response.context["messages"]]
    assert "2 companies are now Published." in messages
    assert any("Still a draft" in m and "cannot go from Draft to Published" in m for m in messages)
    changes = StatusChange.objects.filter(to_status="published")
    assert changes.count() == 2 and {c.changed_by for c in changes} == {superuser_client.user}
    superuser_client.post(CHANGELIST, {"action": "suspend", "_selected_action": [pending[0].pk]})
    assert Company.objects.get(pk=pending[0].pk).status == "suspended"
    assert StatusChange.objects.get(company=pending[0], to_status="suspended").changed_by == superuser_client.user


@pytest.mark.parametrize(
    "query", ["", "?country__exact=RU", "?status__exact=published&size__exact=small", "?q=Company"]
)
def test_changelist_filters_and_search_respond(superuser_client, query):
    CompanyFactory(country="RU", activity_code="21.20")
    assert superuser_client.get(CHANGELIST + query).status_code == 200


def test_changelist_queries_do_not_grow_with_rows(superuser_client, vcci):
    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert superuser_client.get(CHANGELIST).status_code == 200
        return len(ctx.captured_queries)

    for company in CompanyFactory.create_batch(2, chamber=vcci, sectors=["21"]):
        ListingFactory(company=company)
    few = queries()
    for company in CompanyFactory.create_batch(20, chamber=vcci, sectors=["21", "72"]):
        ListingFactory(company=company)
        ListingFactory(company=company, direction="need")
    assert queries() == few


def test_change_page_shows_offers_and_needs_inline(superuser_client):
    company = CompanyFactory()
    ListingFactory(company=company, text="Robusta coffee beans")
    ListingFactory(company=company, direction="need", text="Cold-chain loggers")
    page = superuser_client.get(reverse("admin:companies_company_change", args=[company.pk])).content.decode()
    assert "Robusta coffee beans" in page and "Cold-chain loggers" in page


def test_csv_export_carries_offers_and_needs():
    company = CompanyFactory(external_id="vn-500", name="Exported", sectors=["10", "46"])
    ListingFactory(company=company, text="Robusta coffee beans")
    dataset = CompanyResource().export()
    row = dict(zip(dataset.headers, dataset[0], strict=True))
    assert row["external_id"] == "vn-500" and row["sectors"] == "10,46".replace(",", ";")
    assert row["offers"] == "Robusta coffee beans"
    assert "contact_email" in dataset.headers  # staff export is internal: contacts included


def test_csv_import_through_the_resource_checks_activity_codes():
    import tablib

    data = tablib.Dataset(headers=["external_id", "name", "country", "activity_code", "sectors", "languages"])
    data.append(["vn-700", "Good", "VN", "1077", "10", "vi;en"])
    data.append(["ru-700", "Bad", "RU", "1077", "", "ru"])
    result = CompanyResource().import_data(
        data, dry_run=False, raise_errors=False, rollback_on_validation_errors=True
    )  # as the admin calls it
    assert result.has_validation_errors()
    assert "activity_code" in str(result.invalid_rows[0].error_dict)
    assert not Company.objects.filter(external_id__in=["vn-700", "ru-700"]).exists()  # all or nothing


def test_admin_import_and_export_pages_open(superuser_client):
    assert superuser_client.get(reverse("admin:companies_company_import")).status_code == 200
    assert superuser_client.get(reverse("admin:companies_company_export")).status_code == 200


def test_failed_admin_logins_are_locked_out(client):
    UserFactory(username="staffer", is_staff=True)
    codes = [
        client.post("/admin/login/?next=/admin/", {"username": "staffer", "password": "wrong"}).status_code
        for _ in range(5)
    ]
    assert codes == [200, 200, 200, 200, 429]
    locked = client.post(
        "/admin/login/?next=/admin/", {"username": "staffer", "password": "correct horse battery staple"}
    )
    assert locked.status_code == 429


def test_a_firm_added_in_the_admin_starts_as_a_draft_whatever_the_form_says(staff_client, vcci):
    """Status moves only through the review actions, which keep an audit row; the add form cannot publish."""
    add = reverse("admin:companies_company_add")
    page = staff_client.get(add)
    data = {
        "name": "Added by staff",
        "country": "VN",
        "city": "Hanoi",
        "activity_code": "2100",
        "status": "published",
        "source": "admin",
    }
    for inline in page.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        data.update({f"{management.prefix}-{key}": value for key, value in management.initial.items()})
    response = staff_client.post(add, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    company = Company.objects.get(name="Added by staff")
    assert company.status == Company.Status.DRAFT and company.chamber == vcci
    assert not StatusChange.objects.filter(company=company).exists()
