"""Facts taken from the articles in shared/articles: events and bilateral trade figures.

Organisations, sectors and the companies the articles name live in the companies app; every seeded
row records the article file it came from.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from companies.models import Company, Organisation


class Event(models.Model):
    class Kind(models.TextChoices):
        BUSINESS_MEETING = "business_meeting", _("Business meeting")
        DELEGATION = "delegation", _("Delegation visit")

    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    city = models.CharField(_("city"), max_length=100, blank=True)
    date = models.DateField(_("date"), null=True, blank=True)
    year = models.PositiveSmallIntegerField(_("year"), null=True, blank=True)
    approx_participants = models.PositiveIntegerField(_("firms taking part (about)"), null=True, blank=True)
    summary = models.TextField(_("summary"), blank=True)
    organisers = models.ManyToManyField(Organisation, blank=True, related_name="events")
    companies = models.ManyToManyField(Company, blank=True, related_name="article_events")
    source_article = models.CharField(_("source article"), max_length=100)

    class Meta:
        ordering = ["year", "date", "name"]
        verbose_name = _("event")
        verbose_name_plural = _("events")

    def __str__(self) -> str:
        return self.name


class TradeFigure(models.Model):
    """Vietnam–Russia trade turnover for a period, actual or targeted, as an article reports it."""

    class Flow(models.TextChoices):
        TOTAL = "total", _("Two-way total")
        RU_TO_VN = "ru_to_vn", _("Russia's exports to Vietnam")
        VN_TO_RU = "vn_to_ru", _("Vietnam's exports to Russia")

    class Kind(models.TextChoices):
        ACTUAL = "actual", _("Actual")
        TARGET = "target", _("Target")

    period = models.CharField(_("period"), max_length=60)
    period_start = models.DateField(_("period start"), null=True, blank=True)
    period_end = models.DateField(_("period end"), null=True, blank=True)
    flow = models.CharField(_("flow"), max_length=10, choices=Flow.choices, default=Flow.TOTAL)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.ACTUAL)
    value_usd_million = models.DecimalField(_("value, USD million"), max_digits=10, decimal_places=1, null=True, blank=True)
    growth_percent = models.DecimalField(_("year-on-year growth, %"), max_digits=6, decimal_places=1, null=True, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    source_article = models.CharField(_("source article"), max_length=100)

    class Meta:
        ordering = ["period_end", "flow"]
        verbose_name = _("trade figure")
        verbose_name_plural = _("trade figures")
        constraints = [
            models.UniqueConstraint(fields=["period", "flow", "kind", "source_article"], name="unique_trade_figure")
        ]

    def __str__(self) -> str:
        return f"{self.period} {self.get_flow_display()}: {self.value_usd_million} M USD"
