"""Reads of company profiles that are more than a filter."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from companies.models import Company, Listing, Membership


def _with_profile(queryset: QuerySet[Company]) -> QuerySet[Company]:
    return queryset.select_related("chamber", "activity_division").prefetch_related(
        "sectors", Prefetch("listings", queryset=Listing.objects.prefetch_related("sectors"))
    )


def published_companies() -> QuerySet[Company]:
    return _with_profile(Company.objects.published())


def company_of(user) -> Company | None:
    """The company a member acts for, or None."""
    if not user.is_authenticated:
        return None
    membership = Membership.objects.filter(user=user).select_related("company").first()
    return membership.company if membership else None


def companies_visible_to_staff(user) -> QuerySet[Company]:
    """Superusers see every company; chamber staff only those their chamber vets."""
    queryset = Company.objects.all()
    if user.is_superuser:
        return queryset
    staff = getattr(user, "chamber_staff", None)
    if staff is None:
        return queryset.none()
    return queryset.filter(chamber_id=staff.chamber_id)


# --- public pages (home, directory) ---------------------------------------------------------------
# Imports of this section stay here, so the reads above keep their own imports untouched.

from django.db.models import Count, F, IntegerField, OuterRef, Q, Subquery  # noqa: E402

from companies.models import Country, Sector  # noqa: E402


class _RowCount(Subquery):
    """The number of rows of a subquery, as a column of the outer query."""

    template = "(SELECT COUNT(*) FROM (%(subquery)s) _rows)"
    output_field = IntegerField()


def search_companies(queryset: QuerySet[Company], text: str) -> QuerySet[Company]:
    """Firms of ``queryset`` whose name, city or any offer or need contains ``text`` (case-insensitive).

    Matched through a subquery on primary keys, so a firm with several matching listings stays one row.
    """
    text = text.strip()
    if not text:
        return queryset
    matching = Company.objects.filter(
        Q(name__icontains=text) | Q(city__icontains=text) | Q(listings__text__icontains=text)
    ).values("pk")
    return queryset.filter(pk__in=matching)


def division_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """The ISIC Rev.4 divisions as choices grouped by section, ``[(section, [(code, "code name"), ...])]``,
    named in the active language: call it once the request's language is active."""
    groups: dict[str, list[tuple[str, str]]] = {}
    divisions = Sector.objects.filter(level=Sector.Level.DIVISION).select_related("section").order_by("code")
    for division in divisions:
        section = f"{division.section.code} {division.section.name}" if division.section else ""
        groups.setdefault(section, []).append((division.code, f"{division.code} {division.name}"))
    return list(groups.items())


def directory_figures(top_sectors: int = 8) -> dict:
    """Live figures of the directory: published firms in all, per country, and the ``top_sectors`` ISIC
    divisions with the most published firms (ties by code).

    A firm counts in a division when it names that sector or its activity code falls in it: the rule of the
    directory's sector filter, so a figure and the filtered directory it links to agree.
    Returns ``{"total": int, "countries": [{"code", "label", "firms"}, ...], "sectors": [Sector, ...]}``,
    each sector annotated with ``firms``.
    """
    published = Company.objects.published()
    per_country = dict(published.order_by().values_list("country").annotate(n=Count("pk")))
    named = Company.sectors.through.objects.filter(sector_id=OuterRef(OuterRef("pk"))).values("company_id")
    in_division = published.filter(Q(pk__in=named) | Q(activity_division_id=OuterRef("pk"))).order_by().values("pk")
    sectors = list(
        Sector.objects.filter(level=Sector.Level.DIVISION)
        .annotate(firms=_RowCount(in_division))
        .filter(firms__gt=0)
        .order_by("-firms", "code")[:top_sectors]
    )
    return {
        "total": sum(per_country.values()),
        "countries": [
            {"code": code, "label": label, "firms": per_country.get(code, 0)} for code, label in Country.choices
        ],
        "sectors": sectors,
    }


def trade_figures() -> list:
    """Vietnam–Russia trade figures as the articles report them (seeds.TradeFigure), latest period first;
    each keeps its ``source_article``. Imported here, not at the top: companies does not need seeds to load."""
    from seeds.models import TradeFigure

    return list(TradeFigure.objects.order_by(F("period_end").desc(nulls_last=True), "flow", "kind", "pk"))
