import time
from collections.abc import Iterable, Iterator
from itertools import islice

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone
from tqdm import tqdm

from companies.classification import division_of
from companies.languages import detect_language
from companies.models import Company, ConsentPurpose, Listing, Organisation, Sector, Source
from companies.records import DEFAULT_CHAMBER_BY_COUNTRY
from companies.synthetic import Profile, generate_profiles

BATCH_SIZE = 2000
STATUSES = [Company.Status.PUBLISHED, Company.Status.PENDING, Company.Status.DRAFT]
CONSENT_PURPOSES = [ConsentPurpose.CROSS_BORDER, ConsentPurpose.MATCHING, ConsentPurpose.SHARE_PROFILE]


def batched(items: Iterable[Profile], size: int) -> Iterator[list[Profile]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


class Command(BaseCommand):
    help = (
        "Insert N deterministic synthetic companies (source=generated) with offers and needs, for load tests "
        "and matching experiments. About half of each country's firms write in their own language (Vietnamese, "
        "Russian), the rest in English. External ids depend only on the index, so a rerun adds only missing firms."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("count", type=int, help="How many companies to generate (half VN, half RU).")
        parser.add_argument("--seed", type=int, default=0, help="Random seed (default 0); same seed, same firms.")
        parser.add_argument(
            "--status",
            choices=[s.value for s in STATUSES],
            default=Company.Status.PUBLISHED,
            help="Status of the generated companies (default: published).",
        )

    def handle(self, count: int, seed: int, status: str, **options) -> None:
        if count < 0:
            raise CommandError("count: give a number of companies, 0 or more.")
        started = time.monotonic()
        divisions = set(Sector.objects.filter(level=Sector.Level.DIVISION).values_list("code", flat=True))
        if not divisions:
            self.stderr.write("No ISIC sectors in the database (run load_seeds): companies get no sectors.")
        chambers = Organisation.objects.in_bulk(DEFAULT_CHAMBER_BY_COUNTRY.values(), field_name="slug")
        chamber_ids = {
            country: chambers[slug].pk for country, slug in DEFAULT_CHAMBER_BY_COUNTRY.items() if slug in chambers
        }
        defaults = {
            "status": status,
            "source": Source.GENERATED,
            "source_ref": f"generate_companies seed={seed}",
            "consent_version": settings.CONSENT_VERSION,
            "consent_purposes": list(CONSENT_PURPOSES),
            "consent_given_at": timezone.now(),
        }

        created = existing = 0
        with tqdm(
            total=count,
            desc="Generating",
            unit="company",
            file=self.stderr._out,
            disable=options["verbosity"] == 0,
        ) as bar:
            for batch in batched(generate_profiles(count, seed), BATCH_SIZE):
                new = self.insert_batch(batch, divisions, chamber_ids, defaults)
                created += new
                existing += len(batch) - new
                bar.update(len(batch))

        elapsed = time.monotonic() - started
        self.stdout.write(
            self.style.SUCCESS(f"Generated {created} companies ({existing} already existed) in {elapsed:.1f}s.")
        )

    @transaction.atomic
    def insert_batch(
        self, batch: list[Profile], divisions: set[str], chamber_ids: dict[str, int], defaults: dict
    ) -> int:
        taken = set(
            Company.objects.filter(external_id__in=[p.external_id for p in batch]).values_list("external_id", flat=True)
        )
        profiles = [p for p in batch if p.external_id not in taken]
        if not profiles:
            return 0
        companies = Company.objects.bulk_create(
            [self.company(p, divisions, chamber_ids.get(p.country), defaults) for p in profiles]
        )
        # bulk_create skips Listing.save(), which is where the language is normally detected.
        Listing.objects.bulk_create(
            Listing(
                company_id=company.pk,
                direction=item.direction,
                kind=item.kind,
                text=item.text,
                language=detect_language(item.text),
                cooperation=list(item.cooperation),
            )
            for company, profile in zip(companies, profiles, strict=True)
            for item in profile.listings
        )
        through = Company.sectors.through
        through.objects.bulk_create(
            through(company_id=company.pk, sector_id=code)
            for company, profile in zip(companies, profiles, strict=True)
            for code in profile.sectors
            if code in divisions
        )
        return len(companies)

    @staticmethod
    def company(profile: Profile, divisions: set[str], chamber_id: int | None, defaults: dict) -> Company:
        division = division_of(profile.activity_code, profile.country)
        return Company(
            external_id=profile.external_id,
            name=profile.name,
            country=profile.country,
            city=profile.city,
            activity_code=profile.activity_code,
            activity_division_id=division if division in divisions else None,
            size=profile.size,
            founded=profile.founded,
            languages=profile.languages,
            website=profile.website,
            contact_name=profile.contact_name,
            contact_email=profile.contact_email,
            contact_phone=profile.contact_phone,
            chamber_id=chamber_id,
            **defaults,
        )
