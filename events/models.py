"""B2B matchmaking events: a chamber's meeting day where registered firms meet at tables, slot by slot.

Event → time slots, tables, interpreters; firms register as Participants with the hours they are available;
they send MeetingRequests to each other; accepted requests get a Meeting (slot, table, interpreter) from the
scheduler (events.scheduling), which staff may pin or move; after the day each side records an outcome.
"""

import datetime

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from companies.models import Company, Organisation
from events import scheduling
from events.places import city_name, zone_label
from matchmaking.models import Match

EVENT_TIME_ZONES = [("Asia/Ho_Chi_Minh", "Asia/Ho_Chi_Minh"), ("Europe/Moscow", "Europe/Moscow"), ("UTC", "UTC")]


class LanguagePair(models.TextChoices):
    # Values sorted as events.scheduling.LANGUAGE_PAIRS spells them.
    RU_VI = "ru-vi", _("Vietnamese–Russian")
    EN_VI = "en-vi", _("Vietnamese–English")
    EN_RU = "en-ru", _("Russian–English")


class Event(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        OPEN = "open", _("Registration open")
        CLOSED = "closed", _("Registration closed")
        SCHEDULED = "scheduled", _("Schedule published")
        FINISHED = "finished", _("Held")
        CANCELLED = "cancelled", _("Cancelled")

    class RequestRule(models.TextChoices):
        ANY = "any", _("Any participant may request any other")
        CROSS_BORDER = "cross_border", _("Only Vietnamese with Russian firms")
        BUYER_SELLER = "buyer_seller", _("Only buyers with sellers")

    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    name = models.CharField(_("name"), max_length=200)
    organiser = models.ForeignKey(
        Organisation, models.PROTECT, related_name="b2b_events", verbose_name=_("organising chamber")
    )
    city = models.CharField(_("city"), max_length=100)
    venue = models.CharField(_("venue"), max_length=200, blank=True)
    description = models.TextField(_("description"), blank=True)
    # What the service itself writes about an event (the demo day) in the readers' languages; blank: as written
    # above. An organiser's own words stay as they wrote them.
    name_vi = models.CharField(_("name (Vietnamese)"), max_length=200, blank=True)
    name_ru = models.CharField(_("name (Russian)"), max_length=200, blank=True)
    city_vi = models.CharField(_("city (Vietnamese)"), max_length=100, blank=True)
    city_ru = models.CharField(_("city (Russian)"), max_length=100, blank=True)
    venue_vi = models.CharField(_("venue (Vietnamese)"), max_length=200, blank=True)
    venue_ru = models.CharField(_("venue (Russian)"), max_length=200, blank=True)
    description_vi = models.TextField(_("description (Vietnamese)"), blank=True)
    description_ru = models.TextField(_("description (Russian)"), blank=True)
    # Blank only for past events taken from an article that names no day.
    starts_on = models.DateField(_("first day"), null=True, blank=True)
    ends_on = models.DateField(_("last day"), null=True, blank=True)
    time_zone = models.CharField(_("time zone"), max_length=40, choices=EVENT_TIME_ZONES, default="Asia/Ho_Chi_Minh")
    day_starts_at = models.TimeField(_("meetings start at"), default=datetime.time(9, 0))
    day_ends_at = models.TimeField(_("meetings end by"), default=datetime.time(17, 0))
    meeting_minutes = models.PositiveSmallIntegerField(
        _("meeting length, minutes"), default=25, validators=[MinValueValidator(5), MaxValueValidator(240)]
    )
    break_minutes = models.PositiveSmallIntegerField(
        _("break between meetings, minutes"), default=5, validators=[MaxValueValidator(120)]
    )
    tables = models.PositiveSmallIntegerField(
        _("tables"), default=20, validators=[MinValueValidator(1, _("An event needs at least one table."))]
    )
    registration_opens_at = models.DateTimeField(_("registration opens"), null=True, blank=True)
    registration_closes_at = models.DateTimeField(_("registration closes"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT, db_index=True)
    request_rule = models.CharField(
        _("who may request whom"), max_length=12, choices=RequestRule.choices, default=RequestRule.CROSS_BORDER
    )
    max_requests_per_firm = models.PositiveSmallIntegerField(
        _("requests a firm may send"), default=10, validators=[MinValueValidator(1)]
    )
    schedule_built_at = models.DateTimeField(_("schedule built at"), null=True, blank=True)
    schedule_summary = models.JSONField(_("last schedule build"), default=dict, blank=True)
    source_article = models.CharField(
        _("source article"), max_length=100, blank=True, help_text=_("For events taken from the articles.")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["-starts_on", "name"]
        verbose_name = _("B2B event")
        verbose_name_plural = _("B2B events")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")), name="event_ends_after_start"
            ),
            models.CheckConstraint(condition=models.Q(tables__gte=1), name="event_has_tables"),
        ]

    def __str__(self) -> str:
        return self.name

    def _localized(self, field: str) -> str:
        language = (get_language() or "en")[:2]
        return getattr(self, f"{field}_{language}", "") or getattr(self, field)

    @property
    def local_name(self) -> str:
        """The name in the active language when the event has one, else as written."""
        return self._localized("name")

    @property
    def local_venue(self) -> str:
        return self._localized("venue")

    @property
    def local_city(self) -> str:
        """The city in the active language: the event's own translation, else the service's name for a city
        it knows, else as written."""
        language = (get_language() or "en")[:2]
        return getattr(self, f"city_{language}", "") or city_name(self.city)

    @property
    def local_description(self) -> str:
        return self._localized("description")

    @property
    def zone_label(self) -> str:
        """The event's clock as a reader says it ("Hanoi time (UTC+7)"), on its first day."""
        return zone_label(self.time_zone, self.starts_on)

    def clean(self) -> None:
        errors = {}
        if self.status not in (self.Status.DRAFT, self.Status.FINISHED, self.Status.CANCELLED) and not self.starts_on:
            errors["starts_on"] = _("Give the event's first day before opening it.")
        if self.starts_on and not self.ends_on:
            self.ends_on = self.starts_on
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            errors["ends_on"] = _("The last day comes before the first day.")
        if self.day_starts_at and self.day_ends_at and self.day_ends_at <= self.day_starts_at:
            errors["day_ends_at"] = _("Meetings must end after they start.")
        closes, opens = self.registration_closes_at, self.registration_opens_at
        if opens and closes and closes <= opens:
            errors["registration_closes_at"] = _("Registration must close after it opens.")
        if errors:
            raise ValidationError(errors)


class TimeSlot(models.Model):
    """One round of meetings: every table holds one meeting from ``starts_at`` to ``ends_at``."""

    event = models.ForeignKey(Event, models.CASCADE, related_name="slots")
    number = models.PositiveSmallIntegerField(_("number"))
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))

    class Meta:
        ordering = ["event", "starts_at"]
        verbose_name = _("time slot")
        verbose_name_plural = _("time slots")
        constraints = [models.UniqueConstraint(fields=["event", "number"], name="one_slot_number_per_event")]

    def __str__(self) -> str:
        return f"#{self.number} {self.starts_at:%Y-%m-%d %H:%M} UTC"


