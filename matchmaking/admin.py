"""Admin for chamber staff: the review queue of suggested matches, best first, and the audit trail."""

from collections.abc import Callable
from functools import partial

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.text import Truncator
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from companies.hints import ListingDraft, profile_hints
from companies.models import Company, Organisation, Sector
from matchmaking import review_admin, services
from matchmaking.explain import STAFF, LazySectorNames, explain
from matchmaking.models import DigestDelivery, DigestItem, FirmToImprove, Match, MatchEvent
from matchmaking.selectors import firms_without_confident_match, visible_to_staff
from matchmaking.tasks import send_firm_digest, send_introduction_now, send_staff_digest


def _visible_matches(user, queryset: QuerySet[Match]) -> QuerySet[Match]:
    """Superusers see every match; chamber staff those where either firm is vetted by their chamber."""
    return visible_to_staff(user, queryset)


class ReviewActionForm(ActionForm):
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=1000,
        widget=forms.TextInput(attrs={"size": 60, "placeholder": _("Why (kept with the match)")}),
    )


class ChamberFilter(admin.SimpleListFilter):
    """Matches where the Vietnamese or the Russian firm belongs to the chamber, whichever country it is in."""

    title = _("chamber")
    parameter_name = "chamber"

    def lookups(self, request, model_admin):
        chambers = Organisation.objects.filter(vets_companies=True)
        staff = getattr(request.user, "chamber_staff", None)
        if not request.user.is_superuser and staff is not None:
            chambers = chambers.filter(pk=staff.chamber_id)
        return [(str(chamber.pk), chamber.name) for chamber in chambers]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(Q(company_vn__chamber_id=self.value()) | Q(company_ru__chamber_id=self.value()))
        return queryset


class SectorFilter(admin.SimpleListFilter):
    """Matches where either firm works in the ISIC division."""

    title = _("sector")
    parameter_name = "sector"

    def lookups(self, request, model_admin):
        return [(s.code, str(s)) for s in Sector.objects.filter(level=Sector.Level.DIVISION)]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        # A firm that named no sector is filed under the division of its activity code, so that counts too.
        in_sector = Company.objects.filter(Q(sectors=self.value()) | Q(activity_division=self.value()))
        # Exists rather than a join through the sectors table, which would list a match once per sector row.
        return queryset.filter(
            Exists(in_sector.filter(pk=OuterRef("company_vn"))) | Exists(in_sector.filter(pk=OuterRef("company_ru")))
        )


class ScoreFilter(admin.SimpleListFilter):
    title = _("score")
    parameter_name = "score"

    def lookups(self, request, model_admin):
        return [("high", "≥ 0.8"), ("medium", "0.6 – 0.8"), ("low", "< 0.6")]

    def queryset(self, request, queryset):
        if self.value() == "high":
            return queryset.filter(score__gte=0.8)
        if self.value() == "medium":
            return queryset.filter(score__gte=0.6, score__lt=0.8)
        if self.value() == "low":
            return queryset.filter(score__lt=0.6)
        return queryset


class ConfidenceFilter(admin.SimpleListFilter):
    title = _("confidence")
    parameter_name = "confidence"

    def lookups(self, request, model_admin):
        return [
            ("high", "≥ 80%"),
            ("medium", "50 – 80%"),
            ("low", "20 – 50%"),
            ("lowest", "< 20%"),
            ("none", _("none (ranked without the learned model)")),
        ]

    def queryset(self, request, queryset):
        bands = {
            "high": Q(confidence__gte=0.8),
            "medium": Q(confidence__gte=0.5, confidence__lt=0.8),
            "low": Q(confidence__gte=0.2, confidence__lt=0.5),
            "lowest": Q(confidence__lt=0.2),
            "none": Q(confidence__isnull=True),
        }
        return queryset.filter(bands[self.value()]) if self.value() in bands else queryset


# The engine writes a "rivals" reason when the two firms offer and look for alike things.
RIVALS = Q(reasons__contains=[{"kind": "rivals"}])


