"""Writes of matchmaking: recomputing suggestions with the engine, and the review and introduction workflow.

Every change to a match writes a MatchEvent (who, what, from which status to which, with a note).
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import numpy as np
from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from companies.models import Company, Country
from matchmaking import bulk, warm_index
from matchmaking.embedding_cache import DatabaseEmbeddingStore, embed_missing, equal_parts
from matchmaking.engine import (
    CachedEmbedder,
    Embedder,
    Ranking,
    default_embedder,
    rank_counterparts,
)
from matchmaking.engine.blocks import piece_size, row_country
from matchmaking.engine.embedding import text_key
from matchmaking.match_values import PendingValues, match_values
from matchmaking.models import Match, MatchEvent
from matchmaking.selectors import QUALITY, matchable_profiles, texts_to_embed

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser


class MatchWorkflowError(ValueError):
    """A change of a match that its workflow does not allow."""


# --- recomputing suggestions ---------------------------------------------------------------------

# Stages reported to the ``progress`` callback of recompute_matches, in order, with what each counts.
# "embedding" is reported only for texts not in the cache (the slow part of a first run: minutes for thousands).
RECOMPUTE_STAGES = {"profiles": "firm", "embedding": "text", "ranking": "firm", "saving": "match"}
RECOMPUTE_CHUNK = 5000  # firms per task when a full recompute is fanned out over workers
EMBED_BATCH = 256  # texts per model call between two progress reports; smaller batches embed markedly slower
# Any constant works; it only has to be the same for every process that recomputes matches.
RECOMPUTE_LOCK = 0x4D41_5443  # "MATC"


@dataclass
class RecomputeResult:
    created: int = 0
    updated: int = 0
    dropped: int = 0
    kept_reviewed: int = 0  # wanted pairs left alone because staff or the firms already acted on them
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)


class _ReportingEmbedder:
    """Embeds in small batches and reports after each, so a long first run shows it is moving."""

    def __init__(self, inner: Embedder, progress: Callable[[str, int, int], None]) -> None:
        self.inner, self.progress = inner, progress
        self.name = inner.name  # part of the cache key: must stay the model's own name
        self.done = self.total = 0

    def embed(self, texts: Sequence[str], role: str) -> np.ndarray:
        self.total += len(texts)
        batches = []
        for start in range(0, len(texts), EMBED_BATCH):
            batches.append(self.inner.embed(texts[start : start + EMBED_BATCH], role))
            self.done += len(batches[-1])
            self.progress("embedding", self.done, self.total)
        return np.concatenate(batches) if batches else self.inner.embed(texts, role)


def matching_embedder(progress: Callable[[str, int, int], None] | None = None) -> Embedder | None:
    """The engine's embedder with the database cache, or None when the model cannot load here."""
    inner = default_embedder()
    if inner is None:
        return None
    return CachedEmbedder(_ReportingEmbedder(inner, progress) if progress else inner, DatabaseEmbeddingStore())


def recompute_matches(
    company_ids: Collection[int] | None = None,
    top_k: int = 10,
    progress: Callable[[str, int, int], None] | None = None,
) -> RecomputeResult:
    """Refresh SUGGESTED matches from the engine; never touches a match staff or the firms acted on.

    A pair is wanted when it is in either firm's top ``top_k``. Without ``company_ids`` every matchable
    firm (Company.objects.matchable) is ranked and every suggestion not wanted is dropped. With
    ``company_ids`` (firms were edited) only pairs involving those firms change. They are ranked together
    with the counterparts of their current suggestions, so for each such suggestion both sides' top K are
    known: it is dropped only when it is in neither. A firm in ``company_ids`` that is no longer matchable
    loses its suggestions, and its former counterparts are ranked again to fill the gap. Running it twice
    changes nothing more.
    ``progress(stage, done, total)`` is called as each stage of RECOMPUTE_STAGES moves on.
    """
    started = time.monotonic()
    report = progress or (lambda stage, done, total: None)
    result = RecomputeResult()

    scope = ranked = None
    if company_ids is not None:
        scope, ranked = _partial_scope(set(company_ids))

    ranking, wanted = None, {}
    # Nothing to rank, e.g. a draft was edited: skip reading every profile; only the clean-up below runs.
    if ranked is None or ranked:
        # A partial run ranks on this process's warm index when the market is large enough to keep one.
        index = warm_index.ready_index(scope, lambda: matching_embedder(progress)) if ranked is not None else None
        if index is not None:
            ranking = index.rank(ranked, top_k=top_k)
            country = index.countries(
                {key for key in ranking.suggestions}
                | {s.counterpart for suggestions in ranking.suggestions.values() for s in suggestions}
            )
        else:
            profiles = matchable_profiles()
            report("profiles", len(profiles), len(profiles))
            ranking = rank_counterparts(profiles, top_k=top_k, embedder=matching_embedder(progress), only=ranked)
            country = {profile.key: profile.country for profile in profiles}
        result.notes.extend(ranking.notes)
        report("ranking", len(ranking.suggestions), len(ranking.suggestions))
        wanted = _wanted_pairs(ranking, country)
    if scope is not None:
        # The counterparts were ranked only to judge pairs with the firms in scope; their other pairs wait
        # for a full run (acting on them here would widen every partial run, and a rerun would change more).
        wanted = {pair: values for pair, values in wanted.items() if pair[0] in scope or pair[1] in scope}

    _save(result, wanted, ranking.engine_version if ranking else "", scope, ranked)
    written = result.created + result.updated + result.dropped
    report("saving", written, written)
    result.seconds = time.monotonic() - started
    return result


