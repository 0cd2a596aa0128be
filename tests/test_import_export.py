import csv
import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from companies.models import Company, Listing
from seeds.loader import load_seeds

pytestmark = pytest.mark.django_db


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
        "offers": "Cà phê robusta rang xay, 200 tấn mỗi năm",
        "needs": "Nhà phân phối cà phê tại Nga",
        "cooperation": ["distribution", "supply"],
        "website": "https://taynguyen.example",
        "contact": {"name": "Nguyễn Văn Hùng", "email": "hung@taynguyen.example", "phone": "+84 262 000 000"},
    }
    return {**base, **overrides}


def write_json(tmp_path: Path, records: list, name: str = "companies.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps({"format": "sme-match/1", "companies": records}, ensure_ascii=False), encoding="utf-8")
    return path


def run_import(path: Path, *args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_companies", str(path), *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def import_errors(path: Path, *args: str) -> str:
    err = io.StringIO()
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_companies", str(path), *args, stdout=io.StringIO(), stderr=err)
    return err.getvalue()


@pytest.fixture(autouse=True)
def chambers():
    load_seeds()


def test_development_set_imports_cleanly(shared_dir: Path):
    out, _ = run_import(shared_dir / "matching-eval" / "dev-companies.json")
    assert "Created 60, updated 0, skipped 0" in out
    imported = Company.objects.filter(source="import")
    assert imported.count() == 60
    assert imported.filter(country="VN").count() == 30
    assert not imported.filter(activity_division__isnull=True).exists()
    assert imported.get(external_id="vn-001").chamber.slug == "vcci"
    assert imported.filter(country="RU").first().chamber.slug == "delovaya-rossiya"
    languages = set(Listing.objects.filter(company__in=imported).values_list("language", flat=True))
    assert languages == {"vi", "ru", "en"}


def test_import_creates_offer_and_need_and_keeps_text_as_written(tmp_path):
    out, _ = run_import(write_json(tmp_path, [record(offers="<b>Cà phê</b> & trà")]))
    assert "Created 1" in out
    company = Company.objects.get(external_id="vn-900")
    assert company.status == Company.Status.PUBLISHED and company.source_ref == "companies.json"
    assert company.activity_division_id == "10"
    offer = company.listings.get(direction="offer")
    assert offer.text == "<b>Cà phê</b> & trà" and offer.language == "vi"
    assert offer.cooperation == ["distribution", "supply"]
    assert company.contact_email == "hung@taynguyen.example"


def test_second_import_upserts_by_external_id(tmp_path):
    run_import(write_json(tmp_path, [record(), record("vn-901", name="Other")]))
    out, _ = run_import(write_json(tmp_path, [record(city="Da Lat"), record("vn-901", name="Other"), record("vn-902")]))
    assert "Created 1, updated 1, skipped 1 unchanged" in out
    assert Company.objects.get(external_id="vn-900").city == "Da Lat"
    assert Company.objects.filter(external_id__startswith="vn-9").count() == 3


def test_one_bad_record_imports_nothing_and_names_record_and_field(tmp_path):
    path = write_json(tmp_path, [record(), record("ru-900", country="RU", activity_code="1077")])
    errors = import_errors(path)
    assert "record 2 (ru-900): activity_code:" in errors and "OKVED2" in errors
    assert not Company.objects.filter(external_id__in=["vn-900", "ru-900"]).exists()


def test_failed_update_keeps_the_old_values(tmp_path):
    run_import(write_json(tmp_path, [record()]))
    import_errors(write_json(tmp_path, [record(city="Da Lat"), record("vn-901", sectors=["40"])]))
    assert Company.objects.get(external_id="vn-900").city == "Buon Ma Thuot"


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"sectors": ["99", "7x"]}, "record 1 (vn-900): sectors: Unknown sector 7x"),
        ({"offers": "", "needs": ""}, "record 1 (vn-900): offers: A profile needs at least one offer or one need."),
        ({"languages": ["vi", "fr"]}, "record 1 (vn-900): languages.1:"),
        ({"cooperation": ["franchise"]}, "record 1 (vn-900): cooperation.0:"),
        ({"offers": "x" * 2001}, "record 1 (vn-900): offers: Ensure this field has no more than 2000 characters."),
        ({"country": "CN"}, "record 1 (vn-900): country:"),
        ({"contact": {"email": "not-an-email"}}, "record 1 (vn-900): contact.email:"),
        ({"mood": "happy"}, "record 1 (vn-900): unknown field mood."),
    ],
)
def test_each_wrong_value_gets_a_field_level_message(tmp_path, overrides, expected):
    errors = import_errors(write_json(tmp_path, [record(**overrides)]))
    assert expected in errors
    assert not Company.objects.filter(external_id="vn-900").exists()


