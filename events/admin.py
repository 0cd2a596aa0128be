"""Admin for chamber staff running B2B meeting days: the events, who registered, the meeting requests, the
schedule (built, pinned, moved by hand), the check-in desk and the report afterwards.

A member of a chamber's staff sees and edits only the events its chamber organises (and their participants,
requests and meetings); superusers see all. Every write goes through events.services, whose ValidationErrors
are shown as form errors or messages.
"""

from __future__ import annotations

import csv
from collections import Counter
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import IntegerField, OuterRef, Q, QuerySet, Subquery
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import formats, timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from companies.models import Organisation
from companies.spreadsheets import escape_row
from events import selectors, services
from events.models import (
    AvailabilityWindow,
    Event,
    Interpreter,
    LanguagePair,
    Meeting,
    MeetingRequest,
    Participant,
    TimeSlot,
)
from matchmaking.models import Match

UNPLACED_SHOWN = 5  # reasons listed after a build; the rest are in the requests' column


# --- who sees what ----------------------------------------------------------------------------------------------


def _staff_chamber_id(user) -> int | None:
    staff = getattr(user, "chamber_staff", None)
    return staff.chamber_id if staff is not None else None


def visible_events(user) -> QuerySet[Event]:
    """Superusers see every event; chamber staff the events their chamber organises; other staff none."""
    if user.is_superuser:
        return Event.objects.all()
    chamber_id = _staff_chamber_id(user)
    if chamber_id is None:
        return Event.objects.none()
    return Event.objects.filter(organiser_id=chamber_id)


class _RowCount(Subquery):
    """The number of rows of a subquery, as a column of the outer query (one query for a whole list page)."""

    template = "(SELECT COUNT(*) FROM (%(subquery)s) _rows)"
    output_field = IntegerField()


def _local(moment, event: Event, format_name: str = "SHORT_DATETIME_FORMAT") -> str:
    """A moment as the event's guests read it: in the event's own time zone, not the server's."""
    if moment is None:
        return "—"
    return formats.date_format(timezone.localtime(moment, ZoneInfo(event.time_zone)), format_name)


def _slot_label(slot: TimeSlot, event: Event) -> str:
    return f"#{slot.number} {_local(slot.starts_at, event)}"


class EventTimeZoneMixin:
    """Change pages read and write times in the event's time zone: staff in Hanoi type 09:00 for a window at
    nine in Hanoi, whatever the server's zone."""

    def event_time_zone(self, request: HttpRequest, object_id: str | None) -> str | None:
        raise NotImplementedError

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        zone = self.event_time_zone(request, object_id) if object_id else None
        if zone is None:
            return super().changeform_view(request, object_id, form_url, extra_context)
        with timezone.override(ZoneInfo(zone)):
            response = super().changeform_view(request, object_id, form_url, extra_context)
            if hasattr(response, "render"):
                response.render()  # a TemplateResponse renders later, outside this zone, unless rendered here
            return response


def _messages_of(error: ValidationError) -> list[str]:
    return [str(message) for message in error.messages]


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
            .annotate(accepted_total=_RowCount(accepted), meeting_total=_RowCount(meetings))
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
            kwargs["queryset"] = Organisation.objects.filter(pk=_staff_chamber_id(request.user))
            kwargs["initial"] = _staff_chamber_id(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if not request.user.is_superuser:
            obj.organiser_id = _staff_chamber_id(request.user)
        super().save_model(request, obj, form, change)
        if obj.starts_on and not obj.slots.exists():
            try:
                slots = services.generate_slots(obj)
            except ValidationError as error:
                for message in _messages_of(error):
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
                for message in _messages_of(error):
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
                for message in _messages_of(error):
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
        try:
            from events.tasks import send_event_agendas
        except ImportError:
            self.message_user(
                request, gettext("Agendas cannot be emailed yet: the mail task is not installed."), messages.ERROR
            )
            return
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
            result = services.build_event_schedule(event)
        except ValidationError as error:
            self.message_user(
                request, gettext("The schedule of %(event)s was not built:") % {"event": event}, messages.ERROR
            )
            for message in _messages_of(error):
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
        report = selectors.event_report(event)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": event,
            "event": event,
            "title": gettext("Report: %(event)s") % {"event": event},
            "report": report,
            **_report_tables(report),
        }
        return TemplateResponse(request, "admin/events/event/report.html", context)

    def report_csv_view(self, request, object_id: str):
        event = self._event_or_404(request, object_id)
        return _report_csv(event)


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


