from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from companies import directory_cache


class CompaniesConfig(AppConfig):
    name = "companies"
    verbose_name = _("Company profiles")

    def ready(self) -> None:
        # Every process that may change a firm (web, worker, command) drops the directory's kept pages.
        directory_cache.connect()
