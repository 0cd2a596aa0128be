"""Reads for matchmaking: the engine's input built from the database, and stored matches."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import (
    BooleanField, Case, Count, Exists, Expression, ExpressionWrapper, F, FloatField, Func, IntegerField, OuterRef,
    Prefetch, Q, QuerySet, Subquery, When,
)
from django.db.models.functions import Coalesce, Greatest, Least
from django.db.models.lookups import Exact, GreaterThanOrEqual, LessThanOrEqual
from django.utils import timezone

from companies.models import (
    Company, CompanyQuerySet, Country, Listing, Organisation, Sector, may_be_matched, may_be_shown,
)
from companies.selectors import companies_visible_to_staff, with_public_profile
from matchmaking.engine import Listing as EngineListing
from matchmaking.engine import Profile
from matchmaking.engine.confidence import order as rank_order
from matchmaking.models import DigestDelivery, DigestItem, Match, MatchEvent

# A firm's matches best first: the engine's confidence (those ranked without its model last), then the score.
BEST_FIRST = (F("confidence").desc(nulls_last=True), "-score", "id")
# Companies fetched per round of queries: each round is 4 queries (companies, their sectors, their
# listings, the listings' sectors), so a full read costs 4 queries per PROFILE_CHUNK firms.
PROFILE_CHUNK = 2000


def matchable_profiles(company_ids: Collection[int] | None = None) -> list[Profile]:
    """Every matchable company (Company.objects.matchable(): published, with consent to matching or none yet),
    or those of ``company_ids``, as an engine Profile (key = company pk), in pk order."""
    sector_codes = Sector.objects.only("code")
    matchable = Company.objects.matchable()
    if company_ids is not None:
        matchable = matchable.filter(pk__in=list(company_ids))
    companies = (
        matchable
        .order_by("pk")
        .only("pk", "country", "activity_division_id", "languages")
        .prefetch_related(
            Prefetch("sectors", queryset=sector_codes),
            Prefetch(
                "listings",
                queryset=Listing.objects.order_by("pk")
                .only("pk", "company_id", "direction", "text", "cooperation", "language")
                .prefetch_related(Prefetch("sectors", queryset=sector_codes)),
            ),
        )
    )
    return [_profile(company) for company in companies.iterator(chunk_size=PROFILE_CHUNK)]


def firms_changed_since(moment: datetime) -> set[int]:
    """Firms whose profile or a listing was saved at or after ``moment`` (a deleted listing leaves no trace:
    its firm's own recompute names it)."""
    return set(Company.objects.filter(updated_at__gte=moment).values_list("pk", flat=True)) | set(
        Listing.objects.filter(updated_at__gte=moment).values_list("company_id", flat=True)
    )


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
                language=listing.language or None,  # detected when the listing was saved
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
        .order_by(*BEST_FIRST)
    )


def seen_by_counterpart(firm: str) -> Q:
    """Matches whose ``firm`` ("company_vn" or "company_ru") the other firm's members may see: one that may
    be shown to the other country (companies.models.may_be_shown), whatever its status now, or a withdrawn
    one (its connections stay, anonymised). A firm its chamber imported without consent, or one that
    withdrew share_profile or cross_border, is introduced by its own chamber but stays out of its
    counterparts' lists, digests and links until it consents."""
    return may_be_shown(f"{firm}__") | Q(**{f"{firm}__status": Company.Status.WITHDRAWN})


def seen_by(company: Company) -> Q:
    """The matches of ``company`` its members may see, whatever their status (seen_by_counterpart)."""
    return Q(Q(company_vn=company), seen_by_counterpart("company_ru")) | Q(
        Q(company_ru=company), seen_by_counterpart("company_vn")
    )


def member_matches(company: Company, statuses: Collection[str]) -> QuerySet[Match]:
    """The firm's matches of ``statuses`` its members may see (seen_by), best first: the API's and the pages'
    one source, so a hidden counterpart is left out everywhere alike."""
    return (
        Match.objects.filter(seen_by(company), status__in=list(statuses))
        .select_related("company_vn", "company_ru")
        .order_by(*BEST_FIRST)
    )


