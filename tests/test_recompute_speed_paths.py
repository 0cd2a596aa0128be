"""The faster paths of recompute_matches store exactly what the straightforward ones stored.

``matchable_profiles`` reads plain rows instead of model instances with prefetches, and ``match_values`` builds
the stored reasons without a deep copy (dataclasses.asdict) of each. The references below are the code they
replaced, kept here word for word, so any difference in what a user sees (the suggested matches, their scores,
fits, score parts and reasons) shows up.
"""

from collections.abc import Callable
from dataclasses import asdict

import orjson
import pytest
from django.db.models import Prefetch

from companies.languages import detect_language
from companies.models import Company, Country, Listing, Sector
from matchmaking import services
from matchmaking.engine import (
    CachedEmbedder,
    MemoryStore,
    Profile,
    Reason,
    Suggestion,
    default_embedder,
    rank_counterparts,
)
from matchmaking.engine import Listing as EngineListing
from matchmaking.match_values import (
    FROM_RU_SIDE,
    REASON_ORDER,
    RIVALS_FROM_RU_SIDE,
    SCORE_DIGITS,
    PendingValues,
    match_values,
)
from matchmaking.models import Match
from matchmaking.selectors import matchable_profiles
from tests.factories import CompanyFactory, ListingFactory

pytestmark = pytest.mark.django_db

_MODEL = default_embedder()
_VECTORS = MemoryStore()  # each text embedded once for the whole module


def _embedder() -> CachedEmbedder | None:
    return CachedEmbedder(_MODEL, _VECTORS) if _MODEL else None


@pytest.fixture(autouse=True)
def embeddings_cached_in_memory(monkeypatch):
    monkeypatch.setattr(services, "matching_embedder", lambda progress=None: _embedder())


# --- the references: the code the faster paths replaced -------------------------------------------------------


def reference_profiles() -> list[Profile]:
    sector_codes = Sector.objects.only("code")
    companies = (
        Company.objects.matchable()
        .order_by("pk")
        .only("pk", "country", "activity_division_id", "languages")
        .prefetch_related(
            Prefetch("sectors", queryset=sector_codes),
            Prefetch(
                "listings",
                queryset=Listing.objects.order_by("pk")
                .only("pk", "company_id", "direction", "text", "cooperation", "language")
                .prefetch_related(Prefetch("sectors", queryset=sector_codes)),
            ),
        )
    )
    return [
        Profile(
            key=company.pk,
            country=company.country,
            listings=tuple(
                EngineListing(
                    direction=listing.direction,
                    text=listing.text,
                    cooperation=tuple(listing.cooperation),
                    sectors=tuple(sector.code for sector in listing.sectors.all()),
                    ref=listing.pk,
                    language=listing.language or detect_language(listing.text),
                )
                for listing in company.listings.all()
            ),
            sectors=tuple(sector.code for sector in company.sectors.all()),
            activity_division=company.activity_division_id,
            languages=tuple(company.languages),
        )
        for company in companies
    ]


def _reference_reason(reason: Reason, swap: Callable[[str], str], *, from_vn: bool) -> dict:
    stored = {**asdict(reason), "kind": swap(reason.kind)}
    if reason.kind == "rivals" and not from_vn:
        stored["data"] = {RIVALS_FROM_RU_SIDE.get(key, key): value for key, value in stored["data"].items()}
    return stored


def reference_values(suggestion: Suggestion, *, from_vn: bool) -> dict:
    swap = (lambda name: name) if from_vn else (lambda name: FROM_RU_SIDE.get(name, name))
    forward, backward = (
        (suggestion.score_forward, suggestion.score_backward)
        if from_vn
        else (suggestion.score_backward, suggestion.score_forward)
    )
    reasons = [_reference_reason(reason, swap, from_vn=from_vn) for reason in suggestion.reasons]
    reasons.sort(key=lambda reason: REASON_ORDER.get(reason["kind"], len(REASON_ORDER)))
    parts = dict(suggestion.parts)
    parts.pop("confidence", None)
    confidence = suggestion.parts.get("confidence") if suggestion.confidence is None else suggestion.confidence
    if confidence is not None:
        parts["confidence"] = confidence
    return {
        "score": round(suggestion.score, SCORE_DIGITS),
        "fit_for_vn": round(forward, SCORE_DIGITS),
        "fit_for_ru": round(backward, SCORE_DIGITS),
        "score_parts": {swap(name): round(value, SCORE_DIGITS) for name, value in sorted(parts.items())},
        "reasons": reasons,
    }


