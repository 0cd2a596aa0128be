"""The "Chamber staff" group: what a chamber's staff may do in the admin (vet their own chamber's firms)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP = "Chamber staff"
PERMISSIONS = [
    "view_company",
    "add_company",
    "change_company",
    "view_listing",
    "add_listing",
    "change_listing",
    "delete_listing",
    "view_membership",
    "add_membership",
    "change_membership",
    "delete_membership",
    "view_statuschange",
    "view_sector",
    "view_organisation",
]


def create_group(apps, schema_editor):
    # Permissions are normally made after all migrations ran; make them now so the group can hold them.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=GROUP)
    group.permissions.set(Permission.objects.filter(content_type__app_label="companies", codename__in=PERMISSIONS))


def remove_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("companies", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_group, remove_group)]