def recompute_chunks(chunk_size: int = RECOMPUTE_CHUNK) -> list[list[int]]:
    """A full recompute cut for the fan-out (matchmaking/fanout.py): the matchable firms of the country a full
    ranking scans as rows (engine.blocks.row_country), in pk order, ``chunk_size`` at a time rounded up to
    whole blocks of its scan (so each chunk scores a pair to the last bit as a full ranking does). Each
    chunk is ranked against every firm of the other country, so each pair is scored once; at least one
    chunk, even an empty one, so that the run always ends with the merge that writes (and drops)."""
    matchable = Company.objects.matchable()
    rows = row_country(list(matchable.order_by().values_list("country", flat=True).distinct()))
    ordered = list(matchable.filter(country=rows).order_by("pk").values_list("pk", flat=True))
    size = piece_size(chunk_size)
    return [ordered[start : start + size] for start in range(0, len(ordered), size)] or [[]]


def _partial_scope(company_ids: set[int]) -> tuple[set[int], set[int]]:
    """(firms whose pairs may change, matchable firms to rank) for a recompute of ``company_ids``."""
    scope = set(company_ids)
    matchable = set(Company.objects.matchable().filter(pk__in=scope).values_list("pk", flat=True))
    gone = scope - matchable
    if gone:
        # Their suggestions are dropped, leaving a gap in each counterpart's list: rank those firms again.
        scope |= _suggested_counterparts(gone)
    candidates = scope | _suggested_counterparts(scope)
    return scope, set(Company.objects.matchable().filter(pk__in=candidates).values_list("pk", flat=True))


def _suggested_counterparts(firms: set[int]) -> set[int]:
    pairs = Match.objects.filter(
        Q(company_vn__in=firms) | Q(company_ru__in=firms), status=Match.Status.SUGGESTED
    ).values_list("company_vn_id", "company_ru_id")
    return {firm for pair in pairs for firm in pair} - firms


def _wanted_pairs(ranking: Ranking, country: dict[int, str]) -> dict[tuple[int, int], PendingValues]:
    """{(vn pk, ru pk): values} for every pair in a ranked firm's top K. Pairs the engine is not confident about
    are kept too, with their confidence: staff sort and filter by it, and a firm whose best stays below
    MATCHING_MIN_CONFIDENCE is listed as needing a better profile (the abstention); leaving them out would
    hide one labelled partner in ten of the development set from the review."""
    wanted: dict[tuple[int, int], PendingValues] = {}
    vn, ru = Country.VIETNAM, Country.RUSSIA
    # A million objects that all live on and make no cycles: each full run of the cycle collector would walk
    # them again (at 10,000 firms, 3 of the 4 seconds this took when each pair's values were built here).
    with _no_cycle_collection():
        for firm, suggestions in ranking.suggestions.items():
            side = country[firm]
            for suggestion in suggestions:
                other = suggestion.counterpart
                if side == vn and country[other] == ru:
                    # The Vietnamese side's own suggestion is what reasons are written from: it always wins.
                    wanted[(firm, other)] = PendingValues(suggestion, from_vn=True)
                elif side == ru and country[other] == vn and (other, firm) not in wanted:
                    wanted[(other, firm)] = PendingValues(suggestion, from_vn=False)
    return wanted


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Python's cycle collector paused (as it was before, afterwards): while a ranking's million pairs are
    turned into rows, its runs would walk them again and again for no cycle to find."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


