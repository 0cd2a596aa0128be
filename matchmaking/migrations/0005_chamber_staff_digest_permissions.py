"""The "Chamber staff" group may read the digest deliveries of its chamber's firms (who was told what, when)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP = "Chamber staff"
PERMISSIONS = ["view_digestdelivery", "view_digestitem"]


def _permissions(apps):
    return apps.get_model("auth", "Permission").objects.filter(
        content_type__app_label="matchmaking", codename__in=PERMISSIONS
    )


def grant(apps, schema_editor):
    for app_config in apps.get_app_configs():  # permissions of the new models exist only after all migrations
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    group, _ = apps.get_model("auth", "Group").objects.get_or_create(name=GROUP)
    group.permissions.add(*_permissions(apps))


def revoke(apps, schema_editor):
    group = apps.get_model("auth", "Group").objects.filter(name=GROUP).first()
    if group is not None:
        group.permissions.remove(*_permissions(apps))


class Migration(migrations.Migration):
    dependencies = [("matchmaking", "0004_weekly_digest_schedule")]

    operations = [migrations.RunPython(grant, revoke)]
