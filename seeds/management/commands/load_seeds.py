from django.core.management.base import BaseCommand

from seeds.loader import load_seeds


class Command(BaseCommand):
    help = (
        "Load the ISIC Rev.4 sectors and the facts from the articles (organisations, companies, events, "
        "trade figures). Idempotent."
    )

    def handle(self, **options):
        counts = load_seeds()
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeds loaded: {counts['created']} created, {counts['updated']} updated, "
                f"{counts['unchanged']} unchanged."
            )
        )