def ranking_by_external_id(top: int) -> dict[str, list[str]]:
    """{external_id: [counterpart ids, best first]} for every company with an external_id.

    The format of the matching evaluation set; a company without matches is listed with [].
    Counterparts without an external_id appear as ``id-<pk>`` so no entry is silently lost.
    """
    external = dict(Company.objects.exclude(external_id=None).values_list("pk", "external_id"))
    ranking: dict[str, list[str]] = {external_id: [] for external_id in external.values()}
    rivals: dict[str, list[bool]] = {external_id: [] for external_id in external.values()}
    pairs = (
        Match.objects.annotate(rivals=ExpressionWrapper(Q(reasons__contains=[{"kind": "rivals"}]), BooleanField()))
        .order_by(*BEST_FIRST)
        .values_list("company_vn_id", "company_ru_id", "rivals")
    )
    for vn, ru, rival in pairs.iterator(chunk_size=5000):
        for own, other in ((vn, ru), (ru, vn)):
            # One more than asked for, so a list whose first is a rival still has a partner to put first.
            if own in external and len(ranking[external[own]]) <= top:
                ranking[external[own]].append(external.get(other, f"id-{other}"))
                rivals[external[own]].append(rival)
    for firm, counterparts in ranking.items():
        flags = rivals[firm]
        ranking[firm] = [counterparts[i] for i in rank_order([1.0] * len(flags), flags)][:top]
    return ranking


# --- weekly digests -------------------------------------------------------------------------------

# Deliveries whose items count as told: sent, or on their way (a retry will send them).
TOLD_DELIVERY_STATUSES = [DigestDelivery.Status.PENDING, DigestDelivery.Status.SENT, DigestDelivery.Status.FAILED]
# An expiry older than this is no news any more: a firm that missed it (opted out, say) is not told late.
EXPIRY_NEWS_DAYS = 35
# An introduction emailed at once ("introduce now") is first reminded in a digest at least this long after it:
# a week on, as one told in a digest is, and not in the next morning's digest. Six days, not seven, so that the
# digest of the same weekday a week later is not missed by the minutes between two runs.
INTRODUCTION_REMINDER_AFTER = timedelta(days=6)


def side_of_country(country: str) -> str:
    return "vn" if country == Country.VIETNAM else "ru"


def firm_digest_plan(company: Company, now: datetime | None = None) -> dict[str, list[Match]]:
    """``firm_digest_plans`` of one firm."""
    return firm_digest_plans([company], now)[company.pk]