@transaction.atomic
def _save(
    result: RecomputeResult,
    wanted: dict[tuple[int, int], bulk.PairValues],
    engine_version: str,
    scope: set[int] | None,
    ranked: set[int] | None,
) -> None:
    # Recomputes from several workers would otherwise race to create the same pair; the ranking (the slow
    # part) runs outside this lock, only the writes are serialised.
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [RECOMPUTE_LOCK])
    # The comparison with the stored matches runs in the database (see bulk.write_ranking for the rules):
    # a full run would otherwise read back a million rows and their JSON to find that most did not change.
    # Each pair's values are worked out as they are written (PendingValues), short-lived objects among the
    # ranking's millions: a run of the cycle collector would walk those every time, for no cycle to find.
    with _no_cycle_collection():
        written = bulk.write_ranking(
            ((vn, ru, values) for (vn, ru), values in wanted.items()),
            engine_version,
            None if scope is None else (scope, ranked or set()),
        )
    result.created += written.created
    result.updated += written.updated
    result.dropped += written.dropped
    result.kept_reviewed += written.kept_reviewed


# --- the workflow ---------------------------------------------------------------------------------


def _event(
    match: Match, action: str, from_status: str, *, by: AbstractBaseUser | None = None, note: str = ""
) -> MatchEvent:
    return MatchEvent(match=match, actor=by, action=action, from_status=from_status, to_status=match.status, note=note)


def _lock_all(matches: Iterable[Match]) -> list[Match]:
    """Lock the rows and bring the given instances' status up to date (one locking query)."""
    given = list(matches)
    current = Match.objects.select_for_update().in_bulk([match.pk for match in given])
    for match in given:
        if match.pk not in current:
            raise MatchWorkflowError(f"Match {match.pk} no longer exists.")
        match.status = current[match.pk].status
    return given


def _review(
    matches: Iterable[Match], to_status: str, *, by: AbstractBaseUser | None, note: str, action: str
) -> list[Match]:
    locked = _lock_all(matches)
    refused = [match for match in locked if not match.may_move_to(to_status)]
    if refused:
        listed = "; ".join(f"match {match.pk} is {match.get_status_display().lower()}" for match in refused)
        allowed_from = sorted(Match.statuses_leading_to(to_status))
        raise MatchWorkflowError(
            f"Only {' or '.join(allowed_from)} matches can be {action}: {listed}. Nothing was changed."
        )
    now = timezone.now()
    events = []
    for match in locked:
        from_status = match.status
        match.status, match.review_note, match.reviewed_by, match.reviewed_at, match.updated_at = (
            to_status,
            note,
            by,
            now,
            now,
        )
        events.append(_event(match, action, from_status, by=by, note=note))
    Match.objects.bulk_update(locked, ["status", "review_note", "reviewed_by", "reviewed_at", "updated_at"])
    MatchEvent.objects.bulk_create(events)
    return locked


@transaction.atomic
def approve(matches: Iterable[Match], *, by: AbstractBaseUser | None, note: str = "") -> list[Match]:
    """Staff accept suggestions for introduction (a rejected match may be approved after all).

    All or nothing: if one match cannot be approved, none is and MatchWorkflowError names them.
    """
    return _review(matches, Match.Status.APPROVED, by=by, note=note, action="approved")


@transaction.atomic
def reject(matches: Iterable[Match], *, by: AbstractBaseUser | None, note: str = "") -> list[Match]:
    """Staff turn suggestions down (or an approval not yet introduced); the pair is never suggested again."""
    return _review(matches, Match.Status.REJECTED, by=by, note=note, action="rejected")


def _lock(match: Match) -> None:
    match.refresh_from_db(from_queryset=Match.objects.select_for_update())


# How long staff may take back a decision they made on a suggestion (the review workbench's undo).
UNDO_SECONDS = 60
UNDOABLE_ACTIONS = ("approved", "rejected")


