import json
from pathlib import Path

import pytest
from django.core.management import call_command

from companies.models import Company, Organisation, Sector
from seeds.loader import DATA_DIR, load_seeds
from seeds.models import ArticleEvent, TradeFigure

pytestmark = pytest.mark.django_db


def test_isic_taxonomy_has_21_sections_and_88_divisions_named_in_three_languages():
    load_seeds()
    assert Sector.objects.filter(level=Sector.Level.SECTION).count() == 21
    divisions = Sector.objects.filter(level=Sector.Level.DIVISION)
    assert divisions.count() == 88
    assert not divisions.filter(
        code__in=["00", "04", "34", "40", "44", "48", "54", "57", "67", "76", "83", "89"]
    ).exists()
    pharma = Sector.objects.get(code="21")
    assert pharma.section_id == "C"
    assert pharma.name_en and pharma.name_vi and pharma.name_ru
    assert all(s.name_vi and s.name_ru and s.name_en for s in divisions)


def test_sector_name_follows_the_active_language():
    from django.utils import translation

    load_seeds()
    coffee = Sector.objects.get(code="10")
    with translation.override("ru"):
        assert coffee.name == coffee.name_ru
    with translation.override("vi"):
        assert coffee.name == coffee.name_vi


def test_second_load_changes_nothing(capsys):
    call_command("load_seeds")
    before = {c.pk: c.updated_at for c in Company.objects.all()}
    call_command("load_seeds")
    assert "0 created, 0 updated" in capsys.readouterr().out
    assert {c.pk: c.updated_at for c in Company.objects.all()} == before


def test_firms_named_in_the_articles_are_seeded_without_contacts():
    load_seeds()
    names = set(Company.objects.filter(source="article").values_list("name", flat=True))
    for name in [
        "AlkorBio Group",
        "Sinvotek Ltd",
        "Tekhniks Ltd",
        "GAZ",
        "AvtoVAZ",
        "Vietsovpetro",
        "Leading Performance Vietnam",
    ]:
        assert name in names
    assert (
        not Company.objects.filter(source="article")
        .exclude(contact_email="", contact_phone="", contact_name="")
        .exists()
    )
    alkorbio = Company.objects.get(name="AlkorBio Group")
    assert alkorbio.country == "RU"
    assert "diagnostic" in alkorbio.listings.get(direction="offer").text


def test_events_organisations_and_trade_figures_come_from_the_articles():
    load_seeds()
    hanoi = ArticleEvent.objects.get(slug="hanoi-business-meeting-2014")
    assert str(hanoi.date) == "2014-10-22" and hanoi.city == "Hanoi"
    moscow = ArticleEvent.objects.get(slug="moscow-sme-meeting-2019")
    assert moscow.approx_participants == 40
    delegation = ArticleEvent.objects.get(slug="new-economies-delegation")
    assert set(delegation.companies.values_list("name", flat=True)) == {
        "AlkorBio Group",
        "Sinvotek Ltd",
        "Tekhniks Ltd",
    }
    assert Organisation.objects.get(slug="vcci").vets_companies
    assert Organisation.objects.get(slug="delovaya-rossiya").vets_companies
    total_2024 = TradeFigure.objects.get(period="January–November 2024", flow="total")
    parts = TradeFigure.objects.filter(period="January–November 2024").exclude(flow="total")
    assert sum(p.value_usd_million for p in parts) == pytest.approx(float(total_2024.value_usd_million), abs=1)


def test_every_seeded_fact_names_an_article_that_exists(shared_dir: Path):
    articles = {p.name for p in (shared_dir / "articles").iterdir()}
    data = json.loads((DATA_DIR / "articles.json").read_text(encoding="utf-8"))
    for table in ("organisations", "companies", "events", "trade_figures"):
        for row in data[table]:
            assert row["source_article"] in articles, (table, row)


def test_trade_figures_quote_the_numbers_their_article_gives(shared_dir: Path):
    data = json.loads((DATA_DIR / "articles.json").read_text(encoding="utf-8"))
    for figure in data["trade_figures"]:
        text = (shared_dir / "articles" / figure["source_article"]).read_text(encoding="utf-8")
        value = figure["value_usd_million"]
        if value is None:
            assert f"{figure['growth_percent']} percent" in text
            continue
        billions = value / 1000
        written = f"{billions:g}"
        assert f"{written} billion" in text, (figure, written)


def test_a_changed_seeded_row_is_restored_and_counted_once(capsys):
    call_command("load_seeds")
    out = capsys.readouterr().out
    assert " 0 updated" in out  # a first run only creates
    gaz = Company.objects.get(external_id="article-gaz")
    gaz.sectors.set(["45"])
    call_command("load_seeds")
    assert "0 created, 1 updated" in capsys.readouterr().out
    assert list(gaz.sectors.values_list("code", flat=True)) == ["29"]