class Interpreter(models.Model):
    event = models.ForeignKey(Event, models.CASCADE, related_name="interpreters")
    name = models.CharField(pgettext_lazy("a person's", "name"), max_length=200)
    email = models.EmailField(_("email"), blank=True)
    pairs = ArrayField(
        models.CharField(max_length=5, choices=LanguagePair.choices),
        verbose_name=_("language pairs"),
        help_text=_("The pairs of languages this interpreter works between."),
    )

    class Meta:
        ordering = ["event", "name"]
        verbose_name = _("interpreter")
        verbose_name_plural = _("interpreters")

    def __str__(self) -> str:
        return self.name


class Participant(models.Model):
    class Status(models.TextChoices):
        REGISTERED = "registered", _("Registered, waiting for staff")
        ACCEPTED = "accepted", pgettext_lazy("participant status", "Accepted")
        DECLINED = "declined", _("Not accepted")
        WITHDRAWN = "withdrawn", _("Left the event")

    class Role(models.TextChoices):
        BUYER = "buyer", _("Buyer")
        SELLER = "seller", _("Seller")
        BOTH = "both", _("Buyer and seller")

    class Attendance(models.TextChoices):
        UNKNOWN = "", _("Not yet known")
        CHECKED_IN = "checked_in", _("Checked in")
        NO_SHOW = "no_show", _("Did not come")

    event = models.ForeignKey(Event, models.CASCADE, related_name="participants")
    company = models.ForeignKey(Company, models.CASCADE, related_name="event_participations", verbose_name=_("firm"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.REGISTERED)
    role = models.CharField(_("role"), max_length=6, choices=Role.choices, default=Role.BOTH)
    wants_help = models.BooleanField(
        _("asks staff to arrange meetings"),
        default=False,
        help_text=_("The firm asks the chamber's staff to add meetings for it."),
    )
    note = models.TextField(_("note to the organisers"), blank=True)
    attendance = models.CharField(_("attendance"), max_length=10, choices=Attendance.choices, blank=True)
    checked_in_at = models.DateTimeField(_("checked in at"), null=True, blank=True)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    registered_at = models.DateTimeField(_("registered"), auto_now_add=True)
    # The agenda last emailed to the firm, as a hash of what it said: a send with nothing new is skipped.
    agenda_sent_hash = models.CharField(max_length=64, blank=True)
    agenda_sent_at = models.DateTimeField(_("agenda emailed at"), null=True, blank=True)
    # A version on its way: the readers the mail server accepted it for, so a retry after a refusal writes
    # only to the others.
    agenda_sending_hash = models.CharField(max_length=64, blank=True)
    agenda_sent_to = ArrayField(models.EmailField(), default=list, blank=True)

    class Meta:
        ordering = ["event", "company__name"]
        verbose_name = _("participant")
        verbose_name_plural = _("participants")
        constraints = [models.UniqueConstraint(fields=["event", "company"], name="one_registration_per_firm")]

    def __str__(self) -> str:
        return f"{self.company} @ {self.event}"


class AvailabilityWindow(models.Model):
    """A stretch of the event's time when the firm can meet; the slots inside its windows are its own."""

    participant = models.ForeignKey(Participant, models.CASCADE, related_name="windows")
    starts_at = models.DateTimeField(pgettext_lazy("start of a time window", "from"))
    ends_at = models.DateTimeField(_("until"))

    class Meta:
        ordering = ["participant", "starts_at"]
        verbose_name = _("availability window")
        verbose_name_plural = _("availability windows")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="window_ends_after_start"
            )
        ]

    def __str__(self) -> str:
        return f"{self.starts_at:%Y-%m-%d %H:%M}–{self.ends_at:%H:%M}"


