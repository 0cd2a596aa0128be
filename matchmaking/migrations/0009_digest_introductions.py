"""Introductions emailed at once ("introduce now"): a digest delivery gains a kind (weekly, or introduction) and,
for an introduction, its match. The one-digest-a-week rule now binds weekly deliveries only; an introduction is
unique on (firm, match). Existing rows are weekly digests."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("companies", "0009_text_validators"),
        ("matchmaking", "0008_match_confidence"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="digestdelivery",
            name="one_firm_digest_per_week",
        ),
        migrations.AddField(
            model_name="digestdelivery",
            name="kind",
            field=models.CharField(
                choices=[("weekly", "Weekly digest"), ("introduction", "Introduction sent at once")],
                default="weekly",
                max_length=12,
                verbose_name="kind",
            ),
        ),
        migrations.AddField(
            model_name="digestdelivery",
            name="match",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="introduction_deliveries",
                to="matchmaking.match",
                verbose_name="match (introduction)",
            ),
        ),
        migrations.AddConstraint(
            model_name="digestdelivery",
            constraint=models.UniqueConstraint(
                condition=models.Q(("company__isnull", False), ("kind", "weekly")),
                fields=("company", "iso_year", "iso_week"),
                name="one_firm_digest_per_week",
            ),
        ),
        migrations.AddConstraint(
            model_name="digestdelivery",
            constraint=models.UniqueConstraint(
                condition=models.Q(("kind", "introduction")),
                fields=("company", "match"),
                name="one_introduction_email_per_firm_and_match",
            ),
        ),
        migrations.AddConstraint(
            model_name="digestdelivery",
            constraint=models.CheckConstraint(
                condition=models.Q(("kind", "weekly"), ("company__isnull", False), _connector="OR"),
                name="introduction_email_for_a_firm",
            ),
        ),
    ]
