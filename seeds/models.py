"""Facts taken from the articles in shared/articles: the articles themselves, events and bilateral trade figures.

Organisations, sectors and the companies the articles name live in the companies app; every seeded
row records the article file it came from.
"""

from django.db import models
from django.urls import reverse
from django.utils import formats
from django.utils.translation import get_language, pgettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from companies.models import Company, Organisation


def in_active_language(obj: models.Model, field: str) -> str:
    """``obj.<field>_<language>`` for the active language when filled in, else ``obj.<field>`` (English)."""
    language = (get_language() or "en")[:2]
    return getattr(obj, f"{field}_{language}", "") or getattr(obj, field)


class Article(models.Model):
    """A news article in shared/articles the service took facts from. The files have no title lines:
    the service wrote each title (in three languages) and took the date from the article's content."""

    class Precision(models.TextChoices):
        DAY = "day", pgettext_lazy("precision of a date", "Day")
        MONTH = "month", pgettext_lazy("precision of a date", "Month")
        YEAR = "year", pgettext_lazy("precision of a date", "Year")

    file = models.CharField(_("file"), max_length=100, unique=True)
    title = models.CharField(_("title"), max_length=300)
    title_vi = models.CharField(_("title (Vietnamese)"), max_length=300, blank=True)
    title_ru = models.CharField(_("title (Russian)"), max_length=300, blank=True)
    date = models.DateField(_("date"), help_text=_("Only the part the precision names is known."))
    date_precision = models.CharField(_("date precision"), max_length=5, choices=Precision.choices)
    date_approximate = models.BooleanField(
        _("date approximate"), default=False, help_text=_("The content only bounds the date.")
    )
    publisher = models.CharField(_("publisher"), max_length=100, blank=True)
    url = models.URLField(_("original address"), blank=True)

    class Meta:
        ordering = ["date", "file"]
        verbose_name = _("article")
        verbose_name_plural = _("articles")

    def __str__(self) -> str:
        return self.label

    def get_absolute_url(self) -> str:
        return reverse("source-article", args=[self.file])

    @property
    def localized_title(self) -> str:
        return in_active_language(self, "title")

    @property
    def date_label(self) -> str:
        """The date as precisely as the article gives it, in the active language's format."""
        if self.date_precision == self.Precision.DAY:
            text = formats.date_format(self.date, "DATE_FORMAT")
        elif self.date_precision == self.Precision.MONTH:
            text = formats.date_format(self.date, "YEAR_MONTH_FORMAT")
        else:
            text = str(self.date.year)
        if self.date_approximate:
            return pgettext("an article's approximate date", "about %(date)s") % {"date": text}
        return text

    @property
    def label(self) -> str:
        """How a page names the article: "Title (date)"."""
        return pgettext("an article: its title and date", "%(title)s (%(date)s)") % {
            "title": self.localized_title,
            "date": self.date_label,
        }


class ArticleEvent(models.Model):
    """An event an article reports (a business meeting, a delegation visit): a fact of the past, not one of the
    service's B2B events (events.Event), though the loader mirrors each business meeting as a finished one."""

    class Kind(models.TextChoices):
        BUSINESS_MEETING = "business_meeting", _("Business meeting")
        DELEGATION = "delegation", _("Delegation visit")

    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    name = models.CharField(_("name"), max_length=200)
    name_vi = models.CharField(_("name (Vietnamese)"), max_length=200, blank=True)
    name_ru = models.CharField(_("name (Russian)"), max_length=200, blank=True)
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
        return self.localized_name

    @property
    def localized_name(self) -> str:
        return in_active_language(self, "name")


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
    value_usd_million = models.DecimalField(
        _("value, USD million"), max_digits=10, decimal_places=1, null=True, blank=True
    )
    growth_percent = models.DecimalField(
        _("year-on-year growth, %"), max_digits=6, decimal_places=1, null=True, blank=True
    )
    # The service wrote the notes from the article, so it translates them.
    note = models.CharField(_("note"), max_length=300, blank=True)
    note_vi = models.CharField(_("note (Vietnamese)"), max_length=300, blank=True)
    note_ru = models.CharField(_("note (Russian)"), max_length=300, blank=True)
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

    @property
    def localized_note(self) -> str:
        return in_active_language(self, "note")

    @property
    def is_whole_year(self) -> bool:
        start, end = self.period_start, self.period_end
        return bool(
            start and end and (start.month, start.day, end.month, end.day) == (1, 1, 12, 31) and start.year == end.year
        )
