from django.urls import path

from companies import views

urlpatterns = [
    path("email/unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("email/preferences/<str:token>/", views.preferences, name="email-preferences"),
    path("claim/<str:token>/", views.claim_profile, name="claim-profile"),
    path("claim-done/", views.claim_done, name="claim-done"),
]
