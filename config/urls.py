import logging

from django.contrib import admin
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from companies.api import ObtainTokenView
from config.views import home
from matchmaking import dashboard_views
from seeds import views as seeds_views

logger = logging.getLogger(__name__)

# The admin is Django's own site, named for the service instead of "Django administration" (lazy: each page
# shows it in the staff member's language).
admin.site.site_header = _("SME Match · Vietnam–Russia SME matchmaking")
admin.site.site_title = _("SME Match admin")
admin.site.index_title = _("Chamber staff administration")


def healthz(request: HttpRequest) -> JsonResponse:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:  # any database failure means unhealthy; its detail (hosts, users) is for the log only
        logger.exception("Health check: the database is unavailable")
        return JsonResponse({"status": "error", "database": "unavailable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


urlpatterns = [
    # Ahead of the admin site's URLs, which would take "dashboard" for an app's label.
    path("admin/dashboard/", dashboard_views.dashboard, name="admin-dashboard"),
    path("admin/dashboard/figures.csv", dashboard_views.figures_csv, name="admin-dashboard-csv"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("companies.api_urls")),
    path("api/v1/", include("matchmaking.api_urls")),
    path("api/v1/", include("events.api_urls")),
    path("api/v1/auth/token/", ObtainTokenView.as_view(), name="api-token"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("healthz", healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", home, name="home"),
    path("sources/", seeds_views.source_list, name="sources"),
    path("sources/<str:file>/", seeds_views.source_article, name="source-article"),
    path("", include("companies.urls")),
    path("", include("matchmaking.urls")),
    path("", include("events.urls")),
]
