from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EventsConfig(AppConfig):
    name = "events"
    verbose_name = _("B2B events")

    def ready(self) -> None:
        # Connects the receivers of companies.signals: the firm's events in a data export, and on withdrawal.
        from events import receivers  # noqa: F401