def _unplaced_lines(unplaced: dict[int, str], limit: int) -> list[str]:
    """The first reasons requests were left out, with the firms' names."""
    keys = sorted(unplaced)[:limit]
    requests = MeetingRequest.objects.select_related("requester__company", "invitee__company").in_bulk(keys)
    lines = [
        gettext("Not placed: %(request)s. %(reason)s")
        % {"request": requests.get(key, key), "reason": selectors.unplaced_reason_text(unplaced[key])}
        for key in keys
    ]
    if len(unplaced) > limit:
        lines.append(
            gettext("And %(count)d more: the meeting requests list says why for each (filter “placed or not”).")
            % {"count": len(unplaced) - limit}
        )
    return lines


# --- the report ------------------------------------------------------------------------------------------------

CHART_LABEL_WIDTH = 260  # room for 34 characters of a sector name at 12 px
CHART_BAR_AREA = 360
CHART_BAR_HEIGHT = 12
CHART_COLOURS = ["#417690", "#79aec8", "#e1a95f", "#9bc53d", "#c7c7c7"]


def bar_chart(rows: list[tuple[str, list[tuple[str, int]]]]) -> dict:
    """A horizontal bar chart as coordinates for an inline SVG: one group of bars per row, one bar per series.
    Drawn in the template, so no JavaScript library is needed and the labels are escaped."""
    top = max((value for _label, series in rows for _name, value in series), default=0) or 1
    per_row = max((len(series) for _label, series in rows), default=1)
    row_height = per_row * (CHART_BAR_HEIGHT + 2) + 10
    drawn, legend = [], []
    for n, (label, series) in enumerate(rows):
        y = 24 + n * row_height
        bars = [
            {
                "y": y + k * (CHART_BAR_HEIGHT + 2),
                "width": max(round(value / top * CHART_BAR_AREA), 1 if value else 0),
                "value": value,
                "colour": CHART_COLOURS[k % len(CHART_COLOURS)],
                "text_x": 0,
            }
            for k, (_name, value) in enumerate(series)
        ]
        for bar in bars:
            bar["text_x"] = CHART_LABEL_WIDTH + bar["width"] + 4
            bar["text_y"] = bar["y"] + CHART_BAR_HEIGHT - 2
        drawn.append({"label": label, "label_y": y + CHART_BAR_HEIGHT - 2, "bars": bars})
    if rows:
        legend = [
            {"name": name, "colour": CHART_COLOURS[k % len(CHART_COLOURS)], "x": CHART_LABEL_WIDTH + k * 120}
            for k, (name, _value) in enumerate(rows[0][1])
        ]
    return {
        "rows": drawn,
        "legend": legend,
        "label_width": CHART_LABEL_WIDTH,
        "bar_x": CHART_LABEL_WIDTH,
        "width": CHART_LABEL_WIDTH + CHART_BAR_AREA + 50,
        "height": 24 + len(rows) * row_height,
    }


def _report_tables(report: dict) -> dict:
    """The report's groups as table rows and charts: meetings and held, then each outcome, in the outcomes'
    order. A meeting counts once for each firm's country (or sector): it is that firm's meeting."""
    outcomes = report["outcomes"]

    def rows(groups: dict[str, Counter]) -> list[dict]:
        return [
            {
                "label": label,
                "meetings": counts["meetings"],
                "held": counts["held"],
                "outcomes": [counts[value] for value, _label in outcomes],
            }
            for label, counts in groups.items()
        ]

    totals = Counter()
    for counts in report["by_country"].values():  # each side of each meeting once
        totals.update(counts)
    meetings_label, held_label = gettext("meetings"), gettext("held")
    return {
        "outcome_labels": [label for _value, label in outcomes],
        "country_rows": rows(report["by_country"]),
        "sector_rows": rows(report["by_sector"]),
        "country_chart": bar_chart(
            [
                (label, [(meetings_label, c["meetings"]), (held_label, c["held"])])
                for label, c in report["by_country"].items()
            ]
        ),
        "sector_chart": bar_chart(
            [
                (label, [(meetings_label, c["meetings"]), (held_label, c["held"])])
                for label, c in report["by_sector"].items()
            ]
        ),
        "outcome_chart": bar_chart([(str(label), [(gettext("firms"), totals[value])]) for value, label in outcomes]),
    }


