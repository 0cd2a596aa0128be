"""The ISO week a digest belongs to: the unit of "once a week" (one delivery per firm or chamber and week)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.utils import timezone

from companies.models import COUNTRY_TIME_ZONES


@dataclass(frozen=True, order=True)
class IsoWeek:
    year: int
    week: int

    @classmethod
    def parse(cls, text: str) -> IsoWeek:
        """'2026-W48' (or '2026-48')."""
        try:
            year, week = text.upper().replace("-W", "-").split("-")
            monday = date.fromisocalendar(int(year), int(week), 1)
        except ValueError:
            raise ValueError(f"{text!r} is not an ISO week such as 2026-W48") from None
        return cls(*monday.isocalendar()[:2])

    @classmethod
    def of(cls, moment: datetime, time_zone: str = "UTC") -> IsoWeek:
        local = moment.astimezone(ZoneInfo(time_zone)).date()
        return cls(*local.isocalendar()[:2])

    @classmethod
    def current(cls, country: str | None = None) -> IsoWeek:
        """This week on the clock of the country's chambers (UTC for both countries at once)."""
        return cls.of(timezone.now(), COUNTRY_TIME_ZONES.get(country or "", "UTC"))

    @property
    def monday(self) -> date:
        return date.fromisocalendar(self.year, self.week, 1)

    def __str__(self) -> str:
        return f"{self.year}-W{self.week:02d}"