@transaction.atomic
def undo_decision(match: Match, *, by: AbstractBaseUser, now: datetime | None = None) -> Match:
    """Take back the last decision on a suggestion (approved or rejected) if ``by`` made it less than
    UNDO_SECONDS ago and nothing happened to the match since: it is a suggestion again, with no reviewer or
    note, and an "undone" MatchEvent says who took it back. Refused with MatchWorkflowError otherwise (an
    introduction already requested, another reviewer's decision, a minute gone)."""
    now = now or timezone.now()
    _lock(match)
    last = match.events.order_by("-at", "-id").first()
    if (
        last is None
        or not match.may_move_to(Match.Status.SUGGESTED)
        or last.action not in UNDOABLE_ACTIONS
        or last.to_status != match.status
        or last.from_status != Match.Status.SUGGESTED
    ):
        raise MatchWorkflowError(f"Match {match.pk} has no decision to undo: its last step was not a review.")
    if last.actor_id != by.pk:
        raise MatchWorkflowError(f"Only the staff member who decided match {match.pk} may undo it.")
    if now - last.at > timedelta(seconds=UNDO_SECONDS):
        raise MatchWorkflowError(
            f"The decision on match {match.pk} was made more than {UNDO_SECONDS} seconds ago: it stands."
        )
    from_status = match.status
    match.status, match.review_note, match.reviewed_by, match.reviewed_at = Match.Status.SUGGESTED, "", None, None
    match.save(update_fields=["status", "review_note", "reviewed_by", "reviewed_at", "updated_at"])
    _event(match, "undone", from_status, by=by, note=f"took back: {last.action}").save()
    return match


def approve_all(matches: QuerySet[Match], *, by: AbstractBaseUser | None, note: str = "", limit: int) -> int:
    """Approve the suggestions among ``matches``, at most ``limit`` of them (the best first), each with its
    own MatchEvent, in one statement whatever their number (a bulk approval may take thousands); returns how
    many were approved. A match decided meanwhile is left alone: PostgreSQL checks the status again on each
    row it updates."""
    chosen = matches.filter(status=Match.Status.SUGGESTED).order_by(QUALITY.desc(), "pk").values("pk")[:limit]
    try:
        chosen_sql, chosen_params = chosen.query.sql_with_params()
    except EmptyResultSet:
        return 0
    now, actor = timezone.now(), None if by is None else by.pk
    match_table, event_table = Match._meta.db_table, MatchEvent._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"""WITH changed AS (
                    UPDATE {match_table} SET status = %s, review_note = %s, reviewed_by_id = %s, reviewed_at = %s,
                        updated_at = %s
                    WHERE id IN ({chosen_sql}) AND status = %s
                    RETURNING id
                )
                INSERT INTO {event_table} (match_id, actor_id, action, from_status, to_status, note, at)
                SELECT id, %s, %s, %s, %s, %s, %s FROM changed""",
            [
                Match.Status.APPROVED,
                note,
                actor,
                now,
                now,
                *chosen_params,
                Match.Status.SUGGESTED,
                actor,
                "approved",
                Match.Status.SUGGESTED,
                Match.Status.APPROVED,
                note,
                now,
            ],
        )
        return cursor.rowcount


@transaction.atomic
def introduce(match: Match, *, by: AbstractBaseUser | None = None, note: str = "") -> Match:
    """Send an approved match to both firms; each must then accept or decline."""
    _lock(match)
    if not match.may_move_to(Match.Status.INTRODUCED):
        raise MatchWorkflowError(
            f"Only approved matches can be introduced; match {match.pk} is {match.get_status_display().lower()}."
        )
    from_status = match.status
    match.status, match.introduced_at = Match.Status.INTRODUCED, timezone.now()
    match.response_vn = match.response_ru = Match.Response.PENDING
    match.save(update_fields=["status", "introduced_at", "response_vn", "response_ru", "updated_at"])
    _event(match, "introduced", from_status, by=by, note=note).save()
    return match


