"""Reads for matchmaking: the engine's input built from the database, and stored matches."""

from __future__ import annotations

import gc
from collections.abc import Collection
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import (
    BooleanField,
    Case,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    When,
)
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from companies.languages import detect_language
from companies.models import (
    Company,
    CompanyQuerySet,
    Country,
    Listing,
    Organisation,
    may_be_matched,
    may_be_shown,
)
from companies.selectors import public_profile_annotations
from matchmaking.engine import Listing as EngineListing
from matchmaking.engine import Profile
from matchmaking.engine.confidence import order as rank_order
from matchmaking.models import DigestDelivery, DigestItem, Match, MatchEvent

# A firm's matches best first: the engine's confidence (those ranked without its model last), then the score.
BEST_FIRST = (F("confidence").desc(nulls_last=True), "-score", "id")
# Rows fetched per round trip while the listings stream in (a server-side cursor): a full read is 4 queries.
PROFILE_ROWS = 10000


def matchable_profiles(company_ids: Collection[int] | None = None) -> list[Profile]:
    """Every matchable company (Company.objects.matchable(): published, with consent to matching or none yet),
    or those of ``company_ids``, as an engine Profile (key = company pk), in pk order.

    Four queries of plain rows (firms, their sectors, their listings, the listings' sectors), no model
    instances: at 10,000 firms, instances and their prefetches took longer than the ranking itself."""
    matchable = Company.objects.matchable()
    if company_ids is not None:
        matchable = matchable.filter(pk__in=list(company_ids))
    firms = list(matchable.order_by("pk").values_list("pk", "country", "activity_division_id", "languages"))
    chosen = matchable.values("pk")
    firm_sectors = _sector_codes(Company.sectors.through.objects.filter(company_id__in=chosen), "company_id")
    listing_sectors = _sector_codes(
        Listing.sectors.through.objects.filter(listing__company_id__in=chosen), "listing_id"
    )
    listings: dict[int, list[EngineListing]] = {}
    rows = (
        Listing.objects.filter(company_id__in=chosen)
        .order_by("pk")
        .values_list("pk", "company_id", "direction", "text", "cooperation", "language")
    )
    # Hundreds of thousands of objects that all live on and make no cycles: the cycle collector, walking
    # them again and again as they are made, would take longer than making them.
    collecting = gc.isenabled()
    gc.disable()
    try:
        for pk, company, direction, text, cooperation, language in rows.iterator(chunk_size=PROFILE_ROWS):
            listings.setdefault(company, []).append(
                EngineListing(
                    direction=direction,
                    text=text,
                    cooperation=tuple(cooperation),
                    sectors=listing_sectors.get(pk, ()),
                    ref=pk,
                    # Detected when the listing was saved; a row written around save() (bulk_create) has none.
                    language=language or detect_language(text),
                )
            )
        return [
            Profile(
                key=pk,
                country=country,
                listings=tuple(listings.get(pk, ())),
                sectors=firm_sectors.get(pk, ()),
                activity_division=division,
                languages=tuple(languages),
            )
            for pk, country, division, languages in firms
        ]
    finally:
        if collecting:
            gc.enable()


def _sector_codes(links: QuerySet, owner: str) -> dict[int, tuple[str, ...]]:
    """{owner pk: its sector codes in code order} from a many-to-many table with Sector (whose pk is the code)."""
    codes: dict[int, list[str]] = {}
    for pk, code in links.order_by(owner, "sector_id").values_list(owner, "sector_id"):
        codes.setdefault(pk, []).append(code)
    return {pk: tuple(found) for pk, found in codes.items()}


