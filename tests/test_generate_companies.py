from collections import Counter
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db.models import Count, Q

from companies.classification import division_of
from companies.languages import detect_language
from companies.models import Company, CooperationForm, Listing, Source
from companies.synthetic import generate_profiles, roles


@pytest.fixture
def seeded(db):
    call_command("load_seeds", stdout=StringIO())


def generate(count: int, **options) -> str:
    out = StringIO()
    call_command("generate_companies", str(count), stdout=out, stderr=StringIO(), **options)
    return out.getvalue()


def test_same_seed_gives_the_same_profiles():
    assert list(generate_profiles(300, seed=7)) == list(generate_profiles(300, seed=7))


def test_other_seed_gives_other_profiles_with_the_same_ids():
    first, second = list(generate_profiles(300, seed=7)), list(generate_profiles(300, seed=8))
    assert first != second
    assert [p.external_id for p in first] == [p.external_id for p in second]
    assert first[0].external_id == "gen-vn-000001" and first[1].external_id == "gen-ru-000002"


def test_a_smaller_run_is_a_prefix_of_a_larger_one():
    assert list(generate_profiles(50, seed=3)) == list(generate_profiles(120, seed=3))[:50]


def test_half_the_firms_are_vietnamese_and_every_role_is_used():
    profiles = list(generate_profiles(3000, seed=1))
    assert Counter(p.country for p in profiles) == {"VN": 1500, "RU": 1500}
    assert {p.role for p in profiles} == {role.key for country_roles in roles().values() for role in country_roles}
    assert 0.10 < sum(not p.sectors for p in profiles) / len(profiles) < 0.20


def test_activity_codes_are_valid_for_their_country_and_sectors():
    for profile in generate_profiles(2000, seed=2):
        division = division_of(profile.activity_code, profile.country)
        if profile.country == "VN":
            assert profile.activity_code.isdigit() and len(profile.activity_code) == 4
        else:
            assert len(profile.activity_code) == 5 and profile.activity_code[2] == "."
        assert not profile.sectors or division in profile.sectors


def test_texts_are_in_the_firms_language():
    languages = {"VN": Counter(), "RU": Counter()}
    for profile in generate_profiles(2000, seed=4):
        directions = {item.direction for item in profile.listings}
        assert directions == {"offer", "need"}
        for item in profile.listings:
            assert detect_language(item.text) == profile.text_language, item.text
            assert item.cooperation and set(item.cooperation) <= set(CooperationForm.values)
        assert profile.text_language in profile.languages
        assert profile.languages[0] == {"VN": "vi", "RU": "ru"}[profile.country]
        languages[profile.country][profile.text_language] += 1
    assert set(languages["VN"]) == {"vi", "en"}
    assert set(languages["RU"]) == {"ru", "en"}


@pytest.mark.django_db
def test_command_inserts_companies_with_offers_and_needs(seeded):
    message = generate(40, seed=5)

    assert "Generated 40 companies (0 already existed)" in message
    companies = Company.objects.filter(source=Source.GENERATED)
    assert companies.count() == 40
    assert set(companies.values_list("country", flat=True)) == {"VN", "RU"}
    assert not companies.exclude(status=Company.Status.PUBLISHED).exists()
    assert not companies.filter(Q(activity_division__isnull=True) | Q(chamber__isnull=True)).exists()
    for company in companies.select_related("chamber"):
        assert company.activity_division_id == division_of(company.activity_code, company.country)
        assert company.chamber.slug == {"VN": "vcci", "RU": "delovaya-rossiya"}[company.country]
        assert company.consent_version == settings.CONSENT_VERSION and company.consent_given_at is not None
        assert company.consent_purposes == ["cross_border", "matching", "share_profile"]
    counts = companies.annotate(
        offers=Count("listings", filter=Q(listings__direction=Listing.Direction.OFFER)),
        needs=Count("listings", filter=Q(listings__direction=Listing.Direction.NEED)),
    )
    assert all(c.offers >= 1 and c.needs >= 1 for c in counts)
    for listing in Listing.objects.filter(company__in=companies):
        assert listing.language == detect_language(listing.text)
    expected_sectors = {(p.external_id, code) for p in generate_profiles(40, seed=5) for code in p.sectors}
    assert set(companies.values_list("external_id", "sectors__code").exclude(sectors=None)) == expected_sectors


@pytest.mark.django_db
def test_second_run_inserts_nothing_new(seeded):
    generate(30)
    listings = Listing.objects.count()

    message = generate(30, seed=99)

    assert "Generated 0 companies (30 already existed)" in message
    assert Company.objects.filter(source=Source.GENERATED).count() == 30
    assert Listing.objects.count() == listings


@pytest.mark.django_db
def test_a_larger_rerun_adds_only_the_missing_firms(seeded):
    generate(10)
    message = generate(16, status="pending")

    assert "Generated 6 companies (10 already existed)" in message
    statuses = Counter(Company.objects.filter(source=Source.GENERATED).values_list("status", flat=True))
    assert statuses == {"published": 10, "pending": 6}
