import django_filters
from django.db.models import Q, QuerySet

from companies.models import Company, CooperationForm, Country


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

    def filter_sector(self, queryset: QuerySet[Company], name: str, value: str) -> QuerySet[Company]:
        matching = Company.objects.filter(Q(sectors__code=value) | Q(activity_division_id=value)).values("pk")
        return queryset.filter(pk__in=matching)

    def filter_cooperation(self, queryset: QuerySet[Company], name: str, value: str) -> QuerySet[Company]:
        matching = Company.objects.filter(listings__cooperation__contains=[value]).values("pk")
        return queryset.filter(pk__in=matching)
