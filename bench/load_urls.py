"""URLs of the API load benchmark (bench/api_load.py): the product's URLs plus a bare Django view, the baseline."""

from django.http import JsonResponse
from django.urls import path

import config.urls

urlpatterns = [path("bench/bare/", lambda r: JsonResponse({"ok": True})), *config.urls.urlpatterns]
