from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MatchmakingConfig(AppConfig):
    name = "matchmaking"
    verbose_name = _("Matchmaking")

    def ready(self) -> None:
        # Connects the receivers (profile changes, data rights). Imported here, not at the top: it imports the
        # models, which cannot load before the app registry is ready.
        from matchmaking import signals  # noqa: F401
