"""Reads for the chamber dashboard (/admin/dashboard/): what the service achieved, week by week.

Figures for this ISO week and the WEEKS - 1 before it, on the chamber's own clock, for one chamber (the firms
it vets and the matches where either firm is one of them: the Matches list's rule) or for all chambers
(superusers). Each kind of row is read by one aggregate query, whatever the number of firms and matches:
firms, their publications, matches, match events, and the sectors of connected pairs. The figures are cached
for DASHBOARD_CACHE_SECONDS under a key per chamber and week, so a page view normally reads none of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import Aggregate, Count, DurationField, F, Q
from django.db.models.functions import TruncWeek
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from companies.models import COUNTRY_TIME_ZONES, Company, Organisation, Sector, StatusChange
from matchmaking.models import Match, MatchEvent

WEEKS = 13  # this week and the 12 before it
TOP_SECTORS = 5
CACHE_VERSION = 1  # raise when Figures changes shape, so no process reads another's older entries

# The MatchEvent actions the dashboard counts (matchmaking.services writes them).
DECISIONS = ("approved", "rejected")
# "undone": a decision taken back in the workbench (from_status is what it undid) no longer counts as one.
COUNTED_ACTIONS = (*DECISIONS, "undone", "introduced", "accepted", "declined", "expired", "outcome")

# Weekly series, in the order of the page's charts and table and of the CSV.
SERIES = (
    ("registered", _("Firms registered")),
    ("published", _("Firms published")),
    ("decisions", _("Decisions made")),
    ("approved", _("Suggestions approved")),
    ("rejected", _("Suggestions rejected")),
    ("introduced", _("Introductions made")),
    ("connected", _("Accepted by both firms")),
    ("declined", _("Declined")),
    ("expired", _("Expired unanswered")),
    ("met", _("Outcomes: met")),
    ("agreement", _("Outcomes: agreement signed")),
)
MEDIAN_LABEL = _("Median time from suggestion to decision (hours)")


class Median(Aggregate):
    """PostgreSQL's exact median of an interval (or a number): percentile_cont(0.5)."""

    function = "PERCENTILE_CONT"
    name = "Median"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = DurationField()


@dataclass(frozen=True)
class Scope:
    """Whose figures: one chamber's, or all chambers' (``chamber_id`` None), counted in weeks of ``time_zone``."""

    chamber_id: int | None
    name: str
    time_zone: str

    @property
    def cache_key(self) -> str:
        return f"dashboard:v{CACHE_VERSION}:{self.chamber_id or 'all'}:{self.time_zone}"


def scope_for(user, *, chamber_id: str | int | None = None) -> Scope | None:
    """The figures ``user`` may see: their chamber's (chamber staff), every chamber's or the one of
    ``chamber_id`` they pick (superusers; any other user's pick is ignored), or None (staff without a chamber)."""
    if user.is_superuser:
        chamber = None
        if chamber_id and str(chamber_id).isdigit():
            chamber = Organisation.objects.filter(pk=int(chamber_id), vets_companies=True).first()
        if chamber is None:
            return Scope(None, str(_("All chambers")), settings.TIME_ZONE)
    else:
        staff = getattr(user, "chamber_staff", None)
        if staff is None:
            return None
        chamber = staff.chamber
    return Scope(chamber.pk, chamber.name, COUNTRY_TIME_ZONES.get(chamber.country, settings.TIME_ZONE))


@dataclass
class Figures:
    weeks: list[date]  # the Mondays, oldest first; the last is this week
    weekly: dict[str, list[int]]  # SERIES name → one value per week
    median_hours: list[float | None]  # per week; None: no decision that week
    pending_firms: int  # waiting for vetting now
    suggestions_waiting: int  # suggested matches now
    top_sectors: list[dict] = field(default_factory=list)  # {"code", "name_en", "name_vi", "name_ru", "pairs"}
    computed_at: datetime | None = None

    @property
    def labels(self) -> list[str]:
        return [iso_week_label(monday) for monday in self.weeks]