def firms_changed_since(moment: datetime) -> set[int]:
    """Firms whose profile or a listing was saved at or after ``moment`` (a deleted listing leaves no trace:
    its firm's own recompute names it)."""
    return set(Company.objects.filter(updated_at__gte=moment).values_list("pk", flat=True)) | set(
        Listing.objects.filter(updated_at__gte=moment).values_list("company_id", flat=True)
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


def member_matches_with_counterparts(company: Company, statuses: Collection[str]) -> QuerySet[Match]:
    """member_matches with each other firm's public profile read in the same query (the API's "my matches"):
    ``counterpart_chamber`` (its chamber's slug) and company_selectors.public_profile_annotations' sector codes
    and offers and needs, instead of two more queries for the page's other firms."""
    mine_is_vn = Q(company_vn_id=company.pk)
    return member_matches(company, statuses).annotate(
        counterpart_id=Case(When(mine_is_vn, then=F("company_ru_id")), default=F("company_vn_id")),
        counterpart_chamber=Case(
            When(mine_is_vn, then=F("company_ru__chamber__slug")), default=F("company_vn__chamber__slug")
        ),
        **public_profile_annotations("counterpart_id"),
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
            Q(*matchable, status=Match.Status.APPROVED) | (Q(status=Match.Status.INTRODUCED) & pending)
        ).exclude(Exists(told.filter(kind=DigestItem.Kind.NEW)))
        told_new = told.filter(kind=DigestItem.Kind.NEW, delivery__status=DigestDelivery.Status.SENT).filter(
            Q(delivery__kind=DigestDelivery.Kind.WEEKLY) | Q(delivery__sent_at__lte=now - INTRODUCTION_REMINDER_AFTER)
        )
        reminders = (
            mine.filter(pending, status=Match.Status.INTRODUCED)
            .filter(Exists(told_new))
            .annotate(
                reminded=Count(
                    "digest_items",
                    filter=Q(
                        digest_items__kind=DigestItem.Kind.REMINDER,
                        digest_items__delivery__company=F(firm),
                        digest_items__delivery__status__in=TOLD_DELIVERY_STATUSES,
                    ),
                )
            )
            .filter(reminded__lt=settings.DIGEST_MAX_REMINDERS)
        )
        expired = mine.filter(
            status=Match.Status.EXPIRED,
            expired_at__gte=now - timedelta(days=EXPIRY_NEWS_DAYS),
            **{f"response_{side}": Match.Response.ACCEPTED},
        ).exclude(Exists(told.filter(kind=DigestItem.Kind.EXPIRED)))
        for kind, matches in (
            (DigestItem.Kind.NEW, new),
            (DigestItem.Kind.REMINDER, reminders),
            (DigestItem.Kind.EXPIRED, expired),
        ):
            for match in matches:
                plans[getattr(match, f"{firm}_id")][kind].append(match)
    return plans


def digest_candidates(
    week_year: int, week: int, country: str | None = None, now: datetime | None = None
) -> QuerySet[Company]:
    """Firms that may have something for the week's digest and have not had it: a cheap superset of the firms
    firm_digest_plan finds news for, so the weekly run does not visit every firm."""
    now = now or timezone.now()
    live = Q(status__in=[Match.Status.APPROVED, Match.Status.INTRODUCED]) | Q(
        status=Match.Status.EXPIRED, expired_at__gte=now - timedelta(days=EXPIRY_NEWS_DAYS)
    )
    matches = Match.objects.filter(live)
    done = DigestDelivery.objects.filter(
        company=OuterRef("pk"),
        iso_year=week_year,
        iso_week=week,
        kind=DigestDelivery.Kind.WEEKLY,
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
    return (
        Match.objects.annotate(**seen)
        .select_related(*(f"{firm}__activity_division" for firm in ("company_vn", "company_ru")))
        .prefetch_related(
            *(f"{firm}__{field}" for firm in ("company_vn", "company_ru") for field in ("sectors", "listings"))
        )
        .in_bulk(pks)
    )


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
        .prefetch_related(
            *(f"{firm}__{field}" for firm in ("company_vn", "company_ru") for field in ("sectors", "listings"))
        )
        .order_by("-introduced_at", "-score", "pk")
    )


def texts_to_embed() -> dict[str, list[str]]:
    """Distinct texts of matchable firms' needs (the model's "query" role) and offers ("passage")."""
    rows = (
        Listing.objects.filter(company__in=Company.objects.matchable().values("pk"))
        .values_list("direction", "text")
        .distinct()
        .order_by("direction", "text")
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


def visible_to_staff(user, matches: QuerySet[Match]) -> QuerySet[Match]:
    """Superusers see every match; chamber staff those where either firm is vetted by their chamber."""
    if user.is_superuser:
        return matches
    staff = getattr(user, "chamber_staff", None)
    if staff is None:
        return matches.none()
    return matches.filter(Q(company_vn__chamber_id=staff.chamber_id) | Q(company_ru__chamber_id=staff.chamber_id))
