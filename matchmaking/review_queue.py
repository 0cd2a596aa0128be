"""The review workbench's reads: its queue (each firm's best undecided suggestion first), one pair with both
firms side by side, and one firm's suggestions. Chamber scoping is selectors.visible_to_staff."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import timedelta

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import (
    BooleanField,
    Case,
    Count,
    Exists,
    Expression,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    When,
)
from django.db.models.functions import Coalesce, Least
from django.db.models.lookups import Exact, GreaterThanOrEqual, LessThanOrEqual
from django.utils import timezone

from companies.models import Company, Country
from companies.selectors import companies_visible_to_staff, with_public_profile
from matchmaking.models import Match
from matchmaking.selectors import INTRODUCED_OR_APPROVED, QUALITY, side_of_country, visible_to_staff

# Within one round of the queue (below), pairs by their quality to the whole percent staff see, best first,
# then the pair suggested first: two pairs shown at 83 % are taken in the order they have waited. The
# match_review_queue index holds these expressions for the suggestions, so a walk reads it in order.
QUEUE_KEY = (Func(QUALITY * -100, function="ROUND", output_field=FloatField()), F("created_at"), F("id"))
# Confidence bands of the filter: (at least, below), on QUALITY.
CONFIDENCE_BANDS = {"high": (0.8, None), "medium": (0.5, 0.8), "low": (0.2, 0.5), "lowest": (None, 0.2)}
_SIDES = (("vn", Country.VIETNAM), ("ru", Country.RUSSIA))


@dataclass(frozen=True)
class ReviewFilters:
    """What the review queue is narrowed to. ``chamber``, ``country`` and ``sector`` pick the firms served: a
    pair is in the queue when one of its firms meets all three, and it is ranked by that firm's list.
    ``band`` (a key of CONFIDENCE_BANDS) and ``waiting_days`` (suggested at least that many days ago) pick
    pairs."""

    chamber: int | None = None
    country: str | None = None
    sector: str | None = None
    band: str | None = None
    waiting_days: int | None = None


@dataclass(frozen=True)
class QueuePlace:
    """Where a pair stands in the queue: its round (1 when it is the best undecided suggestion of a firm
    served that has had no introduction yet, 2 for the next, ...) and its QUEUE_KEY within the round."""

    round: int
    key: tuple


class _RowCompare(Func):
    """``(a, b, c) > (x, y, z)``: compared as rows, so an index on (a, b, c) answers it with a range scan."""

    output_field = BooleanField()

    def __init__(self, left: tuple, right: tuple, *, greater: bool) -> None:
        self.width, self.operator = len(left), ">" if greater else "<"
        super().__init__(*left, *right)

    def as_sql(self, compiler, connection, **extra):
        parts, params = [], []
        for expression in self.get_source_expressions():
            sql, expression_params = compiler.compile(expression)
            parts.append(sql)
            params.extend(expression_params)
        left, right = ", ".join(parts[: self.width]), ", ".join(parts[self.width :])
        return f"(({left}) {self.operator} ({right}))", params


class _Count(Subquery):
    """The number of rows of a queryset, as a column of the outer query (0, never NULL)."""

    template = "(SELECT COUNT(*) FROM (%(subquery)s) _rows)"
    output_field = IntegerField()


def _ahead(side: str) -> QuerySet[Match]:
    """The matches of the outer match's firm on ``side`` that come before it in that firm's own list: those
    staff approved (the firm had that introduction), then its undecided suggestions of a higher quality."""
    firm = f"company_{side}"
    outer = Coalesce(OuterRef("confidence"), OuterRef("score"), output_field=FloatField())
    better = Q(quality__gt=outer) | Q(quality=outer, pk__lt=OuterRef("pk"))
    return (
        Match.objects.filter(**{firm: OuterRef(firm)})
        .annotate(quality=QUALITY)
        .filter(Q(status__in=INTRODUCED_OR_APPROVED) | Q(better, status=Match.Status.SUGGESTED))
        .order_by()
        .values("pk")
    )


def _firm_filter(firm: str, filters: ReviewFilters) -> Q:
    """The firm filters on a match's firm ``firm`` ("company_vn"), or on a company itself (firm "")."""
    prefix = f"{firm}__" if firm else ""
    condition = Q()
    if filters.chamber:
        condition &= Q(**{f"{prefix}chamber_id": filters.chamber})
    if filters.sector:
        # A firm that named no sector is filed under the division of its activity code (as the admin's filter).
        # Two conditions rather than one join with OR: each is a probe by key for the firm at hand.
        named = Company.sectors.through.objects.filter(company_id=OuterRef(firm or "pk"), sector_id=filters.sector)
        condition &= Q(Exists(named)) | Q(**{f"{prefix}activity_division_id": filters.sector})
    return condition


