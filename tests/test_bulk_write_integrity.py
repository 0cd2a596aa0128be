"""The first save of a ranking (matchmaking.bulk): copied straight into the empty match table, it must write what
the staged path, which every later run takes (and every first save took before), writes: the same rows, one
"suggested" audit row per match, the same pairs refused, and the foreign keys still there."""

import pytest
from django.db import connection

from companies.models import Company
from matchmaking import bulk
from matchmaking.match_values import MatchValues
from matchmaking.models import Match, MatchEvent
from tests.factories import CompanyFactory

pytestmark = pytest.mark.django_db

VERSION = "e5 2026-12\\ ✓"  # a backslash and a character outside ASCII, as COPY must carry them


@pytest.fixture(params=[True, False], ids=["first-save-copy", "staged"])
def path(request, monkeypatch) -> bool:
    """Each test runs on both write paths: the first save's COPY and the staged path of the code before it."""
    monkeypatch.setattr(bulk, "FIRST_SAVE_COPY", request.param)
    return request.param


@pytest.fixture
def market() -> dict[str, list[Company]]:
    return {
        "vn": [CompanyFactory(country="VN") for _ in range(4)],
        "ru": [CompanyFactory(country="RU") for _ in range(3)],
    }


def values(score: float, *, note: str = "") -> MatchValues:
    return MatchValues(
        score=score,
        fit_for_vn=round(score * 0.9, 4),
        fit_for_ru=round(score * 1.1, 4),
        score_parts={"forward": score, "backward": 0.25, "confidence": round(score / 2, 4)},
        reasons=[
            {
                "kind": "need_met",
                # Quotes, a tab, a line end, a backslash and three scripts: what COPY's text format must escape.
                "data": {"need": f'Cà phê "robusta"\tкофе\nline\\two {note}', "offer": "Кофе", "similarity": 0.61},
            },
            {"kind": "sectors", "data": {"common": ["10", "46"]}},
        ],
    )


def wanted(market) -> list[tuple[int, int, MatchValues]]:
    scores = iter([0.9123456789, 0.5, 0.0005, 0.3335, 1.0, 0.12, 0.7777, 0.25, 0.6, 0.4, 0.3, 0.2])
    return [(vn.pk, ru.pk, values(next(scores))) for vn in market["vn"] for ru in market["ru"]]


def save(rows, version: str = VERSION) -> bulk.Written:
    # As services._save calls it: inside a transaction (here the test's) holding the recompute lock.
    return bulk.write_ranking(rows, version)


def stored() -> dict[tuple[int, int], tuple]:
    """Every column a user or a later run reads, by pair (ids and timestamps of two saves differ)."""
    return {
        (m.company_vn_id, m.company_ru_id): (
            m.score,
            m.fit_for_vn,
            m.fit_for_ru,
            m.score_parts,
            m.confidence,
            m.reasons,
            m.engine_version,
            m.status,
            m.review_note,
            m.reviewed_by_id,
            m.response_vn,
            m.response_ru,
            m.outcome_vn,
            m.outcome_ru,
            m.introduced_at,
            m.connected_at,
            m.expired_at,
        )
        for m in Match.objects.all()
    }


def audit() -> list[tuple]:
    return sorted(
        MatchEvent.objects.values_list(
            "match__company_vn_id", "match__company_ru_id", "action", "from_status", "to_status", "note", "actor_id"
        )
    )


def test_a_first_save_writes_one_suggested_event_per_new_match(market, path):
    rows = wanted(market)

    written = save(rows)

    assert (written.created, written.updated, written.dropped, written.kept_reviewed) == (12, 0, 0, 0)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT to_regclass('pg_temp.{bulk.STAGING}') IS NOT NULL")
        assert cursor.fetchone()[0] is not path  # the first save's COPY stages nothing
    assert Match.objects.count() == 12
    assert set(Match.objects.values_list("status", flat=True)) == {Match.Status.SUGGESTED}
    events = MatchEvent.objects.all()
    assert events.count() == 12
    assert sorted(events.values_list("match_id", flat=True)) == sorted(Match.objects.values_list("pk", flat=True))
    assert set(events.values_list("action", "from_status", "to_status", "actor_id")) == {
        ("suggested", "", Match.Status.SUGGESTED, None)
    }
    first = Match.objects.get(company_vn=market["vn"][0], company_ru=market["ru"][0])
    assert first.events.get().note == f"score 0.912, engine {VERSION}"
    # Created and first audited at the transaction's time, as now() stamps them.
    assert first.created_at == first.updated_at == first.events.get().at


