import datetime

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone
from rest_framework.test import APIClient

from companies.languages import detect_language
from companies.models import ChamberStaff, Company, Listing, Membership, Organisation
from matchmaking import engine
from matchmaking import services as match_services
from matchmaking.models import Match

User = get_user_model()

MEMBER_PASSWORD = "Mekong-Volga-2026!"  # the member_client fixture's (tests/conftest.py)
SITE_URL = "https://sme-match.example"  # the site_url fixture's (tests/conftest.py) and the test worker's
# The vn_firm fixture's need and the ru_firm fixture's offer (tests/conftest.py): each meets the other.
VN_NEED = "Máy xét nghiệm nhanh cho bệnh viện tuyến tỉnh"
RU_OFFER = "Экспресс-тесты для диагностики инфекций"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("correct horse battery staple")


class ChamberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation
        django_get_or_create = ["slug"]

    slug = factory.Sequence(lambda n: f"chamber-{n}")
    name = factory.Sequence(lambda n: f"Chamber {n}")
    country = "VN"
    kind = Organisation.Kind.CHAMBER
    vets_companies = True


class CompanyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Company
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Company {n}")
    country = "VN"
    city = "Hanoi"
    activity_code = factory.LazyAttribute(lambda c: "2100" if c.country == "VN" else "21.20")
    activity_division_id = "21"
    size = Company.Size.SMALL
    languages = factory.LazyAttribute(lambda c: ["vi", "en"] if c.country == "VN" else ["ru", "en"])
    contact_name = "Secret Person"
    contact_email = factory.Sequence(lambda n: f"contact{n}@hidden.example")
    contact_phone = "+84 24 0000 0000"
    status = Company.Status.PUBLISHED
    consent_version = "test"
    consent_purposes = ["cross_border", "matching", "share_profile"]
    consent_given_at = factory.LazyFunction(timezone.now)

    @factory.post_generation
    def sectors(self, create, extracted, **kwargs):
        if create and extracted:
            self.sectors.set(extracted)


class ListingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Listing

    company = factory.SubFactory(CompanyFactory)
    direction = Listing.Direction.OFFER
    kind = Listing.Kind.PRODUCT
    text = "Rapid diagnostic test kits for infectious diseases"
    cooperation = ["distribution"]


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    company = factory.SubFactory(CompanyFactory, status=Company.Status.DRAFT)
    role = Membership.Role.OWNER


class ChamberStaffFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ChamberStaff

    user = factory.SubFactory(UserFactory, is_staff=True)
    chamber = factory.SubFactory(ChamberFactory)


class MatchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Match

    company_vn = factory.SubFactory(CompanyFactory, country="VN")
    company_ru = factory.SubFactory(CompanyFactory, country="RU", city="Moscow")
    score = 0.5
    fit_for_vn = 0.5
    fit_for_ru = 0.5
    engine_version = "test"
    status = Match.Status.SUGGESTED


# --- B2B events ---------------------------------------------------------------------------------------------


class EventFactory(factory.django.DjangoModelFactory):
    """An open event tomorrow in Hanoi: 09:00–12:00 local, 25-minute meetings with 5-minute breaks (6 slots).
    Its slots are generated after creation (pass ``slots=False`` to leave them out)."""

    class Meta:
        model = "events.Event"
        skip_postgeneration_save = True

    slug = factory.Sequence(lambda n: f"b2b-{n}")
    name = factory.Sequence(lambda n: f"Vietnam–Russia B2B day {n}")
    organiser = factory.SubFactory(ChamberFactory)
    city = "Hanoi"
    venue = "VCCI Tower, hall A"
    starts_on = factory.LazyFunction(lambda: timezone.localdate() + timezone.timedelta(days=1))
    ends_on = factory.SelfAttribute("starts_on")
    time_zone = "Asia/Ho_Chi_Minh"
    day_starts_at = datetime.time(9, 0)
    day_ends_at = datetime.time(12, 0)
    meeting_minutes = 25
    break_minutes = 5
    tables = 4
    status = "open"
    request_rule = "cross_border"
    max_requests_per_firm = 5

    @factory.post_generation
    def slots(self, create, extracted, **kwargs):
        if create and extracted is not False:
            from events.services import generate_slots

            generate_slots(self)


class InterpreterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "events.Interpreter"

    event = factory.SubFactory(EventFactory)
    name = factory.Sequence(lambda n: f"Interpreter {n}")
    pairs = ["ru-vi"]


