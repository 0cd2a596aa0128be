from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from companies.models import Company


class Match(models.Model):
    """One suggested pairing of a Vietnamese and a Russian firm, and where it stands.

    suggested → approved / rejected (staff) → introduced (sent to both) → each firm accepts or declines →
    connected when both accept (only then are contact details shown) → each side may record an outcome.
    """

    class Status(models.TextChoices):
        SUGGESTED = "suggested", _("Suggested")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        INTRODUCED = "introduced", _("Introduced")
        DECLINED = "declined", _("Declined")
        CONNECTED = "connected", _("Connected")

    class Response(models.TextChoices):
        PENDING = "pending", _("Waiting for an answer")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")

    class Outcome(models.TextChoices):
        NONE = "", _("Not recorded")
        MET = "met", _("Met")
        AGREEMENT = "agreement", _("Agreement signed")
        NO_REPLY = "no_reply", _("No reply")

    company_vn = models.ForeignKey(Company, models.CASCADE, related_name="matches_as_vn", verbose_name=_("Vietnamese firm"))
    company_ru = models.ForeignKey(Company, models.CASCADE, related_name="matches_as_ru", verbose_name=_("Russian firm"))
    score = models.FloatField(_("score"), db_index=True)
    fit_for_vn = models.FloatField(_("fit for the Vietnamese firm"), help_text=_("How well the Russian firm's offers meet the Vietnamese firm's needs."))
    fit_for_ru = models.FloatField(_("fit for the Russian firm"), help_text=_("How well the Vietnamese firm's offers meet the Russian firm's needs."))
    score_parts = models.JSONField(_("score parts"), default=dict)
    reasons = models.JSONField(_("reasons"), default=list, help_text=_("Facts behind the match, from the Vietnamese firm's side."))
    engine_version = models.CharField(_("engine version"), max_length=20)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.SUGGESTED, db_index=True)
    review_note = models.TextField(_("review note"), blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+")
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    introduced_at = models.DateTimeField(_("introduced at"), null=True, blank=True)
    response_vn = models.CharField(_("Vietnamese firm's answer"), max_length=8, choices=Response.choices, default=Response.PENDING)
    response_ru = models.CharField(_("Russian firm's answer"), max_length=8, choices=Response.choices, default=Response.PENDING)
    outcome_vn = models.CharField(_("outcome told by the Vietnamese firm"), max_length=10, choices=Outcome.choices, blank=True)
    outcome_ru = models.CharField(_("outcome told by the Russian firm"), max_length=10, choices=Outcome.choices, blank=True)
    connected_at = models.DateTimeField(_("connected at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-score", "id"]
        verbose_name = _("match")
        verbose_name_plural = _("matches")
        constraints = [models.UniqueConstraint(fields=["company_vn", "company_ru"], name="one_match_per_pair")]
        indexes = [models.Index(fields=["status", "-score"])]

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


class MatchEvent(models.Model):
    """Audit row: who did what to a match, when, with which note."""

    match = models.ForeignKey(Match, models.CASCADE, related_name="events")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+")
    action = models.CharField(_("action"), max_length=30)
    from_status = models.CharField(max_length=10, choices=Match.Status.choices, blank=True)
    to_status = models.CharField(max_length=10, choices=Match.Status.choices, blank=True)
    note = models.TextField(_("note"), blank=True)
    at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        ordering = ["-at", "-id"]
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