def introduce_now(match: Match, *, by: AbstractBaseUser | None) -> None:
    """Approve the match if it is still a suggestion, and have both firms emailed its introduction at once
    rather than in their next weekly digests (matchmaking.introductions, by a task queued after the commit;
    the match becomes introduced when the first email goes out).

    The match is taken as given: the caller checks that ``by`` may see it (the admin scopes a chamber's staff
    to pairs with a firm of theirs). Refused with MatchWorkflowError, changing nothing, unless the match is
    suggested or approved and both firms may be matched now (Company.objects.matchable).
    """
    from matchmaking.tasks import send_introduction_now  # not at the top: the tasks module imports this one

    with transaction.atomic():
        _lock(match)
        # Introducing now skips the wait for the digest, not the review's say: a suggestion is approved on
        # the way, a rejected pair stays rejected.
        if match.status != Match.Status.SUGGESTED and not match.may_move_to(Match.Status.INTRODUCED):
            raise MatchWorkflowError(
                f"Only suggested or approved matches can be introduced now; match {match.pk} is "
                f"{match.get_status_display().lower()}."
            )
        firms = Company.objects.filter(pk__in=[match.company_vn_id, match.company_ru_id])
        matchable = set(firms.matchable().values_list("pk", flat=True))
        refused = [
            f"{firm} is not published"
            if firm.status != Company.Status.PUBLISHED
            else f"{firm} has not consented to matching"
            for firm in firms.order_by("pk")
            if firm.pk not in matchable
        ]
        if refused:
            raise MatchWorkflowError(
                f"Match {match.pk} cannot be introduced now: {'; '.join(refused)}. Nothing was changed."
            )
        if match.status == Match.Status.SUGGESTED:
            approve([match], by=by)
        _event(
            match, "introduction_requested", match.status, by=by, note="introduce now: both firms to be emailed at once"
        ).save()
        transaction.on_commit(lambda: send_introduction_now.delay(match.pk))


