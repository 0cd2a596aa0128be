"""The ISIC Rev.4 sections and divisions are reference data every profile needs, so a fresh database has
them after `migrate` alone (an import works before any seeding). `load_seeds` keeps them up to date."""

import json
from pathlib import Path

from django.db import migrations

DATA = Path(__file__).resolve().parents[2] / "seeds" / "data" / "isic_rev4.json"


def load_sectors(apps, schema_editor):
    Sector = apps.get_model("companies", "Sector")
    data = json.loads(DATA.read_text(encoding="utf-8"))
    names = ("name_en", "name_vi", "name_ru")
    for row in data["sections"]:
        Sector.objects.update_or_create(
            code=row["code"], defaults={"level": "section", "section": None, **{k: row[k] for k in names}}
        )
    for row in data["divisions"]:
        Sector.objects.update_or_create(
            code=row["code"], defaults={"level": "division", "section_id": row["section"], **{k: row[k] for k in names}}
        )


class Migration(migrations.Migration):
    dependencies = [("companies", "0002_chamber_staff_group")]

    operations = [migrations.RunPython(load_sectors, migrations.RunPython.noop)]
