from django.urls import path

from events import views

urlpatterns = [
    path("events/", views.event_list, name="events"),
    path("events/<slug:slug>/", views.event_detail, name="event-detail"),
    path("events/<slug:slug>/register/", views.register, name="event-register"),
    path("events/<slug:slug>/leave/", views.withdraw, name="event-withdraw"),
    path("events/<slug:slug>/requests/", views.request_meeting, name="event-request"),
    path("events/<slug:slug>/requests/<int:pk>/answer/", views.answer_request, name="event-request-answer"),
    path("events/<slug:slug>/requests/<int:pk>/cancel/", views.cancel_request, name="event-request-cancel"),
    path("events/<slug:slug>/agenda/", views.agenda, name="event-agenda"),
    path("events/<slug:slug>/agenda/print/", views.agenda_print, name="event-agenda-print"),
    path("events/<slug:slug>/agenda.ics", views.agenda_ics, name="event-agenda-ics"),
    path("events/<slug:slug>/meetings/<int:pk>/outcome/", views.record_outcome, name="event-meeting-outcome"),
]
