"""django-import-export resources: CSV/XLSX import and export of companies from the admin."""

from django.core.exceptions import ValidationError
from import_export import fields, resources, widgets

from companies.classification import ActivityCodeError
from companies.services import apply_activity_code

from companies.models import Company, Listing, Organisation, Sector


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

    class Meta:
        model = Company
        import_id_fields = ["external_id"]
        fields = [
            "external_id", "name", "country", "city", "activity_code", "sectors", "size", "founded", "languages",
            "website", "contact_name", "contact_email", "contact_phone", "chamber", "status", "offers", "needs",
        ]
        skip_unchanged = True
        report_skipped = True
        use_transactions = True

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

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
        staff = getattr(self.user, "chamber_staff", None)
        if self.user is not None and not self.user.is_superuser and staff is not None:
            instance.chamber_id = staff.chamber_id
        if not instance.source_ref:
            instance.source = "admin"