def iso_week_label(monday: date) -> str:
    year, week, _day = monday.isocalendar()
    return f"{year}-W{week:02d}"


def weeks_until(today: date) -> list[date]:
    """The Mondays of the WEEKS ISO weeks ending with the one of ``today``, oldest first."""
    monday = today - timedelta(days=today.weekday())
    return [monday - timedelta(weeks=back) for back in range(WEEKS - 1, -1, -1)]


def chamber_figures(scope: Scope, *, now: datetime | None = None, use_cache: bool = True) -> Figures:
    """The dashboard's figures for ``scope``, from the cache when a process computed them in the last
    DASHBOARD_CACHE_SECONDS for the same scope and week."""
    now = now or timezone.now()
    weeks = weeks_until(timezone.localtime(now, ZoneInfo(scope.time_zone)).date())
    key = f"{scope.cache_key}:{iso_week_label(weeks[-1])}"
    if use_cache:
        cached = cache.get(key)
        if cached is not None:
            return cached
    figures = compute_figures(scope, weeks)
    figures.computed_at = now
    if use_cache and settings.DASHBOARD_CACHE_SECONDS > 0:
        cache.set(key, figures, settings.DASHBOARD_CACHE_SECONDS)
    return figures


# --- the queries --------------------------------------------------------------------------------------------


def _firm_scope(scope: Scope, prefix: str = "") -> Q:
    """The chamber's firms (companies.selectors.companies_visible_to_staff's rule, for a chamber a superuser
    may pick as well)."""
    return Q() if scope.chamber_id is None else Q(**{f"{prefix}chamber_id": scope.chamber_id})


def _match_scope(scope: Scope, prefix: str = "") -> Q:
    """Matches where either firm is the chamber's (the Matches list's rule). As ``IN (SELECT id …)`` of the
    chamber's firms rather than a join to both firms: at a million matches, a hashed list of the chamber's
    firms is read once, where two joins would look up two firms per match."""
    if scope.chamber_id is None:
        return Q()
    ours = Company.objects.filter(chamber_id=scope.chamber_id).values("pk")
    return Q(**{f"{prefix}company_vn__in": ours}) | Q(**{f"{prefix}company_ru__in": ours})


def _week_bounds(weeks: list[date], time_zone: str) -> list[datetime]:
    zone = ZoneInfo(time_zone)
    mondays = [*weeks, weeks[-1] + timedelta(weeks=1)]
    return [datetime.combine(monday, time.min, tzinfo=zone) for monday in mondays]


def _by_week(rows, weeks: list[date], name: str) -> list:
    found = {row["week"].date(): row[name] for row in rows}
    return [found.get(monday, 0) for monday in weeks]


