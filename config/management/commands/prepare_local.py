"""Everything `make run` does before serving: migrate, seed, demo data, match suggestions, a staff login."""

import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from companies.models import Company, Source

DEMO_COMPANIES = 400


class Command(BaseCommand):
    help = (
        "Prepare a local instance: migrate, load seeds, add demo companies once, recompute match suggestions, "
        "create and print a staff login."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--demo-companies", type=int, default=DEMO_COMPANIES)

    def handle(self, *, demo_companies: int, **options) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        call_command("load_seeds", stdout=self.stdout)
        if not Company.objects.filter(source=Source.GENERATED).exists() and demo_companies:
            call_command("generate_companies", demo_companies, seed=1, stdout=self.stdout, stderr=self.stderr)
        # generate_companies inserts in bulk, which sends no signals: rank everything once so the review
        # queue is populated (idempotent, and fast on later runs as the text embeddings are cached).
        call_command("recompute_matches", stdout=self.stdout)
        call_command("create_demo_event", stdout=self.stdout)

        password_file = settings.LOCAL_DIR / "admin-password.txt"
        User = get_user_model()
        if not User.objects.filter(username="admin").exists() or not password_file.exists():
            password = secrets.token_urlsafe(12)
            user, _ = User.objects.get_or_create(username="admin", defaults={"email": "admin@sme-match.example"})
            user.is_staff = user.is_superuser = True
            user.set_password(password)
            user.save()
            password_file.parent.mkdir(parents=True, exist_ok=True)
            password_file.write_text(password + "\n")
        password = password_file.read_text().strip()

        database = settings.DATABASES["default"]
        where = (
            f"embedded PostgreSQL under {settings.LOCAL_DIR / 'pgdata'}"
            if database["HOST"].startswith("/")
            else (f"PostgreSQL at {database['HOST']}:{database['PORT']}/{database['NAME']}")
        )
        self.stdout.write(
            self.style.SUCCESS(
                "\nSME Match is ready.\n"
                f"  Database:   {where}\n"
                f"  Mail:       {getattr(settings, 'EMAIL_FILE_PATH', 'SMTP')}\n"
                "  Site:       http://127.0.0.1:8000/  "
                "(sign up: /accounts/signup/, directory: /directory/, events: /events/)\n"
                "  API:        http://127.0.0.1:8000/api/v1/companies/\n"
                "  API docs:   http://127.0.0.1:8000/api/docs/\n"
                "  Admin:      http://127.0.0.1:8000/admin/\n"
                f"  Staff login: admin / {password}\n"
            )
        )
