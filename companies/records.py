"""Company records in the ``sme-match/1`` exchange format (JSON, or CSV with the same columns).

Import is all or nothing: every record is validated first, and any error, named by record and field,
leaves the database untouched. Export writes the same format back, so a round trip loses nothing.

A record may carry the consent its chamber collected (purposes, text version, day); importing it records that
consent with the chamber as its source. In CSV, cells a spreadsheet would run as formulae are escaped on export
and unescaped on import (companies.spreadsheets); JSON carries every value as it is.
"""

from __future__ import annotations

import csv
import datetime
import io
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import serializers

from companies import services
from companies.models import (
    COUNTRY_TIME_ZONES,
    Company,
    ConsentPurpose,
    ConsentSource,
    CooperationForm,
    Language,
    Listing,
    Organisation,
    Sector,
    Source,
)
from companies.serializers import WebsiteField, check_activity_code
from companies.spreadsheets import escape_row, unescape_formula
from companies.validators import multi_line_text, one_line_text

FORMAT = "sme-match/1"
CSV_COLUMNS = [
    "external_id",
    "name",
    "country",
    "city",
    "activity_code",
    "sectors",
    "size",
    "founded",
    "languages",
    "offers",
    "needs",
    "cooperation",
    "website",
    "contact_name",
    "contact_email",
    "contact_phone",
    "consent_purposes",
    "consent_version",
    "consent_given_at",  # optional: files without them still import
]
CSV_LIST_COLUMNS = {"sectors", "languages", "cooperation"}
CSV_LIST_SEPARATOR = ";"
CONTACT_FIELDS = {"name", "email", "phone"}
CONSENT_FIELDS = {"purposes", "version", "given_at"}
RECORD_FIELDS = set(CSV_COLUMNS) - {f"contact_{key}" for key in CONTACT_FIELDS} - {
    f"consent_{key}" for key in CONSENT_FIELDS
} | {"contact", "consent"}
DEFAULT_CHAMBER_BY_COUNTRY = {"VN": "vcci", "RU": "delovaya-rossiya"}


class RecordsError(Exception):
    """The file cannot be imported; ``errors`` lists every problem found, each naming its record and field."""

    def __init__(self, errors: list[str]):
        super().__init__("\n".join(errors))
        self.errors = errors


class ContactSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, validators=[one_line_text])
    email = serializers.EmailField(required=False, allow_blank=True, validators=[one_line_text])
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True, validators=[one_line_text])


class ConsentSerializer(serializers.Serializer):
    """Consent the firm gave its chamber, which the chamber recorded (its own form, text version and date)."""

    purposes = serializers.ListField(child=serializers.ChoiceField(ConsentPurpose.choices), allow_empty=True)
    version = serializers.CharField(
        max_length=Company._meta.get_field("consent_version").max_length, validators=[one_line_text]
    )
    given_at = serializers.DateField(input_formats=["iso-8601"])


class CompanyRecordSerializer(serializers.Serializer):
    external_id = serializers.CharField(max_length=64, validators=[one_line_text])
    name = serializers.CharField(max_length=200, validators=[one_line_text])
    country = serializers.ChoiceField(Company._meta.get_field("country").choices)
    city = serializers.CharField(
        max_length=100, required=False, allow_blank=True, default="", validators=[one_line_text]
    )
    activity_code = serializers.CharField(max_length=8, required=False, allow_blank=True, default="")
    sectors = serializers.ListField(child=serializers.CharField(max_length=2), required=False, default=list)
    size = serializers.ChoiceField(Company.Size.choices, required=False, allow_blank=True, default="")
    founded = serializers.IntegerField(min_value=1800, max_value=2100, required=False, allow_null=True, default=None)
    languages = serializers.ListField(child=serializers.ChoiceField(Language.choices), required=False, default=list)
    offers = serializers.CharField(
        max_length=settings.LISTING_TEXT_MAX_LENGTH,
        required=False,
        allow_blank=True,
        default="",
        validators=[multi_line_text],
    )
    needs = serializers.CharField(
        max_length=settings.LISTING_TEXT_MAX_LENGTH,
        required=False,
        allow_blank=True,
        default="",
        validators=[multi_line_text],
    )
    cooperation = serializers.ListField(
        child=serializers.ChoiceField(CooperationForm.choices), required=False, default=list
    )
    website = WebsiteField(required=False, allow_blank=True, default="")
    contact = ContactSerializer(required=False, default=dict)
    consent = ConsentSerializer(required=False, allow_null=True, default=None)

    def validate_sectors(self, codes: list[str]) -> list[str]:
        known = set(Sector.objects.filter(level=Sector.Level.DIVISION, code__in=codes).values_list("code", flat=True))
        unknown = [code for code in codes if code not in known]
        if unknown:
            raise serializers.ValidationError(
                _("Unknown sector %(codes)s: give ISIC Rev.4 division codes such as 21.")
                % {"codes": ", ".join(unknown)}
            )
        return list(dict.fromkeys(codes))

    def validate(self, attrs: dict) -> dict:
        consent = attrs.get("consent")
        # The firm's own calendar day: a consent given this morning in Hanoi is still "today" for Hanoi.
        today = timezone.localdate(timezone=ZoneInfo(COUNTRY_TIME_ZONES[attrs["country"]]))
        if consent and consent["given_at"] > today:
            raise serializers.ValidationError({"consent": {"given_at": [_("Consent cannot be given in the future.")]}})
        check_activity_code(attrs)
        if not attrs["offers"].strip() and not attrs["needs"].strip():
            message = _("A profile needs at least one offer or one need.")
            raise serializers.ValidationError({"offers": [message], "needs": [message]})
        return attrs


