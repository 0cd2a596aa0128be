"""Reads of company profiles that are more than a filter."""

from __future__ import annotations

import time

from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import BooleanField, Exists, F, Func, OuterRef, Prefetch, Q, QuerySet
from django.db.models.functions import JSONObject

from companies.models import Company, Listing, Membership, Sector


def _with_profile(queryset: QuerySet[Company]) -> QuerySet[Company]:
    return queryset.select_related("chamber", "activity_division").prefetch_related(
        "sectors", Prefetch("listings", queryset=Listing.objects.prefetch_related("sectors"))
    )


def directory_companies() -> QuerySet[Company]:
    """The firms the directory's pages show: published, and shown to the other country by consent (or named
    in the articles), with their public profiles."""
    return _with_profile(Company.objects.shown_to_others())


def _sector_codes(through, owner: str) -> ArraySubquery:
    return ArraySubquery(through.objects.filter(**{owner: OuterRef("pk")}).order_by("sector_id").values("sector_id"))


def with_public_profile(queryset: QuerySet[Company]) -> QuerySet[Company]:
    """Companies with what their public profile shows, in two queries for any number of them: the sector
    codes of the firm and of each listing as arrays (``sector_codes``; names come from sectors_by_code()),
    the chamber joined and the listings prefetched."""
    listings = Listing.objects.annotate(sector_codes=_sector_codes(Listing.sectors.through, "listing_id"))
    return (
        queryset.select_related("chamber")
        .annotate(sector_codes=_sector_codes(Company.sectors.through, "company_id"))
        .prefetch_related(Prefetch("listings", queryset=listings))
    )


def public_profile_annotations(firm: str) -> dict:
    """Annotations that read a firm's public profile beside rows of another model, in the same query (``firm``:
    the name of the rows' field or annotation holding the firm's key): ``profile_sectors``, the firm's sector
    codes, and ``profile_listings``, its offers and needs as JSON objects (their sector codes included), in
    the order of Listing's Meta. serializers.public_company_data_from turns them into the public profile."""
    listings = (
        Listing.objects.filter(company_id=OuterRef(firm))
        .order_by("direction", "id")
        .values(
            json=JSONObject(
                id="id",
                direction="direction",
                kind="kind",
                text="text",
                language="language",
                cooperation="cooperation",
                sectors=_sector_codes(Listing.sectors.through, "listing_id"),
            )
        )
    )
    sectors = Company.sectors.through.objects.filter(company_id=OuterRef(firm)).order_by("sector_id")
    return {"profile_sectors": ArraySubquery(sectors.values("sector_id")), "profile_listings": ArraySubquery(listings)}


def public_directory() -> QuerySet[Company]:
    """The firms the API's directory shows (those of directory_companies), as it shows them."""
    return with_public_profile(Company.objects.shown_to_others())


# The ISIC table is reference data, written by migrations and load_seeds: each process keeps it a few minutes
# instead of reading it for every page that names sectors.
SECTOR_CACHE_SECONDS = 300
_sectors: tuple[float, dict[str, Sector]] = (0.0, {})


def sectors_by_code() -> dict[str, Sector]:
    """Every sector (sections and divisions) by code; ``Sector.name`` follows the active language."""
    global _sectors
    expires, sectors = _sectors
    if time.monotonic() >= expires:
        sectors = {sector.code: sector for sector in Sector.objects.all()}
        _sectors = (time.monotonic() + SECTOR_CACHE_SECONDS, sectors)
    return sectors


def forget_sectors() -> None:
    """Read the sector table again on next use (after loading or renaming sectors)."""
    global _sectors
    _sectors = (0.0, {})


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

import json  # noqa: E402

from django.conf import settings  # noqa: E402
from django.contrib.postgres.fields import ArrayField  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import BigIntegerField, Count, IntegerField, Subquery, Value  # noqa: E402
from django.utils.module_loading import import_string  # noqa: E402
from rest_framework.filters import search_smart_split  # noqa: E402

from companies.models import Country  # noqa: E402


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


def _firms_naming(term: str) -> Q:
    # A union of index scans (trigram indexes on UPPER(name), UPPER(city) and UPPER(text)) where one condition
    # across both tables would read every firm; "pk = ANY(ARRAY(...))" so the firms are then fetched by key
    # (the planner's guess for "pk IN (...)" is a scan of the whole table).
    named = Company.objects.filter(Q(name__icontains=term) | Q(city__icontains=term)).order_by().values("pk")
    listed = Listing.objects.filter(text__icontains=term).order_by().values("company_id")
    return Q(_KeyInArray(F("pk"), ArraySubquery(named.union(listed))))


class _KeyInArray(Func):
    """``key = ANY(array)``, a condition."""

    arg_joiner = " = ANY("
    template = "(%(expressions)s))"
    output_field = BooleanField()


