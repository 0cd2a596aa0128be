from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from companies.models import Country
from matchmaking import services
from matchmaking.digests.delivery import send_digests
from matchmaking.digests.planning import digest_targets
from matchmaking.digests.weeks import IsoWeek


class Command(BaseCommand):
    help = (
        "Send the weekly digests of an ISO week now, in this process: each firm's new introductions and each "
        "chamber's review queue. The same code as the Celery schedule; a digest already sent is never sent again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--week", help="ISO week such as 2026-W48 (default: this week).")
        parser.add_argument("--country", choices=Country.values, help="Only this country's firms and chambers.")
        parser.add_argument(
            "--firm",
            type=int,
            action="append",
            dest="firm_ids",
            metavar="ID",
            help="Only this firm (by id), no staff digests; repeat for several.",
        )
        parser.add_argument("--dry-run", action="store_true", help="Say what would be sent; send and change nothing.")

    def handle(self, week: str | None, country: str | None, firm_ids: list[int] | None, dry_run: bool, **options):
        try:
            iso_week = IsoWeek.parse(week) if week else IsoWeek.current(country)
        except ValueError as error:
            raise CommandError(f"--week: {error}") from None
        expired = 0 if dry_run else services.expire_introductions()
        firms, chambers = digest_targets(iso_week, country, firm_ids)
        with tqdm(
            total=len(firms) + len(chambers),
            desc=f"Digests {iso_week}",
            unit="digest",
            file=self.stderr._out,
            disable=options["verbosity"] == 0,
        ) as bar:
            summary = send_digests(iso_week, firms, chambers, dry_run=dry_run, progress=lambda result: bar.update(1))
        counts = summary.counts
        verb = "would send" if dry_run else "sent"
        self.stdout.write(
            self.style.SUCCESS(
                f"Digests {iso_week}{' (dry run)' if dry_run else ''}: {counts['sent']} {verb} "
                f"({summary.messages} emails), {counts['skipped']} skipped, {counts['already']} already done, "
                f"{counts['failed']} failed, {counts['busy']} busy elsewhere; {expired} introductions expired."
            )
        )
        for line in summary.details:
            self.stdout.write(f"  {line}")
        if not dry_run and summary.messages and settings.EMAIL_BACKEND.endswith("filebased.EmailBackend"):
            self.stdout.write(f"Emails written to {settings.EMAIL_FILE_PATH}")
        if counts["failed"]:
            raise CommandError(f"{counts['failed']} digest(s) failed; run the command again to resume them.")
