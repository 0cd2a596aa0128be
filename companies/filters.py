import django_filters
from django.db.models import Exists, OuterRef, Q, QuerySet

from companies.models import Company, CooperationForm, Country, Listing


class CompanyFilter(django_filters.FilterSet):
    country = django_filters.ChoiceFilter(choices=Country.choices)
    size = django_filters.ChoiceFilter(choices=Company.Size.choices)
    city = django_filters.CharFilter(lookup_expr="iexact")
    sector = django_filters.CharFilter(
        method="filter_sector", label="ISIC Rev.4 division (2 digits), from the company's sectors or activity code"
    )
    cooperation = django_filters.ChoiceFilter(
        choices=CooperationForm.choices, method="filter_cooperation", label="Cooperation form of an offer or need"
    )

    class Meta:
        model = Company
        fields = ["country", "size", "city", "sector", "cooperation"]

    # EXISTS rather than a join: no duplicate rows to remove, and PostgreSQL can still read a page of firms
    # in name order from the directory's index, testing each against a hashed set of the sector's firms.
    def filter_sector(self, queryset: QuerySet[Company], name: str, value: str) -> QuerySet[Company]:
        named = Company.sectors.through.objects.filter(company_id=OuterRef("pk"), sector_id=value)
        return queryset.filter(Q(activity_division_id=value) | Exists(named))

    def filter_cooperation(self, queryset: QuerySet[Company], name: str, value: str) -> QuerySet[Company]:
        return queryset.filter(Exists(Listing.objects.filter(company_id=OuterRef("pk"), cooperation__contains=[value])))
