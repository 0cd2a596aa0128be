from django.apps import AppConfig


class ProjectConfig(AppConfig):
    """The project package as an app, so the commands that set up a whole instance (prepare_local) live here."""

    name = "config"
    label = "config"