class ReviewQueue:
    """The undecided suggestions a staff member may review (visible_to_staff), narrowed by ReviewFilters, in
    the workbench's order: first each served firm's best suggestion, then each one's second, and so on, so
    that every firm gets one good introduction before any gets its fifth. A firm's list counts the matches
    staff approved already, so a firm with one introduction comes in the second round. A pair of two firms
    served takes the better of its two places. Within a round, by QUEUE_KEY.

    The order is walked, never sorted whole: the next pair of a round is found by reading the pairs in
    QUEUE_KEY order (the match_review_queue index) and keeping the first that stands that far in one of its
    firms' lists (a few index probes each), so it reads a few rows even among a million suggestions. A walk
    reads at most WALK_ROWS pairs: when a round has no pair among them, the next round is taken, and then
    the pairs by QUEUE_KEY alone (rounds that thin are not worth reading every pair for). When the queue's
    pairs all involve a few firms (a small chamber, a narrow filter), they are read through those firms
    instead of along the whole index."""

    WALK_ROWS = 500
    FEW_FIRMS = 2000
    cut_short = False  # whether the last walks left pairs unread (set by _walk)

    def __init__(self, user, filters: ReviewFilters) -> None:
        self.filters = filters
        # The sides whose firms are served, each with the condition its firm must meet (Q() for every firm).
        self.served = [
            (side, _firm_filter(f"company_{side}", filters))
            for side, country in _SIDES
            if not filters.country or filters.country == country
        ]
        pairs = visible_to_staff(user, Match.objects.filter(status=Match.Status.SUGGESTED))
        pairs = pairs.alias(quality=QUALITY, queue_percent=QUEUE_KEY[0])
        least, below = CONFIDENCE_BANDS.get(filters.band or "", (None, None))
        # Each band is also told on the queue's key (a little wider, as the key is rounded), so a walk reads
        # only the band's part of the index.
        if least is not None:
            pairs = pairs.filter(quality__gte=least, queue_percent__lte=-round(least * 100) + 1)
        if below is not None:
            pairs = pairs.filter(quality__lt=below, queue_percent__gte=-round(below * 100))
        if filters.waiting_days:
            pairs = pairs.filter(created_at__lte=timezone.now() - timedelta(days=filters.waiting_days))
        # The order walks follow: QUEUE_KEY, or the same plus nothing when the queue's pairs are read through a
        # few firms: PostgreSQL then reads those firms' matches by their own indexes and sorts them, where
        # QUEUE_KEY itself would have it walk the queue's index past every other pair (even when none is left).
        self._key: tuple = QUEUE_KEY
        if not self.served:
            pairs = pairs.none()
        else:
            pairs = self._through_few_firms(user, pairs)
        # The pairs the filters keep, before the firms' conditions; the first round's condition implies those.
        self._pairs = pairs
        conditions = [condition for _, condition in self.served]
        # Q() is every firm: then every pair has a firm served.
        self.matches: QuerySet[Match] = pairs.filter(_any(conditions)) if all(conditions) else pairs

    def _through_few_firms(self, user, pairs: QuerySet[Match]) -> QuerySet[Match]:
        """``pairs`` narrowed to the matches of the staff member's chamber's firms, or of the firms served,
        named by key, when either set is small: PostgreSQL then reads those firms' matches by their indexes
        rather than walking the whole queue to find them. Unchanged otherwise."""
        groups: list[QuerySet[Company]] = []
        staff = getattr(user, "chamber_staff", None)
        if not user.is_superuser and staff is not None:
            groups.append(Company.objects.filter(chamber_id=staff.chamber_id))  # every pair has one of them
        if all(condition for _, condition in self.served):
            served = Q(country__in=[country for side, country in _SIDES if side in dict(self.served)])
            groups.append(Company.objects.filter(served, _firm_filter("", self.filters)))
        for firms in groups:
            few = list(firms.order_by().values_list("pk", "country")[: self.FEW_FIRMS + 1])
            if len(few) <= self.FEW_FIRMS:
                vietnamese = [pk for pk, country in few if country == Country.VIETNAM]
                russian = [pk for pk, country in few if country == Country.RUSSIA]
                if not vietnamese and not russian:
                    return pairs.none()
                self._key = (QUEUE_KEY[0] + 0, *QUEUE_KEY[1:])
                return pairs.filter(Q(company_vn_id__in=vietnamese) | Q(company_ru_id__in=russian))
        return pairs

    def _ahead_counts(self) -> list[Expression]:
        counts = []
        for side, condition in self.served:
            count = _Count(_ahead(side))
            counts.append(Case(When(condition, then=count), default=None) if condition else count)
        return counts

    def _round(self) -> Expression:
        counts = self._ahead_counts()
        return (Least(*counts) if len(counts) > 1 else counts[0]) + 1

    def _in_round(self, number: int, rounds: str = "=") -> Expression:
        """True for pairs of round ``number`` ("="), or of that round and later (">=") or earlier ("<=")."""
        if rounds == "=" and number == 1:
            # First in a served firm's list: nothing ahead of it (stops at the first row found, unlike a count).
            return ExpressionWrapper(
                _any(condition & ~Exists(_ahead(side)) for side, condition in self.served), BooleanField()
            )
        return {"=": Exact, ">=": GreaterThanOrEqual, "<=": LessThanOrEqual}[rounds](self._round(), number)

    def _walk(
        self,
        in_round: Expression | None,
        skip: Collection[int],
        *,
        after: tuple | None = None,
        before: tuple | None = None,
        backwards: bool = False,
    ) -> int | None:
        """The first pair, in QUEUE_KEY order (reversed if ``backwards``), after or before a key, for which
        ``in_round`` holds, among the next WALK_ROWS pairs; None if none."""
        rows = self.matches.exclude(pk__in=list(skip)) if skip else self.matches
        if after is not None:
            rows = rows.filter(_RowCompare(self._key, after, greater=True))
        if before is not None:
            rows = rows.filter(_RowCompare(self._key, before, greater=False))
        rows = rows.order_by(*[key.desc() if backwards else key.asc() for key in self._key])
        if in_round is None:
            return rows.values_list("pk", flat=True).first()
        # The condition is a column of a limited subquery, not a filter, so PostgreSQL works it out row by
        # row as the outer query asks for the next one (after the sort, if any): it stops at the first pair
        # that holds, and never reads past WALK_ROWS.
        window = rows.annotate(in_round=in_round).values_list("pk", "in_round")[: self.WALK_ROWS]
        try:
            sql, params = window.query.sql_with_params()
        except EmptyResultSet:
            return None
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT pk FROM ({sql}) AS _pairs (pk, in_round) WHERE in_round LIMIT 1", params)
            row = cursor.fetchone()
        if row is None and not self.cut_short:
            # Did the walk stop at WALK_ROWS with pairs left beyond? (Read only when it found nothing.)
            self.cut_short = rows[self.WALK_ROWS : self.WALK_ROWS + 1].exists()
        return None if row is None else row[0]

    def place(self, pk: int) -> QueuePlace | None:
        """Where the pair stands, or None when it is not in the queue (decided, or filtered out)."""
        row = (
            self.matches.filter(pk=pk)
            .annotate(queue_round=self._round(), queue_key=QUEUE_KEY[0])
            .values_list("queue_round", "queue_key", "created_at", "pk")
            .first()
        )
        return None if row is None else QueuePlace(int(row[0]), tuple(row[1:]))

    def first(self, *, skip: Collection[int] = ()) -> int | None:
        """The pair to review first, leaving out ``skip``; None when none waits."""
        return self.after(None, skip=skip)

    def after(self, place: QueuePlace | None, *, skip: Collection[int] = ()) -> int | None:
        """The pair after ``place`` (the first one when None), leaving out ``skip``; None at the end."""
        number, key = (1, None) if place is None else (place.round, place.key)
        self.cut_short = False
        found = (
            self._walk(self._in_round(number), skip, after=key)
            or self._walk(self._in_round(number + 1), skip)
            or self._walk(self._in_round(number + 2, ">="), skip)
        )
        if found is None and self.cut_short:
            # No round was found among the pairs read; they go on by QUEUE_KEY alone.
            found = self._walk(None, skip, after=key)
        return found

    def before(self, place: QueuePlace, *, skip: Collection[int] = ()) -> int | None:
        """The pair before ``place``, leaving out ``skip``; None at the start."""
        found = self._walk(self._in_round(place.round), skip, before=place.key, backwards=True)
        if found is None and place.round > 1:
            found = self._walk(self._in_round(place.round - 1), skip, backwards=True)
        if found is None and place.round > 2:
            found = self._walk(self._in_round(place.round - 2, "<="), skip, backwards=True)
        return found

    def count(self, *, up_to: int) -> int:
        """How many pairs wait, counted up to ``up_to`` (a page says "1,000+" rather than count a million)."""
        return self.matches.order_by()[:up_to].count()


