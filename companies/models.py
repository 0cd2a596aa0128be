from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import models
from django.db.models.functions import Upper
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from companies.languages import detect_language
from companies.validators import multi_line_text, one_line_text, validate_website


class Country(models.TextChoices):
    VIETNAM = "VN", _("Vietnam")
    RUSSIA = "RU", _("Russia")


class Language(models.TextChoices):
    VIETNAMESE = "vi", _("Vietnamese")
    RUSSIAN = "ru", _("Russian")
    ENGLISH = "en", _("English")


class CooperationForm(models.TextChoices):
    DISTRIBUTION = "distribution", _("Distribution")
    JOINT_VENTURE = "joint_venture", _("Joint venture")
    TECHNOLOGY_TRANSFER = "technology_transfer", _("Technology transfer")
    LICENSING = "licensing", _("Licensing")
    INVESTMENT = "investment", _("Investment")
    SUPPLY = "supply", _("Supply")
    MANUFACTURING = "manufacturing", _("Manufacturing")
    RESEARCH = "research", _("Research")
    TRAINING = "training", _("Training")


class ConsentPurpose(models.TextChoices):
    MATCHING = "matching", _("Match the profile with counterpart firms")
    SHARE_PROFILE = "share_profile", _("Show the public profile to firms of the other country")
    CROSS_BORDER = "cross_border", _("Transfer the profile to the other country")
    NEWS = "news", _("Receive news from the chamber")


class ConsentSource(models.TextChoices):
    FIRM = "firm", _("The firm itself")
    CHAMBER = "chamber", _("Collected by the chamber")


# What each use of a profile needs (Vietnam's Decree 13/2023 and Russia's 152-FZ: consent per purpose).
# Showing a firm to the other country crosses the border, so it needs both purposes.
PURPOSES_TO_SHOW = (ConsentPurpose.SHARE_PROFILE.value, ConsentPurpose.CROSS_BORDER.value)
PURPOSES_TO_MATCH = (ConsentPurpose.MATCHING.value,)
# What a firm consents to when it joins (the profile form, the API, claiming a profile its chamber imported):
# the service matches firms across the border and shows them to each other. Afterwards it may withdraw
# showing (it leaves the directory and its counterparts' lists, and keeps being matched); matching stays
# required, since withdrawing it is leaving the service: deleting the account (companies.privacy), which
# also erases the data as 152-FZ asks of a withdrawal.
REQUIRED_PURPOSES = (*PURPOSES_TO_MATCH, *PURPOSES_TO_SHOW)


def required_purposes(*, joining: bool) -> tuple[str, ...]:
    """The purposes a firm must consent to: all of REQUIRED_PURPOSES to join, matching afterwards."""
    return REQUIRED_PURPOSES if joining else PURPOSES_TO_MATCH


class DigestFrequency(models.TextChoices):
    WEEKLY = "weekly", _("Weekly")
    NONE = "none", _("Never")


# Each country's chambers send their mail on their own local clock.
COUNTRY_TIME_ZONES = {"VN": "Asia/Ho_Chi_Minh", "RU": "Europe/Moscow"}
COUNTRY_LANGUAGES = {"VN": "vi", "RU": "ru"}


class Source(models.TextChoices):
    ARTICLE = "article", _("Article")
    IMPORT = "import", _("Import file")
    API = "api", _("API")
    ADMIN = "admin", _("Admin")
    GENERATED = "generated", _("Generated (synthetic)")


class Sector(models.Model):
    """An ISIC Rev.4 section (A–U) or 2-digit division, named in the service's three languages."""

    class Level(models.TextChoices):
        SECTION = "section", _("Section")
        DIVISION = "division", _("Division")

    code = models.CharField(_("code"), max_length=2, primary_key=True)
    level = models.CharField(_("level"), max_length=8, choices=Level.choices)
    section = models.ForeignKey(
        "self", models.PROTECT, null=True, blank=True, related_name="divisions", verbose_name=_("section")
    )
    name_en = models.CharField(_("name (English)"), max_length=200)
    name_vi = models.CharField(_("name (Vietnamese)"), max_length=200)
    name_ru = models.CharField(_("name (Russian)"), max_length=250)

    class Meta:
        ordering = ["code"]
        verbose_name = _("sector")
        verbose_name_plural = _("sectors")

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def name(self) -> str:
        return getattr(self, f"name_{(get_language() or 'en')[:2]}", None) or self.name_en