def compute_figures(scope: Scope, weeks: list[date]) -> Figures:
    """Five queries: firms (waiting and registered per week), publications, suggestions waiting, match
    events per week (decisions with their median delay, introductions, answers, outcomes), top sectors."""
    zone = ZoneInfo(scope.time_zone)
    bounds = _week_bounds(weeks, scope.time_zone)
    start = bounds[0]

    # Firms: one pass, a conditional count per week (TruncWeek would need a second query for those waiting).
    firms = Company.objects.filter(_firm_scope(scope)).aggregate(
        pending=Count("pk", filter=Q(status=Company.Status.PENDING)),
        **{
            f"w{i}": Count("pk", filter=Q(created_at__gte=bounds[i], created_at__lt=bounds[i + 1]))
            for i in range(len(weeks))
        },
    )

    published = (
        StatusChange.objects.filter(
            _firm_scope(scope, "company__"), to_status=Company.Status.PUBLISHED, changed_at__gte=start
        )
        .annotate(week=TruncWeek("changed_at", tzinfo=zone))
        .values("week")
        .annotate(n=Count("pk"))
        .order_by()
    )

    waiting = Match.objects.filter(_match_scope(scope), status=Match.Status.SUGGESTED).count()

    events = (
        MatchEvent.objects.filter(_match_scope(scope, "match__"), action__in=COUNTED_ACTIONS, at__gte=start)
        .annotate(week=TruncWeek("at", tzinfo=zone))
        .values("week")
        .annotate(
            decisions=Count("pk", filter=Q(action__in=DECISIONS)) - Count("pk", filter=Q(action="undone")),
            approved=Count("pk", filter=Q(action="approved"))
            - Count("pk", filter=Q(action="undone", from_status=Match.Status.APPROVED)),
            rejected=Count("pk", filter=Q(action="rejected"))
            - Count("pk", filter=Q(action="undone", from_status=Match.Status.REJECTED)),
            delay=Median(F("at") - F("match__created_at"), filter=Q(action__in=DECISIONS)),
            introduced=Count("pk", filter=Q(action="introduced")),
            connected=Count("pk", filter=Q(action="accepted", to_status=Match.Status.CONNECTED)),
            declined=Count("pk", filter=Q(action="declined")),
            expired=Count("pk", filter=Q(action="expired")),
            # A pair whose firms both told their outcome in a week counts once, by the best outcome either told.
            agreement=Count("match", distinct=True, filter=Q(action="outcome") & _told(Match.Outcome.AGREEMENT)),
            met=Count(
                "match",
                distinct=True,
                filter=Q(action="outcome") & _told(Match.Outcome.MET) & ~_told(Match.Outcome.AGREEMENT),
            ),
        )
        .order_by()
    )
    events = list(events)

    weekly = {
        "registered": [firms[f"w{i}"] for i in range(len(weeks))],
        "published": _by_week(published, weeks, "n"),
        **{
            name: _by_week(events, weeks, name)
            for name in (
                "decisions",
                "approved",
                "rejected",
                "introduced",
                "connected",
                "declined",
                "expired",
                "met",
                "agreement",
            )
        },
    }
    delays = {row["week"].date(): row["delay"] for row in events}
    median_hours = [
        round(delays[monday].total_seconds() / 3600, 1) if delays.get(monday) is not None else None for monday in weeks
    ]
    return Figures(
        weeks=weeks,
        weekly=weekly,
        median_hours=median_hours,
        pending_firms=firms["pending"],
        suggestions_waiting=waiting,
        top_sectors=top_sectors_of_connected_pairs(scope),
    )


def _told(outcome: str) -> Q:
    return Q(match__outcome_vn=outcome) | Q(match__outcome_ru=outcome)


def top_sectors_of_connected_pairs(scope: Scope, *, limit: int = TOP_SECTORS) -> list[dict]:
    """The ISIC divisions with the most connected pairs, in one query: a pair counts once for each division
    either firm works in, whether the firm named it or it is its activity code's (the Matches list's sector
    filter rule). In SQL: the ORM's correlated form (a count per division) read every connected pair once per
    division, 18 s at a million matches; this reads them once."""
    pairs_sql, params = (
        Match.objects.filter(_match_scope(scope), status=Match.Status.CONNECTED)
        .values("id", "company_vn_id", "company_ru_id")
        .order_by()
        .query.sql_with_params()
    )
    firm_sectors = Company.sectors.through._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH pair AS ({pairs_sql}),
            firm AS (SELECT id AS pair, company_vn_id AS company FROM pair
                     UNION ALL SELECT id, company_ru_id FROM pair),
            pair_sector AS (
                SELECT firm.pair, named.sector_id AS code FROM firm
                    JOIN {firm_sectors} named ON named.company_id = firm.company
                UNION  -- distinct: a pair counts once per division
                SELECT firm.pair, company.activity_division_id FROM firm
                    JOIN {Company._meta.db_table} company ON company.id = firm.company
                    WHERE company.activity_division_id IS NOT NULL
            )
            SELECT sector.code, sector.name_en, sector.name_vi, sector.name_ru, count(*) AS pairs
            FROM pair_sector JOIN {Sector._meta.db_table} sector ON sector.code = pair_sector.code
            GROUP BY sector.code ORDER BY pairs DESC, sector.code LIMIT %s
            """,
            [*params, limit],
        )
        columns = [column.name for column in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
