"""Reads for matchmaking: the engine's input built from the database, and stored matches."""

from __future__ import annotations

from django.db.models import Prefetch, Q, QuerySet

from companies.models import Company, Listing, Sector
from matchmaking.engine import Listing as EngineListing
from matchmaking.engine import Profile
from matchmaking.models import Match

# Companies fetched per round of queries: each round is 4 queries (companies, their sectors, their
# listings, the listings' sectors), so a full read costs 4 queries per PROFILE_CHUNK firms.
PROFILE_CHUNK = 2000


def matchable_profiles() -> list[Profile]:
    """Every published company as an engine Profile (key = company pk), in pk order."""
    sector_codes = Sector.objects.only("code")
    companies = (
        Company.objects.published()
        .order_by("pk")
        .only("pk", "country", "activity_division_id", "languages")
        .prefetch_related(
            Prefetch("sectors", queryset=sector_codes),
            Prefetch(
                "listings",
                queryset=Listing.objects.order_by("pk")
                .only("pk", "company_id", "direction", "text", "cooperation")
                .prefetch_related(Prefetch("sectors", queryset=sector_codes)),
            ),
        )
    )
    return [_profile(company) for company in companies.iterator(chunk_size=PROFILE_CHUNK)]


def _profile(company: Company) -> Profile:
    return Profile(
        key=company.pk,
        country=company.country,
        listings=tuple(
            EngineListing(
                direction=listing.direction,
                text=listing.text,
                cooperation=tuple(listing.cooperation),
                sectors=tuple(sector.code for sector in listing.sectors.all()),
                ref=listing.pk,
            )
            for listing in company.listings.all()
        ),
        sectors=tuple(sector.code for sector in company.sectors.all()),
        activity_division=company.activity_division_id,
        languages=tuple(company.languages),
    )


def matches_for_company(company: Company) -> QuerySet[Match]:
    """All matches a company is part of, on either side, best first."""
    return (
        Match.objects.filter(Q(company_vn=company) | Q(company_ru=company))
        .select_related("company_vn", "company_ru")
        .order_by("-score", "id")
    )


def ranking_by_external_id(top: int) -> dict[str, list[str]]:
    """{external_id: [counterpart ids, best first]} for every company with an external_id.

    The format of the matching evaluation set; a company without matches is listed with [].
    Counterparts without an external_id appear as ``id-<pk>`` so no entry is silently lost.
    """
    external = dict(Company.objects.exclude(external_id=None).values_list("pk", "external_id"))
    ranking: dict[str, list[str]] = {external_id: [] for external_id in external.values()}
    pairs = Match.objects.order_by("-score", "id").values_list("company_vn_id", "company_ru_id")
    for vn, ru in pairs.iterator(chunk_size=5000):
        for own, other in ((vn, ru), (ru, vn)):
            if own in external and len(ranking[external[own]]) < top:
                ranking[external[own]].append(external.get(other, f"id-{other}"))
    return ranking
