from django.core.management.base import BaseCommand, CommandParser
from tqdm import tqdm

from matchmaking import services
from matchmaking.embedding_cache import wait_until_cached
from matchmaking.tasks import embed_texts_chunk


class Command(BaseCommand):
    help = (
        "Embed and cache every published offer and need the cache lacks, in chunks, with a progress bar. "
        "Resumable: stopped at any point, a rerun embeds only what is still missing. With --queue the "
        "chunks go to the Celery workers instead (as many as run, on any machine; start them with "
        "MATCHING_MODEL_THREADS=1 and one pool process per core), and the bar follows what they cache."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--chunk",
            type=int,
            default=services.EMBED_CHUNK,
            help="Texts per chunk at most (queued, smaller chunks share the texts evenly among the workers).",
        )
        parser.add_argument("--queue", action="store_true", help="Queue one Celery task per chunk for the workers.")
        parser.add_argument(
            "--no-wait", action="store_true", help="With --queue: return once the chunks are queued, without a bar."
        )

    def handle(self, chunk: int, queue: bool, no_wait: bool, **options) -> None:
        queued = queue and not embed_texts_chunk.app.conf.task_always_eager  # no broker: tasks would run here
        plan = services.plan_embedding(chunk, at_least=services.EMBED_QUEUE_CHUNKS if queued else 1)
        self.stdout.write(f"{plan.cached} texts cached, {plan.missing} to embed in {len(plan.chunks)} chunks.")
        if queued:
            self._queue(plan, wait=not no_wait, quiet=options["verbosity"] == 0)
            return
        embedded = 0
        with self._bar(plan.missing, "Embedding", quiet=options["verbosity"] == 0) as bar:
            for role, texts in plan.chunks:
                embedded += services.embed_chunk(role, texts)
                bar.update(len(texts))
        self.stdout.write(self.style.SUCCESS(f"Embedded {embedded} new texts."))

    def _bar(self, total: int, description: str, *, quiet: bool) -> tqdm:
        return tqdm(total=total, desc=description, unit="text", file=self.stderr._out, disable=quiet)

    def _queue(self, plan: services.EmbeddingPlan, *, wait: bool, quiet: bool) -> None:
        if plan.chunks and not embed_texts_chunk.app.control.ping(timeout=2.0, limit=1):
            self.stderr.write(
                "No Celery worker answered: the chunks wait in the queue until one starts "
                "(celery -A config worker; with MATCHING_MODEL_THREADS=1, one pool process per core)."
            )
        for role, texts in plan.chunks:
            embed_texts_chunk.delay(role, texts)
        self.stdout.write(f"Queued {len(plan.chunks)} chunks for the workers.")
        if not wait or not plan.chunks:
            return
        try:
            with self._bar(plan.missing, "Embedded by the workers", quiet=quiet) as bar:
                wait_until_cached(plan.keys, progress=lambda done: bar.update(done - bar.n), stalled=self._stalled)
        except KeyboardInterrupt:
            self.stderr.write(
                "\nStopped following the workers; they carry on with the queued chunks. Run the command again "
                "to see what is left (the chunks still queued skip the texts cached meanwhile)."
            )
            return
        self.stdout.write(self.style.SUCCESS(f"All {plan.missing} new texts are embedded and cached."))

    def _stalled(self, seconds: float) -> None:
        self.stderr.write(
            f"\nNothing was cached for {seconds:.0f} s: is a worker running (celery -A config worker)? Still "
            "waiting; Ctrl-C leaves the queued chunks to the workers."
        )