class RivalsFilter(admin.SimpleListFilter):
    title = _("possible competitors")
    parameter_name = "rivals"

    def lookups(self, request, model_admin):
        return [("yes", _("Yes")), ("no", _("No"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(RIVALS)
        if self.value() == "no":
            return queryset.exclude(RIVALS)
        return queryset


def _rivals_reason(match: Match) -> dict | None:
    return next((r for r in match.reasons or [] if isinstance(r, dict) and r.get("kind") == "rivals"), None)


class MatchEventInline(admin.TabularInline):
    model = MatchEvent
    extra = 0
    can_delete = False
    fields = ["at", "action", "from_status", "to_status", "actor", "note"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


# Characters a cell of the Matches list keeps on its one line; the whole text is in the cell's title.
FIRM_CHARS, REASONS_CHARS = 32, 90


def _one_line(text: str, chars: int, css: str) -> str:
    return format_html('<span class="one-line {}" title="{}">{}</span>', css, text, Truncator(text).chars(chars))


def _two_decimals(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


# The engine's score parts by name, in the workbench's order and words; the confidence is a share.
SCORE_PART_LABELS = {**review_admin.SCORE_PARTS, "confidence": _("Confidence")}


def score_parts_table(parts: dict | None) -> str:
    """The score parts as a small table of labelled values rather than the stored JSON."""
    if not parts:
        return "–"
    names = [name for name in SCORE_PART_LABELS if name in parts] + sorted(set(parts) - set(SCORE_PART_LABELS))
    rows = []
    for name in names:
        value = parts[name]
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = _percent(value) if name == "confidence" else _two_decimals(value)
        rows.append((SCORE_PART_LABELS.get(name, name), value))
    return format_html(
        '<table class="score-parts"><tbody>{}</tbody></table>',
        format_html_join("", '<tr><th scope="row">{}</th><td>{}</td></tr>', rows),
    )


@admin.register(Match)
class MatchAdmin(admin.ModelAdmin):
    # One line a match, narrow enough for a laptop beside the filters (the fits and the engine version are on
    # each match's own page; the reasons are cut there, whole in their title and on the match's page).
    list_display = [
        "vn_firm",
        "ru_firm",
        "confidence_display",
        "score_display",
        "status",
        "rivals_display",
        "reasons_display",
        "review_link",
    ]
    list_filter = ["status", ChamberFilter, SectorFilter, ScoreFilter, ConfidenceFilter, RivalsFilter]
    list_select_related = ["company_vn", "company_ru"]
    search_fields = ["company_vn__name", "company_ru__name"]
    ordering = ["-score", "id"]
    actions = ["approve", "reject"]
    action_form = ReviewActionForm
    inlines = [MatchEventInline]
    list_per_page = 50
    # A filtered list would count the whole table a second time for "N of M": at a million matches that is
    # most of the page's time.
    show_full_result_count = False
    readonly_fields = ["reasons_display"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "company_vn",
                    "company_ru",
                    "status",
                    "confidence_display",
                    "competitors_warning",
                    "reasons_display",
                ]
            },
        ),
        (_("Score"), {"fields": ["score", "fit_for_vn", "fit_for_ru", "score_parts_display", "engine_version"]}),
        (_("Review"), {"fields": ["review_note", "reviewed_by", "reviewed_at", "introduced_at"]}),
        (_("Answers"), {"fields": ["response_vn", "response_ru", "connected_at", "outcome_vn", "outcome_ru"]}),
        (_("Stored reasons"), {"fields": ["reasons"], "classes": ["collapse"]}),
    ]

    def get_queryset(self, request):
        return _visible_matches(request.user, super().get_queryset(request))

    def get_readonly_fields(self, request, obj=None):
        # Matches come from the engine and move only through the actions and the workflow services, which
        # record every step; the change page is for reading.
        return [field for fieldset in self.fieldsets for field in fieldset[1]["fields"]]

    def has_add_permission(self, request) -> bool:
        return False

    def get_list_display(self, request):
        # Explaining sectors needs their names; fetch them once for the whole page instead of once per row.
        names = LazySectorNames()

        @admin.display(description=_("reasons"))
        def reasons_display(match: Match) -> str:
            return _one_line(" ".join(explain(match, STAFF, sector_names=names)), REASONS_CHARS, "reasons")

        return [reasons_display if name == "reasons_display" else name for name in super().get_list_display(request)]

    @admin.display(description=_("reasons"))
    def reasons_display(self, match: Match) -> str:
        # The change page; the list page uses the same column with the sector names fetched once.
        return " ".join(explain(match, STAFF))

    @admin.display(description=_("score parts"))
    def score_parts_display(self, match: Match) -> str:
        return score_parts_table(match.score_parts)

    @admin.display(description=_("score"), ordering="score")
    def score_display(self, match: Match) -> str:
        return _two_decimals(match.score)

    # Ascending puts the matches without a confidence first, descending (the best first) last: both read the
    # match_confidence index.
    @admin.display(description=_("confidence"), ordering=F("confidence").asc(nulls_first=True))
    def confidence_display(self, match: Match) -> str:
        return _percent(match.confidence)

    @admin.display(description=_("possible competitors"))
    def rivals_display(self, match: Match) -> str:
        if not _rivals_reason(match):
            return ""
        return format_html('<span title="{}">⚠</span>', gettext("may be competitors"))

    @admin.display(description=_("Vietnamese firm"), ordering="company_vn__name")
    def vn_firm(self, match: Match) -> str:
        return _one_line(match.company_vn.name, FIRM_CHARS, "firm")

    @admin.display(description=_("Russian firm"), ordering="company_ru__name")
    def ru_firm(self, match: Match) -> str:
        return _one_line(match.company_ru.name, FIRM_CHARS, "firm")

    @admin.display(description=_("review"))
    def review_link(self, match: Match) -> str:
        url = reverse("admin:matchmaking_match_review_pair", args=[match.pk])
        return format_html('<a href="{}">{}</a>', url, gettext("Open"))

    @admin.display(description=_("possible competitors"))
    def competitors_warning(self, match: Match) -> str:
        rivals = _rivals_reason(match)
        if rivals is None:
            return "–"
        # Only this reason, worded for staff (the same sentence is among the reasons below).
        return "⚠ " + " ".join(explain(Match(reasons=[rivals]), STAFF, sector_names={}))

    @admin.display(description=_("fit for the Vietnamese firm"), ordering="fit_for_vn")
    def fit_for_vn_display(self, match: Match) -> str:
        return _two_decimals(match.fit_for_vn)

    @admin.display(description=_("fit for the Russian firm"), ordering="fit_for_ru")
    def fit_for_ru_display(self, match: Match) -> str:
        return _two_decimals(match.fit_for_ru)

    def get_urls(self):
        # The review workbench (matchmaking.review_admin), ahead of the admin's own "<object_id>/" patterns.
        def view(function, **kwargs):
            return self.admin_site.admin_view(partial(function, self, **kwargs))

        return [
            path("review/", view(review_admin.workbench), name="matchmaking_match_review"),
            path("review/<int:pk>/", view(review_admin.workbench), name="matchmaking_match_review_pair"),
            path(
                "review/<int:pk>/next/", view(review_admin.navigate, forward=True), name="matchmaking_match_review_next"
            ),
            path(
                "review/<int:pk>/previous/",
                view(review_admin.navigate, forward=False),
                name="matchmaking_match_review_previous",
            ),
            path("review/<int:pk>/decide/", view(review_admin.decide), name="matchmaking_match_review_decide"),
            path("review/<int:pk>/undo/", view(review_admin.undo), name="matchmaking_match_review_undo"),
            path("review/skipped/reset/", view(review_admin.reset_skipped), name="matchmaking_match_review_reset"),
            path("review/firm/<int:company_pk>/", view(review_admin.firm), name="matchmaking_match_review_firm"),
            path("review/bulk-approve/", view(review_admin.bulk_approve), name="matchmaking_match_review_bulk"),
            *super().get_urls(),
        ]

    def _review(self, request, queryset, decide, done: Callable[[int], str]) -> None:
        try:
            changed = decide(queryset, by=request.user, note=request.POST.get("note", "").strip())
        except services.MatchWorkflowError as error:  # all or nothing: the message names the matches
            self.message_user(request, str(error), messages.ERROR)
            return
        self.message_user(request, done(len(changed)), messages.SUCCESS)

    @admin.action(description=_("Approve the selected matches, with the note"), permissions=["change"])
    def approve(self, request, queryset):
        self._review(
            request,
            queryset,
            services.approve,
            lambda count: (
                ngettext("%(count)d match approved.", "%(count)d matches approved.", count) % {"count": count}
            ),
        )

    @admin.action(description=_("Reject the selected matches, with the note"), permissions=["change"])
    def reject(self, request, queryset):
        self._review(
            request,
            queryset,
            services.reject,
            lambda count: (
                ngettext("%(count)d match rejected.", "%(count)d matches rejected.", count) % {"count": count}
            ),
        )


class ReadOnlyAdmin(admin.ModelAdmin):
    """A list to read: rows written only by the services (audit trails, computed lists)."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(MatchEvent)
class MatchEventAdmin(ReadOnlyAdmin):
    list_display = ["at", "match", "action", "from_status", "to_status", "actor", "note"]
    list_filter = ["action", "to_status"]
    list_select_related = ["match__company_vn", "match__company_ru", "actor"]
    search_fields = ["match__company_vn__name", "match__company_ru__name", "note"]
    readonly_fields = ["match", "actor", "action", "from_status", "to_status", "note", "at"]

    def get_queryset(self, request):
        visible = _visible_matches(request.user, Match.objects.all())
        return super().get_queryset(request).filter(match__in=visible)


class DigestItemInline(admin.TabularInline):
    model = DigestItem
    extra = 0
    fields = ["kind", "match"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(DigestDelivery)
class DigestDeliveryAdmin(admin.ModelAdmin):
    """Who was sent which week's digest: an audit trail, written only by the digest tasks."""

    list_display = [
        "week",
        "kind",
        "company",
        "chamber",
        "match",
        "status",
        "recipients",
        "attempts",
        "sent_at",
        "reason",
    ]
    list_filter = ["kind", "status", "iso_year", "iso_week"]
    list_select_related = ["company", "chamber", "match"]
    search_fields = ["company__name", "chamber__name", "sent_to"]
    date_hierarchy = "created_at"
    inlines = [DigestItemInline]
    readonly_fields = [
        "kind",
        "company",
        "chamber",
        "match",
        "iso_year",
        "iso_week",
        "status",
        "reason",
        "payload",
        "sent_to",
        "attempts",
        "created_at",
        "sent_at",
    ]
    actions = ["retry"]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        staff = getattr(request.user, "chamber_staff", None)
        if staff is None:
            return queryset.none()
        return queryset.filter(Q(company__chamber_id=staff.chamber_id) | Q(chamber_id=staff.chamber_id))

    @admin.display(description=_("week"), ordering="iso_week")
    def week(self, delivery: DigestDelivery) -> str:
        return delivery.week

    @admin.display(description=_("emails accepted"))
    def recipients(self, delivery: DigestDelivery) -> int:
        return len(delivery.sent_to)

    @admin.action(description=_("Retry the selected failed deliveries now"), permissions=["view"])
    def retry(self, request, queryset):
        failed = list(queryset.filter(status__in=[DigestDelivery.Status.FAILED, DigestDelivery.Status.PENDING]))
        for delivery in failed:
            if delivery.kind == DigestDelivery.Kind.INTRODUCTION:
                send_introduction_now.delay(delivery.match_id)  # its own email, not the week's digest
            elif delivery.company_id:
                send_firm_digest.delay(delivery.company_id, delivery.week)
            else:
                send_staff_digest.delay(delivery.chamber_id, delivery.week)
        self.message_user(
            request,
            ngettext(
                "%(count)d delivery queued again; a digest already sent is never sent twice.",
                "%(count)d deliveries queued again; a digest already sent is never sent twice.",
                len(failed),
            )
            % {"count": len(failed)},
            messages.SUCCESS,
        )

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser


@admin.register(FirmToImprove)
class FirmToImproveAdmin(ReadOnlyAdmin):
    """ "Needs a better profile": the chamber's matchable firms with no standing match whose confidence reaches
    MATCHING_MIN_CONFIDENCE, with the advice their profile page gives them. Read-only; a firm's name leads to
    its own admin page."""

    list_display = ["firm", "country", "city", "best_confidence_display", "hints"]
    list_display_links = None
    list_filter = ["country"]
    search_fields = ["name"]
    list_per_page = 50

    def get_queryset(self, request):
        firms = super().get_queryset(request)
        if not request.user.is_superuser:
            staff = getattr(request.user, "chamber_staff", None)
            firms = firms.none() if staff is None else firms.filter(chamber_id=staff.chamber_id)
        return firms_without_confident_match(firms, least=settings.MATCHING_MIN_CONFIDENCE).prefetch_related(
            "sectors", "listings"
        )

    def get_urls(self):
        # A list only: each firm is read and changed on its own admin page.
        return [url for url in super().get_urls() if url.name == "matchmaking_firmtoimprove_changelist"]

    def changelist_view(self, request, extra_context=None):
        least = settings.MATCHING_MIN_CONFIDENCE
        subtitle = gettext("Matchable firms without a suggestion of at least %(percent)s confidence") % {
            "percent": _percent(least)
        }
        return super().changelist_view(request, {"subtitle": subtitle, **(extra_context or {})})

    # Whoever may read the matches may read which firms have no good one.
    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.has_perm("matchmaking.view_match")

    @admin.display(description=_("firm"), ordering="name")
    def firm(self, company: FirmToImprove):
        url = reverse("admin:companies_company_change", args=[company.pk])
        return format_html('<a href="{}">{}</a>', url, company.name)

    @admin.display(description=_("best confidence"), ordering=F("best_confidence").asc(nulls_first=True))
    def best_confidence_display(self, company: FirmToImprove) -> str:
        return _percent(company.best_confidence)

    @admin.display(description=_("how to improve the profile"))
    def hints(self, company: FirmToImprove):
        advice = profile_hints(
            sectors=[sector.code for sector in company.sectors.all()],
            languages=company.languages,
            listings=[ListingDraft(x.direction, x.text, x.cooperation) for x in company.listings.all()],
        )
        if not advice:
            return gettext("The profile is complete: perhaps no counterpart has joined yet.")
        return format_html("<ul>{}</ul>", format_html_join("", "<li>{}</li>", ((hint,) for hint in advice)))