def register_firm(event, company=None, *, windows=None, accepted=True, **kwargs):
    """Register a firm (a new published one unless given) for the whole event day, or for ``windows``
    ((start, end) pairs of aware datetimes); accepted by staff unless told otherwise."""
    from events.models import Participant
    from events.services import Window, register, set_participant_status

    company = company or CompanyFactory()
    if windows is None:
        slots = list(event.slots.order_by("starts_at"))
        windows = [(slots[0].starts_at, slots[-1].ends_at)]
    participant = register(event, company, windows=[Window(a, b) for a, b in windows], **kwargs)
    if accepted:
        set_participant_status([participant], Participant.Status.ACCEPTED)
        participant.refresh_from_db()
    return participant


def profile_data(**changes) -> dict:
    """What the profile page posts for a complete Vietnamese firm; ``changes`` override fields (None drops one)."""
    data = {
        "firm-name": "Tay Nguyen Coffee",
        "firm-country": "VN",
        "firm-city": "Buon Ma Thuot",
        "firm-activity_code": "1077",
        "firm-sectors": ["10"],
        "firm-size": "small",
        "firm-languages": ["vi", "en"],
        "firm-contact_name": "Nguyen Thi Lan",
        "firm-contact_email": "lan@firm.example",
        "firm-contact_phone": "+84 262 000 111",
        "offers-TOTAL_FORMS": "2",
        "offers-INITIAL_FORMS": "0",
        "offers-0-kind": "product",
        "offers-0-cooperation": ["supply"],
        "offers-0-text": "Roasted Robusta coffee, 1,200 t a year, UTZ and HACCP certified, shipped from Da Nang.",
        "needs-TOTAL_FORMS": "2",
        "needs-INITIAL_FORMS": "0",
        "consent-matching": "on",
        "consent-share_profile": "on",
        "consent-cross_border": "on",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def signed_in(client, membership_or_user):
    """``client`` logged in as a user (or a membership's user)."""
    user = getattr(membership_or_user, "user", membership_or_user)
    client.force_login(user)
    return client


def api_for(user) -> APIClient:
    """An API client authenticated as ``user`` (who is also its ``user``)."""
    api = APIClient()
    api.force_authenticate(user)
    api.user = user
    return api


def member_api(company: Company | None = None) -> APIClient:
    """An API client authenticated as a new member of ``company``; with no company, as a new user of no firm."""
    user = UserFactory()
    if company is not None:
        MembershipFactory(user=user, company=company)
    return api_for(user)


# --- firms, members and their matches ----------------------------------------------------------------------


def published_firm(country: str, **fields) -> Company:
    """A published firm of ``country`` ("VN" or "RU") in Hanoi or Moscow; ``fields`` override the factory's."""
    return CompanyFactory(country=country, city="Hanoi" if country == "VN" else "Moscow", **fields)


def firm_with_member(
    country: str = "VN", *, language: str = "en", email: str | None = None, username: str | None = None, **fields
) -> Company:
    """A published firm (as ``published_firm``) with one member, who reads its mail in ``language``."""
    company = published_firm(country, **fields)
    user = UserFactory(**{key: value for key, value in (("email", email), ("username", username)) if value is not None})
    MembershipFactory(company=company, user=user, language=language)
    return company


def introduced_pair() -> tuple[Match, User, User]:
    """A Vietnamese and a Russian firm, each with a member who signs in with MEMBER_PASSWORD, introduced by the
    service: (match, Vietnamese member, Russian member)."""
    vn, ru = CompanyFactory(country="VN"), CompanyFactory(country="RU", city="Moscow")
    vn_user, ru_user = UserFactory(password=MEMBER_PASSWORD), UserFactory(password=MEMBER_PASSWORD)
    MembershipFactory(company=vn, user=vn_user)
    MembershipFactory(company=ru, user=ru_user)
    match = MatchFactory(company_vn=vn, company_ru=ru)
    match_services.approve([match], by=None)
    match_services.introduce(match)
    match.refresh_from_db()
    return match, vn_user, ru_user


# --- the matching engine's own profiles (no database) ------------------------------------------------------


def engine_profile(key, country, offers=(), needs=(), cooperation=("distribution",), sectors=()) -> engine.Profile:
    """A firm as the engine sees it: its offers and needs (texts), all with the same ``cooperation``."""
    listings = tuple(
        engine.Listing(direction, text, tuple(cooperation), language=detect_language(text))
        for direction, texts in ((engine.OFFER, offers), (engine.NEED, needs))
        for text in texts
    )
    languages = ("vi", "en") if country == "VN" else ("ru", "en")
    return engine.Profile(key=key, country=country, listings=listings, sectors=tuple(sectors), languages=languages)
