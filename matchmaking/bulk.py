"""Writing a whole ranking at once: every wanted pair is streamed with PostgreSQL's COPY into a temporary
staging table, then a few set-based statements compare it with the stored matches on the server and write
only what changed, the audit events in the same statements.

A full recompute wants up to ten pairs per firm, a million rows at 100,000 firms. Reading them back to
compare in Python cost more than writing them (the JSON of every row decoded, for a rerun that mostly
changes nothing), so nothing comes back but counts; see bench/persistence.py for the figures.

The first save of a market (a full run, no match stored yet) has nothing to compare: its rows are checked
against the matchable firms first, in one read, and copied straight into the match table, their "suggested"
events added by one INSERT ... SELECT. The foreign keys stay and are checked as for any insert.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Protocol

import orjson
from django.db import connection

from companies.models import PURPOSES_TO_MATCH, Company, Country
from matchmaking.models import DigestItem, Match, MatchEvent

MATCH_TABLE = Match._meta.db_table
EVENT_TABLE = MatchEvent._meta.db_table
DIGEST_ITEM_TABLE = DigestItem._meta.db_table
COMPANY_TABLE = Company._meta.db_table
STAGING = "match_staging"
_STAGING_COLUMNS = (
    "company_vn_id bigint, company_ru_id bigint, score double precision, fit_for_vn double precision, "
    "fit_for_ru double precision, score_parts jsonb, reasons jsonb"
)
# The first save copies straight into the match table (see _first_save); False writes it through the staging
# table as every later run does (tests and bench/persistence.py compare the two).
FIRST_SAVE_COPY = True
COPY_CHUNK = 5000  # rows per write to the COPY stream: large enough to amortise the call, small for memory


def _to_json(value) -> str:
    # orjson: a million rows' reasons are encoded in about a second instead of ten (compact, UTF-8 kept).
    return orjson.dumps(value).decode()


# Hash joins of a million staged rows against a million matches stay in memory instead of spilling to
# disk in batches; only for this transaction.
WORK_MEM = "256MB"
# Same text as f"{score:.3f}" in Python: to_char formats the double itself, as printf does.
_SCORE_TEXT = "to_char({}, 'FM999999990.000')"


def _live(alias: str, country: str) -> str:
    """A join condition: the firm ``alias`` is matchable in its country. Company.objects.matchable() written for
    the statements below (published, and consent to matching or no consent recorded yet): keep them alike."""
    return (
        f"{alias}.status = %(published)s AND {alias}.country = %({country})s"
        f" AND ({alias}.consent_purposes @> %(to_match)s::varchar[]"
        f" OR ({alias}.consent_given_at IS NULL AND cardinality({alias}.consent_purposes) = 0))"
    )


class PairValues(Protocol):
    score: float
    fit_for_vn: float
    fit_for_ru: float
    score_parts: dict
    reasons: list


@dataclass
class Written:
    created: int = 0
    updated: int = 0
    dropped: int = 0
    kept_reviewed: int = 0


def _copy_text(value: str) -> str:
    # JSON escapes every control character itself, so a backslash is all COPY's text format still needs escaped.
    return value.replace("\\", "\\\\")


def _copy_rows(copy, rows: Iterable[tuple[int, int, PairValues]], *, tail: str) -> None:
    """Write each pair's line (its values, then ``tail``, which ends the line) to a COPY in the text format.
    Lines are formatted here and written a chunk at a time: psycopg's write_row adapts each value on its own,
    several times slower for a million rows. repr() of a float reads back as the same double."""
    lines = []
    for vn, ru, values in rows:
        lines.append(
            f"{vn:d}\t{ru:d}\t{values.score!r}\t{values.fit_for_vn!r}\t{values.fit_for_ru!r}\t"
            f"{_copy_text(_to_json(values.score_parts))}\t{_copy_text(_to_json(values.reasons))}{tail}"
        )
        if len(lines) == COPY_CHUNK:
            copy.write("".join(lines))
            lines.clear()
    if lines:
        copy.write("".join(lines))


def _stage(cursor, rows: Iterable[tuple[int, int, PairValues]]) -> None:
    cursor.execute(f"CREATE TEMPORARY TABLE IF NOT EXISTS {STAGING} ({_STAGING_COLUMNS}) ON COMMIT DROP")
    cursor.execute(f"TRUNCATE {STAGING}")
    with cursor.copy(f"COPY {STAGING} FROM STDIN") as copy:
        _copy_rows(copy, rows, tail="\n")
    # Temporary tables are never analysed by autovacuum; without statistics the joins below are planned
    # for a table of unknown size.
    cursor.execute(f"ANALYZE {STAGING}")


_MATCH_COLUMNS = (
    "company_vn_id, company_ru_id, score, fit_for_vn, fit_for_ru, score_parts, reasons, engine_version, status, "
    "review_note, response_vn, response_ru, outcome_vn, outcome_ru, created_at, updated_at"
)


def _copy_field(value: str) -> str:
    # A text field of COPY's text format: its separators and line ends escaped as well as the backslash.
    return _copy_text(value).replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _matchable_ids(cursor, live: dict, country: str) -> set[int]:
    cursor.execute(f"SELECT c.id FROM {COMPANY_TABLE} c WHERE {_live('c', country)}", live)
    return {pk for (pk,) in cursor.fetchall()}


def _best_first(row: tuple[int, int, PairValues]) -> float:
    return -row[2].score


def _first_save(cursor, rows: Iterable[tuple[int, int, PairValues]], engine_version: str, live: dict) -> int:
    """Copy every wanted pair of two matchable firms straight into the empty match table, with its "suggested"
    event; returns how many. Only for a full run that found no match stored (see write_ranking)."""
    # The set-based check the staged path makes with its joins, made once here: a pair whose firms are not
    # both matchable, each in its own country, is left out, as there. A pair given twice is written once.
    vn_ok, ru_ok = _matchable_ids(cursor, live, "vn"), _matchable_ids(cursor, live, "ru")
    # The transaction's time, as now() gives it to the staged path's rows and events.
    cursor.execute("SELECT now()::text")
    stamp = cursor.fetchone()[0]
    tail = (
        f"{_copy_field(engine_version)}\t{Match.Status.SUGGESTED}\t\t{Match.Response.PENDING}\t"
        f"{Match.Response.PENDING}\t\t\t{stamp}\t{stamp}\n"
    )
    seen: set[tuple[int, int]] = set()
    kept = []
    for row in rows:
        pair = row[:2]
        if pair[0] in vn_ok and pair[1] in ru_ok and pair not in seen:
            seen.add(pair)
            kept.append(row)
    del seen
    # Best first: four of the table's indexes lead with the score (or the confidence that follows it), and
    # entries arriving in their order land on the same few pages instead of all over each index: the copy
    # ran 1.3-1.8× faster so at 100,000 firms (the pair's own index gets them in random order either way).
    kept.sort(key=_best_first)
    with cursor.copy(f"COPY {MATCH_TABLE} ({_MATCH_COLUMNS}) FROM STDIN") as copy:
        _copy_rows(copy, kept, tail="\t" + tail)
    # Every match in the table is one just copied: the table held none, and only a recompute creates
    # matches, under the lock its caller holds.
    cursor.execute(
        f"""
        INSERT INTO {EVENT_TABLE} (match_id, action, from_status, to_status, note, at)
        SELECT m.id, 'suggested', '', %(suggested)s,
            'score ' || {_SCORE_TEXT.format("m.score")} || ', engine ' || %(version)s, now()
        FROM {MATCH_TABLE} m
        """,
        {"suggested": Match.Status.SUGGESTED, "version": engine_version},
    )
    # The table went from empty to full in this transaction: without fresh statistics the next run's joins,
    # and the pages reading matches, are planned for an empty table until autovacuum comes by (the rerun
    # estimated 7,727 suggested matches of a million). ANALYZE reads a sample of the rows: about a second.
    cursor.execute(f"ANALYZE {MATCH_TABLE}")
    return len(kept)


def write_ranking(
    rows: Iterable[tuple[int, int, PairValues]],
    engine_version: str,
    droppable_within: tuple[Collection[int], Collection[int]] | None = None,
) -> Written:
    """Make the SUGGESTED matches agree with the wanted pairs ``rows`` (vn id, ru id, values); call inside a
    transaction that holds the recompute lock.

    - a wanted pair with no match becomes a SUGGESTED match (if both firms are still matchable, each in its
      own country), with a "suggested" event;
    - a SUGGESTED match whose values differ is rescored, with a "rescored" event; one whose values are the
      same is not written at all (its updated_at stays);
    - a wanted pair whose match staff or the firms acted on is left as it is, only counted;
    - a SUGGESTED match not wanted is dropped with its events. ``droppable_within`` = (scope, ranked) limits
      that, and the rescoring, to a partial run: only pairs with a firm in ``scope`` are looked at, and only
      those with both firms ``ranked`` are dropped (the other side's top K is not known otherwise);
    - a SUGGESTED match with a firm no longer matchable in its country is dropped (in a partial run, if it
      has a firm in ``scope``: a firm leaving is recomputed on its own, and a full run sweeps the rest;
      looking at every match would cost a partial run a scan of a million rows).
    """
    version = {"version": engine_version, "suggested": Match.Status.SUGGESTED}
    in_scope = dropped_if = "TRUE"
    if droppable_within is not None:
        scope, ranked = droppable_within
        version.update(scope=list(scope), ranked=list(ranked))
        in_scope = "(m.company_vn_id = ANY(%(scope)s) OR m.company_ru_id = ANY(%(scope)s))"
        dropped_if = f"{in_scope} AND m.company_vn_id = ANY(%(ranked)s) AND m.company_ru_id = ANY(%(ranked)s)"
    live = {
        "published": Company.Status.PUBLISHED,
        "vn": Country.VIETNAM,
        "ru": Country.RUSSIA,
        "to_match": list(PURPOSES_TO_MATCH),
    }
    written = Written()
    with connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL work_mem = '{WORK_MEM}'")
        # Not waiting for the commit to reach the disk: a recompute lost in a crash is simply run again.
        cursor.execute("SET LOCAL synchronous_commit = off")
        if droppable_within is None and FIRST_SAVE_COPY:
            cursor.execute(f"SELECT NOT EXISTS (SELECT FROM {MATCH_TABLE})")
            if cursor.fetchone()[0]:
                written.created = _first_save(cursor, rows, engine_version, live)
                return written
        _stage(cursor, rows)

        cursor.execute(
            f"""
            WITH gone AS (
                SELECT m.id FROM {MATCH_TABLE} m
                LEFT JOIN {STAGING} s ON s.company_vn_id = m.company_vn_id AND s.company_ru_id = m.company_ru_id
                LEFT JOIN {COMPANY_TABLE} vn ON vn.id = m.company_vn_id AND {_live("vn", "vn")}
                LEFT JOIN {COMPANY_TABLE} ru ON ru.id = m.company_ru_id AND {_live("ru", "ru")}
                WHERE m.status = %(suggested)s AND {in_scope}
                    AND (vn.id IS NULL OR ru.id IS NULL OR (s.company_vn_id IS NULL AND {dropped_if}))
                -- Locked first, and checked again once locked: one a reviewer approved meanwhile stays.
                FOR UPDATE OF m
            ),
            -- A suggestion leaves nothing to audit: its events go with it, as the ORM's cascade would do.
            events AS (DELETE FROM {EVENT_TABLE} e USING gone WHERE e.match_id = gone.id),
            items AS (UPDATE {DIGEST_ITEM_TABLE} i SET match_id = NULL FROM gone WHERE i.match_id = gone.id)
            DELETE FROM {MATCH_TABLE} m USING gone WHERE m.id = gone.id
            """,
            {**version, **live},
        )
        written.dropped = cursor.rowcount

        cursor.execute(
            f"""
            SELECT count(*) FROM {STAGING} s JOIN {MATCH_TABLE} m
                ON m.company_vn_id = s.company_vn_id AND m.company_ru_id = s.company_ru_id
            WHERE m.status = ANY(%(reviewed)s) AND {in_scope}
            """,
            {**version, "reviewed": [status for status in Match.Status.values if status != Match.Status.SUGGESTED]},
        )
        written.kept_reviewed = cursor.fetchone()[0]

        # "was" is the row before the update (a join to itself: PostgreSQL 15 has no RETURNING OLD).
        cursor.execute(
            f"""
            WITH changed AS (
                UPDATE {MATCH_TABLE} m SET score = s.score, fit_for_vn = s.fit_for_vn, fit_for_ru = s.fit_for_ru,
                    score_parts = s.score_parts, reasons = s.reasons, engine_version = %(version)s, updated_at = now()
                FROM {STAGING} s, {MATCH_TABLE} was
                WHERE m.company_vn_id = s.company_vn_id AND m.company_ru_id = s.company_ru_id AND was.id = m.id
                    AND m.status = %(suggested)s AND {in_scope}
                    AND (m.score, m.fit_for_vn, m.fit_for_ru, m.score_parts, m.reasons, m.engine_version)
                        IS DISTINCT FROM (s.score, s.fit_for_vn, s.fit_for_ru, s.score_parts, s.reasons, %(version)s)
                RETURNING m.id, was.score AS was, s.score
            )
            INSERT INTO {EVENT_TABLE} (match_id, action, from_status, to_status, note, at)
            SELECT id, 'rescored', %(suggested)s, %(suggested)s,
                'score ' || {_SCORE_TEXT.format("was")} || ' → ' || {_SCORE_TEXT.format("score")}
                    || ', engine ' || %(version)s,
                now()
            FROM changed
            """,
            version,
        )
        written.updated = cursor.rowcount

        cursor.execute(
            f"""
            WITH created AS (
                INSERT INTO {MATCH_TABLE} (company_vn_id, company_ru_id, score, fit_for_vn, fit_for_ru, score_parts,
                    reasons, engine_version, status, review_note, response_vn, response_ru, outcome_vn, outcome_ru,
                    created_at, updated_at)
                SELECT s.company_vn_id, s.company_ru_id, s.score, s.fit_for_vn, s.fit_for_ru, s.score_parts,
                    s.reasons, %(version)s, %(suggested)s, '', %(pending)s, %(pending)s, '', '', now(), now()
                FROM {STAGING} s
                JOIN {COMPANY_TABLE} vn ON vn.id = s.company_vn_id AND {_live("vn", "vn")}
                JOIN {COMPANY_TABLE} ru ON ru.id = s.company_ru_id AND {_live("ru", "ru")}
                -- The unique index finds the pairs that exist; a NOT EXISTS would look each one up a second
                -- time (and, planned for the empty table of a first save, on the wrong index: 3× slower).
                ON CONFLICT (company_vn_id, company_ru_id) DO NOTHING
                RETURNING id, score
            )
            INSERT INTO {EVENT_TABLE} (match_id, action, from_status, to_status, note, at)
            SELECT id, 'suggested', '', %(suggested)s,
                'score ' || {_SCORE_TEXT.format("score")} || ', engine ' || %(version)s, now()
            FROM created
            """,
            {**version, **live, "pending": Match.Response.PENDING},
        )
        written.created = cursor.rowcount
    return written
