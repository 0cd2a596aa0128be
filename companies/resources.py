"""django-import-export resources: CSV/XLSX import and export of companies from the admin."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from import_export import fields, resources, widgets

from companies.classification import ActivityCodeError
from companies.models import Company, Country, Listing, Organisation, Sector
from companies.services import apply_activity_code
from companies.spreadsheets import escape_formula, unescape_formula


class CompanyResource(resources.ModelResource):
    sectors = fields.Field(
        attribute="sectors", column_name="sectors", widget=widgets.ManyToManyWidget(Sector, separator=";", field="code")
    )
    chamber = fields.Field(
        attribute="chamber", column_name="chamber", widget=widgets.ForeignKeyWidget(Organisation, field="slug")
    )
    languages = fields.Field(attribute="languages", column_name="languages", widget=widgets.SimpleArrayWidget(";"))
    offers = fields.Field(column_name="offers", readonly=True)
    needs = fields.Field(column_name="needs", readonly=True)
    # Exported for reading only: a status moves through the vetting actions, each with its StatusChange row.
    status = fields.Field(attribute="status", column_name="status", readonly=True, widget=widgets.CharWidget())

    class Meta:
        model = Company
        import_id_fields = ["external_id"]
        fields = [
            "external_id",
            "name",
            "country",
            "city",
            "activity_code",
            "sectors",
            "size",
            "founded",
            "languages",
            "website",
            "contact_name",
            "contact_email",
            "contact_phone",
            "chamber",
            "status",
            "offers",
            "needs",
        ]
        skip_unchanged = True
        report_skipped = True
        use_transactions = True
        clean_model_instances = True  # the model's validators (control characters, websites) hold for staff too

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user  # None: code run by an operator (a shell, a test), with a superuser's rights

    @property
    def _staff_chamber(self) -> Organisation | None:
        """The chamber a staff member's import is confined to; None for superusers and operators."""
        if self.user is None or self.user.is_superuser:
            return None
        staff = getattr(self.user, "chamber_staff", None)
        if staff is None:
            raise ValidationError(_("Your account is not linked to a chamber: it cannot import companies."))
        return staff.chamber

    def import_data(
        self,
        dataset,
        dry_run=False,
        raise_errors=False,
        use_transactions=None,
        collect_failed_rows=False,
        rollback_on_validation_errors=False,
        **kwargs,
    ):
        # All or nothing, at the confirmation too: the admin asks for a rollback on refused rows only when it
        # skips the confirmation, and a firm may have changed hands between the dry run and the confirmation.
        return super().import_data(
            dataset,
            dry_run=dry_run,
            raise_errors=raise_errors,
            use_transactions=True,
            collect_failed_rows=collect_failed_rows,
            rollback_on_validation_errors=True,
            **kwargs,
        )

    def before_import_row(self, row, **kwargs) -> None:
        for column, value in row.items():
            row[column] = unescape_formula(value)

    def after_init_instance(self, instance: Company, new: bool, row, **kwargs) -> None:
        chamber = self._staff_chamber
        if chamber is None:
            return
        if not new and instance.chamber_id != chamber.pk:
            raise ValidationError(
                {
                    "external_id": _(
                        "This company is vetted by another chamber, or by none: you may import only your own "
                        "chamber's companies."
                    )
                }
            )
        named = row.get("chamber")
        if named not in (None, "") and str(named).strip() != chamber.slug:
            raise ValidationError(
                {
                    "chamber": _(
                        "An import cannot move a company to another chamber: leave the column empty or write %(slug)s."
                    )
                    % {"slug": chamber.slug}
                }
            )

    def export_field(self, field, instance, **kwargs):
        # The admin's files are opened in spreadsheets; its import undoes the escaping.
        return escape_formula(super().export_field(field, instance, **kwargs))

    def get_queryset(self):
        return super().get_queryset().select_related("chamber").prefetch_related("sectors", "listings")

    def _texts(self, company: Company, direction: str) -> str:
        return "\n".join(x.text for x in company.listings.all() if x.direction == direction)

    def dehydrate_offers(self, company: Company) -> str:
        return self._texts(company, Listing.Direction.OFFER)

    def dehydrate_needs(self, company: Company) -> str:
        return self._texts(company, Listing.Direction.NEED)

    def before_save_instance(self, instance: Company, row, **kwargs) -> None:
        try:
            apply_activity_code(instance)
        except ActivityCodeError as error:
            raise ValidationError({"activity_code": str(error)}) from None
        chamber = self._staff_chamber
        if chamber is not None:
            instance.chamber = chamber
        if instance.chamber is not None and instance.chamber.country != instance.country:
            raise ValidationError(
                {
                    "chamber": _("%(chamber)s vets the companies of %(country)s only.")
                    % {"chamber": instance.chamber.name, "country": Country(instance.chamber.country).label}
                }
            )
        if instance._state.adding:
            # A new firm waits for its chamber's review, which publishes it with a StatusChange row.
            instance.status = Company.Status.PENDING
        if not instance.source_ref:
            instance.source = "admin"
