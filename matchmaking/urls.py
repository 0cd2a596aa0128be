from django.urls import path

from matchmaking import views

urlpatterns = [
    path("my/introductions/", views.my_introductions, name="my-introductions"),
    path("my/introductions/<int:pk>/answer/", views.answer_my_introduction, name="my-introduction-answer"),
    path("my/introductions/<int:pk>/outcome/", views.record_my_outcome, name="my-introduction-outcome"),
    path("introductions/answer/<str:token>/", views.introduction_answer, name="introduction-answer"),
]
