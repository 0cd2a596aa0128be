from django.db import migrations


class Migration(migrations.Migration):
    """The article facts' event is ArticleEvent, so it is no longer confused with the service's events.Event.
    Django renames its table and the many-to-many tables' columns; no row changes."""

    dependencies = [
        ("seeds", "0002_articles_and_translations"),
    ]

    operations = [
        migrations.RenameModel(old_name="Event", new_name="ArticleEvent"),
    ]