def test_duplicate_external_id_in_one_file_is_refused(tmp_path):
    errors = import_errors(write_json(tmp_path, [record(), record(name="Again")]))
    assert "record 2 (vn-900): external_id: vn-900 already appears in record 1 (vn-900)." in errors


def test_malformed_json_is_reported_with_its_position(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"format": "sme-match/1", "companies": [{"external_id": "vn-1",}]}')
    assert "line 1, column" in import_errors(path)


def test_wrong_format_tag_is_refused(tmp_path):
    path = tmp_path / "other.json"
    path.write_text('{"format": "something-else", "companies": []}')
    assert 'expected an object with "format": "sme-match/1"' in import_errors(path)


def csv_text(rows: list[dict], header: list[str] | None = None) -> str:
    from companies.records import CSV_COLUMNS

    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header or CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(row)
    return out.getvalue()


def csv_row(external_id: str = "ru-900", **overrides) -> dict:
    row = {
        "external_id": external_id,
        "name": "ООО «Экспресс-Диагностика»",
        "country": "RU",
        "city": "Novosibirsk",
        "activity_code": "21.20",
        "sectors": "21;72",
        "size": "small",
        "founded": "2011",
        "languages": "ru;en",
        "offers": "Экспресс-тесты для диагностики инфекций",
        "needs": "Дистрибьютор во Вьетнаме",
        "cooperation": "distribution;licensing",
        "website": "",
        "contact_name": "Иван Иванович",
        "contact_email": "ivan@diag.example",
        "contact_phone": "",
    }
    return {**row, **overrides}


def test_csv_with_the_same_columns_imports(tmp_path):
    path = tmp_path / "companies.csv"
    path.write_text(csv_text([csv_row(), csv_row("ru-901", sectors="", founded="")]), encoding="utf-8")
    out, _ = run_import(path)
    assert "Created 2" in out
    company = Company.objects.get(external_id="ru-900")
    assert sorted(company.sectors.values_list("code", flat=True)) == ["21", "72"]
    assert company.languages == ["ru", "en"] and company.founded == 2011
    assert company.listings.get(direction="need").language == "ru"


def test_csv_errors_name_the_row_number(tmp_path):
    path = tmp_path / "companies.csv"
    path.write_text(csv_text([csv_row(), csv_row("ru-901", activity_code="2120"), csv_row("ru-902", size="huge")]))
    errors = import_errors(path)
    assert "row 3 (ru-901): activity_code:" in errors
    assert "row 4 (ru-902): size:" in errors
    assert not Company.objects.filter(external_id__startswith="ru-90").exists()


def test_csv_with_unknown_columns_is_refused(tmp_path):
    path = tmp_path / "companies.csv"
    path.write_text("external_id,name,country,activity_code,offers,turnover\nru-1,A,RU,21.20,Tests,100\n")
    assert "header: unknown column turnover." in import_errors(path)


def test_csv_row_with_extra_values_is_refused(tmp_path):
    path = tmp_path / "companies.csv"
    path.write_text("external_id,name,country,activity_code,offers\nru-1,A,RU,21.20,Tests,surplus\n")
    assert "row 2: more values than columns." in import_errors(path)


def test_dry_run_writes_nothing(tmp_path):
    out, _ = run_import(write_json(tmp_path, [record()]), "--dry-run")
    assert "Dry run, nothing written. Created 1" in out
    assert not Company.objects.filter(external_id="vn-900").exists()


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_export_then_import_is_a_round_trip(tmp_path, fmt, shared_dir):
    run_import(shared_dir / "matching-eval" / "dev-companies.json")
    exported = tmp_path / f"export.{fmt}"
    call_command("export_companies", "--format", fmt, "--output", str(exported), stderr=io.StringIO())
    Company.objects.filter(source="import").update(city="changed")  # so the re-import must restore every row
    out, _ = run_import(exported)
    assert "updated 60" in out
    again = tmp_path / f"again.{fmt}"
    call_command("export_companies", "--format", fmt, "--output", str(again), stderr=io.StringIO())
    Company.objects.filter(source="import").update(city="changed")
    run_import(again)
    assert again.read_text(encoding="utf-8") == exported.read_text(encoding="utf-8")
    original = {
        c["external_id"]: c
        for c in json.loads((shared_dir / "matching-eval" / "dev-companies.json").read_text())["companies"]
    }
    if fmt == "json":
        round_tripped = {c["external_id"]: c for c in json.loads(again.read_text())["companies"]}
        for external_id, company in original.items():
            theirs = round_tripped[external_id]
            for key, value in company.items():
                assert theirs[key] == (sorted(value) if key == "sectors" else value), (external_id, key)
