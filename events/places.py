"""Places and clocks of events as a reader says them: a time zone as its city's time with the UTC offset
("Hanoi time (UTC+7)") rather than its IANA name, and the cities the service itself names in the reader's
language. What organisers or firms typed is shown as they wrote it.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.utils import timezone
from django.utils.translation import pgettext_lazy

# Every time zone an event may have (events.models.EVENT_TIME_ZONES), named by the city whose clock it is.
ZONE_NAMES = {
    "Asia/Ho_Chi_Minh": pgettext_lazy("time zone", "Hanoi time"),
    "Europe/Moscow": pgettext_lazy("time zone", "Moscow time"),
    "UTC": pgettext_lazy("time zone", "UTC"),
}

# Cities the service writes itself (seeded events, the demo day), spelt in English in the database.
CITY_NAMES = {
    "Hanoi": pgettext_lazy("city", "Hanoi"),
    "Ho Chi Minh City": pgettext_lazy("city", "Ho Chi Minh City"),
    "Da Nang": pgettext_lazy("city", "Da Nang"),
    "Hai Phong": pgettext_lazy("city", "Hai Phong"),
    "Moscow": pgettext_lazy("city", "Moscow"),
    "Saint Petersburg": pgettext_lazy("city", "Saint Petersburg"),
    "Kazan": pgettext_lazy("city", "Kazan"),
    "Vladivostok": pgettext_lazy("city", "Vladivostok"),
}


def utc_offset(zone: str, on: dt.date | None = None) -> str:
    """ "UTC+7", "UTC+3", "UTC+5:30" or "UTC" for the zone on that day (noon, so a change of clocks that night
    does not matter); today when no day is given."""
    day = on or timezone.localdate()
    offset = dt.datetime.combine(day, dt.time(12), ZoneInfo(zone)).utcoffset() or dt.timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    if not minutes:
        return "UTC"
    hours, rest = divmod(abs(minutes), 60)
    sign = "+" if minutes > 0 else "-"
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


def zone_label(zone: str, on: dt.date | None = None) -> str:
    """The zone as a reader says it, in the active language: "Hanoi time (UTC+7)"."""
    offset = utc_offset(zone, on)
    name = ZONE_NAMES.get(zone)
    if name is None:  # a zone added to the choices without a name here: at least not a raw "Area/City"
        return offset
    if str(name) == offset:
        return offset
    return f"{name} ({offset})"


def city_name(city: str) -> str:
    """A city the service named, in the active language; any other city as written."""
    name = CITY_NAMES.get(city.strip())
    return str(name) if name is not None else city
