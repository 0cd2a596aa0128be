"""The public directory: published firms that consented to be shown to the other country (and the firms named
in the articles), searchable and filterable, and each firm's public profile; any other firm's page is a 404.

Only what PublicCompanySerializer shows is shown here: never a contact person, email or phone, which firms
receive only once both have accepted an introduction.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import django_filters
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext_lazy as _

from companies import selectors
from companies.filters import CompanyFilter
from companies.models import Company, CooperationForm, Country, Language, Listing, Sector

PAGE_SIZE = 20
PREVIEW_CHARS = 160


class DirectoryFilter(CompanyFilter):
    """The API's filters with labels for people, a free-text search and the sector as a named select."""

    q = django_filters.CharFilter(method="filter_search", label=_("Search name, city, offers and needs"))
    country = django_filters.ChoiceFilter(choices=Country.choices, label=_("Country"), empty_label=_("Any country"))
    sector = django_filters.ChoiceFilter(
        method="filter_sector", label=_("Sector (ISIC division)"), empty_label=_("Any sector")
    )
    cooperation = django_filters.ChoiceFilter(
        choices=CooperationForm.choices,
        method="filter_cooperation",
        label=_("Cooperation form"),
        empty_label=_("Any form"),
    )
    size = django_filters.ChoiceFilter(choices=Company.Size.choices, label=_("Size"), empty_label=_("Any size"))
    city = django_filters.CharFilter(lookup_expr="iexact", label=_("City"))

    class Meta(CompanyFilter.Meta):
        fields = ["q", "country", "sector", "cooperation", "size", "city"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Read now, in the request's language, rather than once at import.
        self.filters["sector"].extra["choices"] = selectors.division_choices()

    def filter_search(self, queryset, name: str, value: str):
        # By meaning in any language, ranked, as the API's ?search= (lexical when the model cannot run here).
        return selectors.search_directory(queryset, value)


def _public_sectors(company: Company) -> list[Sector]:
    # A firm that named no sector is filed under the division of its activity code (as in the API).
    return list(company.sectors.all()) or ([company.activity_division] if company.activity_division else [])


def _first(listings: list[Listing], direction: str) -> Listing | None:
    return next((listing for listing in listings if listing.direction == direction), None)


def directory(request: HttpRequest) -> HttpResponse:
    companies = selectors.directory_companies().order_by("name", "pk")
    filterset = DirectoryFilter(request.GET or None, queryset=companies, request=request)
    page = Paginator(filterset.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = []
    for company in page:
        listings = list(company.listings.all())
        rows.append(
            {
                "company": company,
                "sectors": _public_sectors(company),
                "offer": _first(listings, Listing.Direction.OFFER),
                "need": _first(listings, Listing.Direction.NEED),
            }
        )
    return render(
        request,
        "companies/directory.html",
        {
            "filter": filterset,
            "form": filterset.form,
            "page_obj": page,
            "rows": rows,
            "preview_chars": PREVIEW_CHARS,
        },
    )


@dataclass
class PublicListing:
    kind: str
    text: str
    language: str
    cooperation: list[str] = field(default_factory=list)
    sectors: list[Sector] = field(default_factory=list)


def _public_listings(listings: list[Listing], direction: str) -> list[PublicListing]:
    return [
        PublicListing(
            kind=listing.get_kind_display(),
            text=listing.text,
            language=listing.language,
            cooperation=[CooperationForm(code).label for code in listing.cooperation if code in CooperationForm.values],
            sectors=list(listing.sectors.all()),
        )
        for listing in listings
        if listing.direction == direction
    ]


def company_detail(request: HttpRequest, pk: int) -> HttpResponse:
    company = get_object_or_404(selectors.directory_companies(), pk=pk)
    listings = list(company.listings.all())
    website = company.website if company.website.lower().startswith(("https://", "http://")) else ""
    return render(
        request,
        "companies/directory_company.html",
        {
            "company": company,
            # What to suggest next depends on the reader's own firm: a member is never asked to sign up again.
            "viewer_company": selectors.company_of(request.user),
            "sectors": _public_sectors(company),
            "business_languages": [Language(code).label for code in company.languages if code in Language.values],
            "website": website,
            "offers": _public_listings(listings, Listing.Direction.OFFER),
            "needs": _public_listings(listings, Listing.Direction.NEED),
        },
    )
