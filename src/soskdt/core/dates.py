"""Partial dates (year only, year+month, full date) and QĐ 130 time stamps."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

_PARTIAL_RE = re.compile(
    r"^(?:(?P<y1>\d{4})(?:-(?P<m1>\d{1,2})(?:-(?P<d1>\d{1,2}))?)?"
    r"|(?:(?:(?P<d2>\d{1,2})/)?(?P<m2>\d{1,2})/)(?P<y2>\d{4})"
    r"|(?P<y3>\d{4})(?P<m3>\d{2})(?P<d3>\d{2})?)$"
)


@dataclass(frozen=True, slots=True, order=True)
class PartialDate:
    """A birth date that may be known only to the year or the month."""

    year: int
    month: int | None = None
    day: int | None = None

    def __post_init__(self) -> None:
        if not 1800 <= self.year <= 2200:
            raise ValueError("year out of range")
        if self.month is None and self.day is not None:
            raise ValueError("day without month")
        if self.month is not None and not 1 <= self.month <= 12:
            raise ValueError("month out of range")
        if self.day is not None:
            dt.date(self.year, self.month or 1, self.day)  # raises on 31/02

    def isoformat(self) -> str:
        if self.month is None:
            return f"{self.year:04d}"
        if self.day is None:
            return f"{self.year:04d}-{self.month:02d}"
        return f"{self.year:04d}-{self.month:02d}-{self.day:02d}"

    def display(self) -> str:
        """Vietnamese display order: dd/mm/yyyy, mm/yyyy or yyyy."""
        if self.month is None:
            return f"{self.year:04d}"
        if self.day is None:
            return f"{self.month:02d}/{self.year:04d}"
        return f"{self.day:02d}/{self.month:02d}/{self.year:04d}"

    def as_date(self) -> dt.date | None:
        if self.month is None or self.day is None:
            return None
        return dt.date(self.year, self.month, self.day)

    def matches(self, other: PartialDate) -> bool:
        """Tell whether two partial dates agree on every part both of them know."""
        if self.year != other.year:
            return False
        if self.month is not None and other.month is not None and self.month != other.month:
            return False
        return not (self.day is not None and other.day is not None and self.day != other.day)

    def age_on(self, day: dt.date) -> int:
        """Completed years on ``day``; unknown month/day count as the start of the period."""
        age = day.year - self.year
        if (day.month, day.day) < (self.month or 1, self.day or 1):
            age -= 1
        return age

    def __str__(self) -> str:
        return self.isoformat()


def parse_partial_date(raw: str) -> PartialDate:
    """Parse ``yyyy``, ``yyyy-mm``, ``yyyy-mm-dd``, ``mm/yyyy``, ``dd/mm/yyyy``, ``yyyymm`` or ``yyyymmdd``."""
    value = (raw or "").strip()
    match = _PARTIAL_RE.match(value)
    if not match:
        raise ValueError(f"not a date: {raw!r}")
    g = match.groupdict()
    year = int(g["y1"] or g["y2"] or g["y3"])
    month_raw = g["m1"] or g["m2"] or g["m3"]
    day_raw = g["d1"] or g["d2"] or g["d3"]
    month = int(month_raw) if month_raw else None
    day = int(day_raw) if day_raw else None
    return PartialDate(year, month, day)


def parse_qd130_time(raw: str) -> dt.datetime:
    """Parse a QĐ 130 ``yyyymmddHHMM`` time as a naive local (Asia/Ho_Chi_Minh) datetime."""
    value = (raw or "").strip()
    if len(value) != 12 or not value.isdigit():
        raise ValueError(f"not yyyymmddHHMM: {raw!r}")
    return dt.datetime(int(value[:4]), int(value[4:6]), int(value[6:8]), int(value[8:10]), int(value[10:12]))


def parse_qd130_date(raw: str) -> dt.date:
    """Parse a QĐ 130 ``yyyymmdd`` date."""
    value = (raw or "").strip()
    if len(value) != 8 or not value.isdigit():
        raise ValueError(f"not yyyymmdd: {raw!r}")
    return dt.date(int(value[:4]), int(value[4:6]), int(value[6:8]))
