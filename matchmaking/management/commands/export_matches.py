import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from matchmaking.selectors import ranking_by_external_id


class Command(BaseCommand):
    help = (
        "Write the stored matches as a ranking file {external_id: [counterpart external_ids, best first]}, "
        "the format scored by the matching evaluation set. Every company with an external_id is a key."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--top", type=int, default=10, help="Counterparts per company (default 10).")
        parser.add_argument("-o", "--output", type=Path, help="File to write (default: standard output).")

    def handle(self, top: int, output: Path | None, **options) -> None:
        if top < 1:
            raise CommandError("--top: give 1 or more.")
        ranking = ranking_by_external_id(top)
        text = json.dumps(ranking, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
        if output is None:
            self.stdout.write(text, ending="")
            return
        output.write_text(text, encoding="utf-8")
        self.stderr.write(f"Wrote {len(ranking)} companies' counterparts to {output}.")