def _any(conditions) -> Q:
    combined = Q()
    for condition in conditions:
        combined |= condition
    return combined


def review_queue(user, *, filters: ReviewFilters) -> ReviewQueue:
    """The review workbench's queue for ``user`` (see ReviewQueue)."""
    return ReviewQueue(user, filters)


@dataclass
class ReviewPair:
    """A pair as the workbench shows it. ``firms`` maps "vn" and "ru" to the two companies with their public
    profiles (with_public_profile); ``history`` to each firm's latest decided matches the user may see, newest
    first; ``waiting`` to how many suggestions each firm has waiting (those the user may see). The match
    carries ``ahead_vn`` and ``ahead_ru``: how many of each firm's matches come before it in its own list
    (approved ones, then better suggestions; meaningful while it is a suggestion)."""

    match: Match
    firms: dict[str, Company]
    history: dict[str, list[Match]]
    waiting: dict[str, int]


def _firm_matches(side: str, firm_pk: int) -> Q:
    return Q(**{f"company_{side}_id": firm_pk})


def review_pair(user, pk: int, *, history: int = 8) -> ReviewPair | None:
    """The pair ``pk`` if ``user`` may see it (visible_to_staff), whatever its status; None otherwise. Six
    queries, however many matches the firms have."""
    match = (
        visible_to_staff(user, Match.objects.filter(pk=pk))
        .select_related("reviewed_by")
        .annotate(ahead_vn=_Count(_ahead("vn")), ahead_ru=_Count(_ahead("ru")))
        .first()
    )
    if match is None:
        return None
    firm_pks = {"vn": match.company_vn_id, "ru": match.company_ru_id}
    companies = with_public_profile(Company.objects.filter(pk__in=firm_pks.values())).in_bulk()
    firms = {side: companies[firm_pk] for side, firm_pk in firm_pks.items()}
    match.company_vn, match.company_ru = firms["vn"], firms["ru"]
    earlier = {
        side: list(
            visible_to_staff(user, Match.objects.filter(_firm_matches(side, firm_pk)))
            .exclude(status=Match.Status.SUGGESTED)
            .exclude(pk=match.pk)
            .select_related("company_vn", "company_ru")
            .order_by("-updated_at", "-pk")[:history]
        )
        for side, firm_pk in firm_pks.items()
    }
    waiting = (
        visible_to_staff(
            user, Match.objects.filter(_firm_matches("vn", firm_pks["vn"]) | _firm_matches("ru", firm_pks["ru"]))
        )
        .filter(status=Match.Status.SUGGESTED)
        .aggregate(
            vn=Count("pk", filter=_firm_matches("vn", firm_pks["vn"])),
            ru=Count("pk", filter=_firm_matches("ru", firm_pks["ru"])),
        )
    )
    return ReviewPair(match=match, firms=firms, history=earlier, waiting=waiting)