def reference_wanted(ranking, country: dict) -> dict[tuple[int, int], dict]:
    wanted = {}
    for firm, suggestions in ranking.suggestions.items():
        for suggestion in suggestions:
            sides = (country[firm], country[suggestion.counterpart])
            if sides == (Country.VIETNAM, Country.RUSSIA):
                wanted[(firm, suggestion.counterpart)] = reference_values(suggestion, from_vn=True)
            elif sides == (Country.RUSSIA, Country.VIETNAM):
                wanted.setdefault((suggestion.counterpart, firm), reference_values(suggestion, from_vn=False))
    return wanted


def as_stored(values) -> dict:
    fields = ("score", "fit_for_vn", "fit_for_ru", "score_parts", "reasons")
    return {name: getattr(values, name) if not isinstance(values, dict) else values[name] for name in fields}


# --- match values ------------------------------------------------------------------------------------------------


def suggestion(*, confidence: float | None, with_rivals: bool) -> Suggestion:
    rivals = Reason(
        "rivals",
        {
            "offer": "Robusta coffee beans",
            "need": None,
            "counterpart_offer": "Green coffee beans",
            "counterpart_need": "Roasting machines",
            "similarity": 0.912,
        },
    )
    quoted = {"need": "Cold-chain monitoring", "need_ref": 11, "offer": "Humidity sensors", "offer_ref": 42}
    return Suggestion(
        counterpart=7,
        score=0.61234567891,
        score_forward=0.7123456789,
        score_backward=0.4987654321,
        parts={
            "forward": 0.7123456789,
            "backward": 0.4987654321,
            "cooperation": 0.5,
            "sectors": 0.25,
            "language": 1.0,
            **({} if confidence is None else {"confidence": confidence}),
        },
        reasons=[
            *([rivals] if with_rivals else []),
            Reason("offer_wanted", {**quoted, "similarity": 0.402}),
            Reason("need_met", {**quoted, "similarity": 0.511}),
            Reason("sectors", {"common": ["21", "46"]}),
            Reason("cooperation", {"common": ["distribution"]}),
            Reason("language", {"common": ["en"]}),
        ],
        confidence=confidence,
        rivals=with_rivals,
    )


@pytest.mark.parametrize("from_vn", [True, False], ids=["vn side", "ru side"])
@pytest.mark.parametrize("confidence", [None, 0.4321987654], ids=["no model", "confidence"])
@pytest.mark.parametrize("with_rivals", [True, False], ids=["rivals", "no rivals"])
def test_match_values_store_what_the_deep_copy_stored(from_vn, confidence, with_rivals):
    given = suggestion(confidence=confidence, with_rivals=with_rivals)
    values = as_stored(match_values(given, from_vn=from_vn))
    expected = reference_values(given, from_vn=from_vn)
    assert values == expected
    # What a full run hands the writer: the same values, worked out as they are read.
    assert as_stored(PendingValues(given, from_vn=from_vn)) == expected
    # The same JSON text too (key order included), as the writer encodes it.
    assert orjson.dumps(values) == orjson.dumps(expected)


def test_the_stored_values_leave_the_engines_suggestion_as_it_was():
    given = suggestion(confidence=0.5, with_rivals=True)
    before = asdict(given)
    match_values(given, from_vn=False)
    match_values(given, from_vn=True)
    assert asdict(given) == before


# --- a small market, end to end -------------------------------------------------------------------------------

