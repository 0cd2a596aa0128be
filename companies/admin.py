from django import forms
from django.contrib import admin, messages
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import NON_FIELD_ERRORS
from django.db import models
from django.db.models import Count, Q
from django.http import HttpResponseRedirect
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.text import capfirst
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from import_export.admin import ImportExportModelAdmin

from companies import selectors, services
from companies.models import (
    ChamberStaff,
    Company,
    ConsentPurpose,
    Listing,
    Membership,
    Organisation,
    Sector,
    StatusChange,
)
from companies.resources import CompanyResource

# The review workbench's page of one firm's suggestions. Named, not imported: companies must not import
# matchmaking, and without it the firm's page simply shows no link.
FIRM_SUGGESTIONS_URL = "admin:matchmaking_match_review_firm"


def _labels(choices: type[models.TextChoices], values: list[str]) -> str:
    """Codes as their labels in the active language ("distribution, supply" → "Distribution, Supply")."""
    labels = dict(choices.choices)
    return ", ".join(str(labels.get(value, value)) for value in values) or "–"


class ChoiceArrayAdmin:
    """Lists of codes (business languages, cooperation forms) as labelled checkboxes rather than the text
    "vi,en" that an ArrayField's own form field shows and expects."""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if isinstance(db_field, ArrayField) and db_field.base_field.choices:
            return forms.TypedMultipleChoiceField(
                choices=db_field.base_field.choices,
                required=not db_field.blank,
                label=capfirst(db_field.verbose_name),
                help_text=db_field.help_text,
                widget=forms.CheckboxSelectMultiple,
            )
        return super().formfield_for_dbfield(db_field, request, **kwargs)