def _flatten_errors(detail, prefix: str = "") -> Iterator[str]:
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = prefix if key == "non_field_errors" else (f"{prefix}.{key}" if prefix else str(key))
            yield from _flatten_errors(value, name)
    elif isinstance(detail, list):
        for item in detail:
            yield from _flatten_errors(item, prefix)
    else:
        yield f"{prefix}: {detail}" if prefix else str(detail)


# --- reading -----------------------------------------------------------------------------------


@dataclass
class ParsedFile:
    records: list[tuple[str, dict]]  # (label naming the record for error messages, raw record)
    errors: list[str] = field(default_factory=list)


def parse_file(path: Path) -> ParsedFile:
    """Read a JSON or CSV file into raw records; structural problems become errors naming their place."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        return ParsedFile([], [f"{path.name}: cannot read the file ({error})."])
    if path.suffix.lower() == ".csv":
        return _parse_csv(text)
    return _parse_json(text)


def _parse_json(text: str) -> ParsedFile:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        return ParsedFile([], [f"line {error.lineno}, column {error.colno}: malformed JSON ({error.msg})."])
    except RecursionError:  # the decoder's, some thousand levels down; a record's values are texts or lists of texts
        return ParsedFile([], ["malformed JSON: nested too deeply for a file of company records."])
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        return ParsedFile([], [f'format: expected an object with "format": "{FORMAT}".'])
    companies = document.get("companies")
    if not isinstance(companies, list):
        return ParsedFile([], ["companies: expected a list of company records."])
    parsed = ParsedFile([])
    for index, record in enumerate(companies, start=1):
        label = f"record {index}"
        if not isinstance(record, dict):
            parsed.errors.append(f"{label}: expected an object.")
            continue
        if isinstance(record.get("external_id"), str):
            label += f" ({record['external_id']})"
        unknown = sorted(set(record) - RECORD_FIELDS)
        if unknown:
            parsed.errors.append(f"{label}: unknown field {', '.join(unknown)}.")
        for name, known in (("contact", CONTACT_FIELDS), ("consent", CONSENT_FIELDS)):
            nested = record.get(name)
            if isinstance(nested, dict) and set(nested) - known:
                parsed.errors.append(f"{label}: unknown field {name}.{f', {name}.'.join(sorted(set(nested) - known))}.")
        parsed.records.append((label, record))
    return parsed


def _parse_csv(text: str) -> ParsedFile:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = reader.fieldnames or []
    errors = []
    unknown = [column for column in header if column not in CSV_COLUMNS]
    missing = [column for column in ("external_id", "name", "country") if column not in header]
    if unknown:
        errors.append(f"header: unknown column {', '.join(unknown)}.")
    if missing:
        errors.append(f"header: missing column {', '.join(missing)}.")
    if errors:
        return ParsedFile([], errors)
    parsed = ParsedFile([])
    try:
        for row in reader:
            line = reader.line_num
            if None in row:
                parsed.errors.append(f"row {line}: more values than columns.")
                continue
            record: dict = {}
            contact = {}
            consent = {}
            for column, value in row.items():
                value = unescape_formula(value or "")  # export_records escapes what a spreadsheet would run
                if column.startswith("consent_"):
                    if value.strip():
                        consent[column.removeprefix("consent_")] = value.strip()
                elif column in CSV_LIST_COLUMNS:
                    record[column] = [part.strip() for part in value.split(CSV_LIST_SEPARATOR) if part.strip()]
                elif column.startswith("contact_"):
                    contact[column.removeprefix("contact_")] = value
                elif column == "founded":
                    record[column] = value.strip() or None
                else:
                    record[column] = value
            record["contact"] = contact
            if consent:  # empty consent columns: the record carries none
                purposes = consent.get("purposes", "").split(CSV_LIST_SEPARATOR)
                record["consent"] = {**consent, "purposes": [part.strip() for part in purposes if part.strip()]}
            label = f"row {line}" + (f" ({record['external_id']})" if record.get("external_id") else "")
            parsed.records.append((label, record))
    except csv.Error as error:
        parsed.errors.append(f"row {reader.line_num}: malformed CSV ({error}).")
    return parsed


# --- importing ---------------------------------------------------------------------------------


@dataclass
class ImportResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


class _DryRunRollback(Exception):
    pass


def validate_records(parsed: ParsedFile, progress: Callable[[Iterable], Iterable] = iter) -> list[dict]:
    """Validate every record; raise RecordsError with all problems, or return the cleaned records."""
    errors = list(parsed.errors)
    seen: dict[str, str] = {}
    cleaned = []
    for label, raw in progress(parsed.records):
        serializer = CompanyRecordSerializer(data=raw)
        if not serializer.is_valid():
            errors.extend(f"{label}: {message}" for message in _flatten_errors(serializer.errors))
            continue
        data = serializer.validated_data
        if data["external_id"] in seen:
            errors.append(
                f"{label}: external_id: {data['external_id']} already appears in {seen[data['external_id']]}."
            )
            continue
        seen[data["external_id"]] = label
        cleaned.append(dict(data))
    if errors:
        raise RecordsError(errors)
    return cleaned


def import_records(
    parsed: ParsedFile,
    *,
    source_ref: str,
    status: str = Company.Status.PUBLISHED,
    chamber: Organisation | None = None,
    dry_run: bool = False,
    progress: Callable[[Iterable], Iterable] = iter,
) -> ImportResult:
    """Upsert companies by external_id in one transaction. Nothing is written if any record is wrong."""
    records = validate_records(parsed, progress)
    chambers = Organisation.objects.in_bulk(DEFAULT_CHAMBER_BY_COUNTRY.values(), field_name="slug")
    existing = {
        c.external_id: c
        for c in Company.objects.filter(external_id__in=[r["external_id"] for r in records])
        .prefetch_related("sectors", "listings")
        .select_related("chamber")
    }
    result = ImportResult()
    try:
        with transaction.atomic():
            for record in records:
                company = existing.get(record["external_id"])
                if company is not None and _current(company, record) == _comparable(record):
                    result.skipped.append(record["external_id"])
                    continue
                record_chamber = chamber or chambers.get(DEFAULT_CHAMBER_BY_COUNTRY[record["country"]])
                _save_record(record, company, source_ref=source_ref, status=status, chamber=record_chamber)
                (result.updated if company else result.created).append(record["external_id"])
            if dry_run:
                raise _DryRunRollback
    except _DryRunRollback:
        pass
    return result


def _save_record(record: dict, company: Company | None, *, source_ref: str, status: str, chamber) -> None:
    contact = record.get("contact") or {}
    fields = {
        "name": record["name"],
        "country": record["country"],
        "city": record["city"],
        "activity_code": record["activity_code"],
        "size": record["size"],
        "founded": record["founded"],
        "languages": list(dict.fromkeys(record["languages"])),
        "website": record["website"],
        "contact_name": contact.get("name", ""),
        "contact_email": contact.get("email", ""),
        "contact_phone": contact.get("phone", ""),
    }
    consent = _comparable_consent(record.get("consent"))
    # A record without consent leaves the firm's own; the same consent read back (an export re-imported) keeps
    # who collected it and when; another one is the chamber's record of the firm's consent.
    if consent is not None and (company is None or consent != consent_of(company)):
        zone = ZoneInfo(COUNTRY_TIME_ZONES[record["country"]])
        fields.update(
            consent_purposes=consent["purposes"],
            consent_version=consent["version"],
            consent_given_at=datetime.datetime.combine(record["consent"]["given_at"], datetime.time(), tzinfo=zone),
            consent_source=ConsentSource.CHAMBER,
        )
    if company is None:
        company = Company(
            external_id=record["external_id"],
            status=status,
            chamber=chamber,
            source=Source.IMPORT,
            source_ref=source_ref,
        )
    services.update_company(company, fields=fields, sector_codes=record["sectors"])
    cooperation = list(dict.fromkeys(record["cooperation"]))
    services.replace_listings(
        company,
        [
            services.ListingData(direction=direction, text=record[key].strip(), kind=kind, cooperation=cooperation)
            for direction, key, kind in (
                (Listing.Direction.OFFER, "offers", Listing.Kind.PRODUCT),
                (Listing.Direction.NEED, "needs", Listing.Kind.PRODUCT),
            )
            if record[key].strip()
        ],
    )


# --- exporting ---------------------------------------------------------------------------------


def _comparable_consent(consent: dict | None) -> dict | None:
    if consent is None:
        return None
    given_at = consent["given_at"]
    return {
        "purposes": sorted(set(consent["purposes"])),
        "version": consent["version"],
        "given_at": given_at.isoformat() if isinstance(given_at, datetime.date) else given_at,
    }


def consent_of(company: Company) -> dict | None:
    """The firm's consent as sme-match/1 writes it (the day in the firm's country), or None if it has none."""
    if company.consent_given_at is None:
        return None
    given_on = timezone.localtime(company.consent_given_at, ZoneInfo(COUNTRY_TIME_ZONES[company.country])).date()
    return {
        "purposes": sorted(company.consent_purposes),
        "version": company.consent_version,
        "given_at": given_on.isoformat(),
    }


def _current(company: Company, record: dict) -> dict:
    """The stored firm as a record, to compare with ``record``: its consent counts only if the record has one."""
    current = company_to_record(company)
    if record.get("consent") is None:
        current.pop("consent", None)
    return current


def _comparable(record: dict) -> dict:
    contact = record.get("contact") or {}
    consent = _comparable_consent(record.get("consent"))
    return {
        **({"consent": consent} if consent is not None else {}),
        "external_id": record["external_id"],
        "name": record["name"],
        "country": record["country"],
        "city": record["city"],
        "activity_code": record["activity_code"],
        "sectors": sorted(record["sectors"]),
        "size": record["size"],
        "founded": record["founded"],
        "languages": list(dict.fromkeys(record["languages"])),
        "offers": record["offers"].strip(),
        "needs": record["needs"].strip(),
        "cooperation": list(dict.fromkeys(record["cooperation"])),
        "website": record["website"],
        "contact": {key: contact.get(key, "") for key in ("name", "email", "phone")},
    }


def company_to_record(company: Company) -> dict:
    """One company as an ``sme-match/1`` record (expects sectors and listings prefetched)."""
    listings = list(company.listings.all())
    cooperation = list(dict.fromkeys(form for listing in listings for form in listing.cooperation))
    consent = consent_of(company)
    return {
        "external_id": company.external_id or f"id-{company.pk}",
        "name": company.name,
        "country": company.country,
        "city": company.city,
        "activity_code": company.activity_code,
        "sectors": [sector.code for sector in company.sectors.all()],
        "size": company.size,
        "founded": company.founded,
        "languages": list(company.languages),
        "offers": "\n".join(x.text for x in listings if x.direction == Listing.Direction.OFFER),
        "needs": "\n".join(x.text for x in listings if x.direction == Listing.Direction.NEED),
        "cooperation": cooperation,
        "website": company.website,
        "contact": {"name": company.contact_name, "email": company.contact_email, "phone": company.contact_phone},
        **({"consent": consent} if consent is not None else {}),
    }


def export_records(companies: Iterable[Company], fmt: str, out) -> int:
    """Write companies to ``out`` as sme-match/1 JSON or CSV; returns how many were written."""
    records = [company_to_record(company) for company in companies]
    if fmt == "json":
        json.dump({"format": FORMAT, "companies": records}, out, ensure_ascii=False, indent=1)
        out.write("\n")
    else:
        writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for record in records:
            contact = record.pop("contact")
            consent = record.pop("consent", None)
            row = {
                key: CSV_LIST_SEPARATOR.join(value) if key in CSV_LIST_COLUMNS else value
                for key, value in record.items()
            }
            row.update({f"contact_{key}": value for key, value in contact.items()})
            if consent is not None:
                row.update(
                    consent_purposes=CSV_LIST_SEPARATOR.join(consent["purposes"]),
                    consent_version=consent["version"],
                    consent_given_at=consent["given_at"],
                )
            row["founded"] = "" if record["founded"] is None else record["founded"]
            # A CSV file is opened in a spreadsheet: escape what it would run (the import undoes it).
            writer.writerow(dict(zip(row, escape_row(row.values()), strict=True)))
    return len(records)
