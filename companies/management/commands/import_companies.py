from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from companies.models import Company, Organisation
from companies.records import RecordsError, import_records, parse_file

PROGRESS_FROM = 200  # records; smaller files finish before a bar would say anything


class Command(BaseCommand):
    help = "Import companies from an sme-match/1 JSON or CSV file: all or nothing, upserting by external_id."

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument("--dry-run", action="store_true", help="Validate and report, write nothing.")
        parser.add_argument(
            "--status",
            choices=[s.value for s in Company.Status],
            default=Company.Status.PUBLISHED,
            help="Status of newly created companies (default: published, as a chamber's own list is vetted).",
        )
        parser.add_argument(
            "--chamber", help="Slug of the vetting chamber (default: VCCI for VN, Delovaya Rossiya for RU)."
        )

    def handle(self, path: Path, dry_run: bool, status: str, chamber: str | None, **options):
        chamber_obj = None
        if chamber:
            chamber_obj = Organisation.objects.filter(slug=chamber, vets_companies=True).first()
            if chamber_obj is None:
                raise CommandError(f"--chamber: no vetting chamber with slug {chamber!r}.")
        parsed = parse_file(path)
        show_bar = len(parsed.records) >= PROGRESS_FROM and options["verbosity"] > 0

        def progress(items):
            return tqdm(items, desc="Validating", unit="company", disable=not show_bar, file=self.stderr._out)

        try:
            result = import_records(
                parsed, source_ref=path.name, status=status, chamber=chamber_obj, dry_run=dry_run, progress=progress
            )
        except RecordsError as error:
            for message in error.errors:
                self.stderr.write(f"{path.name}: {message}")
            raise CommandError(f"{len(error.errors)} error(s) in {path.name}; nothing was imported.") from None
        prefix = "Dry run, nothing written. " if dry_run else ""
        self.stdout.write(
            self.style.SUCCESS(
                f"{prefix}Created {len(result.created)}, updated {len(result.updated)}, "
                f"skipped {len(result.skipped)} unchanged."
            )
        )