class UnplacedReason(models.TextChoices):
    """Why the last schedule build left an accepted request without a meeting: the scheduler's reasons and the
    events' own. A label is worded with the request's ``unplaced_params`` (``{pair}``, ``{firm}``)."""

    NO_COMMON_SLOT = scheduling.NO_COMMON_SLOT, _("The two firms have no time slot in common.")
    NO_INTERPRETER = scheduling.NO_INTERPRETER, _("No interpreter of the event works in {pair}.")
    FIRM_BUSY = (
        scheduling.FIRM_BUSY,
        _("In every slot both firms can meet, one of them has a better-scored meeting."),
    )
    TABLES_FULL = scheduling.TABLES_FULL, _("Every table is taken in the slots both firms can meet.")
    INTERPRETERS_BUSY = (
        scheduling.INTERPRETERS_BUSY,
        _("Every interpreter for {pair} is taken in the slots both firms can meet."),
    )
    SIDE_LEFT = "side_left", _("{firm} is no longer an accepted participant of the event.")


class MeetingRequest(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for an answer")
        ACCEPTED = "accepted", pgettext_lazy("meeting request status", "Accepted")
        DECLINED = "declined", pgettext_lazy("meeting request status", "Declined")
        CANCELLED = "cancelled", pgettext_lazy("meeting request status", "Cancelled")

    event = models.ForeignKey(Event, models.CASCADE, related_name="requests")
    requester = models.ForeignKey(Participant, models.CASCADE, related_name="requests_sent", verbose_name=_("from"))
    invitee = models.ForeignKey(Participant, models.CASCADE, related_name="requests_received", verbose_name=_("to"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    message = models.TextField(_("message"), blank=True, max_length=1000)
    # The matching engine's view of the pair when the request was made: the schedule favours better matches.
    score = models.FloatField(_("match score"), default=0.0)
    reasons = models.JSONField(
        _("reasons"), default=list, blank=True, help_text=_("From the Vietnamese firm's side, as for matches.")
    )
    added_by_staff = models.BooleanField(_("added by staff"), default=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    unplaced_reason = models.CharField(
        _("why it has no meeting"),
        max_length=20,
        choices=UnplacedReason.choices,
        blank=True,
        help_text=_("Set by the last schedule build."),
    )
    unplaced_params = models.JSONField(default=dict, blank=True)  # the reason's values: {"pair": "ru-vi"}, {"firm": …}

    class Meta:
        ordering = ["event", "-score", "id"]
        verbose_name = _("meeting request")
        verbose_name_plural = _("meeting requests")
        constraints = [
            models.UniqueConstraint(fields=["requester", "invitee"], name="one_request_per_pair"),
            models.CheckConstraint(condition=~models.Q(requester=models.F("invitee")), name="request_not_to_self"),
        ]

    def __str__(self) -> str:
        return f"{self.requester.company} → {self.invitee.company}"


class Meeting(models.Model):
    """An accepted request's place in the schedule. ``pinned`` meetings were placed or moved by staff and keep
    their slot, table and interpreter when the schedule is rebuilt."""

    event = models.ForeignKey(Event, models.CASCADE, related_name="meetings")
    request = models.OneToOneField(MeetingRequest, models.CASCADE, related_name="meeting")
    slot = models.ForeignKey(TimeSlot, models.PROTECT, related_name="meetings", verbose_name=_("time slot"))
    table = models.PositiveSmallIntegerField(_("table"), validators=[MinValueValidator(1)])
    interpreter = models.ForeignKey(
        Interpreter, models.PROTECT, null=True, blank=True, related_name="meetings", verbose_name=_("interpreter")
    )
    pinned = models.BooleanField(_("pinned by staff"), default=False)
    outcome_requester = models.CharField(
        _("outcome told by the requesting firm"), max_length=10, choices=Match.Outcome.choices, blank=True
    )
    outcome_invitee = models.CharField(
        _("outcome told by the invited firm"), max_length=10, choices=Match.Outcome.choices, blank=True
    )

    class Meta:
        ordering = ["event", "slot__starts_at", "table"]
        verbose_name = _("meeting")
        verbose_name_plural = _("meetings")
        constraints = [
            models.UniqueConstraint(fields=["slot", "table"], name="one_meeting_per_table_and_slot"),
            models.UniqueConstraint(
                fields=["slot", "interpreter"],
                condition=models.Q(interpreter__isnull=False),
                name="interpreter_once_per_slot",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.request} · {self.slot} · table {self.table}"
