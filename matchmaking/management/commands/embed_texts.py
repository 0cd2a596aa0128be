from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from tqdm import tqdm

from matchmaking import services
from matchmaking.tasks import embed_texts_chunk


class Command(BaseCommand):
    help = (
        "Embed and cache every published offer and need the cache lacks, in chunks, with a progress bar. "
        "Resumable: stopped at any point, a rerun embeds only what is still missing. With --queue the "
        "chunks go to the Celery workers instead (as many as run, on any machine)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--chunk", type=int, default=services.EMBED_CHUNK, help="Texts per chunk.")
        parser.add_argument("--queue", action="store_true", help="Queue one Celery task per chunk and return.")

    def handle(self, chunk: int, queue: bool, **options) -> None:
        plan = services.plan_embedding(chunk)
        self.stdout.write(f"{plan.cached} texts cached, {plan.missing} to embed in {len(plan.chunks)} chunks.")
        if queue and not settings.CELERY_TASK_ALWAYS_EAGER:
            for role, texts in plan.chunks:
                embed_texts_chunk.delay(role, texts)
            self.stdout.write(self.style.SUCCESS(f"Queued {len(plan.chunks)} chunks for the workers."))
            return
        embedded = 0
        with tqdm(
            total=plan.missing, desc="Embedding", unit="text", file=self.stderr._out, disable=options["verbosity"] == 0
        ) as bar:
            for role, texts in plan.chunks:
                embedded += services.embed_chunk(role, texts)
                bar.update(len(texts))
        self.stdout.write(self.style.SUCCESS(f"Embedded {embedded} new texts."))
