"""The participants' admin: acceptance, attendance on the day, withdrawal, and each firm's availability."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import OuterRef, Q
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from events import selectors, services
from events.admin.common import EventTimeZoneMixin, RowCount, messages_of, visible_events
from events.models import AvailabilityWindow, Meeting, Participant

# --- participants ----------------------------------------------------------------------------------------------


class WindowFormSet(forms.BaseInlineFormSet):
    """The windows are checked as a firm's registration checks them: no overlap, each covering a slot, and
    room for the meetings the firm has already accepted."""

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        windows = [
            services.Window(form.cleaned_data["starts_at"], form.cleaned_data["ends_at"])
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
        try:
            covered = services.check_windows(self.instance.event, windows)
        except ValidationError as error:
            raise ValidationError(messages_of(error)) from None
        try:
            services.check_times_hold_meetings(self.instance, covered)
        except ValidationError as error:
            raise ValidationError(messages_of(error)) from None


class AvailabilityWindowInline(admin.TabularInline):
    model = AvailabilityWindow
    formset = WindowFormSet
    extra = 0
    verbose_name_plural = _("availability (in the event's time zone)")


@admin.register(Participant)
class ParticipantAdmin(EventTimeZoneMixin, admin.ModelAdmin):
    list_display = [
        "company",
        "event",
        "company_country",
        "status",
        "role",
        "wants_help",
        "attendance",
        "available_slots",
        "meeting_count",
    ]
    list_filter = [
        ("event", admin.RelatedOnlyFieldListFilter),
        "status",
        "attendance",
        "wants_help",
        "company__country",
    ]
    search_fields = ["company__name"]
    inlines = [AvailabilityWindowInline]
    actions = ["accept", "decline", "check_in", "mark_no_show", "clear_attendance", "withdraw"]
    # Status and attendance move through the actions, which cancel requests and free meetings as they must.
    readonly_fields = [
        "event",
        "company",
        "status",
        "attendance",
        "checked_in_at",
        "registered_by",
        "registered_at",
        "agenda_sent_at",
    ]
    fields = [
        "event",
        "company",
        "status",
        "role",
        "wants_help",
        "note",
        "attendance",
        "checked_in_at",
        "registered_by",
        "registered_at",
        "agenda_sent_at",
    ]

    def get_queryset(self, request):
        meetings = Meeting.objects.filter(Q(request__requester=OuterRef("pk")) | Q(request__invitee=OuterRef("pk")))
        return (
            super()
            .get_queryset(request)
            .filter(event__in=visible_events(request.user))
            .select_related("company", "event")
            # Two queries for the whole page, whatever its length, for the slot counts.
            .prefetch_related("windows", "event__slots")
            .annotate(meeting_total=RowCount(meetings.values("pk")))
        )

    def event_time_zone(self, request, object_id):
        participant = self.get_object(request, object_id)
        return participant.event.time_zone if participant is not None else None

    def has_add_permission(self, request) -> bool:
        # Firms register themselves with the times they can meet (events.services.register).
        return False

    @admin.display(description=_("country"), ordering="company__country")
    def company_country(self, participant: Participant) -> str:
        return participant.company.get_country_display()

    @admin.display(description=_("slots available"))
    def available_slots(self, participant: Participant) -> int:
        return len(selectors.slots_in_windows(participant.event.slots.all(), participant.windows.all()))

    @admin.display(description=_("meetings"), ordering="meeting_total")
    def meeting_count(self, participant: Participant) -> int:
        return participant.meeting_total

    def _done(self, request, text: str) -> None:
        self.message_user(request, text, messages.SUCCESS)

    @admin.action(description=_("Accept the selected firms"), permissions=["change"])
    def accept(self, request, queryset):
        count = services.set_participant_status(queryset, Participant.Status.ACCEPTED)
        self._done(request, ngettext("%(count)d firm accepted.", "%(count)d firms accepted.", count) % {"count": count})

    @admin.action(description=_("Decline the selected firms (their requests are cancelled)"), permissions=["change"])
    def decline(self, request, queryset):
        count = services.set_participant_status(queryset, Participant.Status.DECLINED)
        self._done(request, ngettext("%(count)d firm declined.", "%(count)d firms declined.", count) % {"count": count})

    @admin.action(description=_("Check in the selected firms"), permissions=["change"])
    def check_in(self, request, queryset):
        count = services.set_attendance(queryset, Participant.Attendance.CHECKED_IN)
        self._done(
            request, ngettext("%(count)d firm checked in.", "%(count)d firms checked in.", count) % {"count": count}
        )

    @admin.action(description=_("Mark the selected firms as not come"), permissions=["change"])
    def mark_no_show(self, request, queryset):
        count = services.set_attendance(queryset, Participant.Attendance.NO_SHOW)
        self._done(
            request,
            ngettext("%(count)d firm marked as not come.", "%(count)d firms marked as not come.", count)
            % {"count": count},
        )

    @admin.action(description=_("Clear the attendance of the selected firms"), permissions=["change"])
    def clear_attendance(self, request, queryset):
        count = services.set_attendance(queryset, Participant.Attendance.UNKNOWN)
        self._done(
            request,
            ngettext("Attendance of %(count)d firm cleared.", "Attendance of %(count)d firms cleared.", count)
            % {"count": count},
        )

    @admin.action(description=_("Withdraw the selected firms (their requests are cancelled)"), permissions=["change"])
    def withdraw(self, request, queryset):
        gone = [Participant.Status.WITHDRAWN, Participant.Status.DECLINED]  # withdraw refuses those: nothing to do
        participants = list(queryset.exclude(status__in=gone))
        cancelled = sum(services.withdraw(participant) for participant in participants)
        self.message_user(
            request,
            gettext("Firms withdrawn: %(firms)d; requests cancelled: %(requests)d.")
            % {"firms": len(participants), "requests": cancelled},
            messages.SUCCESS,
        )