def _report_csv(event: Event) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{event.slug}-meetings.csv"'
    response.write("\ufeff")  # the BOM tells Excel the file is UTF-8, so Vietnamese and Russian names read right
    writer = csv.writer(response)
    writer.writerow(
        [
            gettext("starts at (%(zone)s)") % {"zone": event.time_zone},
            gettext("table"),
            gettext("requesting firm"),
            gettext("its country"),
            gettext("its sector"),
            gettext("invited firm"),
            gettext("its country"),
            gettext("its sector"),
            gettext("interpreter"),
            gettext("held"),
            gettext("outcome told by the requesting firm"),
            gettext("outcome told by the invited firm"),
        ]
    )
    zone = ZoneInfo(event.time_zone)
    outcome_labels = dict(Match.Outcome.choices)
    for meeting in selectors.event_meetings_for_report(event):
        requester, invitee = meeting.request.requester.company, meeting.request.invitee.company
        writer.writerow(
            escape_row(
                [  # firm and interpreter names are the firms' own: no formulae for Excel
                    timezone.localtime(meeting.slot.starts_at, zone).strftime("%Y-%m-%d %H:%M"),
                    meeting.table,
                    requester.name,
                    requester.get_country_display(),
                    selectors.report_sector(requester),
                    invitee.name,
                    invitee.get_country_display(),
                    selectors.report_sector(invitee),
                    meeting.interpreter.name if meeting.interpreter else "",
                    gettext("yes") if selectors.meeting_held(meeting) else gettext("no"),
                    outcome_labels[meeting.outcome_requester] if meeting.outcome_requester else "",
                    outcome_labels[meeting.outcome_invitee] if meeting.outcome_invitee else "",
                ]
            )
        )
    return response


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
            raise ValidationError(_messages_of(error)) from None
        try:
            services.check_times_hold_meetings(self.instance, covered)
        except ValidationError as error:
            raise ValidationError(_messages_of(error)) from None


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
            .annotate(meeting_total=_RowCount(meetings.values("pk")))
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


# --- meeting requests ------------------------------------------------------------------------------------------


