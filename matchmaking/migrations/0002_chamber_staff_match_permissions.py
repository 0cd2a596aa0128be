"""The "Chamber staff" group may review matches (view, approve or reject them) and read their audit trail."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP = "Chamber staff"
PERMISSIONS = ["view_match", "change_match", "view_matchevent"]


def _permissions(apps):
    return apps.get_model("auth", "Permission").objects.filter(
        content_type__app_label="matchmaking", codename__in=PERMISSIONS
    )


def grant(apps, schema_editor):
    # Permissions are normally made after all migrations ran; make them now so the group can hold them.
    for app_config in apps.get_app_configs():
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
    dependencies = [
        ("matchmaking", "0001_initial"),
        ("companies", "0002_chamber_staff_group"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
