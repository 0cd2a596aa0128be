"""A demo B2B day for `make run`: generated firms registered, accepted and paired by the engine, scheduled."""

import datetime as dt

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from tqdm import tqdm

from companies.models import Company, Organisation, Source
from events import schedule, selectors, services
from events.models import Event, Interpreter, Participant

SLUG = "demo-b2b-day"
# The service writes the demo day's words, so it gives them in each reader's language (Event.local_name...).
DEMO_TEXTS = {
    "name": "Vietnam–Russia B2B day (demo)",
    "name_vi": "Ngày gặp gỡ doanh nghiệp Việt Nam – Nga (minh họa)",
    "name_ru": "День деловых встреч Вьетнам – Россия (демо)",
    "city": "Hanoi",
    "city_vi": "Hà Nội",
    "city_ru": "Ханой",
    "venue": "Demo venue",
    "venue_vi": "Địa điểm minh họa",
    "venue_ru": "Демонстрационная площадка",
    "description": "Generated demo data: firms, requests and schedule are synthetic.",
    "description_vi": "Dữ liệu minh họa do hệ thống tạo: các doanh nghiệp, yêu cầu gặp và lịch gặp đều là giả lập.",
    "description_ru": "Демонстрационные данные: компании, запросы и расписание созданы автоматически.",
}


class Command(BaseCommand):
    help = (
        "Create a demo B2B event two weeks ahead, organised by VCCI, with generated firms of both countries "
        "registered and accepted, the engine's best pairs as accepted requests, and its schedule. Does nothing "
        "when the demo event exists."
    )

    def add_arguments(self, parser):
        parser.add_argument("--firms", type=int, default=24, help="firms of each country (default 24)")
        parser.add_argument("--requests-per-firm", type=int, default=3)

    def handle(self, firms: int, requests_per_firm: int, **options):
        if Event.objects.filter(slug=SLUG).exists():
            self.stdout.write(f"Demo event {SLUG} exists: nothing to do.")
            return
        organiser = Organisation.objects.filter(slug="vcci").first()
        generated = Company.objects.published().filter(source=Source.GENERATED).order_by("pk")
        chosen = [c for country in ("VN", "RU") for c in generated.filter(country=country)[:firms]]
        if organiser is None or len(chosen) < 2:
            self.stdout.write("No seeded VCCI or no generated firms: demo event skipped.")
            return
        with transaction.atomic():
            event = self._event(organiser)
            self._participants(event, chosen)
            self._requests(event, requests_per_firm)
        result = schedule.build_event_schedule(event)
        self.stdout.write(
            f"Demo event {event.name}: {len(chosen)} firms, {event.requests.count()} accepted requests, "
            f"{result.placed} meetings scheduled, {len(result.unplaced)} not placed ({result.seconds} s)."
        )

    def _event(self, organiser: Organisation) -> Event:
        day = timezone.localdate() + dt.timedelta(days=14)
        event = Event.objects.create(
            slug=SLUG,
            organiser=organiser,
            **DEMO_TEXTS,
            starts_on=day,
            ends_on=day,
            tables=12,
            status=Event.Status.OPEN,
            registration_closes_at=timezone.now() + dt.timedelta(days=10),
        )
        services.generate_slots(event)
        Interpreter.objects.create(event=event, name="Demo interpreter 1", pairs=["ru-vi"])
        Interpreter.objects.create(event=event, name="Demo interpreter 2", pairs=["ru-vi", "en-ru"])
        Interpreter.objects.create(event=event, name="Demo interpreter 3", pairs=["en-vi", "ru-vi"])
        return event

    def _participants(self, event: Event, companies: list[Company]) -> None:
        slots = list(event.slots.order_by("starts_at"))
        for n, company in enumerate(tqdm(companies, desc="registering", disable=None)):
            # Every third firm comes for the morning only, so the schedule has availability to respect.
            last = slots[len(slots) // 2 - 1] if n % 3 == 2 else slots[-1]
            participant = services.register(
                event,
                company,
                windows=[services.Window(slots[0].starts_at, last.ends_at)],
                role=Participant.Role.BOTH,
            )
            services.set_participant_status([participant], Participant.Status.ACCEPTED)

    def _requests(self, event: Event, per_firm: int) -> None:
        participants = {p.company_id: p for p in selectors.active_participants(event)}
        pairs = selectors.ranked_pairs(event, per_firm)
        for (firm, other), scored in tqdm(sorted(pairs.items()), desc="requests", disable=None):
            a, b = participants[firm], participants[other]
            if a.company.country == "VN" and not selectors.open_request_between(a, b):
                try:
                    services.request_meeting(a, b, staff=True, scored=scored)
                except ValidationError:  # a morning-only firm already has a meeting for each of its slots
                    continue
