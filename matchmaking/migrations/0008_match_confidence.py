"""The engine's calibrated confidence of a match, kept by the database from score_parts (the recompute writes
score_parts only), indexed for sorting; and the admin's list of firms without a confident counterpart (a proxy
of Company: no table). Adding a stored generated column rewrites the match table once."""

import django.db.models.fields.json
import django.db.models.functions.comparison
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("companies", "0009_text_validators"),
        ("matchmaking", "0007_persistence_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="FirmToImprove",
            fields=[],
            options={
                "verbose_name": "firm needing a better profile",
                "verbose_name_plural": "firms needing a better profile",
                "proxy": True,
                "indexes": [],
                "constraints": [],
            },
            bases=("companies.company",),
        ),
        migrations.AddField(
            model_name="match",
            name="confidence",
            field=models.GeneratedField(
                db_persist=True,
                expression=django.db.models.functions.comparison.Cast(
                    django.db.models.fields.json.KeyTextTransform("confidence", "score_parts"), models.FloatField()
                ),
                help_text="The engine’s estimate of the chance that the pair is a real fit; empty when it ranked without its learned model.",
                null=True,
                output_field=models.FloatField(),
                verbose_name="confidence",
            ),
        ),
        migrations.AddIndex(
            model_name="match",
            index=models.Index(
                models.OrderBy(models.F("confidence"), descending=True, nulls_last=True), name="match_confidence"
            ),
        ),
    ]
