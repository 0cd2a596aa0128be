from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from matchmaking.services import RECOMPUTE_STAGES, recompute_matches
from matchmaking.tasks import recompute_in_chunks

STAGE_LABELS = {
    "profiles": "Reading profiles",
    "embedding": "Embedding new texts",
    "ranking": "Ranking",
    "saving": "Saving matches",
}


class Command(BaseCommand):
    help = (
        "Rank counterparts for published firms and refresh the suggested matches. Matches staff or the firms "
        "already acted on are never changed. Idempotent."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--company",
            type=int,
            action="append",
            dest="company_ids",
            metavar="ID",
            help="Only this company (by id); repeat for several. Default: every published company.",
        )
        parser.add_argument("--top", type=int, default=10, help="Counterparts kept per firm (default 10).")
        parser.add_argument(
            "--chunks",
            type=int,
            metavar="FIRMS",
            help="Queue the full recompute as Celery tasks, each ranking this many firms of one country (rounded up "
            "to whole blocks of 512) against every firm of the other, for every worker to share; the last task to "
            "finish merges them and saves the result once, as a full run does (with no broker configured they run "
            "here, one after another).",
        )

    def handle(self, company_ids: list[int] | None, top: int, chunks: int | None = None, **options) -> None:
        if top < 1:
            raise CommandError("--top: give 1 or more.")
        if chunks is not None:
            if chunks < 1 or company_ids or top != 10:
                raise CommandError("--chunks: give 1 or more firms, without --company or --top.")
            queued = recompute_in_chunks(chunks)  # here: the chunks go to the broker (or run here without one)
            self.stdout.write(
                self.style.SUCCESS(f"Queued {queued['chunks']} recompute tasks for {queued['firms']} firms.")
            )
            return
        with tqdm(desc="Recomputing matches", file=self.stderr._out, disable=options["verbosity"] == 0) as bar:
            stage_now = None

            def progress(stage: str, done: int, total: int) -> None:
                nonlocal stage_now
                if stage != stage_now:  # one bar, restarted for each stage with that stage's unit
                    stage_now = stage
                    bar.unit = RECOMPUTE_STAGES.get(stage, "it")
                    bar.set_description(STAGE_LABELS.get(stage, stage), refresh=False)
                    bar.reset(total=total)
                bar.total = total
                bar.update(done - bar.n)

            result = recompute_matches(company_ids, top_k=top, progress=progress)
        self.stdout.write(
            self.style.SUCCESS(
                f"Matches: {result.created} created, {result.updated} updated, {result.dropped} dropped, "
                f"{result.kept_reviewed} reviewed kept, in {result.seconds:.1f} s"
            )
        )
        for note in result.notes:
            self.stdout.write(self.style.WARNING(f"Note: {note}"))
