"""Why a request has no meeting is stored as a code (events.models.UnplacedReason) with its values, no longer
as the scheduler's English sentence that the pages matched with patterns to translate it."""

import re

from django.db import migrations, models

# The sentences stored before, by the code that replaces each.
OLD_TEXTS = {
    "no_common_slot": "The two firms have no time slot in common.",
    "no_interpreter": "No interpreter of the event works in {pair}.",
    "firm_busy": "In every slot both firms can meet, one of them has a better-scored meeting.",
    "tables_full": "Every table is taken in the slots both firms can meet.",
    "interpreters_busy": "Every interpreter for {pair} is taken in the slots both firms can meet.",
    "side_left": "{firm} is no longer an accepted participant of the event.",
}


def _pattern(template: str) -> re.Pattern:
    return re.compile("^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>.+)", re.escape(template)) + "$", re.DOTALL)


def _code(text: str, patterns: dict[str, re.Pattern]) -> tuple[str, dict]:
    for code, pattern in patterns.items():
        found = pattern.match(text)
        if found:
            return code, found.groupdict()
    return "", {}  # nothing else was ever stored; were it, the next schedule build would say why again


def to_codes(apps, schema_editor):
    MeetingRequest = apps.get_model("events", "MeetingRequest")
    patterns = {code: _pattern(text) for code, text in OLD_TEXTS.items()}
    changed = []
    for request in MeetingRequest.objects.exclude(unplaced_reason="").only("pk", "unplaced_reason"):
        request.unplaced_reason, request.unplaced_params = _code(request.unplaced_reason, patterns)
        changed.append(request)
    MeetingRequest.objects.bulk_update(changed, ["unplaced_reason", "unplaced_params"], batch_size=1000)


def to_texts(apps, schema_editor):
    MeetingRequest = apps.get_model("events", "MeetingRequest")
    changed = []
    for request in MeetingRequest.objects.exclude(unplaced_reason="").only("pk", "unplaced_reason", "unplaced_params"):
        text = OLD_TEXTS.get(request.unplaced_reason)
        request.unplaced_reason = text.format(**request.unplaced_params)[:300] if text else ""
        changed.append(request)
    MeetingRequest.objects.bulk_update(changed, ["unplaced_reason"], batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [
        ("events", "0004_event_translations"),
    ]

    operations = [
        migrations.AddField(
            model_name="meetingrequest",
            name="unplaced_params",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.RunPython(to_codes, to_texts),
        migrations.AlterField(
            model_name="meetingrequest",
            name="unplaced_reason",
            field=models.CharField(
                blank=True,
                choices=[
                    ("no_common_slot", "The two firms have no time slot in common."),
                    ("no_interpreter", "No interpreter of the event works in {pair}."),
                    ("firm_busy", "In every slot both firms can meet, one of them has a better-scored meeting."),
                    ("tables_full", "Every table is taken in the slots both firms can meet."),
                    ("interpreters_busy", "Every interpreter for {pair} is taken in the slots both firms can meet."),
                    ("side_left", "{firm} is no longer an accepted participant of the event."),
                ],
                help_text="Set by the last schedule build.",
                max_length=20,
                verbose_name="why it has no meeting",
            ),
        ),
    ]
