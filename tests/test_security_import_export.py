"""Issue 15: the admin import stays within the staff member's chamber and never sets a status (item 1), exports
cannot smuggle spreadsheet formulae (item 6), and the sme-match/1 format carries the consent a chamber collected
(item 5)."""

import csv
import datetime
import io
import json
from pathlib import Path

import openpyxl
import pytest
from django.contrib.admin import site
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from companies.models import Company, ConsentSource, StatusChange
from companies.resources import CompanyResource
from events import schedule as event_schedule
from events.models import MeetingRequest
from tests.factories import ChamberFactory, CompanyFactory, EventFactory, ListingFactory, published_firm, register_firm

pytestmark = pytest.mark.django_db

IMPORT_URL = reverse("admin:companies_company_import")
PROCESS_URL = reverse("admin:companies_company_process_import")
EXPORT_URL = reverse("admin:companies_company_export")
CHANGELIST = reverse("admin:companies_company_changelist")

HOSTILE_NAMES = ['=HYPERLINK("http://x","y")', "+1 555", "@home", "-minus", "'=already quoted", "'plain quote"]


@pytest.fixture
def dr():
    return ChamberFactory(slug="dr-test", name="Delovaya Rossiya test", country="RU")


# --- the admin import: item 1 ----------------------------------------------------------------------------------


ADMIN_COLUMNS = ["external_id", "name", "country", "city", "activity_code", "contact_email", "chamber", "status"]