def firm_digest_plans(companies: list[Company], now: datetime | None = None) -> dict[int, dict[str, list[Match]]]:
    """What each firm's next digest tells, by DigestItem kind, each list best match first: matches approved
    or introduced that it was not told about yet (in a digest, or in an introduction emailed at once),
    introductions it still has not answered (reminded at most DIGEST_MAX_REMINDERS times, the first time at
    least INTRODUCTION_REMINDER_AFTER after an introduction emailed at once), and introductions it accepted
    that expired because the other side never answered. Only matches the firm's members may see (seen_by):
    a counterpart hidden for want of consent is news once it consents. An approved match is introduced only
    while both firms are matchable. Three queries per country, whatever the number of firms: firm id → plan."""
    now = now or timezone.now()
    plans = {company.pk: {kind: [] for kind in DigestItem.Kind.values} for company in companies}
    for side, other in (("vn", "ru"), ("ru", "vn")):
        ids = [company.pk for company in companies if side_of_country(company.country) == side]
        if not ids:
            continue
        firm = f"company_{side}"
        pending = Q(**{f"response_{side}": Match.Response.PENDING})
        # Items of this firm's own digests (not the counterpart's) that told it of the match already.
        told = DigestItem.objects.filter(
            match=OuterRef("pk"), delivery__company=OuterRef(firm), delivery__status__in=TOLD_DELIVERY_STATUSES
        )
        mine = Match.objects.filter(seen_by_counterpart(f"company_{other}"), **{f"{firm}__in": ids})
        mine = mine.order_by(*BEST_FIRST)
        # An approved match is introduced only while both firms may be matched (Company.objects.matchable).
        matchable = [
            Q(may_be_matched(f"{f}__"), **{f"{f}__status": Company.Status.PUBLISHED})
            for f in (firm, f"company_{other}")
        ]
        new = mine.filter(
            Q(*matchable, status=Match.Status.APPROVED)
            | (Q(status=Match.Status.INTRODUCED) & pending)
        ).exclude(Exists(told.filter(kind=DigestItem.Kind.NEW)))
        told_new = told.filter(kind=DigestItem.Kind.NEW, delivery__status=DigestDelivery.Status.SENT).filter(
            Q(delivery__kind=DigestDelivery.Kind.WEEKLY) | Q(delivery__sent_at__lte=now - INTRODUCTION_REMINDER_AFTER)
        )
        reminders = (
            mine.filter(pending, status=Match.Status.INTRODUCED)
            .filter(Exists(told_new))
            .annotate(reminded=Count("digest_items", filter=Q(
                digest_items__kind=DigestItem.Kind.REMINDER, digest_items__delivery__company=F(firm),
                digest_items__delivery__status__in=TOLD_DELIVERY_STATUSES,
            )))
            .filter(reminded__lt=settings.DIGEST_MAX_REMINDERS)
        )
        expired = mine.filter(
            status=Match.Status.EXPIRED, expired_at__gte=now - timedelta(days=EXPIRY_NEWS_DAYS),
            **{f"response_{side}": Match.Response.ACCEPTED},
        ).exclude(Exists(told.filter(kind=DigestItem.Kind.EXPIRED)))
        for kind, matches in ((DigestItem.Kind.NEW, new), (DigestItem.Kind.REMINDER, reminders),
                              (DigestItem.Kind.EXPIRED, expired)):
            for match in matches:
                plans[getattr(match, f"{firm}_id")][kind].append(match)
    return plans


def digest_candidates(week_year: int, week: int, country: str | None = None, now: datetime | None = None) -> QuerySet[Company]:
    """Firms that may have something for the week's digest and have not had it: a cheap superset of the firms
    firm_digest_plan finds news for, so the weekly run does not visit every firm."""
    now = now or timezone.now()
    live = Q(status__in=[Match.Status.APPROVED, Match.Status.INTRODUCED]) | Q(
        status=Match.Status.EXPIRED, expired_at__gte=now - timedelta(days=EXPIRY_NEWS_DAYS)
    )
    matches = Match.objects.filter(live)
    done = DigestDelivery.objects.filter(
        company=OuterRef("pk"), iso_year=week_year, iso_week=week, kind=DigestDelivery.Kind.WEEKLY,
        status__in=[DigestDelivery.Status.SENT, DigestDelivery.Status.SKIPPED],
    )
    firms = Company.objects.filter(
        Exists(matches.filter(company_vn=OuterRef("pk"))) | Exists(matches.filter(company_ru=OuterRef("pk")))
    ).exclude(Exists(done))
    if country:
        firms = firms.filter(country=country)
    return firms.order_by("pk")


def digest_matches(pks: list[int]) -> dict[int, Match]:
    """The matches of a digest with both firms' public profiles, in a fixed number of queries; ``vn_seen``
    and ``ru_seen`` tell whether the other side's members may see that firm now (seen_by_counterpart)."""
    seen = {
        f"{side}_seen": ExpressionWrapper(seen_by_counterpart(f"company_{side}"), output_field=BooleanField())
        for side in ("vn", "ru")
    }
    return Match.objects.annotate(**seen).select_related(
        *(f"{firm}__activity_division" for firm in ("company_vn", "company_ru"))
    ).prefetch_related(
        *(f"{firm}__{field}" for firm in ("company_vn", "company_ru") for field in ("sectors", "listings"))
    ).in_bulk(pks)


