from django.urls import path

from events import api

urlpatterns = [
    path("events/", api.EventListView.as_view(), name="api-events"),
    path("events/<slug:slug>/", api.EventDetailView.as_view(), name="api-event"),
    path("events/<slug:slug>/registration/", api.RegistrationView.as_view(), name="api-event-registration"),
    path("events/<slug:slug>/suggestions/", api.SuggestionsView.as_view(), name="api-event-suggestions"),
    path("events/<slug:slug>/requests/", api.MeetingRequestsView.as_view(), name="api-event-requests"),
    path(
        "events/<slug:slug>/requests/<int:id>/answer/", api.AnswerRequestView.as_view(), name="api-event-request-answer"
    ),
    path(
        "events/<slug:slug>/requests/<int:id>/cancel/", api.CancelRequestView.as_view(), name="api-event-request-cancel"
    ),
    path("events/<slug:slug>/agenda/", api.AgendaView.as_view(), name="api-event-agenda"),
    path(
        "events/<slug:slug>/meetings/<int:id>/outcome/",
        api.MeetingOutcomeView.as_view(),
        name="api-event-meeting-outcome",
    ),
]