class PlacedFilter(admin.SimpleListFilter):
    title = _("placed or not")
    parameter_name = "placed"

    def lookups(self, request, model_admin):
        return [("yes", _("has a meeting")), ("no", _("accepted, no meeting"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(meeting__isnull=False)
        if self.value() == "no":
            return queryset.filter(status=MeetingRequest.Status.ACCEPTED, meeting__isnull=True)
        return queryset


class ParticipantChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, participant: Participant) -> str:
        help_note = gettext(" · asks for help") if participant.wants_help else ""
        return (
            f"{participant.company.name} ({participant.company.get_country_display()}) · {participant.event}{help_note}"
        )


class StaffRequestForm(forms.ModelForm):
    """Staff add a meeting both firms agreed to: made through services.request_meeting, which accepts it at
    once; whatever the service refuses is shown on the form."""

    user = None  # set per request by MeetingRequestAdmin.get_form

    requester = ParticipantChoiceField(queryset=Participant.objects.none(), label=_("from"))
    invitee = ParticipantChoiceField(queryset=Participant.objects.none(), label=_("to"))

    class Meta:
        model = MeetingRequest
        fields = ["requester", "invitee", "message"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        participants = (
            Participant.objects.filter(event__in=visible_events(self.user))
            .select_related("company", "event")
            .order_by("event", "-wants_help", "company__name")
        )
        accepted = participants.filter(status=Participant.Status.ACCEPTED)
        for name in ("requester", "invitee"):
            field = self.fields[name]
            # Only accepted firms are offered, but any of the events' firms is taken back: a firm that left
            # while the page was open gets the service's "has left the event", not a bare "invalid choice".
            field.queryset = participants
            field.choices = [("", "---------")] + [(p.pk, field.label_from_instance(p)) for p in accepted]

    def clean(self):
        data = super().clean()
        requester, invitee = data.get("requester"), data.get("invitee")
        if requester is None or invitee is None or self._errors:
            return data  # write nothing while any field is wrong
        try:
            # Written here, not in save(): the admin shows a ValidationError from clean() on the form.
            self.instance = services.request_meeting(
                requester, invitee, message=data.get("message", ""), by=self.user, staff=True
            )
        except ValidationError as error:
            raise ValidationError(_messages_of(error)) from None
        return data

    def validate_unique(self):
        # request_meeting checked (and may have reused) the pair's earlier request.
        pass


@admin.register(MeetingRequest)
class MeetingRequestAdmin(admin.ModelAdmin):
    list_display = [
        "requester_firm",
        "invitee_firm",
        "event",
        "status",
        "score_display",
        "added_by_staff",
        "scheduled",
        "unplaced_reason",
    ]
    list_filter = [("event", admin.RelatedOnlyFieldListFilter), "status", "added_by_staff", PlacedFilter]
    search_fields = ["requester__company__name", "invitee__company__name"]
    list_select_related = ["requester__company", "invitee__company", "event", "meeting__slot"]
    readonly_fields = [
        "event",
        "requester",
        "invitee",
        "status",
        "message",
        "score",
        "reasons",
        "added_by_staff",
        "created_by",
        "created_at",
        "answered_at",
        "unplaced_reason",
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(event__in=visible_events(request.user))

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            form = type("StaffRequestForm", (StaffRequestForm,), {"user": request.user})
            kwargs["form"] = form
            kwargs["fields"] = ["requester", "invitee", "message"]
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["requester", "invitee", "message"]
        return self.readonly_fields

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else []

    def has_change_permission(self, request, obj=None) -> bool:
        # Requests move only through the firms' answers and the services: an existing one is for reading.
        if obj is not None:
            return False
        return super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        pass  # services.request_meeting saved it while the form was checked

    @admin.display(description=_("from"), ordering="requester__company__name")
    def requester_firm(self, request_: MeetingRequest) -> str:
        return request_.requester.company.name

    @admin.display(description=_("to"), ordering="invitee__company__name")
    def invitee_firm(self, request_: MeetingRequest) -> str:
        return request_.invitee.company.name

    @admin.display(description=_("score"), ordering="score")
    def score_display(self, request_: MeetingRequest) -> str:
        return f"{request_.score:.2f}"

    @admin.display(description=_("scheduled"))
    def scheduled(self, request_: MeetingRequest) -> str:
        meeting = getattr(request_, "meeting", None)  # selected with the row; None when it has no meeting
        if meeting is None:
            return "—"
        return gettext("%(slot)s, table %(table)d") % {
            "slot": _slot_label(meeting.slot, request_.event),
            "table": meeting.table,
        }


# --- meetings --------------------------------------------------------------------------------------------------


class MeetingForm(forms.ModelForm):
    """Place an accepted request's meeting, or move one: every conflict is a form error; saved pinned."""

    user = None  # set per request by MeetingAdmin.get_form

    class Meta:
        model = Meeting
        fields = ["request", "slot", "table", "interpreter"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        events = visible_events(self.user)
        if self.instance.pk:
            events = events.filter(pk=self.instance.event_id)
        if "request" in self.fields:
            self.fields["request"].queryset = MeetingRequest.objects.filter(
                event__in=events,
                status=MeetingRequest.Status.ACCEPTED,
                meeting__isnull=True,
            ).select_related("requester__company", "invitee__company", "event")
            self.fields["request"].label_from_instance = lambda r: f"{r} · {r.event}"
        self.fields["slot"].queryset = TimeSlot.objects.filter(event__in=events).select_related("event")
        self.fields["slot"].label_from_instance = lambda s: f"{s.event} · {_slot_label(s, s.event)}"
        self.fields["interpreter"].queryset = Interpreter.objects.filter(event__in=events).select_related("event")
        self.fields["interpreter"].label_from_instance = lambda i: f"{i.name} ({', '.join(i.pairs)}) · {i.event}"

    def clean(self):
        data = super().clean()
        request = self.instance.request if self.instance.pk else data.get("request")
        slot, table = data.get("slot"), data.get("table")
        if request is None or slot is None or table is None:
            return data
        errors = services.meeting_conflicts(
            request, slot, table, data.get("interpreter"), exclude=self.instance if self.instance.pk else None
        )
        if errors:
            raise ValidationError(errors)
        return data

    def validate_unique(self):
        # meeting_conflicts said it in the staff's words (which firms hold the table or the interpreter).
        pass


class SlotFilter(admin.RelatedOnlyFieldListFilter):
    """The slots of the listed meetings in their event's own time (a slot's str() is in UTC: it does not load
    its event)."""

    def field_choices(self, field, request, model_admin):
        used = model_admin.get_queryset(request).values_list("slot_id", flat=True).distinct()
        slots = TimeSlot.objects.filter(pk__in=used).select_related("event").order_by("starts_at")
        return [(slot.pk, f"{slot.event} · {_slot_label(slot, slot.event)}") for slot in slots]


@admin.register(Meeting)
class MeetingAdmin(EventTimeZoneMixin, admin.ModelAdmin):
    form = MeetingForm
    list_display = [
        "slot_time",
        "table",
        "requester_firm",
        "invitee_firm",
        "interpreter",
        "pinned",
        "outcome_requester",
        "outcome_invitee",
    ]
    list_filter = [
        ("event", admin.RelatedOnlyFieldListFilter),
        "pinned",
        ("interpreter", admin.RelatedOnlyFieldListFilter),
        ("slot", SlotFilter),
    ]
    list_select_related = ["event", "slot", "interpreter", "request__requester__company", "request__invitee__company"]
    search_fields = ["request__requester__company__name", "request__invitee__company__name"]
    ordering = ["event", "slot__starts_at", "table"]
    actions = ["unpin"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(event__in=visible_events(request.user))

    def event_time_zone(self, request, object_id):
        meeting = self.get_object(request, object_id)
        return meeting.event.time_zone if meeting is not None else None

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = type("MeetingForm", (MeetingForm,), {"user": request.user})
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["request", "slot", "table", "interpreter"]
        return ["request", "slot", "table", "interpreter", "pinned", "outcome_requester", "outcome_invitee"]

    def get_readonly_fields(self, request, obj=None):
        # The outcomes are the firms' to tell; which request a meeting is for never changes.
        return ["request", "pinned", "outcome_requester", "outcome_invitee"] if obj is not None else []

    def save_model(self, request, obj, form, change):
        meeting = services.pin_meeting(
            obj.request, form.cleaned_data["slot"], form.cleaned_data["table"], form.cleaned_data.get("interpreter")
        )
        obj.pk, obj.event_id, obj.pinned = meeting.pk, meeting.event_id, True

    @admin.display(description=_("time slot"), ordering="slot__starts_at")
    def slot_time(self, meeting: Meeting) -> str:
        return _slot_label(meeting.slot, meeting.event)

    @admin.display(description=_("from"), ordering="request__requester__company__name")
    def requester_firm(self, meeting: Meeting) -> str:
        return meeting.request.requester.company.name

    @admin.display(description=_("to"), ordering="request__invitee__company__name")
    def invitee_firm(self, meeting: Meeting) -> str:
        return meeting.request.invitee.company.name

    @admin.action(description=_("Unpin the selected meetings (the next build may move them)"), permissions=["change"])
    def unpin(self, request, queryset):
        count = services.unpin_meetings(queryset)
        self.message_user(
            request,
            ngettext("%(count)d meeting unpinned.", "%(count)d meetings unpinned.", count) % {"count": count},
            messages.SUCCESS,
        )