def admin_csv(rows: list[dict]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=ADMIN_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({column: row.get(column, "") for column in ADMIN_COLUMNS})
    return out.getvalue().encode()


def format_index(fmt: str, *, export: bool = False) -> int:
    admin = site._registry[Company]
    formats = admin.get_export_formats() if export else admin.get_import_formats()
    return next(i for i, f in enumerate(formats) if f().get_title() == fmt)


def upload(client, content: bytes, fmt: str = "csv"):
    """The first step of the admin import: the upload and its dry run."""
    data = {"import_file": SimpleUploadedFile(f"companies.{fmt}", content), "format": format_index(fmt), "resource": 0}
    return client.post(IMPORT_URL, data)


def confirm(client, response):
    """The second step: the staff member confirms what the dry run showed."""
    return client.post(PROCESS_URL, response.context["confirm_form"].initial, follow=True)


def admin_import(client, content: bytes, fmt: str = "csv"):
    """Upload, and confirm when the dry run offers it; returns (last response, whether it was confirmed)."""
    response = upload(client, content, fmt)
    if response.context.get("confirm_form") is None:
        return response, False
    return confirm(client, response), True


def test_vcci_staff_cannot_take_over_a_delovaya_rossiya_firm(staff_client, vcci, dr):
    theirs = published_firm(
        "RU", external_id="ru-77", name="ООО Оригинал", chamber=dr, status="pending", contact_email="owner@ru.example"
    )
    ours = CompanyFactory(external_id="vn-77", name="Ours", chamber=vcci, status="pending")
    content = admin_csv(
        [
            {
                "external_id": "vn-77",
                "name": "Ours renamed",
                "country": "VN",
                "activity_code": "2100",
                "chamber": "vcci-test",
            },
            {
                "external_id": "ru-77",
                "name": "Hijacked",
                "country": "RU",
                "activity_code": "21.20",
                "chamber": "vcci-test",
                "status": "published",
                "contact_email": "attacker@evil.example",
            },
        ]
    )
    response, confirmed = admin_import(staff_client, content)
    assert not confirmed
    invalid = response.context["result"].invalid_rows
    assert [row.number for row in invalid] == [2]  # the second data row is named
    assert "another chamber" in str(invalid[0].error_dict)
    theirs.refresh_from_db()
    assert (theirs.name, theirs.chamber, theirs.status, theirs.contact_email) == (
        "ООО Оригинал",
        dr,
        "pending",
        "owner@ru.example",
    )
    ours.refresh_from_db()
    assert ours.name == "Ours"  # all or nothing: the good row was not written either
    assert not StatusChange.objects.exists()


def test_a_firm_without_chamber_is_not_for_chamber_staff_either(staff_client):
    orphan = CompanyFactory(external_id="vn-78", name="Nobody's", chamber=None)
    response, confirmed = admin_import(
        staff_client, admin_csv([{"external_id": "vn-78", "name": "Mine now", "country": "VN"}])
    )
    assert not confirmed
    orphan.refresh_from_db()
    assert orphan.name == "Nobody's" and orphan.chamber is None


@pytest.mark.parametrize("external_id", ["vn-79", "vn-new"])
def test_staff_cannot_move_a_firm_to_another_chamber(staff_client, vcci, dr, external_id):
    ours = CompanyFactory(external_id="vn-79", name="Ours", chamber=vcci)
    row = {"external_id": external_id, "name": "Moved", "country": "VN", "activity_code": "2100", "chamber": "dr-test"}
    response, confirmed = admin_import(staff_client, admin_csv([row]))
    assert not confirmed
    assert "chamber" in response.context["result"].invalid_rows[0].error_dict
    ours.refresh_from_db()
    assert (ours.name, ours.chamber) == ("Ours", vcci)
    assert not Company.objects.filter(external_id="vn-new").exists()


def test_staff_cannot_import_a_firm_of_the_other_country_into_their_chamber(staff_client):
    row = {"external_id": "ru-new", "name": "ООО Новая", "country": "RU", "activity_code": "21.20"}
    response, confirmed = admin_import(staff_client, admin_csv([row]))
    assert not confirmed
    assert "vets the companies of Vietnam only" in str(response.context["result"].invalid_rows[0].error_dict)
    assert not Company.objects.filter(external_id="ru-new").exists()


def test_a_staff_account_without_chamber_imports_nothing(client, vcci):
    from django.contrib.auth.models import Group

    from companies.services import CHAMBER_STAFF_GROUP
    from tests.factories import UserFactory

    user = UserFactory(username="unlinked", is_staff=True)
    user.groups.add(Group.objects.get(name=CHAMBER_STAFF_GROUP))  # its ChamberStaff row was deleted, the group kept
    client.force_login(user)
    theirs = CompanyFactory(external_id="vn-85", name="Theirs", chamber=vcci)
    content = admin_csv(
        [
            {"external_id": "vn-85", "name": "Taken", "country": "VN"},
            {"external_id": "vn-86", "name": "Unvetted", "country": "VN", "activity_code": "2100"},
        ]
    )
    _, confirmed = admin_import(client, content)
    assert not confirmed
    theirs.refresh_from_db()
    assert theirs.name == "Theirs" and not Company.objects.filter(external_id="vn-86").exists()


def test_staff_update_their_own_firms_and_create_pending_ones_but_never_set_a_status(staff_client, vcci):
    ours = CompanyFactory(external_id="vn-80", name="Ours", chamber=vcci, status="pending")
    content = admin_csv(
        [
            {
                "external_id": "vn-80",
                "name": "Ours renamed",
                "country": "VN",
                "activity_code": "2100",
                "chamber": "vcci-test",
                "status": "published",
                "contact_email": "new@ours.example",
            },
            {
                "external_id": "vn-81",
                "name": "New firm",
                "country": "VN",
                "activity_code": "2100",
                "status": "published",
            },
        ]
    )
    response, confirmed = admin_import(staff_client, content)
    assert confirmed
    assert "Import finished: 1 new, 1 updated" in " ".join(str(m) for m in response.context["messages"])
    ours.refresh_from_db()
    assert (ours.name, ours.contact_email, ours.status) == ("Ours renamed", "new@ours.example", "pending")
    new = Company.objects.get(external_id="vn-81")
    assert (new.chamber, new.status) == (vcci, "pending")  # the staff's chamber; staff publish it with the action
    assert not StatusChange.objects.exists()  # no status moved, so nothing to record
    staff_client.post(CHANGELIST, {"action": "publish", "_selected_action": [new.pk]})
    change = StatusChange.objects.get(company=new)
    assert (change.from_status, change.to_status, change.changed_by) == ("pending", "published", staff_client.user)


def test_the_confirm_step_refuses_the_whole_file_when_a_row_became_foreign(staff_client, vcci, dr):
    """Between the dry run and the confirmation someone moved the firm to another chamber."""
    ours = CompanyFactory(external_id="vn-82", name="Ours", chamber=vcci)
    also_ours = CompanyFactory(external_id="vn-83", name="Also ours", chamber=vcci)
    content = admin_csv(
        [
            {"external_id": "vn-83", "name": "Also renamed", "country": "VN", "activity_code": "2100"},
            {"external_id": "vn-82", "name": "Renamed", "country": "VN", "activity_code": "2100"},
        ]
    )
    response = upload(staff_client, content)
    Company.objects.filter(pk=ours.pk).update(chamber=dr)
    response = confirm(staff_client, response)
    messages = " ".join(str(m) for m in response.context["messages"])
    assert (
        "Nothing was imported" in messages and "Row 2: external_id:" in messages and "Import finished" not in messages
    )
    ours.refresh_from_db()
    also_ours.refresh_from_db()
    assert (ours.name, also_ours.name) == ("Ours", "Also ours")


def test_superusers_may_set_the_chamber_but_not_the_status(superuser_client, vcci, dr):
    firm = published_firm("RU", external_id="ru-84", name="Firm", chamber=vcci, status="pending")
    row = {
        "external_id": "ru-84",
        "name": "Firm",
        "country": "RU",
        "activity_code": "21.20",
        "chamber": "dr-test",
        "status": "published",
    }
    _, confirmed = admin_import(superuser_client, admin_csv([row]))
    assert confirmed
    firm.refresh_from_db()
    assert (firm.chamber, firm.status) == (dr, "pending")
    assert not StatusChange.objects.exists()


def test_status_is_exported_but_not_importable():
    fields = {field.column_name: field for field in CompanyResource().get_import_fields()}
    assert fields["status"].readonly
    assert "status" in CompanyResource().get_export_headers()


# --- formula injection: item 6 -----------------------------------------------------------------------------------


def hostile_firms(chamber=None) -> list[Company]:
    firms = []
    for n, name in enumerate(HOSTILE_NAMES):
        firm = CompanyFactory(
            external_id=f"vn-{n:03}",
            name=name,
            chamber=chamber,
            contact_phone="+84 24 1234 5678",
            city="-" if n == 0 else "Hanoi",
        )
        ListingFactory(company=firm, text="@SUM(1+1)*cmd|' /C calc'!A0")
        firms.append(firm)
    return firms


def admin_export(client, fmt: str) -> bytes:
    columns = CompanyResource().get_export_order()
    data = {
        "format": format_index(fmt, export=True),
        "resource": 0,
        **{f"companyresource_{column}": "on" for column in columns},
    }
    response = client.post(EXPORT_URL, data)
    assert response.status_code == 200, response.content[:500]
    return response.content


def test_admin_csv_export_escapes_formulae_and_keeps_phone_numbers(superuser_client):
    hostile_firms()
    rows = list(csv.DictReader(io.StringIO(admin_export(superuser_client, "csv").decode("utf-8-sig"))))
    by_id = {row["external_id"]: row for row in rows}
    assert by_id["vn-000"]["name"] == '\'=HYPERLINK("http://x","y")'
    assert by_id["vn-002"]["name"] == "'@home" and by_id["vn-003"]["name"] == "'-minus"
    assert by_id["vn-004"]["name"] == "''=already quoted"  # so the importer's unescaping gives it back as it was
    assert by_id["vn-005"]["name"] == "'plain quote"
    assert by_id["vn-000"]["offers"].startswith("'@SUM")
    # Numbers and phone numbers cannot call a function, so they stay as people wrote them.
    assert by_id["vn-001"]["name"] == "+1 555"
    assert by_id["vn-000"]["contact_phone"] == "+84 24 1234 5678" and by_id["vn-000"]["city"] == "-"


def test_admin_xlsx_export_writes_text_cells_not_formulae(superuser_client):
    hostile_firms()
    sheet = openpyxl.load_workbook(io.BytesIO(admin_export(superuser_client, "xlsx"))).active
    header = [cell.value for cell in sheet[1]]
    names = {row[header.index("external_id")].value: row[header.index("name")] for row in sheet.iter_rows(min_row=2)}
    assert names["vn-000"].value == '\'=HYPERLINK("http://x","y")' and names["vn-000"].data_type == "s"
    assert not [cell for row in sheet.iter_rows() for cell in row if cell.data_type == "f"]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_admin_export_then_import_gives_the_names_back(staff_client, vcci, fmt):
    firms = hostile_firms(chamber=vcci)
    content = admin_export(staff_client, fmt)
    if fmt == "csv":
        assert "'=HYPERLINK" in content.decode("utf-8-sig")
    Company.objects.filter(pk__in=[f.pk for f in firms]).update(name="changed", city="changed")
    _, confirmed = admin_import(staff_client, content, fmt)
    assert confirmed
    assert [Company.objects.get(pk=f.pk).name for f in firms] == HOSTILE_NAMES
    assert Company.objects.get(pk=firms[0].pk).city == "-"


def test_export_companies_csv_escapes_json_does_not_and_import_companies_undoes_it(tmp_path):
    firms = hostile_firms()
    path = tmp_path / "companies.csv"
    call_command("export_companies", "--format", "csv", "--output", str(path), stderr=io.StringIO())
    rows = {row["external_id"]: row for row in csv.DictReader(io.StringIO(path.read_text(encoding="utf-8")))}
    assert rows["vn-000"]["name"] == '\'=HYPERLINK("http://x","y")' and rows["vn-003"]["name"] == "'-minus"
    assert rows["vn-000"]["offers"].startswith("'@SUM") and rows["vn-001"]["name"] == "+1 555"
    assert rows["vn-000"]["contact_phone"] == "+84 24 1234 5678"
    Company.objects.filter(pk__in=[f.pk for f in firms]).update(name="changed")
    call_command("import_companies", str(path), stdout=io.StringIO(), stderr=io.StringIO())
    assert [Company.objects.get(pk=f.pk).name for f in firms] == HOSTILE_NAMES
    assert Company.objects.get(pk=firms[0].pk).listings.get().text == "@SUM(1+1)*cmd|' /C calc'!A0"
    # JSON is no spreadsheet: it carries the names as they are.
    path = tmp_path / "companies.json"
    call_command("export_companies", "--format", "json", "--output", str(path), stderr=io.StringIO())
    names = [c["name"] for c in json.loads(path.read_text(encoding="utf-8"))["companies"]]
    assert names == HOSTILE_NAMES


def test_event_report_csv_escapes_firm_names(staff_client, vcci):
    event = EventFactory(organiser=vcci)
    vn = register_firm(event, CompanyFactory(name='=HYPERLINK("http://x","y")'))
    ru = register_firm(event, published_firm("RU", name="@Фарма"))
    MeetingRequest.objects.create(
        event=event, requester=vn, invitee=ru, status=MeetingRequest.Status.ACCEPTED, score=0.5
    )
    event_schedule.build_event_schedule(event)
    response = staff_client.get(reverse("admin:events_event_report_csv", args=[event.pk]))
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8").lstrip("\ufeff"))))
    assert rows[1][2] == '\'=HYPERLINK("http://x","y")' and rows[1][5] == "'@Фарма"


# --- consent in sme-match/1: item 5 ----------------------------------------------------------------------------------


def record(external_id: str = "vn-900", **overrides) -> dict:
    base = {
        "external_id": external_id,
        "name": "Công ty TNHH Cà phê Tây Nguyên",
        "country": "VN",
        "city": "Buon Ma Thuot",
        "activity_code": "1077",
        "sectors": ["10"],
        "size": "small",
        "founded": 2008,
        "languages": ["vi", "en"],
        "offers": "Cà phê robusta rang xay",
        "needs": "Nhà phân phối cà phê tại Nga",
        "cooperation": ["distribution"],
        "website": "",
        "contact": {"name": "Nguyễn Văn Hùng", "email": "hung@taynguyen.example", "phone": ""},
    }
    return {**base, **overrides}


CONSENT = {
    "purposes": ["matching", "share_profile", "cross_border"],
    "version": "vcci-2025-1",
    "given_at": "2025-11-03",
}


def write_json(tmp_path: Path, records: list) -> Path:
    path = tmp_path / "companies.json"
    path.write_text(json.dumps({"format": "sme-match/1", "companies": records}, ensure_ascii=False), encoding="utf-8")
    return path


def run_import(path: Path) -> str:
    out = io.StringIO()
    call_command("import_companies", str(path), stdout=out, stderr=io.StringIO())
    return out.getvalue()


def import_errors(path: Path) -> str:
    err = io.StringIO()
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_companies", str(path), stdout=io.StringIO(), stderr=err)
    return err.getvalue()


def test_a_record_with_consent_records_it_as_collected_by_the_chamber(tmp_path):
    run_import(write_json(tmp_path, [record(consent=CONSENT)]))
    firm = Company.objects.get(external_id="vn-900")
    assert firm.consent_purposes == ["cross_border", "matching", "share_profile"]
    assert firm.consent_version == "vcci-2025-1" and firm.consent_source == ConsentSource.CHAMBER
    assert timezone.localtime(firm.consent_given_at, timezone.get_fixed_timezone(7 * 60)).date() == datetime.date(
        2025, 11, 3
    )
    assert Company.objects.shown_to_others().filter(pk=firm.pk).exists()


def test_csv_consent_columns_are_read(tmp_path):
    from companies.records import CSV_COLUMNS

    assert {"consent_purposes", "consent_version", "consent_given_at"} <= set(CSV_COLUMNS)
    path = tmp_path / "companies.csv"
    path.write_text(
        "external_id,name,country,activity_code,offers,consent_purposes,consent_version,consent_given_at\n"
        "ru-900,ООО Тест,RU,21.20,Экспресс-тесты,matching;share_profile,dr-1,2025-10-01\n"
        "ru-901,ООО Без согласия,RU,21.20,Экспресс-тесты,,,\n",
        encoding="utf-8",
    )
    run_import(path)
    half = tmp_path / "half.csv"
    half.write_text("external_id,name,country,activity_code,offers,consent_version\nru-902,ООО,RU,21.20,Тесты,dr-1\n")
    assert "row 2 (ru-902): consent.given_at: This field is required." in import_errors(half)
    with_consent, without = Company.objects.get(external_id="ru-900"), Company.objects.get(external_id="ru-901")
    assert (with_consent.consent_purposes, with_consent.consent_version, with_consent.consent_source) == (
        ["matching", "share_profile"],
        "dr-1",
        "chamber",
    )
    assert (without.consent_purposes, without.consent_version, without.consent_given_at, without.consent_source) == (
        [],
        "",
        None,
        "",
    )


@pytest.mark.parametrize(
    ("consent", "expected"),
    [
        ({**CONSENT, "purposes": ["matching", "telemarketing"]}, "record 1 (vn-900): consent.purposes.1:"),
        ({**CONSENT, "version": ""}, "record 1 (vn-900): consent.version:"),
        ({**CONSENT, "given_at": "03.11.2025"}, "record 1 (vn-900): consent.given_at:"),
        (
            {**CONSENT, "given_at": "2999-01-01"},
            "record 1 (vn-900): consent.given_at: Consent cannot be given in the future.",
        ),
        ({"purposes": ["matching"], "version": "v1"}, "record 1 (vn-900): consent.given_at:"),
        ({**CONSENT, "by": "phone"}, "record 1 (vn-900): unknown field consent.by."),
    ],
)
def test_wrong_consent_is_refused_naming_record_and_field(tmp_path, consent, expected):
    errors = import_errors(write_json(tmp_path, [record(consent=consent)]))
    assert expected in errors
    assert not Company.objects.filter(external_id="vn-900").exists()


def test_only_a_record_with_consent_changes_a_firms_consent(tmp_path):
    given = timezone.now() - datetime.timedelta(days=3)
    existing = CompanyFactory(
        external_id="vn-901",
        consent_purposes=["matching"],
        consent_version="site-3",
        consent_given_at=given,
        consent_source=ConsentSource.FIRM,
    )
    unconsented = CompanyFactory(external_id="vn-902", consent_purposes=[], consent_version="", consent_given_at=None)
    run_import(write_json(tmp_path, [record(), record("vn-901", city="Da Lat"), record("vn-902", consent=CONSENT)]))
    unconsented.refresh_from_db()
    assert (unconsented.consent_purposes, unconsented.consent_source) == (
        ["cross_border", "matching", "share_profile"],
        "chamber",
    )
    new = Company.objects.get(external_id="vn-900")
    assert (new.consent_purposes, new.consent_version, new.consent_given_at, new.consent_source) == ([], "", None, "")
    existing.refresh_from_db()
    assert existing.city == "Da Lat"
    assert (
        existing.consent_purposes,
        existing.consent_version,
        existing.consent_given_at,
        existing.consent_source,
    ) == (["matching"], "site-3", given, "firm")


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_export_writes_consent_back_and_the_round_trip_loses_nothing(tmp_path, fmt):
    given = timezone.now() - datetime.timedelta(days=3)
    CompanyFactory(
        external_id="vn-902",
        consent_purposes=["cross_border", "matching"],
        consent_version="site-3",
        consent_given_at=given,
        consent_source=ConsentSource.FIRM,
    )
    ListingFactory(company=Company.objects.get(external_id="vn-902"))
    CompanyFactory(external_id="vn-903", consent_purposes=[], consent_version="", consent_given_at=None)
    ListingFactory(company=Company.objects.get(external_id="vn-903"))
    path = tmp_path / f"export.{fmt}"
    call_command("export_companies", "--format", fmt, "--output", str(path), stderr=io.StringIO())
    if fmt == "json":
        records = {r["external_id"]: r for r in json.loads(path.read_text())["companies"]}
        local_day = timezone.localtime(given, timezone.get_fixed_timezone(7 * 60)).date().isoformat()
        assert records["vn-902"]["consent"] == {
            "purposes": ["cross_border", "matching"],
            "version": "site-3",
            "given_at": local_day,
        }
        assert "consent" not in records["vn-903"]
    # Re-importing the unchanged export changes nothing, not even who collected the consent.
    assert "Created 0, updated 0, skipped 2 unchanged" in run_import(path)
    firm = Company.objects.get(external_id="vn-902")
    assert (firm.consent_source, firm.consent_given_at) == ("firm", given)
    # Into an empty database, the consent comes back as the chamber's record of it.
    Company.objects.all().delete()
    run_import(path)
    firm = Company.objects.get(external_id="vn-902")
    assert (firm.consent_purposes, firm.consent_version, firm.consent_source) == (
        ["cross_border", "matching"],
        "site-3",
        "chamber",
    )
    assert Company.objects.get(external_id="vn-903").consent_given_at is None
    again = tmp_path / f"again.{fmt}"
    call_command("export_companies", "--format", fmt, "--output", str(again), stderr=io.StringIO())
    assert again.read_text(encoding="utf-8") == path.read_text(encoding="utf-8")


def test_staff_cannot_put_a_mail_header_into_a_name_by_import_or_by_the_change_form(staff_client, vcci):
    ours = CompanyFactory(external_id="vn-79", name="Ours", chamber=vcci, status="pending")
    content = admin_csv(
        [{"external_id": "vn-79", "name": "Ours\r\nBcc: all@evil.example", "country": "VN", "activity_code": "2100"}]
    )
    response, confirmed = admin_import(staff_client, content)
    assert not confirmed and "control characters" in str(response.context["result"].invalid_rows[0].error_dict)

    change = reverse("admin:companies_company_change", args=[ours.pk])
    form = staff_client.get(change).context["adminform"].form
    data = {key: value for key, value in form.initial.items() if value is not None and not isinstance(value, list)}
    data.update({"name": "Ours\u202eevil", "country": "VN", "activity_code": "2100"})
    response = staff_client.post(change, data)
    assert response.status_code == 200 and "name" in response.context["adminform"].form.errors
    ours.refresh_from_db()
    assert ours.name == "Ours"