def search_companies_by_terms(queryset: QuerySet[Company], terms: list[str]) -> QuerySet[Company]:
    """Firms of ``queryset`` in which every term is found (case-insensitive) in the name, the city or one
    and the same offer or need: the rule of DRF's SearchFilter over ``name``, ``city`` and ``listings__text``,
    without its join and with the trigram indexes."""
    terms = [term for term in terms if term]
    if not terms:
        return queryset
    # Each term is somewhere in the firm: for one term, the whole rule.
    queryset = queryset.filter(*(_firms_naming(term) for term in terms))
    if len(terms) == 1:
        return queryset
    in_profile = [Q(name__icontains=term) | Q(city__icontains=term) for term in terms]
    in_one_listing = Listing.objects.filter(
        *(
            Q(text__icontains=term) | Q(company__name__icontains=term) | Q(company__city__icontains=term)
            for term in terms
        ),
        company=OuterRef("pk"),
    )
    return queryset.filter(Q(*in_profile) | Exists(in_one_listing))


class _RankOf(Func):
    """The rank of the row's key in a JSON object ``{"id": rank}``: a binary search per row, where
    ``array_position`` over thousands of ranked ids would scan the array for each row."""

    output_field = IntegerField()

    def __init__(self, ranks: str, key) -> None:
        super().__init__(Value(ranks), key)

    def as_sql(self, compiler, connection, **extra_context):
        (ranks_sql, ranks_params), (key_sql, key_params) = (compiler.compile(e) for e in self.source_expressions)
        return f"(({ranks_sql})::jsonb ->> ({key_sql})::text)::integer", [*ranks_params, *key_params]


def ranked_ids(text: str) -> list[int] | None:
    """The firms ``text`` finds by meaning and by its words, best first, from the search settings.DIRECTORY_SEARCH
    names (matchmaking's, which companies may not import); None when there is none or it cannot run here."""
    path = getattr(settings, "DIRECTORY_SEARCH", "")
    text = " ".join(text.split())
    if not path or not text:
        return None
    return import_string(path)(text)


def in_rank_order(queryset: QuerySet[Company], ids: list[int]) -> QuerySet[Company]:
    """The firms of ``queryset`` (its filters kept) among ``ids``, in the order of ``ids``."""
    ranks = json.dumps({str(pk): rank for rank, pk in enumerate(ids)})
    return (
        queryset.filter(_KeyInArray(F("pk"), Value(ids, output_field=ArrayField(IntegerField()))))
        .annotate(search_rank=_RankOf(ranks, F("pk")))
        .order_by("search_rank", "pk")
    )


_PROBE = -1  # a key no firm has, marking where the keys go in the SQL of all_shown
_all_shown_sql: tuple[str, list] | None = None


def all_shown(ids: list[int]) -> bool:
    """Whether every firm of ``ids`` is still shown to others (Company.objects.shown_to_others()), in one query
    by key. Its SQL is compiled once per process (the rule stays shown_to_others'): the check runs for every page
    served from the directory's cache (directory_cache), which must never show a firm hidden in the meantime,
    even by a write that sent no signal."""
    global _all_shown_sql
    if not ids:
        return True
    if _all_shown_sql is None:
        probe = Value([_PROBE], output_field=ArrayField(BigIntegerField()))
        query = Company.objects.shown_to_others().filter(_KeyInArray(F("pk"), probe)).order_by().values("pk")
        sql, params = query.query.sql_with_params()
        _all_shown_sql = (f"SELECT COUNT(*) FROM ({sql}) shown", list(params))
    sql, params = _all_shown_sql
    keys = list(dict.fromkeys(ids))
    with connection.cursor() as cursor:
        cursor.execute(sql, [keys if param == [_PROBE] else param for param in params])
        return cursor.fetchone()[0] == len(keys)


def search_directory(queryset: QuerySet[Company], text: str, *, lexical: str = "phrase") -> QuerySet[Company]:
    """The directory's search, the same on the page and in the API: firms found by what ``text`` means in any
    language, and those containing its words, ranked best first (see matchmaking/directory_search.py).

    Without the search by meaning the lexical rule of each client applies, as before it: ``lexical="phrase"``
    (the page: the whole text in the name, city or an offer or need) or ``"terms"`` (the API: DRF's rule).
    """
    text = text.strip()
    if not text:
        return queryset
    ids = ranked_ids(text)
    if ids is not None:
        return in_rank_order(queryset, ids)
    if lexical == "terms":
        return search_companies_by_terms(queryset, search_smart_split(text))
    return search_companies(queryset, text)


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
    """Live figures of the directory: its firms (those shown to the other country) in all, per country, and
    the ``top_sectors`` ISIC divisions with the most of them (ties by code).

    A firm counts in a division when it names that sector or its activity code falls in it: the rule of the
    directory's sector filter, so a figure and the filtered directory it links to agree.
    Returns ``{"total": int, "countries": [{"code", "label", "firms"}, ...], "sectors": [Sector, ...]}``,
    each sector annotated with ``firms``.
    """
    shown = Company.objects.shown_to_others()
    per_country = dict(shown.order_by().values_list("country").annotate(n=Count("pk")))
    named = Company.sectors.through.objects.filter(sector_id=OuterRef(OuterRef("pk"))).values("company_id")
    in_division = shown.filter(Q(pk__in=named) | Q(activity_division_id=OuterRef("pk"))).order_by().values("pk")
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
