"""Reporting months, their deadlines, and numbers written the Vietnamese way (13,55%; 369.164)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from django.conf import settings

_KEY_RE = re.compile(r"^(\d{4})-(\d{2})$")


def local_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


@dataclass(frozen=True, slots=True, order=True)
class Period:
    """A reporting month."""

    year: int
    month: int

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12 or not 2000 <= self.year <= 2200:
            raise ValueError("not a reporting month")

    @classmethod
    def of(cls, day: dt.date) -> Period:
        return cls(day.year, day.month)

    @classmethod
    def parse(cls, key: str) -> Period:
        """Parse ``yyyy-mm``; raise ValueError otherwise."""
        match = _KEY_RE.match((key or "").strip())
        if not match:
            raise ValueError(f"not yyyy-mm: {key!r}")
        return cls(int(match.group(1)), int(match.group(2)))

    @property
    def key(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def label(self) -> str:
        return f"{self.month:02d}/{self.year:04d}"

    @property
    def start(self) -> dt.date:
        return dt.date(self.year, self.month, 1)

    @property
    def end(self) -> dt.date:
        return self.next().start - dt.timedelta(days=1)

    def next(self) -> Period:
        return Period(self.year + self.month // 12, self.month % 12 + 1)

    def previous(self) -> Period:
        return Period(self.year - (1 if self.month == 1 else 0), 12 if self.month == 1 else self.month - 1)

    def end_moment(self) -> dt.datetime:
        """The last instant of the month, local time (the "as of the period's end" of the counts)."""
        return dt.datetime.combine(self.next().start, dt.time(0), tzinfo=local_zone()) - dt.timedelta(
            microseconds=1
        )

    def deadline(self, deadline_day: int) -> dt.datetime:
        """When the report becomes late: the start of day ``deadline_day`` of the next month, local time.

        The letter asks for reports "trước ngày 10 hằng tháng" (before the 10th): submitted at 23:59 on the
        9th is on time, at 00:00 on the 10th it is late.
        """
        following = self.next()
        return dt.datetime(following.year, following.month, deadline_day, tzinfo=local_zone())

    def months_until(self, last: Period) -> list[Period]:
        """This month and every month after it up to ``last`` (empty when ``last`` is earlier)."""
        found: list[Period] = []
        current = self
        while current <= last:
            found.append(current)
            current = current.next()
        return found

    def __str__(self) -> str:
        return self.key


def format_int(value: int | None) -> str:
    """369164 → "369.164" (Vietnamese thousands separator); None → "—"."""
    if value is None:
        return "—"
    return f"{value:,}".replace(",", ".")


def percent(numerator: int | None, denominator: int | None, places: int = 2) -> Decimal | None:
    """``numerator / denominator`` as a percentage rounded half-up; None when there is no denominator."""
    if numerator is None or not denominator:
        return None
    quantum = Decimal(1).scaleb(-places)
    return (Decimal(numerator) * 100 / Decimal(denominator)).quantize(quantum, rounding=ROUND_HALF_UP)


def format_percent(numerator: int | None, denominator: int | None, places: int = 2) -> str:
    """369164 / 2724670 → "13,55%" (decimal comma); "—" when there is no denominator."""
    value = percent(numerator, denominator, places)
    if value is None:
        return "—"
    return f"{value}%".replace(".", ",")
