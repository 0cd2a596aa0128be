"""The events' admin: days, hours and slots, interpreters, registration, schedule builds, agendas, the report."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import OuterRef
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from companies.models import Organisation
from events import schedule, selectors, services
from events.admin.common import EventTimeZoneMixin, RowCount, messages_of, staff_chamber_id, visible_events
from events.models import Event, Interpreter, LanguagePair, Meeting, MeetingRequest, Participant, TimeSlot
from events.report import event_report, report_csv, report_tables
from events.scheduling import Reason
from events.tasks import send_event_agendas

UNPLACED_SHOWN = 5  # reasons listed after a build; the rest are in the requests' column


# --- events ---------------------------------------------------------------------------------------------------


class InterpreterForm(forms.ModelForm):
    pairs = forms.MultipleChoiceField(
        label=_("language pairs"),
        choices=LanguagePair.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("The pairs of languages this interpreter works between."),
    )

    class Meta:
        model = Interpreter
        fields = ["name", "email", "pairs"]


class InterpreterInline(admin.TabularInline):
    model = Interpreter
    form = InterpreterForm
    extra = 0


class TimeSlotInline(admin.TabularInline):
    """The slots, to read: they are made by the action "Generate time slots", never one by one."""

    model = TimeSlot
    fields = ["number", "starts_at", "ends_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = _("time slots (in the event's time zone)")

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Event)
class EventAdmin(EventTimeZoneMixin, admin.ModelAdmin):
    list_display = [
        "name",
        "organiser",
        "city",
        "starts_on",
        "status",
        "accepted_count",
        "meeting_count",
        "schedule_built_at",
    ]
    list_filter = ["status", ("organiser", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["organiser"]
    search_fields = ["name", "city"]
    date_hierarchy = "starts_on"
    prepopulated_fields = {"slug": ["name"]}
    inlines = [InterpreterInline, TimeSlotInline]
    readonly_fields = ["schedule_built_at", "schedule_summary_display", "created_at"]
    actions = [
        "generate_slots_action",
        "open_registration",
        "close_registration",
        "mark_held",
        "build_schedule_action",
        "email_agendas",
    ]
    fieldsets = [
        (None, {"fields": ["name", "slug", "organiser", "status", "city", "venue", "description"]}),
        (
            _("Days and hours"),
            {
                "fields": [
                    "starts_on",
                    "ends_on",
                    "time_zone",
                    "day_starts_at",
                    "day_ends_at",
                    "meeting_minutes",
                    "break_minutes",
                    "tables",
                ],
                "description": _(
                    "Saving an event that has its first day but no time slots yet makes its slots from these days and "
                    "hours. After changing them, use the action “Generate time slots from the days and hours” (refused "
                    "once meetings are scheduled)."
                ),
            },
        ),
        (
            _("Registration and requests"),
            {
                "fields": ["registration_opens_at", "registration_closes_at", "request_rule", "max_requests_per_firm"],
            },
        ),
        (_("Schedule"), {"fields": ["schedule_built_at", "schedule_summary_display"]}),
        (_("Origin"), {"fields": ["source_article", "created_at"], "classes": ["collapse"]}),
    ]

    def get_queryset(self, request):
        accepted = Participant.objects.filter(event=OuterRef("pk"), status=Participant.Status.ACCEPTED).values("pk")
        meetings = Meeting.objects.filter(event=OuterRef("pk")).values("pk")
        return (
            visible_events(request.user)
            .select_related("organiser")
            .annotate(accepted_total=RowCount(accepted), meeting_total=RowCount(meetings))
        )

    def event_time_zone(self, request, object_id):
        event = self.get_object(request, object_id)
        return event.time_zone if event is not None else None

    @admin.display(description=_("accepted firms"), ordering="accepted_total")
    def accepted_count(self, event: Event) -> int:
        return event.accepted_total

    @admin.display(description=_("meetings"), ordering="meeting_total")
    def meeting_count(self, event: Event) -> int:
        return event.meeting_total

    @admin.display(description=_("last schedule build"))
    def schedule_summary_display(self, event: Event) -> str:
        if not event.schedule_summary:
            return "—"
        return _build_summary(event, event.schedule_summary)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "organiser" and not request.user.is_superuser:
            # A chamber's staff organise their own chamber's events only.
            kwargs["queryset"] = Organisation.objects.filter(pk=staff_chamber_id(request.user))
            kwargs["initial"] = staff_chamber_id(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if not request.user.is_superuser:
            obj.organiser_id = staff_chamber_id(request.user)
        super().save_model(request, obj, form, change)
        if obj.starts_on and not obj.slots.exists():
            try:
                slots = services.generate_slots(obj)
            except ValidationError as error:
                for message in messages_of(error):
                    self.message_user(request, message, messages.WARNING)
            else:
                self.message_user(
                    request,
                    ngettext(
                        "%(count)d time slot made from the event's days and hours.",
                        "%(count)d time slots made from the event's days and hours.",
                        len(slots),
                    )
                    % {"count": len(slots)},
                    messages.INFO,
                )

    # --- actions ---

    @admin.action(description=_("Generate time slots from the days and hours"), permissions=["change"])
    def generate_slots_action(self, request, queryset):
        for event in queryset:
            try:
                slots = services.generate_slots(event)
            except ValidationError as error:
                for message in messages_of(error):
                    self.message_user(request, f"{event}: {message}", messages.ERROR)
                continue
            self.message_user(
                request,
                ngettext(
                    "%(event)s: %(count)d time slot.",
                    "%(event)s: %(count)d time slots.",
                    len(slots),
                )
                % {"event": event, "count": len(slots)},
                messages.SUCCESS,
            )

    def _move(self, request, queryset, status: str) -> None:
        moved = 0
        for event in queryset:
            try:
                services.set_event_status(event, status)
            except ValidationError as error:
                for message in messages_of(error):
                    self.message_user(request, f"{event}: {message}", messages.ERROR)
                continue
            moved += 1
        if moved:
            self.message_user(
                request,
                ngettext(
                    "%(count)d event is now %(status)s.",
                    "%(count)d events are now %(status)s.",
                    moved,
                )
                % {"count": moved, "status": Event.Status(status).label},
                messages.SUCCESS,
            )

    @admin.action(description=_("Open registration"), permissions=["change"])
    def open_registration(self, request, queryset):
        self._move(request, queryset, Event.Status.OPEN)

    @admin.action(description=_("Close registration"), permissions=["change"])
    def close_registration(self, request, queryset):
        self._move(request, queryset, Event.Status.CLOSED)

    @admin.action(description=_("Mark as held"), permissions=["change"])
    def mark_held(self, request, queryset):
        self._move(request, queryset, Event.Status.FINISHED)

    @admin.action(description=_("Build schedule"), permissions=["change"])
    def build_schedule_action(self, request, queryset):
        for event in queryset:
            self._build(request, event)

    @admin.action(description=_("Email agendas"), permissions=["change"])
    def email_agendas(self, request, queryset):
        events = list(queryset)
        for event in events:
            send_event_agendas.delay(event.pk)
        self.message_user(
            request,
            ngettext(
                "Agendas of %(count)d event queued; a firm whose agenda has not changed is not emailed again.",
                "Agendas of %(count)d events queued; a firm whose agenda has not changed is not emailed again.",
                len(events),
            )
            % {"count": len(events)},
            messages.SUCCESS,
        )

    def _build(self, request, event: Event) -> None:
        try:
            result = schedule.build_event_schedule(event)
        except ValidationError as error:
            self.message_user(
                request, gettext("The schedule of %(event)s was not built:") % {"event": event}, messages.ERROR
            )
            for message in messages_of(error):
                self.message_user(request, message, messages.ERROR)
            return
        summary = {
            "placed": result.placed,
            "unplaced": len(result.unplaced),
            "bound_ratio": result.bound_ratio,
            "seconds": result.seconds,
        }
        self.message_user(request, _build_summary(event, summary), messages.SUCCESS)
        for line in _unplaced_lines(result.unplaced, UNPLACED_SHOWN):
            self.message_user(request, line, messages.WARNING)

    # --- the change page's buttons: build, report, CSV ---

    def get_urls(self):
        # Before the admin's own: its catch-all "<object_id>/" would take ".../report/" for an object id.
        own = [
            path(
                "<path:object_id>/build-schedule/",
                self.admin_site.admin_view(self.build_schedule_view),
                name="events_event_build_schedule",
            ),
            path("<path:object_id>/report/", self.admin_site.admin_view(self.report_view), name="events_event_report"),
            path(
                "<path:object_id>/report.csv",
                self.admin_site.admin_view(self.report_csv_view),
                name="events_event_report_csv",
            ),
        ]
        return own + super().get_urls()

    def _event_or_404(self, request, object_id: str, *, change: bool = False) -> Event:
        event = self.get_object(request, object_id)
        if event is None:
            raise Http404(gettext("No such event."))
        allowed = self.has_change_permission(request, event) if change else self.has_view_permission(request, event)
        if not allowed:
            raise PermissionDenied
        return event

    def build_schedule_view(self, request, object_id: str):
        if request.method != "POST":  # it rebuilds the schedule: never on a GET (admin_view checks the CSRF token)
            return HttpResponseNotAllowed(["POST"])
        event = self._event_or_404(request, object_id, change=True)
        self._build(request, event)
        return HttpResponseRedirect(reverse("admin:events_event_change", args=[event.pk]))

    def report_view(self, request, object_id: str):
        event = self._event_or_404(request, object_id)
        report = event_report(event)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": event,
            "event": event,
            "title": gettext("Report: %(event)s") % {"event": event},
            "report": report,
            **report_tables(report),
        }
        return TemplateResponse(request, "admin/events/event/report.html", context)

    def report_csv_view(self, request, object_id: str):
        event = self._event_or_404(request, object_id)
        return report_csv(event)


def _build_summary(event: Event, summary: dict) -> str:
    ratio = summary.get("bound_ratio")
    return gettext(
        "Schedule of %(event)s built in %(seconds)s s. Meetings placed: %(placed)d; requests not placed: "
        "%(unplaced)d; the schedule reaches %(ratio)s of the best bound the solver proved."
    ) % {
        "event": event,
        "seconds": summary.get("seconds"),
        "placed": summary.get("placed", 0),
        "unplaced": summary.get("unplaced", 0),
        "ratio": "—" if ratio is None else f"{ratio:.0%}",
    }


def _unplaced_lines(unplaced: dict[int, Reason], limit: int) -> list[str]:
    """The first reasons requests were left out, with the firms' names."""
    keys = sorted(unplaced)[:limit]
    requests = MeetingRequest.objects.select_related("requester__company", "invitee__company").in_bulk(keys)
    lines = [
        gettext("Not placed: %(request)s. %(reason)s")
        % {
            "request": requests.get(key, key),
            "reason": selectors.unplaced_text(unplaced[key].code, unplaced[key].params),
        }
        for key in keys
    ]
    if len(unplaced) > limit:
        lines.append(
            gettext("And %(count)d more: the meeting requests list says why for each (filter “placed or not”).")
            % {"count": len(unplaced) - limit}
        )
    return lines
