"""The review workbench's queue (matchmaking.review_queue.ReviewQueue) walks the suggestions in the order of this
index: quality to the whole percent, best first, then the oldest. Partial, so decided matches leave it; built
concurrently, so a live table of a million matches takes writes meanwhile."""

import django.db.models.expressions
import django.db.models.functions.comparison
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("matchmaking", "0009_digest_introductions"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="match",
            index=models.Index(
                models.Func(
                    django.db.models.expressions.CombinedExpression(
                        django.db.models.functions.comparison.Coalesce("confidence", "score"), "*", models.Value(-100)
                    ),
                    function="ROUND",
                    output_field=models.FloatField(),
                ),
                models.F("created_at"),
                models.F("id"),
                condition=models.Q(("status", "suggested")),
                name="match_review_queue",
            ),
        ),
    ]
