from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MatchmakingConfig(AppConfig):
    name = "matchmaking"
    verbose_name = _("Matchmaking")

    def ready(self) -> None:
        # Connects the receivers that queue a recompute when a company profile changes.
        from matchmaking import signals  # noqa: F401
