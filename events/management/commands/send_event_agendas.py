from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from events import emails
from events.models import Event


class Command(BaseCommand):
    help = (
        "Email each accepted participant of an event its agenda now, in this process (the same code as the "
        "Celery task). A firm is sent a version of its agenda once: only new or changed agendas go out."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="The event's slug.")
        parser.add_argument(
            "--participant",
            type=int,
            action="append",
            dest="participant_ids",
            metavar="ID",
            help="Only this participant (by id); repeat for several.",
        )
        parser.add_argument("--dry-run", action="store_true", help="Say what would be sent; send and change nothing.")

    def handle(self, slug: str, participant_ids: list[int] | None, dry_run: bool, **options):
        event = Event.objects.select_related("organiser").filter(slug=slug).first()
        if event is None:
            raise CommandError(f"No event with the slug {slug!r}.")
        summary = emails.send_agendas(event, participant_ids, dry_run=dry_run)
        verb = "would send" if dry_run else "sent"
        skipped = ", ".join(f"{len(ids)} {reason}" for reason, ids in summary.skipped.items()) or "none"
        self.stdout.write(
            self.style.SUCCESS(
                f"Agendas of {event}{' (dry run)' if dry_run else ''}: {len(summary.sent)} {verb} "
                f"({summary.messages} emails); skipped: {skipped}; {len(summary.failed)} failed."
            )
        )
        for note in summary.notes:
            self.stdout.write(f"  {note}")
        for pk, reason in summary.failed.items():
            self.stdout.write(f"  participant {pk}: failed ({reason})")
        if not dry_run and summary.messages and settings.EMAIL_BACKEND.endswith("filebased.EmailBackend"):
            self.stdout.write(f"Emails written to {settings.EMAIL_FILE_PATH}")
        if summary.failed:
            raise CommandError(f"{len(summary.failed)} agenda(s) failed; run the command again to resume them.")
