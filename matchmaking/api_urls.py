from django.urls import include, path
from rest_framework.routers import SimpleRouter

from matchmaking import api

router = SimpleRouter()
router.register("me/matches", api.MyMatchViewSet, basename="my-match")

urlpatterns = [path("", include(router.urls))]
