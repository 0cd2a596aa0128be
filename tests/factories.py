import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from companies.models import ChamberStaff, Company, Listing, Membership, Organisation
from matchmaking.models import Match


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
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
    consent_purposes = ["matching", "share_profile"]
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