class Organisation(models.Model):
    """A chamber, association or public body that runs the service or appears in the articles."""

    class Kind(models.TextChoices):
        CHAMBER = "chamber", _("Chamber of commerce")
        BUSINESS_ASSOCIATION = "business_association", _("Business association")
        TRADE_REPRESENTATION = "trade_representation", _("Trade representation")
        EMBASSY = "embassy", _("Embassy")
        CULTURAL_CENTRE = "cultural_centre", _("Science and culture centre")
        PROJECT = "project", _("Cooperation project")
        PUBLIC_BODY = "public_body", _("Public body")

    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=200, help_text=_("The official name in English."))
    # The service names chambers in the reader's language; blank falls back to the English name.
    name_vi = models.CharField(_("name (Vietnamese)"), max_length=200, blank=True)
    name_ru = models.CharField(_("name (Russian)"), max_length=200, blank=True)
    country = models.CharField(_("country"), max_length=2, choices=Country.choices)
    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices)
    vets_companies = models.BooleanField(
        _("vets companies"), default=False, help_text=_("Chambers whose staff review company profiles.")
    )
    description = models.TextField(_("description"), blank=True)
    source_article = models.CharField(_("source article"), max_length=100, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self) -> str:
        return self.localized_name

    @property
    def localized_name(self) -> str:
        """The organisation's name in the active language, or its English name when none is given."""
        language = (get_language() or "en")[:2]
        return getattr(self, f"name_{language}", "") or self.name


class ChamberStaff(models.Model):
    """Links a staff user to the chamber whose companies they vet."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, models.CASCADE, related_name="chamber_staff")
    chamber = models.ForeignKey(Organisation, models.CASCADE, related_name="staff")
    language = models.CharField(
        _("language"),
        max_length=2,
        choices=Language.choices,
        blank=True,
        help_text=_("Language of the staff digest; blank: the chamber's country's language."),
    )
    digest = models.CharField(
        _("review digest"), max_length=8, choices=DigestFrequency.choices, default=DigestFrequency.WEEKLY
    )

    class Meta:
        verbose_name = _("chamber staff member")
        verbose_name_plural = _("chamber staff")

    def __str__(self) -> str:
        return f"{self.user} @ {self.chamber}"


# The consent rules as conditions on a firm reached through ``prefix`` ("" for a firm itself, "company_ru__" for
# a match's Russian firm): on related firms they are conditions on rows the query joins anyway, where a
# "pk IN (SELECT ...)" of the queryset methods below would read every firm.


def may_be_shown(prefix: str = "") -> models.Q:
    """Consent to being shown across the border (PURPOSES_TO_SHOW), or a firm named in the articles (public
    facts; it shows only what the articles say). Says nothing of the firm's status."""
    return models.Q(**{f"{prefix}consent_purposes__contains": list(PURPOSES_TO_SHOW)}) | models.Q(
        **{f"{prefix}source": Source.ARTICLE}
    )


def may_be_matched(prefix: str = "") -> models.Q:
    """Consent to matching, or no consent recorded at all (a firm its chamber imported, or from the articles):
    its own chamber may match and introduce it. A firm that consented to something, but not to matching, may
    not. Says nothing of the firm's status."""
    without_consent = models.Q(**{f"{prefix}consent_given_at__isnull": True, f"{prefix}consent_purposes": []})
    return models.Q(**{f"{prefix}consent_purposes__contains": list(PURPOSES_TO_MATCH)}) | without_consent


class CompanyQuerySet(models.QuerySet):
    def published(self) -> "CompanyQuerySet":
        return self.filter(status=Company.Status.PUBLISHED)

    def consented_to_show(self) -> "CompanyQuerySet":
        """Firms, whatever their status, that may be shown across the border (may_be_shown)."""
        return self.filter(may_be_shown())

    def shown_to_others(self) -> "CompanyQuerySet":
        """Published firms that may be shown to the other country (may_be_shown): the directory, events, and
        every page that shows a firm to another firm."""
        return self.published().consented_to_show()

    def matchable(self) -> "CompanyQuerySet":
        """Published firms that may be matched (may_be_matched): those that consented to matching, and those
        whose chamber holds their record without any consent yet; their own chamber may match and introduce
        them, but they are shown to nobody until they claim the profile and consent."""
        return self.published().filter(may_be_matched())


