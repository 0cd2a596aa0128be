"""Writing many matches at once with PostgreSQL's COPY: rows go to a temporary staging table, then one
INSERT or UPDATE from it writes the matches and their audit events together.

A full recompute writes up to ten rows per firm; row-by-row ORM batches spend most of their time building
and sending SQL, while COPY streams the rows (see bench/persistence.py for the figures).
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from django.db import connection

from matchmaking.models import Match, MatchEvent

MATCH_TABLE = Match._meta.db_table
EVENT_TABLE = MatchEvent._meta.db_table
STAGING = "match_staging"
_STAGING_COLUMNS = (
    "company_vn_id bigint, company_ru_id bigint, score double precision, fit_for_vn double precision, "
    "fit_for_ru double precision, score_parts jsonb, reasons jsonb, note text"
)


def _stage(cursor, rows: Iterable[tuple]) -> None:
    """rows: (vn id, ru id, _PairValues-like values, event note)."""
    cursor.execute(f"CREATE TEMPORARY TABLE IF NOT EXISTS {STAGING} ({_STAGING_COLUMNS}) ON COMMIT DROP")
    cursor.execute(f"TRUNCATE {STAGING}")
    with cursor.copy(f"COPY {STAGING} FROM STDIN") as copy:
        for vn, ru, values, note in rows:
            copy.write_row((vn, ru, values.score, values.fit_for_vn, values.fit_for_ru,
                            json.dumps(values.score_parts, ensure_ascii=False),
                            json.dumps(values.reasons, ensure_ascii=False), note))


def create_suggestions(rows: list[tuple], engine_version: str) -> int:
    """Insert SUGGESTED matches with a "suggested" event each; a pair that exists already is skipped.
    Call inside a transaction. Returns how many were created."""
    if not rows:
        return 0
    with connection.cursor() as cursor:
        _stage(cursor, rows)
        cursor.execute(
            f"""
            WITH created AS (
                INSERT INTO {MATCH_TABLE} (company_vn_id, company_ru_id, score, fit_for_vn, fit_for_ru, score_parts,
                    reasons, engine_version, status, review_note, response_vn, response_ru, outcome_vn, outcome_ru,
                    created_at, updated_at)
                SELECT company_vn_id, company_ru_id, score, fit_for_vn, fit_for_ru, score_parts, reasons, %(version)s,
                    %(suggested)s, '', %(pending)s, %(pending)s, '', '', now(), now()
                FROM {STAGING}
                ON CONFLICT (company_vn_id, company_ru_id) DO NOTHING
                RETURNING id, company_vn_id, company_ru_id
            )
            INSERT INTO {EVENT_TABLE} (match_id, action, from_status, to_status, note, at)
            SELECT created.id, 'suggested', '', %(suggested)s, staged.note, now()
            FROM created JOIN {STAGING} staged USING (company_vn_id, company_ru_id)
            """,
            {"version": engine_version, "suggested": Match.Status.SUGGESTED, "pending": Match.Response.PENDING},
        )
        return cursor.rowcount


def rescore_suggestions(rows: list[tuple], engine_version: str) -> int:
    """Overwrite the engine's values of SUGGESTED matches, with a "rescored" event each (reviewed matches are
    never touched, even if a row names one). Call inside a transaction. Returns how many changed."""
    if not rows:
        return 0
    with connection.cursor() as cursor:
        _stage(cursor, rows)
        cursor.execute(
            f"""
            WITH changed AS (
                UPDATE {MATCH_TABLE} m SET score = s.score, fit_for_vn = s.fit_for_vn, fit_for_ru = s.fit_for_ru,
                    score_parts = s.score_parts, reasons = s.reasons, engine_version = %(version)s, updated_at = now()
                FROM {STAGING} s
                WHERE m.company_vn_id = s.company_vn_id AND m.company_ru_id = s.company_ru_id
                    AND m.status = %(suggested)s
                RETURNING m.id, s.note
            )
            INSERT INTO {EVENT_TABLE} (match_id, action, from_status, to_status, note, at)
            SELECT id, 'rescored', %(suggested)s, %(suggested)s, note, now() FROM changed
            """,
            {"version": engine_version, "suggested": Match.Status.SUGGESTED},
        )
        return cursor.rowcount