@dataclass
class FirmReview:
    """One firm as the per-firm review page shows it: its profile (with_public_profile), its suggestions the
    user may see in its own order (best first, each with ``quality``), the matches staff approved for it so
    far that the user may see (``introductions``: how many) and its latest decided matches the user may see."""

    firm: Company
    suggestions: list[Match]
    more: bool
    introductions: int
    history: list[Match]


def firm_suggestions(user, firm: Company) -> QuerySet[Match]:
    """The firm's suggestions ``user`` may see, in the firm's own order: best quality first."""
    side = side_of_country(firm.country)
    return (
        visible_to_staff(user, Match.objects.filter(_firm_matches(side, firm.pk), status=Match.Status.SUGGESTED))
        .annotate(quality=QUALITY)
        .order_by("-quality", "pk")
    )


def firm_review(user, company_pk: int, *, limit: int = 100, history: int = 20) -> FirmReview | None:
    """The firm ``company_pk`` for ``user``: None unless its chamber is theirs (companies_visible_to_staff)
    or they may see one of its matches. Six queries, however many matches it has; at most ``limit``
    suggestions (``more`` tells whether there were more)."""
    firm = with_public_profile(Company.objects.filter(pk=company_pk)).first()
    if firm is None:
        return None
    side = side_of_country(firm.country)
    suggestions = list(firm_suggestions(user, firm).select_related("company_vn", "company_ru")[: limit + 1])
    earlier = list(
        visible_to_staff(user, Match.objects.filter(_firm_matches(side, firm.pk)))
        .exclude(status=Match.Status.SUGGESTED)
        .select_related("company_vn", "company_ru")
        .order_by("-updated_at", "-pk")[:history]
    )
    if not suggestions and not earlier and not companies_visible_to_staff(user).filter(pk=firm.pk).exists():
        return None
    introductions = visible_to_staff(
        user, Match.objects.filter(_firm_matches(side, firm.pk), status__in=INTRODUCED_OR_APPROVED)
    ).count()
    return FirmReview(firm, suggestions[:limit], len(suggestions) > limit, introductions, earlier)