def staff_digest_figures(chamber: Organisation, since: datetime) -> dict:
    """What a chamber's staff should know this week: the review queue, profiles to vet, the week's answers."""
    ours = Q(company_vn__chamber=chamber) | Q(company_ru__chamber=chamber)
    waiting = Match.objects.filter(ours, status=Match.Status.SUGGESTED)
    oldest = waiting.order_by("created_at", "pk").select_related("company_vn", "company_ru").first()
    answers = MatchEvent.objects.filter(
        Q(match__company_vn__chamber=chamber) | Q(match__company_ru__chamber=chamber), at__gte=since
    )
    return {
        "waiting_review": waiting.count(),
        "oldest_waiting_since": oldest.created_at.isoformat() if oldest else None,
        "oldest_waiting_pair": f"{oldest.company_vn} ↔ {oldest.company_ru}" if oldest else "",
        "profiles_to_vet": Company.objects.filter(chamber=chamber, status=Company.Status.PENDING).count(),
        "accepted": answers.filter(action="accepted").count(),
        "declined": answers.filter(action="declined").count(),
        "connected": answers.filter(action="accepted", to_status=Match.Status.CONNECTED).count(),
        "expired": answers.filter(action="expired").count(),
    }


# --- public figures -------------------------------------------------------------------------------

# A match counts as an introduction once both firms were told of each other, whatever they answered.
INTRODUCTION_STATUSES = [Match.Status.INTRODUCED, Match.Status.CONNECTED, Match.Status.DECLINED, Match.Status.EXPIRED]


def introduction_figures() -> dict[str, int]:
    """Introductions made so far (``introduced``: introduced, connected, declined or expired matches) and how
    many of them connected (both firms accepted), in one query."""
    return Match.objects.aggregate(
        introduced=Count("pk", filter=Q(status__in=INTRODUCTION_STATUSES)),
        connected=Count("pk", filter=Q(status=Match.Status.CONNECTED)),
    )


def member_introductions(company: Company, statuses) -> QuerySet[Match]:
    """The firm's introductions its members may see (member_matches), newest first, with both firms' public
    profiles in a fixed number of queries."""
    return (
        member_matches(company, statuses)
        .select_related(*(f"{firm}__activity_division" for firm in ("company_vn", "company_ru")))
        .prefetch_related(*(f"{firm}__{field}" for firm in ("company_vn", "company_ru") for field in ("sectors", "listings")))
        .order_by("-introduced_at", "-score", "pk")
    )


def texts_to_embed() -> dict[str, list[str]]:
    """Distinct texts of matchable firms' needs (the model's "query" role) and offers ("passage")."""
    rows = (
        Listing.objects.filter(company__in=Company.objects.matchable().values("pk"))
        .values_list("direction", "text").distinct().order_by("direction", "text")
    )
    found: dict[str, list[str]] = {"query": [], "passage": []}
    for direction, text in rows.iterator(chunk_size=5000):
        if text.strip():
            found["query" if direction == Listing.Direction.NEED else "passage"].append(text)
    return found


# --- firms without a confident counterpart ----------------------------------------------------------

# Matches that still stand for a counterpart: those nobody turned down, withdrew or let expire.
STANDING_STATUSES = [Match.Status.SUGGESTED, Match.Status.APPROVED, Match.Status.INTRODUCED, Match.Status.CONNECTED]
# Of those, the ones staff already vouched for: a recompute never rescores them, so they may carry no confidence.
VOUCHED_STATUSES = [Match.Status.APPROVED, Match.Status.INTRODUCED, Match.Status.CONNECTED]


