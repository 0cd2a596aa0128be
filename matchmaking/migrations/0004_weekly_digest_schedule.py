"""The weekly digests' schedule, in the database so staff can change it in the admin (django-celery-beat):
Monday 08:00 on each country's chambers' own clock."""

import json

from django.db import migrations

SCHEDULES = [
    ("Weekly digests: Vietnam", "VN", "Asia/Ho_Chi_Minh"),
    ("Weekly digests: Russia", "RU", "Europe/Moscow"),
]
TASK = "matchmaking.tasks.dispatch_weekly_digests"


def create_schedules(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, country, time_zone in SCHEDULES:
        crontab, _ = CrontabSchedule.objects.get_or_create(
            minute="0", hour="8", day_of_week="1", day_of_month="*", month_of_year="*", timezone=time_zone
        )
        PeriodicTask.objects.get_or_create(
            name=name,
            defaults={
                "task": TASK,
                "crontab": crontab,
                "kwargs": json.dumps({"country": country}),
                "description": "Sends each firm its new introductions and each chamber's staff its review queue.",
            },
        )


def remove_schedules(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name__in=[s[0] for s in SCHEDULES]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("matchmaking", "0003_digests"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedules, remove_schedules)]