@transaction.atomic
def expire_introductions(now: datetime | None = None) -> int:
    """Introductions still unanswered DIGEST_INTRODUCTION_EXPIRY_DAYS after they went out expire; returns how
    many. The firm that did answer is told in its next digest (the digest selectors look for them)."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.DIGEST_INTRODUCTION_EXPIRY_DAYS)
    stale = list(
        Match.objects.select_for_update(skip_locked=True)
        .filter(status__in=Match.statuses_leading_to(Match.Status.EXPIRED), introduced_at__lte=cutoff)
        .filter(Q(response_vn=Match.Response.PENDING) | Q(response_ru=Match.Response.PENDING))
    )
    note = f"unanswered after {settings.DIGEST_INTRODUCTION_EXPIRY_DAYS} days"
    events = []
    for match in stale:
        from_status = match.status
        match.status, match.expired_at, match.updated_at = Match.Status.EXPIRED, now, now
        events.append(_event(match, "expired", from_status, note=note))
    Match.objects.bulk_update(stale, ["status", "expired_at", "updated_at"])
    MatchEvent.objects.bulk_create(events)
    return len(stale)


def _side(match: Match, company: Company) -> str:
    try:
        return match.side_of(company)
    except ValueError:
        raise MatchWorkflowError(f"{company} is not a party to match {match.pk}.") from None


@transaction.atomic
def respond(match: Match, company: Company, accept: bool, *, by: AbstractBaseUser | None) -> Match:
    """One firm answers an introduction: both accepting connects them, either declining ends it."""
    _lock(match)
    side = _side(match, company)
    if not match.may_move_to(Match.Status.DECLINED):  # answering is what connects or declines it
        raise MatchWorkflowError(
            f"Only introduced matches can be answered; match {match.pk} is {match.get_status_display().lower()}."
        )
    field_name = f"response_{side}"
    if getattr(match, field_name) != Match.Response.PENDING:
        raise MatchWorkflowError(f"{company} has already answered match {match.pk}.")
    setattr(match, field_name, Match.Response.ACCEPTED if accept else Match.Response.DECLINED)
    from_status = match.status
    fields = [field_name, "updated_at"]
    if not accept:
        match.status = Match.Status.DECLINED
        fields.append("status")
    elif match.response_vn == match.response_ru == Match.Response.ACCEPTED:
        match.status, match.connected_at = Match.Status.CONNECTED, timezone.now()
        fields += ["status", "connected_at"]
    match.save(update_fields=fields)
    action = "accepted" if accept else "declined"
    _event(match, action, from_status, by=by, note=f"{company} ({side.upper()}) {action}").save()
    return match


@transaction.atomic
def record_outcome(match: Match, company: Company, outcome: str, *, by: AbstractBaseUser | None) -> Match:
    """A connected firm tells what came of the introduction."""
    _lock(match)
    side = _side(match, company)
    if match.status != Match.Status.CONNECTED:
        raise MatchWorkflowError(
            f"Outcomes are recorded only for connected matches; match {match.pk} is "
            f"{match.get_status_display().lower()}."
        )
    if outcome not in Match.Outcome.values or outcome == Match.Outcome.NONE:
        raise MatchWorkflowError(
            f"Unknown outcome {outcome!r}: use one of {', '.join(v for v in Match.Outcome.values if v)}."
        )
    setattr(match, f"outcome_{side}", outcome)
    match.save(update_fields=[f"outcome_{side}", "updated_at"])
    _event(match, "outcome", match.status, by=by, note=f"{company} ({side.upper()}): {outcome}").save()
    return match


# --- embedding new texts ahead of a recompute ---------------------------------------------------------------

EMBED_CHUNK = 256  # texts per task at most: about 8 s of the model on one core, so a killed worker loses little
# Queued, the texts are cut into at least this many equal chunks (of 16 texts or more), so that the workers
# finish within a small chunk of each other.
EMBED_QUEUE_CHUNKS = 64


@dataclass
class EmbeddingPlan:
    chunks: list[tuple[str, list[str]]]  # (role, texts) not cached yet
    cached: int
    missing: int
    keys: list[str] = field(default_factory=list)  # the cache keys of the chunks' texts, to follow the workers


def plan_embedding(chunk_size: int = EMBED_CHUNK, *, at_least: int = 1) -> EmbeddingPlan:
    """The published texts the cache lacks, in equal chunks of at most ``chunk_size`` texts, ``at_least`` of them
    if there are texts enough. Each chunk is independent and idempotent, so the chunks can go to any number of
    workers, and a rerun after a crash plans only what is still missing."""
    model = default_embedder()
    if model is None:
        return EmbeddingPlan([], 0, 0)
    store, todo, keys, cached = DatabaseEmbeddingStore(), {}, [], 0
    for role, texts in texts_to_embed().items():
        keyed = {text_key(model.name, role, text): text for text in texts}
        have = store.cached_keys(keyed)
        todo[role] = [text for key, text in keyed.items() if key not in have]
        keys += [key for key in keyed if key not in have]
        cached += len(keyed) - len(todo[role])
    size = min(chunk_size, max(16, -(-len(keys) // at_least)))
    chunks = [(role, part) for role, texts in todo.items() for part in equal_parts(texts, size)]
    return EmbeddingPlan(chunks, cached, len(keys), keys)


def embed_chunk(role: str, texts: Sequence[str]) -> int:
    """Embed and cache the texts the cache lacks; returns how many rows this call wrote (texts another worker
    cached meanwhile are skipped, see embedding_cache.embed_missing)."""
    model = default_embedder()
    return 0 if model is None else embed_missing(model, role, texts)


# --- matching for other apps ---------------------------------------------------------------------


@dataclass(frozen=True)
class RankedPair:
    """A counterpart the engine ranks for a firm, with the pair's score and its reasons stored as a Match
    stores them (from the Vietnamese firm's side), ready for matchmaking.explain."""

    company_id: int
    counterpart_id: int
    score: float
    reasons: list[dict]


def rank_among(
    company_ids: Collection[int], *, for_ids: Collection[int] | None = None, top_k: int | None = None
) -> dict[int, list[RankedPair]]:
    """Each firm of ``for_ids`` (default: every firm of ``company_ids``) ranked against the firms of
    ``company_ids`` (and of ``for_ids``) only: its best ``top_k`` counterparts (default: all), best first.
    Firms that are not matchable are left out; with fewer than two, nothing is ranked. The one way other apps
    (an event's firms) reach the engine."""
    ranked = set(company_ids) if for_ids is None else set(for_ids)
    profiles = matchable_profiles(set(company_ids) | ranked)
    wanted = [profile.key for profile in profiles if profile.key in ranked]
    if len(profiles) < 2 or not wanted:
        return {}
    ranking = rank_counterparts(profiles, top_k=len(profiles), embedder=matching_embedder(), only=wanted)
    country = {profile.key: profile.country for profile in profiles}
    pairs: dict[int, list[RankedPair]] = {}
    for firm, suggestions in ranking.suggestions.items():
        pairs[firm] = []
        for suggestion in suggestions[:top_k]:
            values = match_values(suggestion, from_vn=country[firm] == Country.VIETNAM)
            pairs[firm].append(RankedPair(firm, suggestion.counterpart, values.score, values.reasons))
    return pairs
