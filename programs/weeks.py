"""ISO weeks: the unit a plan covers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from programs.errors import InvalidWeek

_PATTERN = re.compile(r"^(\d{4})-W(\d{2})$")


@dataclass(frozen=True, order=True, slots=True)
class IsoWeek:
    year: int
    week: int

    @classmethod
    def parse(cls, text: str) -> IsoWeek:
        """Parse `YYYY-Www`, e.g. `2026-W48`; raises InvalidWeek."""
        match = _PATTERN.match(text)
        if match is None:
            raise InvalidWeek(f"{text!r} is not an ISO week like 2026-W48")
        year, week = int(match.group(1)), int(match.group(2))
        if not 1 <= year <= 9998:
            raise InvalidWeek(f"{text!r}: year out of range")
        try:
            date.fromisocalendar(year, week, 1)
        except ValueError:
            raise InvalidWeek(f"{text!r}: {year} has no week {week}") from None
        return cls(year, week)

    @classmethod
    def of(cls, day: date) -> IsoWeek:
        iso = day.isocalendar()
        return cls(iso.year, iso.week)

    def monday(self) -> date:
        return date.fromisocalendar(self.year, self.week, 1)

    def sunday(self) -> date:
        return date.fromisocalendar(self.year, self.week, 7)

    def days(self) -> tuple[date, ...]:
        start = self.monday()
        return tuple(start + timedelta(days=i) for i in range(7))

    def shift(self, weeks: int) -> IsoWeek:
        return IsoWeek.of(self.monday() + timedelta(weeks=weeks))

    def weeks_since(self, other: IsoWeek) -> int:
        return (self.monday() - other.monday()).days // 7

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and IsoWeek.of(day) == self

    def __str__(self) -> str:
        return f"{self.year:04d}-W{self.week:02d}"
