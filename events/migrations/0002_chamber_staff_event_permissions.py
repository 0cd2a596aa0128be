"""The "Chamber staff" group may run their chamber's B2B events in the admin (the admin scopes them to events
their chamber organises): set events up, accept participants, add and move meetings, read the report."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP = "Chamber staff"
PERMISSIONS = [
    "add_event",
    "change_event",
    "view_event",
    "add_interpreter",
    "change_interpreter",
    "delete_interpreter",
    "view_interpreter",
    "view_timeslot",
    "change_participant",
    "view_participant",
    "add_availabilitywindow",
    "change_availabilitywindow",
    "delete_availabilitywindow",
    "view_availabilitywindow",
    "add_meetingrequest",
    "view_meetingrequest",
    "add_meeting",
    "change_meeting",
    "delete_meeting",
    "view_meeting",
]


def _permissions(apps):
    return apps.get_model("auth", "Permission").objects.filter(
        content_type__app_label="events", codename__in=PERMISSIONS
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
        ("events", "0001_initial"),
        ("companies", "0002_chamber_staff_group"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
