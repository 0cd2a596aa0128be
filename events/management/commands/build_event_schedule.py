"""Build a B2B event's meeting schedule from the command line, as the admin's "Build schedule" button does."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from events import schedule, selectors
from events.models import Event, MeetingRequest


class Command(BaseCommand):
    help = "Place the accepted meeting requests of an event into time slots, tables and interpreters."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="the event's slug")
        parser.add_argument(
            "--seconds",
            type=float,
            default=None,
            help="how long the solver may improve the schedule (default: settings.EVENT_SCHEDULE_SECONDS)",
        )

    def handle(self, *args, slug: str, seconds: float | None, **options) -> None:
        event = Event.objects.filter(slug=slug).first()
        if event is None:
            raise CommandError(f"No event has the slug {slug!r}.")
        try:
            result = schedule.build_event_schedule(event, time_limit=seconds)
        except ValidationError as error:
            for message in error.messages:
                self.stderr.write(f"- {message}")
            raise CommandError(
                f"The schedule of {event} was not built: {len(error.messages)} problem(s) above. Nothing was changed."
            ) from None
        ratio = "unknown" if result.bound_ratio is None else f"{result.bound_ratio:.4f}"
        self.stdout.write(
            f"{event}: placed {result.placed}, unplaced {len(result.unplaced)}, weight {result.weight}, "
            f"ratio to bound {ratio}{' (optimal)' if result.optimal else ''}, {result.seconds} s"
        )
        requests = MeetingRequest.objects.select_related("requester__company", "invitee__company").in_bulk(
            list(result.unplaced)
        )
        for key in sorted(result.unplaced):
            reason = selectors.unplaced_text(result.unplaced[key].code, result.unplaced[key].params)
            self.stdout.write(f"  not placed: {requests.get(key, key)}: {reason}")
