"""Load the data kept under seeds/data: the ISIC Rev.4 taxonomy and the facts from the articles.

Loading is idempotent: rows are matched on natural keys and written only when a value differs, so a
second run reports everything unchanged and touches nothing.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import date
from pathlib import Path

from django.db import models, transaction

from companies.models import Company, Listing, Organisation, Sector, Source
from companies.services import ListingData, replace_listings
from events.models import Event, Participant
from seeds.models import Article, ArticleEvent, TradeFigure

DATA_DIR = Path(__file__).resolve().parent / "data"


def _upsert(model: type[models.Model], lookup: dict, values: dict, counts: Counter) -> models.Model:
    obj = model.objects.filter(**lookup).first()
    if obj is None:
        obj = model.objects.create(**lookup, **values)
        counts["created"] += 1
        return obj
    changed = [name for name, value in values.items() if getattr(obj, name) != value]
    if changed:
        for name in changed:
            setattr(obj, name, values[name])
        obj.save()
        counts["updated"] += 1
    else:
        counts["unchanged"] += 1
    return obj


def _set_m2m(manager, wanted: list) -> bool:
    """Set a many-to-many relation; True when it changed."""
    if {obj.pk for obj in manager.all()} == {obj.pk for obj in wanted}:
        return False
    manager.set(wanted)
    return True


def _count_relation_change(changed: bool, counts: Counter, before: Counter) -> None:
    # A row created in this run counts once, as created; an existing row whose relations changed, as updated.
    if changed and counts["created"] == before["created"] and counts["updated"] == before["updated"]:
        counts["unchanged"] -= 1
        counts["updated"] += 1


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def load_sectors(counts: Counter) -> None:
    data = json.loads((DATA_DIR / "isic_rev4.json").read_text(encoding="utf-8"))
    sections = {}
    for row in data["sections"]:
        names = {key: row[key] for key in ("name_en", "name_vi", "name_ru")}
        sections[row["code"]] = _upsert(
            Sector, {"code": row["code"]}, {"level": Sector.Level.SECTION, "section": None, **names}, counts
        )
    for row in data["divisions"]:
        names = {key: row[key] for key in ("name_en", "name_vi", "name_ru")}
        _upsert(
            Sector,
            {"code": row["code"]},
            {"level": Sector.Level.DIVISION, "section": sections[row["section"]], **names},
            counts,
        )


def _same_listings(company: Company, wanted: list[ListingData]) -> bool:
    have = [(x.direction, x.kind, x.text, list(x.cooperation)) for x in company.listings.order_by("id")]
    return have == [(x.direction, x.kind, x.text, list(x.cooperation)) for x in wanted]


def load_article_facts(counts: Counter) -> None:
    data = json.loads((DATA_DIR / "articles.json").read_text(encoding="utf-8"))
    for row in data["articles"]:
        values = {
            **{k: row[k] for k in ("title", "title_vi", "title_ru", "date_precision", "date_approximate", "publisher")},
            "date": _date(row["date"]),
            "url": row.get("url", ""),
        }
        _upsert(Article, {"file": row["file"]}, values, counts)

    organisations = {}
    for row in data["organisations"]:
        values = {
            **{k: row[k] for k in ("name", "country", "kind", "vets_companies", "description", "source_article")},
            "name_vi": row.get("name_vi", ""),
            "name_ru": row.get("name_ru", ""),
        }
        organisations[row["slug"]] = _upsert(Organisation, {"slug": row["slug"]}, values, counts)

    companies = {}
    for row in data["companies"]:
        values = {
            "name": row["name"],
            "country": row["country"],
            "city": row.get("city", ""),
            "founded": row.get("founded"),
            "status": Company.Status.PUBLISHED,
            "source": Source.ARTICLE,
            "source_ref": row["source_article"],
        }
        before = counts.copy()
        company = _upsert(Company, {"external_id": row["external_id"]}, values, counts)
        changed = _set_m2m(company.sectors, list(Sector.objects.filter(code__in=row["sectors"])))
        listings = [
            ListingData(direction=direction, kind=item["kind"], text=item["text"], cooperation=item["cooperation"])
            for direction, key in ((Listing.Direction.OFFER, "offers"), (Listing.Direction.NEED, "needs"))
            for item in row[key]
        ]
        if not _same_listings(company, listings):
            replace_listings(company, listings)
            changed = True
        _count_relation_change(changed, counts, before)
        companies[row["external_id"]] = company

    for row in data["events"]:
        values = {
            "name": row["name"],
            "name_vi": row.get("name_vi", ""),
            "name_ru": row.get("name_ru", ""),
            "kind": row["kind"],
            "city": row["city"],
            "date": _date(row["date"]),
            "year": row["year"],
            "approx_participants": row["approx_participants"],
            "summary": row["summary"],
            "source_article": row["source_article"],
        }
        before = counts.copy()
        event = _upsert(ArticleEvent, {"slug": row["slug"]}, values, counts)
        changed = _set_m2m(event.organisers, [organisations[slug] for slug in row["organisers"]])
        changed |= _set_m2m(event.companies, [companies[external_id] for external_id in row["companies"]])
        _count_relation_change(changed, counts, before)

        if row["kind"] == ArticleEvent.Kind.BUSINESS_MEETING:
            _load_past_b2b_event(row, organisations[row["organisers"][0]], event.companies.all(), counts)

    for row in data["trade_figures"]:
        lookup = {k: row[k] for k in ("period", "flow", "kind", "source_article")}
        values = {
            "period_start": _date(row["period_start"]),
            "period_end": _date(row["period_end"]),
            "value_usd_million": row["value_usd_million"],
            "growth_percent": row.get("growth_percent"),
            "note": row["note"],
            "note_vi": row.get("note_vi", ""),
            "note_ru": row.get("note_ru", ""),
        }
        _upsert(TradeFigure, lookup, values, counts)


def _load_past_b2b_event(row: dict, organiser: Organisation, companies, counts: Counter) -> None:
    """A business meeting the articles report, as a past B2B event of the service, with the firms they name
    as its participants. The articles give no tables, slots or meetings, so none are made up."""
    day = _date(row["date"])
    summary = row["summary"] if day else f"{row['year']} (the article gives no day). {row['summary']}"
    values = {
        "name": row["name"],
        "name_vi": row.get("name_vi", ""),
        "name_ru": row.get("name_ru", ""),
        "organiser": organiser,
        "city": row["city"],
        "starts_on": day,
        "ends_on": day,
        "time_zone": "Asia/Ho_Chi_Minh" if organiser.country == "VN" else "Europe/Moscow",
        "description": summary,
        "status": Event.Status.FINISHED,
        "source_article": row["source_article"],
    }
    event = _upsert(Event, {"slug": row["slug"]}, values, counts)
    for company in companies:
        _upsert(Participant, {"event": event, "company": company}, {"status": Participant.Status.ACCEPTED}, counts)


@transaction.atomic
def load_seeds() -> Counter:
    counts: Counter = Counter()
    load_sectors(counts)
    load_article_facts(counts)
    return counts
