from django.contrib import admin, messages
from django.core.exceptions import NON_FIELD_ERRORS
from django.db import models
from django.db.models import Count, Q
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from import_export.admin import ImportExportModelAdmin

from companies import selectors, services
from companies.models import ChamberStaff, Company, Listing, Membership, Organisation, Sector, StatusChange
from companies.resources import CompanyResource


class ListingInline(admin.StackedInline):
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
class CompanyAdmin(ImportExportModelAdmin):
    resource_classes = [CompanyResource]
    list_display = [
        "name", "country", "city", "activity_code", "activity_division", "size", "chamber", "status",
        "offer_count", "need_count", "updated_at",
    ]
    list_filter = ["country", "status", "size", "chamber", "sectors", "source"]
    list_select_related = ["chamber", "activity_division"]
    search_fields = ["name", "city", "external_id", "activity_code", "contact_email"]
    autocomplete_fields = ["sectors"]
    readonly_fields = ["activity_division", "consent_version", "consent_purposes", "consent_given_at", "created_at", "updated_at"]
    inlines = [ListingInline, MembershipInline, StatusChangeInline]
    actions = ["publish", "suspend"]
    date_hierarchy = "created_at"
    list_per_page = 50
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    fieldsets = [
        (None, {"fields": ["name", "country", "city", "activity_code", "activity_division", "sectors", "size", "founded", "languages", "website"]}),
        (_("Contact (never public)"), {"fields": ["contact_name", "contact_email", "contact_phone"]}),
        (_("Vetting"), {"fields": ["chamber", "status"]}),
        (_("Consent"), {"fields": ["consent_version", "consent_purposes", "consent_given_at"]}),
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
                (row.number, " ".join(row.non_field_specific_errors) if field == NON_FIELD_ERRORS
                 else f"{field}: {' '.join(errors)}")
                for row in result.invalid_rows for field, errors in row.error_dict.items()
            ] + [(number, str(error.error)) for number, errors in result.row_errors() for error in errors]
            self.message_user(
                request,
                _("Nothing was imported. %(problems)s") % {"problems": "; ".join(
                    [str(error.error) for error in result.base_errors]
                    + [_("Row %(number)s: %(problem)s") % {"number": n, "problem": p} for n, p in problems]
                )},
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