class ListingInline(ChoiceArrayAdmin, admin.StackedInline):
    model = Listing
    extra = 0
    fields = ["direction", "kind", "text", "language", "cooperation", "sectors"]
    readonly_fields = ["language"]
    autocomplete_fields = ["sectors"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("sectors")


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


class StatusChangeInline(admin.TabularInline):
    model = StatusChange
    extra = 0
    can_delete = False
    fields = ["changed_at", "from_status", "to_status", "changed_by", "note"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("changed_by")


@admin.register(Company)
class CompanyAdmin(ChoiceArrayAdmin, ImportExportModelAdmin):
    resource_classes = [CompanyResource]
    list_display = [
        "name",
        "country",
        "city",
        "activity_code",
        "activity_division",
        "size",
        "chamber",
        "status",
        "offer_count",
        "need_count",
        "updated_at",
    ]
    list_filter = ["country", "status", "size", "chamber", "sectors", "source"]
    list_select_related = ["chamber", "activity_division"]
    search_fields = ["name", "city", "external_id", "activity_code", "contact_email"]
    autocomplete_fields = ["sectors"]
    readonly_fields = [
        "activity_division",
        "consent_version",
        "consent_purposes_labels",
        "consent_given_at",
        "created_at",
        "updated_at",
        "suggestions",
    ]
    inlines = [ListingInline, MembershipInline, StatusChangeInline]
    actions = ["publish", "suspend"]
    date_hierarchy = "created_at"
    list_per_page = 50
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "name",
                    "country",
                    "city",
                    "activity_code",
                    "activity_division",
                    "sectors",
                    "size",
                    "founded",
                    "languages",
                    "website",
                ]
            },
        ),
        (_("Contact (never public)"), {"fields": ["contact_name", "contact_email", "contact_phone"]}),
        (_("Vetting"), {"fields": ["chamber", "status", "suggestions"]}),
        (_("Consent"), {"fields": ["consent_version", "consent_purposes_labels", "consent_given_at"]}),
        (_("Origin"), {"fields": ["external_id", "source", "source_ref", "created_at", "updated_at"]}),
    ]

    def get_queryset(self, request):
        return (
            selectors.companies_visible_to_staff(request.user)
            .select_related("chamber", "activity_division")
            .annotate(
                offer_total=Count("listings", filter=Q(listings__direction=Listing.Direction.OFFER)),
                need_total=Count("listings", filter=Q(listings__direction=Listing.Direction.NEED)),
            )
        )

    def get_fieldsets(self, request, obj=None):
        # The link to the firm's suggestions is for a saved firm, and for staff who may read matches.
        if obj is not None and request.user.has_perm("matchmaking.view_match"):
            return self.fieldsets
        return [
            (name, {**options, "fields": [f for f in options["fields"] if f != "suggestions"]})
            for name, options in self.fieldsets
        ]

    @admin.display(description=_("consent purposes"))
    def consent_purposes_labels(self, company: Company) -> str:
        return _labels(ConsentPurpose, company.consent_purposes)

    @admin.display(description=_("suggested matches"))
    def suggestions(self, company: Company) -> str:
        try:
            url = reverse(FIRM_SUGGESTIONS_URL, args=[company.pk])
        except NoReverseMatch:  # the matchmaking app is not installed
            return "–"
        return format_html('<a href="{}">{}</a>', url, gettext("This firm’s suggestions in the review workbench"))

    @admin.display(description=_("offers"), ordering="offer_total")
    def offer_count(self, company: Company) -> int:
        return company.offer_total

    @admin.display(description=_("needs"), ordering="need_total")
    def need_count(self, company: Company) -> int:
        return company.need_total

    def get_readonly_fields(self, request, obj=None):
        # Status moves only through the actions, so each change is recorded; a firm added here starts as a draft.
        fields = [*super().get_readonly_fields(request, obj), "status"]
        if not request.user.is_superuser:
            fields.append("chamber")
        return fields

    def save_model(self, request, obj, form, change):
        services.apply_activity_code(obj)
        staff = getattr(request.user, "chamber_staff", None)
        if not request.user.is_superuser and staff is not None:
            obj.chamber_id = staff.chamber_id
        if not change:
            obj.source = "admin"
        super().save_model(request, obj, form, change)

    def get_resource_kwargs(self, request, *args, **kwargs):
        return {**super().get_resource_kwargs(request, *args, **kwargs), "user": request.user}

    def process_result(self, result, request):
        # The confirmation checks every row again (a firm may have changed hands since the dry run); the
        # resource then rolled the whole file back, where the library would still log and announce success.
        if result.has_errors() or result.has_validation_errors():
            problems = [
                (
                    row.number,
                    " ".join(row.non_field_specific_errors)
                    if field == NON_FIELD_ERRORS
                    else f"{field}: {' '.join(errors)}",
                )
                for row in result.invalid_rows
                for field, errors in row.error_dict.items()
            ] + [(number, str(error.error)) for number, errors in result.row_errors() for error in errors]
            self.message_user(
                request,
                _("Nothing was imported. %(problems)s")
                % {
                    "problems": "; ".join(
                        [str(error.error) for error in result.base_errors]
                        + [_("Row %(number)s: %(problem)s") % {"number": n, "problem": p} for n, p in problems]
                    )
                },
                messages.ERROR,
            )
            return HttpResponseRedirect(reverse("admin:companies_company_import"))
        return super().process_result(result, request)

    def _change_status(self, request, queryset, to_status: str) -> None:
        changed, skipped = services.bulk_change_status(queryset, to_status, by=request.user)
        label = Company.Status(to_status).label
        self.message_user(
            request,
            ngettext("%(count)d company is now %(status)s.", "%(count)d companies are now %(status)s.", changed)
            % {"count": changed, "status": label},
            messages.SUCCESS,
        )
        for reason in skipped:
            self.message_user(request, reason, messages.WARNING)

    @admin.action(description=_("Publish the selected companies"), permissions=["change"])
    def publish(self, request, queryset):
        self._change_status(request, queryset, Company.Status.PUBLISHED)

    @admin.action(description=_("Suspend the selected companies"), permissions=["change"])
    def suspend(self, request, queryset):
        self._change_status(request, queryset, Company.Status.SUSPENDED)


@admin.register(Sector)
class SectorAdmin(admin.ModelAdmin):
    list_display = ["code", "level", "section", "name_en", "name_vi", "name_ru"]
    list_filter = ["level", "section"]
    search_fields = ["code", "name_en", "name_vi", "name_ru"]
    list_select_related = ["section"]


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "country", "kind", "vets_companies", "source_article"]
    list_filter = ["country", "kind", "vets_companies"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(ChamberStaff)
class ChamberStaffAdmin(admin.ModelAdmin):
    list_display = ["user", "chamber", "language", "digest"]
    list_filter = ["chamber", "digest"]
    list_select_related = ["user", "chamber"]
    autocomplete_fields = ["user"]

    def save_model(self, request, obj, form, change):
        services.make_chamber_staff(obj.user, obj.chamber)


@admin.register(StatusChange)
class StatusChangeAdmin(admin.ModelAdmin):
    list_display = ["company", "from_status", "to_status", "changed_by", "changed_at"]
    list_filter = ["to_status"]
    list_select_related = ["company", "changed_by"]
    search_fields = ["company__name"]

    def get_queryset(self, request):
        visible = selectors.companies_visible_to_staff(request.user)
        return super().get_queryset(request).filter(company__in=visible)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