class Company(models.Model):
    class Size(models.TextChoices):
        MICRO = "micro", _("Micro")
        SMALL = "small", _("Small")
        MEDIUM = "medium", _("Medium")
        LARGE = "large", _("Large")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PENDING = "pending", _("Pending review")
        PUBLISHED = "published", _("Published")
        SUSPENDED = "suspended", _("Suspended")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    # Where staff and members may move a firm from each status: the one definition of the review workflow
    # (companies.services.change_status makes the moves, each with its StatusChange). No move leads to
    # WITHDRAWN: a firm is withdrawn, whatever its status, only when its last member leaves
    # (companies.privacy.withdraw_member), and nothing brings it back.
    TRANSITIONS = {
        Status.DRAFT: {Status.PENDING},
        Status.PENDING: {Status.PUBLISHED, Status.SUSPENDED, Status.DRAFT},
        Status.PUBLISHED: {Status.SUSPENDED, Status.PENDING},
        Status.SUSPENDED: {Status.PUBLISHED, Status.PENDING},
        Status.WITHDRAWN: set(),
    }

    external_id = models.CharField(_("external id"), max_length=64, unique=True, null=True, blank=True)
    name = models.CharField(_("name"), max_length=200, validators=[one_line_text])
    country = models.CharField(_("country"), max_length=2, choices=Country.choices, db_index=True)
    city = models.CharField(_("city"), max_length=100, blank=True, validators=[one_line_text])
    activity_code = models.CharField(
        _("activity code"), max_length=8, blank=True, help_text=_("VSIC 2018 in Vietnam, OKVED2 in Russia.")
    )
    activity_division = models.ForeignKey(
        Sector,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("ISIC division"),
        help_text=_("Derived from the activity code."),
    )
    sectors = models.ManyToManyField(Sector, blank=True, related_name="companies", verbose_name=_("sectors"))
    size = models.CharField(_("size"), max_length=8, choices=Size.choices, blank=True)
    founded = models.PositiveSmallIntegerField(_("year founded"), null=True, blank=True)
    languages = ArrayField(
        models.CharField(max_length=2, choices=Language.choices),
        default=list,
        blank=True,
        verbose_name=_("business languages"),
    )
    website = models.URLField(_("website"), blank=True, validators=[validate_website])
    contact_name = models.CharField(_("contact person"), max_length=200, blank=True, validators=[one_line_text])
    contact_email = models.EmailField(_("contact email"), blank=True, validators=[one_line_text])
    contact_phone = models.CharField(_("contact phone"), max_length=40, blank=True, validators=[one_line_text])
    chamber = models.ForeignKey(
        Organisation,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="companies",
        limit_choices_to={"vets_companies": True},
        verbose_name=_("vetting chamber"),
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT, db_index=True)
    consent_version = models.CharField(_("consent text version"), max_length=20, blank=True)
    consent_purposes = ArrayField(
        models.CharField(max_length=20, choices=ConsentPurpose.choices),
        default=list,
        blank=True,
        verbose_name=_("consent purposes"),
    )
    consent_given_at = models.DateTimeField(_("consent given at"), null=True, blank=True)
    consent_source = models.CharField(
        _("consent collected by"),
        max_length=8,
        choices=ConsentSource.choices,
        blank=True,
        help_text=_("Who collected the consent: the firm on this site, or its chamber (an import)."),
    )
    contact_unsubscribed_at = models.DateTimeField(
        _("contact unsubscribed at"),
        null=True,
        blank=True,
        help_text=_("When the contact email of a firm without member accounts stopped the weekly digest."),
    )
    source = models.CharField(_("source"), max_length=10, choices=Source.choices, default=Source.API)
    source_ref = models.CharField(
        _("source reference"), max_length=200, blank=True, help_text=_("Article or import file name.")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = CompanyQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("company")
        verbose_name_plural = _("companies")
        indexes = [
            models.Index(fields=["country", "status"]),
            # The directory: published firms (of a country) in name order, read a page at a time.
            models.Index(fields=["status", "country", "name", "id"], name="company_directory_country"),
            models.Index(fields=["status", "name", "id"], name="company_directory"),
            # Searches are case-insensitive substrings (UPPER(...) LIKE '%...%'): trigram indexes on UPPER.
            GinIndex(OpClass(Upper("name"), name="gin_trgm_ops"), name="company_name_trgm"),
            GinIndex(OpClass(Upper("city"), name="gin_trgm_ops"), name="company_city_trgm"),
            # A worker's warm matching index asks which firms were saved since it last looked.
            models.Index(fields=["updated_at"], name="company_updated"),
        ]

    def __str__(self) -> str:
        return self.name

    def may_move_to(self, status: str) -> bool:
        """Whether TRANSITIONS lets the firm go from its status to ``status``."""
        return status in self.TRANSITIONS[self.status]


class Membership(models.Model):
    """A user account acting for a company. A user belongs to one company at most."""

    class Role(models.TextChoices):
        OWNER = "owner", _("Owner")
        EDITOR = "editor", _("Editor")

    user = models.OneToOneField(settings.AUTH_USER_MODEL, models.CASCADE, related_name="membership")
    company = models.ForeignKey(Company, models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=8, choices=Role.choices, default=Role.OWNER)
    language = models.CharField(
        _("language"),
        max_length=2,
        choices=Language.choices,
        blank=True,
        help_text=_("Language of the member's emails; blank: the language of the firm's profile."),
    )
    digest = models.CharField(
        _("weekly digest"), max_length=8, choices=DigestFrequency.choices, default=DigestFrequency.WEEKLY
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")

    def __str__(self) -> str:
        return f"{self.user} – {self.company} ({self.role})"


# Offers, and needs, a firm may have: the profile form's rows and the API's lists alike. A firm's public page
# and every matching run read them all, so their number is bounded.
LISTINGS_PER_DIRECTION_MAX = 10


class Listing(models.Model):
    """One thing a company offers or needs, in its author's own words."""

    class Direction(models.TextChoices):
        OFFER = "offer", _("Offer")
        NEED = "need", _("Need")

    class Kind(models.TextChoices):
        PRODUCT = "product", _("Product")
        SERVICE = "service", _("Service")
        TECHNOLOGY = "technology", _("Technology")
        PARTNERSHIP = "partnership", _("Partnership")

    company = models.ForeignKey(Company, models.CASCADE, related_name="listings")
    direction = models.CharField(_("offer or need"), max_length=5, choices=Direction.choices)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices, default=Kind.PRODUCT)
    text = models.TextField(_("text"), max_length=settings.LISTING_TEXT_MAX_LENGTH, validators=[multi_line_text])
    language = models.CharField(_("language"), max_length=2, choices=Language.choices, editable=False)
    cooperation = ArrayField(
        models.CharField(max_length=20, choices=CooperationForm.choices),
        default=list,
        blank=True,
        verbose_name=_("cooperation forms"),
    )
    sectors = models.ManyToManyField(Sector, blank=True, related_name="listings", verbose_name=_("sectors"))
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["company_id", "direction", "id"]
        verbose_name = _("offer or need")
        verbose_name_plural = _("offers and needs")
        indexes = [
            GinIndex(OpClass(Upper("text"), name="gin_trgm_ops"), name="listing_text_trgm"),
            models.Index(fields=["updated_at"], name="listing_updated"),
        ]

    def __str__(self) -> str:
        return f"{self.get_direction_display()}: {self.text[:60]}"

    def save(self, *args, **kwargs) -> None:
        self.language = detect_language(self.text)
        super().save(*args, **kwargs)


class StatusChange(models.Model):
    """Audit trail of who moved a company between statuses, and when."""

    company = models.ForeignKey(Company, models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=10, choices=Company.Status.choices)
    to_status = models.CharField(max_length=10, choices=Company.Status.choices)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+")
    note = models.CharField(max_length=300, blank=True)
    changed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-changed_at"]
        verbose_name = _("status change")
        verbose_name_plural = _("status changes")
