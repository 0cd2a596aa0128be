from django.urls import path

from matchmaking import views

urlpatterns = [
    path("introductions/answer/<str:token>/", views.introduction_answer, name="introduction-answer"),
]
