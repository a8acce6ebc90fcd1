"""Shared pieces of the demo builders: constants, random streams, dates, numbers and names."""

from __future__ import annotations

import datetime as dt
import random
import unicodedata
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from soskdt.demo import names
from soskdt.registry.models import Citizen, Sex

# Meets the VNeID password rules (8–20 characters with upper, lower, digit and special): demo only.
DEMO_PASSWORD = "Demo@2024"  # noqa: S105 (published on purpose: printed by `soskdt demo --logins`)
DEFAULT_SEED = 2024
DEFAULT_CITIZENS = 2000
MIN_CITIZENS = 100
BATCH_SIZE = 500
LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
# Districts were abolished on 1 July 2025: the district centre became a regional centre under the
# province health department and the communes were merged.
REFORM_DAY = dt.date(2025, 7, 1)


def part_rng(seed: int, part: str) -> random.Random:
    """Return the random stream of one part of the demo (string seeds are stable across processes)."""
    return random.Random(f"soskdt-demo/{seed}/{part}")


def weighted(rng: random.Random, table: Sequence[tuple[str, int]]) -> str:
    return rng.choices([key for key, _w in table], weights=[w for _k, w in table])[0]


def shift_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def birth_date_for_age(rng: random.Random, today: dt.date, age: int) -> dt.date:
    latest = shift_years(today, -age)
    earliest = shift_years(today, -age - 1) + dt.timedelta(days=1)
    return earliest + dt.timedelta(days=rng.randrange((latest - earliest).days + 1))


def local_time(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=LOCAL_TZ)


def age_of(citizen: Citizen, today: dt.date) -> int:
    return citizen.birth_date.age_on(today)


def ascii_fold(text: str) -> str:
    """Drop Vietnamese diacritics (for usernames): "Nguyễn Đức" -> "Nguyen Duc"."""
    text = text.replace("đ", "d").replace("Đ", "D")
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


def century_sex_digit(birth_year: int, sex: str) -> int:
    """The G digit of a personal ID: 0/1 for men/women born in the 1900s, 2/3 in the 2000s, …"""
    return (birth_year // 100 - 19) * 2 + (1 if sex == Sex.FEMALE else 0)


class Numbers:
    """Hands out unique personal IDs, social-insurance numbers and phone numbers."""

    def __init__(self) -> None:
        self.personal_ids: set[str] = set()
        self.social_numbers: set[str] = set()
        self.phones: set[str] = set()

    def personal_id(self, rng: random.Random, *, province: str, birth_year: int, sex: str) -> str:
        head = f"{province}{century_sex_digit(birth_year, sex)}{birth_year % 100:02d}"
        while True:
            value = f"{head}{rng.randrange(1_000_000):06d}"
            if value not in self.personal_ids:
                self.personal_ids.add(value)
                return value

    def replace_personal_id(self, old: str, new: str) -> bool:
        if new in self.personal_ids:
            return False
        self.personal_ids.discard(old)
        self.personal_ids.add(new)
        return True

    def social_insurance_number(self, rng: random.Random, prefix: str) -> str:
        while True:
            value = f"{prefix}{rng.randrange(100_000_000):08d}"
            if value not in self.social_numbers:
                self.social_numbers.add(value)
                return value

    def phone(self, rng: random.Random) -> str:
        while True:
            value = f"{rng.choice(names.MOBILE_PREFIXES)}{rng.randrange(10_000_000):07d}"
            if value not in self.phones:
                self.phones.add(value)
                return value


def make_name(rng: random.Random, *, sex: str, birth_year: int, family: str | None = None) -> str:
    """A Vietnamese full name typical of the person's generation: family, middle and given name."""
    family = family or weighted(rng, names.FAMILY_NAMES)
    generation = "old" if birth_year < 1970 else "mid" if birth_year < 2000 else "young"
    if sex == Sex.MALE:
        middle_table = {
            "old": names.MALE_MIDDLE_OLD,
            "mid": names.MALE_MIDDLE_MID,
            "young": names.MALE_MIDDLE_YOUNG,
        }[generation]
        given_list = {
            "old": names.MALE_GIVEN_OLD,
            "mid": names.MALE_GIVEN_MID,
            "young": names.MALE_GIVEN_YOUNG,
        }[generation]
    else:
        middle_table = {
            "old": names.FEMALE_MIDDLE_OLD,
            "mid": names.FEMALE_MIDDLE_MID,
            "young": names.FEMALE_MIDDLE_YOUNG,
        }[generation]
        given_list = {
            "old": names.FEMALE_GIVEN_OLD,
            "mid": names.FEMALE_GIVEN_MID,
            "young": names.FEMALE_GIVEN_YOUNG,
        }[generation]
    middle = weighted(rng, middle_table)
    given = rng.choice(given_list)
    while given == middle:
        given = rng.choice(given_list)
    if sex == Sex.FEMALE and generation == "mid" and middle == "Thị" and rng.random() < 0.2:
        second = rng.choice(names.FEMALE_SECOND_MIDDLE)
        if second != given:
            middle = f"Thị {second}"
    return f"{family} {middle} {given}"