def test_a_second_save_of_the_same_ranking_writes_nothing(market, path):
    rows = wanted(market)
    save(rows)
    before, events = stored(), audit()

    written = save(rows)

    assert (written.created, written.updated, written.dropped, written.kept_reviewed) == (0, 0, 0, 0)
    assert stored() == before and audit() == events


def test_pairs_naming_a_missing_or_unmatchable_firm_are_left_out(market, path):
    vn, ru = market["vn"][0], market["ru"][0]
    draft = CompanyFactory(country="VN", status=Company.Status.DRAFT)
    withdrawn = CompanyFactory(country="RU", status=Company.Status.WITHDRAWN)
    no_consent = CompanyFactory(country="RU", consent_purposes=["share_profile"])
    # A chamber's record not claimed yet (no consent asked): matchable, as Company.objects.matchable() says.
    unclaimed = CompanyFactory(country="RU", consent_purposes=[], consent_given_at=None, consent_version="")
    missing = Company.objects.order_by("-pk").values_list("pk", flat=True).first() + 1000
    rows = [
        (vn.pk, ru.pk, values(0.8)),
        (draft.pk, ru.pk, values(0.7)),
        (vn.pk, withdrawn.pk, values(0.7)),
        (vn.pk, no_consent.pk, values(0.7)),
        (missing, ru.pk, values(0.7)),
        (vn.pk, missing, values(0.7)),
        (ru.pk, vn.pk, values(0.7)),  # the sides the wrong way round
        (vn.pk, market["vn"][1].pk, values(0.7)),  # two Vietnamese firms
        (vn.pk, unclaimed.pk, values(0.6)),
    ]
    assert set(Company.objects.matchable().values_list("pk", flat=True)) >= {vn.pk, ru.pk, unclaimed.pk}

    written = save(rows)

    assert written.created == 2
    assert set(Match.objects.values_list("company_vn_id", "company_ru_id")) == {(vn.pk, ru.pk), (vn.pk, unclaimed.pk)}
    assert MatchEvent.objects.filter(action="suggested").count() == 2


def test_a_pair_given_twice_is_written_once_with_its_first_values(market, path):
    vn, ru = market["vn"][0], market["ru"][0]

    written = save([(vn.pk, ru.pk, values(0.8)), (vn.pk, ru.pk, values(0.3))])

    assert written.created == 1
    assert Match.objects.get().score == 0.8
    assert MatchEvent.objects.count() == 1


def test_the_foreign_keys_stay_in_the_schema(market, path):
    save(wanted(market))

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text, confrelid::regclass::text, condeferrable, condeferred, convalidated "
            "FROM pg_constraint WHERE contype = 'f' AND conrelid IN (%s::regclass, %s::regclass)",
            [Match._meta.db_table, MatchEvent._meta.db_table],
        )
        keys = cursor.fetchall()
    assert sorted(keys) == sorted(
        [
            (Match._meta.db_table, Company._meta.db_table, True, True, True),
            (Match._meta.db_table, Company._meta.db_table, True, True, True),
            (Match._meta.db_table, "auth_user", True, True, True),
            (MatchEvent._meta.db_table, Match._meta.db_table, True, True, True),
            (MatchEvent._meta.db_table, "auth_user", True, True, True),
        ]
    )


def test_the_first_save_writes_the_rows_the_staged_path_writes(market, monkeypatch):
    rows = wanted(market)
    rows.insert(3, (market["vn"][0].pk, market["ru"][0].pk, values(0.1, note="second")))  # a duplicate
    rows.append((market["vn"][0].pk, CompanyFactory(country="RU", status=Company.Status.DRAFT).pk, values(0.5)))
    results = {}
    for copy in (False, True):
        monkeypatch.setattr(bulk, "FIRST_SAVE_COPY", copy)
        written = save(rows)
        results[copy] = (written, stored(), audit())
        Match.objects.all().delete()  # its events go with it (CASCADE)
        assert not MatchEvent.objects.exists()

    assert results[True] == results[False]
    written, rows_written, events = results[True]
    assert written.created == len(rows_written) == len(events) == 12


def test_a_partial_run_on_an_empty_table_takes_the_staged_path(market, path):
    vn, ru = market["vn"][0], market["ru"][0]

    written = bulk.write_ranking([(vn.pk, ru.pk, values(0.8))], VERSION, ({vn.pk}, {vn.pk, ru.pk}))

    assert written.created == 1
    assert MatchEvent.objects.filter(match__company_vn=vn, action="suggested").count() == 1
