from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import F, Func
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Coalesce
from django.utils.translation import gettext_lazy as _

from companies.models import Company


class Match(models.Model):
    """One suggested pairing of a Vietnamese and a Russian firm, and where it stands.

    suggested → approved / rejected (staff) → introduced (sent to both) → each firm accepts or declines →
    connected when both accept (only then are contact details shown) → each side may record an outcome.
    An introduction still unanswered after DIGEST_INTRODUCTION_EXPIRY_DAYS expires. TRANSITIONS says which
    moves are allowed; matchmaking.services makes them, each with its MatchEvent.
    """

    class Status(models.TextChoices):
        SUGGESTED = "suggested", _("Suggested")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        INTRODUCED = "introduced", _("Introduced")
        DECLINED = "declined", _("Declined")
        EXPIRED = "expired", _("Expired unanswered")
        CONNECTED = "connected", _("Connected")
        WITHDRAWN = "withdrawn", _("Withdrawn by a firm")

    class Response(models.TextChoices):
        PENDING = "pending", _("Waiting for an answer")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")

    class Outcome(models.TextChoices):
        NONE = "", _("Not recorded")
        MET = "met", _("Met")
        AGREEMENT = "agreement", _("Agreement signed")
        NO_REPLY = "no_reply", _("No reply")

    # Where a match may go from each status: the one definition of its workflow. Staff may change their mind
    # on a suggestion (approve a rejected one, reject one not yet introduced) or take their decision back
    # (undo: a suggestion again). A connection ends as withdrawn when one of its firms leaves the service
    # (matchmaking.data_rights). A recompute only creates and drops suggestions (matchmaking.bulk).
    TRANSITIONS = {
        Status.SUGGESTED: {Status.APPROVED, Status.REJECTED},
        Status.APPROVED: {Status.REJECTED, Status.INTRODUCED, Status.SUGGESTED},
        Status.REJECTED: {Status.APPROVED, Status.SUGGESTED},
        Status.INTRODUCED: {Status.CONNECTED, Status.DECLINED, Status.EXPIRED},
        Status.CONNECTED: {Status.WITHDRAWN},
        Status.DECLINED: set(),
        Status.EXPIRED: set(),
        Status.WITHDRAWN: set(),
    }

    # No index of its own: the pair's unique constraint starts with it. Every index is written for each of
    # the million rows a full recompute may insert (bench/persistence.py).
    company_vn = models.ForeignKey(
        Company, models.CASCADE, related_name="matches_as_vn", verbose_name=_("Vietnamese firm"), db_index=False
    )
    company_ru = models.ForeignKey(
        Company, models.CASCADE, related_name="matches_as_ru", verbose_name=_("Russian firm")
    )
    score = models.FloatField(_("score"), db_index=True)
    fit_for_vn = models.FloatField(
        _("fit for the Vietnamese firm"),
        help_text=_("How well the Russian firm's offers meet the Vietnamese firm's needs."),
    )
    fit_for_ru = models.FloatField(
        _("fit for the Russian firm"),
        help_text=_("How well the Vietnamese firm's offers meet the Russian firm's needs."),
    )
    score_parts = models.JSONField(_("score parts"), default=dict)
    # Computed by the database from score_parts, so the recompute's COPY writer (bulk.py), which writes only
    # score_parts, needs no column of its own for it. NULL when the engine ranked without its learned model.
    confidence = models.GeneratedField(
        expression=Cast(KeyTextTransform("confidence", "score_parts"), models.FloatField()),
        output_field=models.FloatField(),
        db_persist=True,
        null=True,
        verbose_name=_("confidence"),
        help_text=_(
            "The engine’s estimate of the chance that the pair is a real fit; empty when it ranked "
            "without its learned model."
        ),
    )
    reasons = models.JSONField(
        _("reasons"), default=list, help_text=_("Facts behind the match, from the Vietnamese firm's side.")
    )
    engine_version = models.CharField(_("engine version"), max_length=20)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.SUGGESTED
    )  # indexed with the score (Meta)
    review_note = models.TextField(_("review note"), blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+", db_index=False
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    introduced_at = models.DateTimeField(_("introduced at"), null=True, blank=True)
    response_vn = models.CharField(
        _("Vietnamese firm's answer"), max_length=8, choices=Response.choices, default=Response.PENDING
    )
    response_ru = models.CharField(
        _("Russian firm's answer"), max_length=8, choices=Response.choices, default=Response.PENDING
    )
    outcome_vn = models.CharField(
        _("outcome told by the Vietnamese firm"), max_length=10, choices=Outcome.choices, blank=True
    )
    outcome_ru = models.CharField(
        _("outcome told by the Russian firm"), max_length=10, choices=Outcome.choices, blank=True
    )
    connected_at = models.DateTimeField(_("connected at"), null=True, blank=True)
    expired_at = models.DateTimeField(_("expired at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-score", "id"]
        verbose_name = _("match")
        verbose_name_plural = _("matches")
        constraints = [models.UniqueConstraint(fields=["company_vn", "company_ru"], name="one_match_per_pair")]
        indexes = [
            models.Index(fields=["status", "-score"]),  # also serves filters on status alone
            # Sorting by confidence, either way (read backwards for the other); matches without one sort below all.
            models.Index(F("confidence").desc(nulls_last=True), name="match_confidence"),
            # Only reviewed matches have a reviewer: the suggestions' NULLs need no index entries.
            models.Index(fields=["reviewed_by"], name="match_reviewer", condition=models.Q(reviewed_by__isnull=False)),
            # The review workbench walks the suggestions in this order (matchmaking.review_queue.QUEUE_KEY).
            models.Index(
                Func(Coalesce("confidence", "score") * -100, function="ROUND", output_field=models.FloatField()),
                F("created_at"),
                F("id"),
                name="match_review_queue",
                condition=models.Q(status="suggested"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.company_vn} ↔ {self.company_ru}"

    def side_of(self, company: Company) -> str:
        """'vn' or 'ru': which side of the match a company is on."""
        if company.pk == self.company_vn_id:
            return "vn"
        if company.pk == self.company_ru_id:
            return "ru"
        raise ValueError(f"{company} is not part of {self}")

    def counterpart_of(self, company: Company) -> Company:
        return self.company_ru if self.side_of(company) == "vn" else self.company_vn

    def may_move_to(self, status: str) -> bool:
        """Whether TRANSITIONS lets the match go from its status to ``status``."""
        return status in self.TRANSITIONS[self.status]

    @classmethod
    def statuses_leading_to(cls, status: str) -> set[str]:
        """The statuses from which a match may move to ``status`` (TRANSITIONS read backwards)."""
        return {before for before, after in cls.TRANSITIONS.items() if status in after}


# Statuses a firm sees: before the introduction a match is the chamber's business only.
MEMBER_VISIBLE_STATUSES = [
    Match.Status.INTRODUCED,
    Match.Status.DECLINED,
    Match.Status.CONNECTED,
    Match.Status.EXPIRED,
    Match.Status.WITHDRAWN,  # a connection whose other firm left the service: shown, without its contact
]
# What a firm may tell of a meeting (of a match, or at a B2B event); "not recorded" is the absence of one.
MEMBER_OUTCOMES = [Match.Outcome.MET, Match.Outcome.AGREEMENT, Match.Outcome.NO_REPLY]
# Kinds of Match.reasons (and of a meeting request's) that quote the firms' offer or need texts; a withdrawn
# firm's texts are erased with its listings, so these go too.
QUOTING_REASONS = {"need_met", "offer_wanted"}


class FirmToImprove(Company):
    """A firm as the admin's list of "needs a better profile" shows it: matchable, yet without a counterpart the
    engine is confident about (matchmaking.selectors.firms_without_confident_match). Only a view: no table."""

    class Meta:
        proxy = True
        verbose_name = _("firm needing a better profile")
        verbose_name_plural = _("firms needing a better profile")


class MatchEvent(models.Model):
    """Audit row: who did what to a match, when, with which note."""

    match = models.ForeignKey(Match, models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+", db_index=False
    )
    action = models.CharField(_("action"), max_length=30)
    from_status = models.CharField(max_length=10, choices=Match.Status.choices, blank=True)
    to_status = models.CharField(max_length=10, choices=Match.Status.choices, blank=True)
    note = models.TextField(_("note"), blank=True)
    at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        ordering = ["-at", "-id"]
        # A recompute writes its events without an actor, up to a million at once: only the others are indexed.
        indexes = [models.Index(fields=["actor"], name="match_event_actor", condition=models.Q(actor__isnull=False))]
        verbose_name = _("match event")
        verbose_name_plural = _("match events")

    def __str__(self) -> str:
        return f"{self.action} {self.match_id} {self.at:%Y-%m-%d}"


class TextEmbedding(models.Model):
    """Cached sentence embedding of one text, keyed by a hash of model, role and text."""

    key = models.CharField(max_length=64, primary_key=True)
    vector = models.BinaryField()  # float32, little-endian
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("text embedding")
        verbose_name_plural = _("text embeddings")


class DigestDelivery(models.Model):
    """One weekly digest, to one firm or one chamber's staff, for one ISO week, or one introduction a firm is
    emailed at once (staff's "introduce now"): the claim that makes it exactly once. The row is created with
    its content (DigestItems, or ``payload`` for staff) in one transaction; the unique constraints mean a
    second run or a second worker finds it and sends nothing new. ``sent_to`` grows one address at a time, as
    the SMTP server accepts each message, so a send that died half-way resumes with the recipients it had not
    reached. An introduction's row carries the week it was sent in, and its item tells the weekly digest that
    the firm was told."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to be sent")
        SENT = "sent", _("Sent")
        SKIPPED = "skipped", _("Skipped")
        FAILED = "failed", _("Failed (will be retried)")

    class Kind(models.TextChoices):
        WEEKLY = "weekly", _("Weekly digest")
        INTRODUCTION = "introduction", _("Introduction sent at once")

    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices, default=Kind.WEEKLY)
    # SET_NULL, as DigestItem.match: the record of what a firm was sent outlives a deleted counterpart.
    match = models.ForeignKey(
        Match,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="introduction_deliveries",
        verbose_name=_("match (introduction)"),
    )
    company = models.ForeignKey(
        Company, models.CASCADE, null=True, blank=True, related_name="digest_deliveries", verbose_name=_("firm")
    )
    chamber = models.ForeignKey(
        "companies.Organisation",
        models.CASCADE,
        null=True,
        blank=True,
        related_name="digest_deliveries",
        verbose_name=_("chamber (staff digest)"),
    )
    iso_year = models.PositiveSmallIntegerField(_("ISO year"))
    iso_week = models.PositiveSmallIntegerField(_("ISO week"))
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.PENDING, db_index=True)
    reason = models.CharField(_("reason"), max_length=300, blank=True, help_text=_("Why it was skipped or failed."))
    payload = models.JSONField(_("content"), default=dict, blank=True)
    sent_to = ArrayField(
        models.EmailField(), default=list, blank=True, verbose_name=_("accepted by the mail server for")
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        ordering = ["-iso_year", "-iso_week", "id"]
        verbose_name = _("digest delivery")
        verbose_name_plural = _("digest deliveries")
        constraints = [
            models.UniqueConstraint(
                fields=["company", "iso_year", "iso_week"],
                condition=models.Q(company__isnull=False, kind="weekly"),
                name="one_firm_digest_per_week",
            ),
            models.UniqueConstraint(
                fields=["company", "match"],
                condition=models.Q(kind="introduction"),
                name="one_introduction_email_per_firm_and_match",
            ),
            models.UniqueConstraint(
                fields=["chamber", "iso_year", "iso_week"],
                condition=models.Q(chamber__isnull=False),
                name="one_staff_digest_per_week",
            ),
            models.CheckConstraint(
                condition=models.Q(company__isnull=False, chamber__isnull=True)
                | models.Q(company__isnull=True, chamber__isnull=False),
                name="digest_for_a_firm_or_a_chamber",
            ),
            models.CheckConstraint(
                condition=models.Q(kind="weekly") | models.Q(company__isnull=False),
                name="introduction_email_for_a_firm",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.company or self.chamber} {self.week}"

    @property
    def week(self) -> str:
        return f"{self.iso_year}-W{self.iso_week:02d}"


class DigestItem(models.Model):
    """A match a firm's digest tells about: a new introduction, a reminder, or that it expired."""

    class Kind(models.TextChoices):
        NEW = "new", _("New introduction")
        REMINDER = "reminder", _("Reminder")
        EXPIRED = "expired", _("Expired unanswered")

    delivery = models.ForeignKey(DigestDelivery, models.CASCADE, related_name="items")
    # SET_NULL: a counterpart deleted after the digest was planned leaves the item, so the digest can say why
    # it was left out instead of silently shrinking.
    match = models.ForeignKey(Match, models.SET_NULL, null=True, related_name="digest_items")
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)

    class Meta:
        ordering = ["delivery", "kind", "id"]
        verbose_name = _("digest item")
        verbose_name_plural = _("digest items")
        constraints = [
            models.UniqueConstraint(fields=["delivery", "match", "kind"], name="one_item_per_match_and_kind")
        ]