MARKET = [
    # (country, offer, need, sectors of the firm, sectors of its offer)
    (
        "VN",
        "Robusta coffee beans, roasted and green, 500 tonnes a year",
        "Cold-chain monitoring for warehouses",
        ["01"],
        ["01", "10"],
    ),
    ("VN", "Pharmacy and hospital distribution network across Vietnam", "Rapid diagnostic test kits", ["21", "46"], []),
    ("VN", "Garment sewing for export, workwear and uniforms", "Technical fabric and cotton textiles", [], ["14"]),
    # Rivals of the first Vietnamese firm: the same offer, the same need.
    (
        "RU",
        "Robusta coffee beans, roasted and green, 500 tonnes a year",
        "Cold-chain monitoring for warehouses",
        ["01"],
        [],
    ),
    (
        "RU",
        "Wireless humidity and temperature monitoring for warehouses",
        "Green coffee beans importers",
        ["26"],
        ["26"],
    ),
    (
        "RU",
        "Rapid diagnostic test kits for infectious diseases",
        "A distributor of medical products in Vietnam",
        ["21"],
        ["21"],
    ),
    ("RU", "Technical fabric and cotton textiles", "Workwear sewing subcontractors", ["13"], ["13"]),
    ("RU", "Экспресс-тесты для диагностики инфекций", "Дистрибьютор медицинских изделий во Вьетнаме", [], []),
]


@pytest.fixture
def market() -> list[Company]:
    firms = []
    for country, offer, need, firm_sectors, offer_sectors in MARKET:
        company = CompanyFactory(country=country, sectors=firm_sectors)
        made = ListingFactory(company=company, direction=Listing.Direction.OFFER, text=offer)
        made.sectors.set(offer_sectors)
        ListingFactory(company=company, direction=Listing.Direction.NEED, text=need, cooperation=[])
        firms.append(company)
    # A listing written around save() (bulk_create) has no language: detected when read.
    Listing.objects.bulk_create(
        [Listing(company=firms[1], direction=Listing.Direction.OFFER, text="Nhà phân phối thiết bị y tế")]
    )
    CompanyFactory(country="RU")  # a firm without listings
    CompanyFactory(country="VN", status=Company.Status.DRAFT)  # never matched
    return firms


def test_profiles_are_the_ones_model_instances_gave(market):
    assert matchable_profiles() == reference_profiles()
    some = [market[0].pk, market[4].pk]
    assert matchable_profiles(some) == [p for p in reference_profiles() if p.key in some]
    assert matchable_profiles([]) == []


@pytest.mark.parametrize("top_k", [1, 2, 10])
def test_a_full_run_stores_the_rows_the_old_path_stored(market, top_k):
    profiles = reference_profiles()
    ranking = rank_counterparts(profiles, top_k=top_k, embedder=_embedder())
    expected = reference_wanted(ranking, {profile.key: profile.country for profile in profiles})

    wanted = services._wanted_pairs(ranking, {profile.key: profile.country for profile in profiles})
    assert list(wanted) == list(expected)  # the same pairs in the same order (the order the rows are written)
    assert {pair: as_stored(values) for pair, values in wanted.items()} == expected

    result = services.recompute_matches(top_k=top_k)

    stored = {
        (match.company_vn_id, match.company_ru_id): as_stored(match)
        for match in Match.objects.filter(status=Match.Status.SUGGESTED)
    }
    assert result.created == len(expected) == len(stored)
    assert stored == expected
    if top_k == 10 and _MODEL is not None:  # the rivals' reason is among the rows compared
        assert any(reason["kind"] == "rivals" for values in stored.values() for reason in values["reasons"])
    assert services.recompute_matches(top_k=top_k).updated == 0


def test_the_market_has_what_the_comparison_needs(market):
    """Pairs given only by the Russian side, and rivals quoted from both sides, are among the compared rows."""
    if _MODEL is None:
        pytest.skip("the rivals rule needs the embedding model")
    profiles = reference_profiles()
    country = {profile.key: profile.country for profile in profiles}
    ranking = rank_counterparts(profiles, top_k=1, embedder=_embedder())
    vn_side = {
        (firm, s.counterpart) for firm, found in ranking.suggestions.items() for s in found if country[firm] == "VN"
    }
    ru_only = [
        (s.counterpart, firm)
        for firm, found in ranking.suggestions.items()
        for s in found
        if country[firm] == "RU" and (s.counterpart, firm) not in vn_side
    ]
    assert ru_only
    full = rank_counterparts(profiles, top_k=10, embedder=_embedder())
    rivals = {country[firm]: s for firm, found in full.suggestions.items() for s in found if s.rivals and s.reasons}
    assert set(rivals) == {"VN", "RU"}
