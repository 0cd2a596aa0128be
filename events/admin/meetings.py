"""The meeting requests' and meetings' admin: staff add agreed meetings, and place or move them by hand."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from events import schedule, selectors, services
from events.admin.common import EventTimeZoneMixin, messages_of, slot_label, visible_events
from events.models import Interpreter, Meeting, MeetingRequest, Participant, TimeSlot

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
            raise ValidationError(messages_of(error)) from None
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
        "unplaced",
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
        "unplaced",
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

    @admin.display(description=_("why it has no meeting"), ordering="unplaced_reason")
    def unplaced(self, request_: MeetingRequest) -> str:
        return selectors.unplaced_text(request_.unplaced_reason, request_.unplaced_params)

    @admin.display(description=_("scheduled"))
    def scheduled(self, request_: MeetingRequest) -> str:
        meeting = getattr(request_, "meeting", None)  # selected with the row; None when it has no meeting
        if meeting is None:
            return "—"
        return gettext("%(slot)s, table %(table)d") % {
            "slot": slot_label(meeting.slot, request_.event),
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
        self.fields["slot"].label_from_instance = lambda s: f"{s.event} · {slot_label(s, s.event)}"
        self.fields["interpreter"].queryset = Interpreter.objects.filter(event__in=events).select_related("event")
        self.fields["interpreter"].label_from_instance = lambda i: f"{i.name} ({', '.join(i.pairs)}) · {i.event}"

    def clean(self):
        data = super().clean()
        request = self.instance.request if self.instance.pk else data.get("request")
        slot, table = data.get("slot"), data.get("table")
        if request is None or slot is None or table is None:
            return data
        errors = schedule.meeting_conflicts(
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
        return [(slot.pk, f"{slot.event} · {slot_label(slot, slot.event)}") for slot in slots]


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
        meeting = schedule.pin_meeting(
            obj.request, form.cleaned_data["slot"], form.cleaned_data["table"], form.cleaned_data.get("interpreter")
        )
        obj.pk, obj.event_id, obj.pinned = meeting.pk, meeting.event_id, True

    @admin.display(description=_("time slot"), ordering="slot__starts_at")
    def slot_time(self, meeting: Meeting) -> str:
        return slot_label(meeting.slot, meeting.event)

    @admin.display(description=_("from"), ordering="request__requester__company__name")
    def requester_firm(self, meeting: Meeting) -> str:
        return meeting.request.requester.company.name

    @admin.display(description=_("to"), ordering="request__invitee__company__name")
    def invitee_firm(self, meeting: Meeting) -> str:
        return meeting.request.invitee.company.name

    @admin.action(description=_("Unpin the selected meetings (the next build may move them)"), permissions=["change"])
    def unpin(self, request, queryset):
        count = schedule.unpin_meetings(queryset)
        self.message_user(
            request,
            ngettext("%(count)d meeting unpinned.", "%(count)d meetings unpinned.", count) % {"count": count},
            messages.SUCCESS,
        )
