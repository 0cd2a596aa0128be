"""An event's pages say what the service wrote in the reader's language and tell one registration state with its
reason (issue 18: "Text left in English or raw", and the event page that said registration closes on a day
while a box below said it was closed).

- The demo day's name, venue, city and description appear in Vietnamese and Russian on vi and ru pages; an
  organiser's own words stay as written.
- The time zone reads as a city's time with its UTC offset, never as "Asia/Ho_Chi_Minh".
- Registration: open until when, or closed since when and why (the schedule published, the closing date).
"""

import datetime as dt

import pytest
from django.utils import formats, timezone

from events.management.commands.create_demo_event import DEMO_TEXTS, SLUG
from events.models import Event
from events.places import zone_label
from tests.factories import CompanyFactory, EventFactory, MembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_day():
    return EventFactory(slug=SLUG, **DEMO_TEXTS)


@pytest.mark.parametrize(
    "language, name, city, venue",
    [
        ("vi", "Ngày gặp gỡ doanh nghiệp Việt Nam – Nga (minh họa)", "Hà Nội", "Địa điểm minh họa"),
        ("ru", "День деловых встреч Вьетнам – Россия (демо)", "Ханой", "Демонстрационная площадка"),
        ("en", "Vietnam–Russia B2B day (demo)", "Hanoi", "Demo venue"),
    ],
)
def test_the_demo_day_speaks_the_readers_language(client, demo_day, language, name, city, venue):
    page = client.get(f"/events/{SLUG}/", HTTP_ACCEPT_LANGUAGE=language).text
    listing = client.get("/events/", HTTP_ACCEPT_LANGUAGE=language).text

    assert f'<h1 id="event-name">{name}</h1>' in page
    assert f"<dd>{city}</dd>" in page and f"<dd>{venue}</dd>" in page
    assert demo_day.description not in page or language == "en"
    assert name in listing and city in listing


def test_a_russian_reader_finds_the_demo_day_by_its_russian_name(client, demo_day):
    listing = client.get("/events/", {"q": "деловых встреч"}, HTTP_ACCEPT_LANGUAGE="ru").text
    assert "День деловых встреч Вьетнам – Россия (демо)" in listing


def test_an_organisers_own_words_stay_as_written(client):
    EventFactory(slug="kazan-day", name="Kazan–Da Nang supplier day", venue="Korston hall 2", city="Kazan")
    page = client.get("/events/kazan-day/", HTTP_ACCEPT_LANGUAGE="ru").text
    assert "Kazan–Da Nang supplier day" in page and "Korston hall 2" in page


@pytest.mark.parametrize("language", ["vi", "ru", "en"])
def test_the_time_zone_is_a_city_time_with_its_offset_not_an_iana_name(client, language):
    EventFactory(
        slug="hanoi-day", time_zone="Asia/Ho_Chi_Minh", registration_closes_at=timezone.now() + dt.timedelta(days=3)
    )
    EventFactory(slug="moscow-day", time_zone="Europe/Moscow", city="Moscow")

    hanoi = client.get("/events/hanoi-day/", HTTP_ACCEPT_LANGUAGE=language).text
    moscow = client.get("/events/moscow-day/", HTTP_ACCEPT_LANGUAGE=language).text

    assert "Asia/Ho_Chi_Minh" not in hanoi and "(UTC+7)" in hanoi
    assert "Europe/Moscow" not in moscow and "(UTC+3)" in moscow


def test_zone_labels_name_the_city_and_the_offset():
    day = dt.date(2026, 12, 17)
    assert zone_label("Asia/Ho_Chi_Minh", day) == "Hanoi time (UTC+7)"
    assert zone_label("Europe/Moscow", day) == "Moscow time (UTC+3)"
    assert zone_label("UTC", day) == "UTC"


# --- one registration state, with its reason ----------------------------------------------------------------


def _day(moment: dt.datetime) -> str:
    return formats.date_format(timezone.localtime(moment, timezone.get_fixed_timezone(7 * 60)), "DATE_FORMAT")


def test_a_published_schedule_closes_registration_and_the_page_says_so_once(client):
    # As reported: registration was to close on a later day, but the organisers published the schedule first.
    published = timezone.now() - dt.timedelta(days=1)
    EventFactory(
        slug="hanoi-day",
        status=Event.Status.SCHEDULED,
        schedule_built_at=published,
        registration_closes_at=timezone.now() + dt.timedelta(days=5),
    )
    client.force_login(MembershipFactory(company=CompanyFactory()).user)

    page = client.get("/events/hanoi-day/").text

    assert "Registration closes" not in page  # no more "closes on" a day still to come
    state = page.split('id="registration-state">')[1].split("</dd>")[0]
    assert state == (
        f"Registration closed on {_day(published)} because the organisers published the meeting schedule that day."
    )
    assert "Registration for this event is closed." in page


def test_an_open_event_says_until_when_in_the_events_time(client):
    closes = timezone.now() + dt.timedelta(days=5)
    EventFactory(slug="hanoi-day", registration_closes_at=closes)

    state = client.get("/events/hanoi-day/").text.split('id="registration-state">')[1].split("</dd>")[0]

    assert state.startswith(f"Registration is open until {_day(closes)}") and state.endswith(", Hanoi time (UTC+7).")


def test_an_event_not_open_yet_is_not_called_closed(client):
    opens = timezone.now() + dt.timedelta(days=2)
    EventFactory(slug="hanoi-day", registration_opens_at=opens)
    client.force_login(MembershipFactory(company=CompanyFactory()).user)

    page = client.get("/events/hanoi-day/").text

    assert f"Registration opens on {_day(opens)}" in page
    assert "is closed" not in page and "Registration for this event has not opened yet." in page
