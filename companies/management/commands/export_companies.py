import sys
from pathlib import Path

from django.core.management.base import BaseCommand

from companies.models import Company
from companies.records import export_records


class Command(BaseCommand):
    help = "Export companies in the sme-match/1 format (JSON or CSV), the format import_companies reads."

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=["json", "csv"], default="json")
        parser.add_argument("--output", "-o", type=Path, help="File to write (default: standard output).")
        parser.add_argument(
            "--status", choices=[s.value for s in Company.Status], help="Only companies in this status."
        )
        parser.add_argument("--country", choices=["VN", "RU"])

    def handle(self, format: str, output: Path | None, status: str | None, country: str | None, **options):
        companies = Company.objects.prefetch_related("sectors", "listings").order_by("external_id", "id")
        if status:
            companies = companies.filter(status=status)
        if country:
            companies = companies.filter(country=country)
        if output is None:
            count = export_records(companies.iterator(chunk_size=2000), format, sys.stdout)
        else:
            with output.open("w", encoding="utf-8", newline="") as out:
                count = export_records(companies.iterator(chunk_size=2000), format, out)
        self.stderr.write(f"Exported {count} companies.")