def _best_confidence(side: str) -> Subquery:
    standing = Match.objects.filter(**{side: OuterRef("pk")}, status__in=STANDING_STATUSES)
    return Subquery(standing.order_by(F("confidence").desc(nulls_last=True)).values("confidence")[:1])


def firms_without_confident_match(firms: CompanyQuerySet, *, least: float) -> CompanyQuerySet:
    """The matchable ``firms`` (Company.objects.matchable) with no suggestion whose confidence reaches ``least``
    and no match staff approved (introduced or connected since): those the engine found no real counterpart
    for, whose profile most likely says too little. Each carries ``best_confidence``, that of its most
    confident standing match (None if it has none, or none was ranked with the learned model). A fixed number
    of queries, however many firms."""
    confident = Match.objects.filter(
        Q(status=Match.Status.SUGGESTED, confidence__gte=least) | Q(status__in=VOUCHED_STATUSES)
    )
    return (
        firms.matchable()
        .exclude(Exists(confident.filter(company_vn=OuterRef("pk"))))
        .exclude(Exists(confident.filter(company_ru=OuterRef("pk"))))
        # PostgreSQL's GREATEST skips NULLs: a firm with matches on one side only gets that side's best.
        .annotate(best_confidence=Greatest(_best_confidence("company_vn"), _best_confidence("company_ru")))
    )


# --- the review workbench ---------------------------------------------------------------------------

# Matches that count as an introduction a firm has had, or is about to have: staff approved them.
INTRODUCED_OR_APPROVED = [Match.Status.APPROVED, *INTRODUCTION_STATUSES]
# What the workbench ranks and shows: the confidence, or the combined score where the engine ranked without
# its learned model.
QUALITY = Coalesce("confidence", "score", output_field=FloatField())
# Within one round of the queue (below), pairs by their quality to the whole percent staff see, best first,
# then the pair suggested first: two pairs shown at 83 % are taken in the order they have waited. The
# match_review_queue index holds these expressions for the suggestions, so a walk reads it in order.
QUEUE_KEY = (Func(QUALITY * -100, function="ROUND", output_field=FloatField()), F("created_at"), F("id"))
# Confidence bands of the filter: (at least, below), on QUALITY.
CONFIDENCE_BANDS = {"high": (0.8, None), "medium": (0.5, 0.8), "low": (0.2, 0.5), "lowest": (None, 0.2)}
_SIDES = (("vn", Country.VIETNAM), ("ru", Country.RUSSIA))


def visible_to_staff(user, matches: QuerySet[Match]) -> QuerySet[Match]:
    """Superusers see every match; chamber staff those where either firm is vetted by their chamber."""
    if user.is_superuser:
        return matches
    staff = getattr(user, "chamber_staff", None)
    if staff is None:
        return matches.none()
    return matches.filter(Q(company_vn__chamber_id=staff.chamber_id) | Q(company_ru__chamber_id=staff.chamber_id))


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
            for side, country in _SIDES if not filters.country or filters.country == country
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

    def _walk(self, in_round: Expression | None, skip: Collection[int], *, after: tuple | None = None,
              before: tuple | None = None, backwards: bool = False) -> int | None:
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
            self.matches.filter(pk=pk).annotate(queue_round=self._round(), queue_key=QUEUE_KEY[0])
            .values_list("queue_round", "queue_key", "created_at", "pk").first()
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
            .exclude(status=Match.Status.SUGGESTED).exclude(pk=match.pk)
            .select_related("company_vn", "company_ru")
            .order_by("-updated_at", "-pk")[:history]
        )
        for side, firm_pk in firm_pks.items()
    }
    waiting = visible_to_staff(
        user, Match.objects.filter(_firm_matches("vn", firm_pks["vn"]) | _firm_matches("ru", firm_pks["ru"]))
    ).filter(status=Match.Status.SUGGESTED).aggregate(
        vn=Count("pk", filter=_firm_matches("vn", firm_pks["vn"])),
        ru=Count("pk", filter=_firm_matches("ru", firm_pks["ru"])),
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
