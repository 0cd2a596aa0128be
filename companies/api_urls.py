from django.urls import include, path
from rest_framework.routers import DefaultRouter

from companies import api

router = DefaultRouter()
router.register("companies", api.CompanyViewSet, basename="company")
router.register("my/company/offers", api.MyOfferViewSet, basename="my-offer")
router.register("my/company/needs", api.MyNeedViewSet, basename="my-need")

urlpatterns = [
    path("my/company/", api.MyCompanyView.as_view(), name="my-company"),
    path("my/company/submit/", api.SubmitMyCompanyView.as_view(), name="my-company-submit"),
    path("", include(router.urls)),
]
