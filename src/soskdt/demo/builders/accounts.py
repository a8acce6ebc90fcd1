"""Citizen accounts (VNeID-like, level 1 or 2, with the app version last seen) and the superuser."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from soskdt.demo.builders.common import BATCH_SIZE, age_of, local_time, shift_years, weighted
from soskdt.identity.models import AccountKind, User
from soskdt.registry.models import Citizen

# Versions the VNeID app reported; card linking needs 2.0.4 or later (letter 310, Appendix 2, step 2).
APP_VERSIONS: tuple[tuple[str, int], ...] = (
    ("2.1.5", 30),
    ("2.1.3", 25),
    ("2.1.0", 14),
    ("2.0.9", 10),
    ("2.0.7", 7),
    ("2.0.4", 6),
    ("2.0.3", 4),
    ("2.0.1", 4),
)
CURRENT_APP_VERSION = "2.1.5"
OLD_APP_VERSION = "2.0.1"
VNEID_LEVEL2_SINCE = dt.date(2022, 7, 1)


@dataclass
class Accounts:
    users: list[User]

    def by_personal_id(self) -> dict[str, User]:
        return {u.username: u for u in self.users}


def _account_share(age: int, staff: bool) -> float:
    if age < 14:
        return 0.0
    if staff:
        return 0.9
    return 0.25 if age < 18 else 0.72 if age < 60 else 0.4 if age < 75 else 0.1


def build_citizen_accounts(
    *,
    rng: random.Random,
    today: dt.date,
    citizens: Iterable[Citizen],
    staff_ids: set[str],
    personas: Mapping[str, Citizen],
    password_hash: str,
) -> Accounts:
    """Open VNeID-like accounts for ~60% of adults: most level 2, some level 1, a few on an old app."""
    persona_of = {c.personal_id: key for key, c in personas.items() if key != "child"}
    users: list[User] = []
    for citizen in citizens:
        pid = citizen.personal_id
        age = age_of(citizen, today)
        persona = persona_of.get(pid)
        roll, level_roll = rng.random(), rng.random()
        if persona is None and (not citizen.phone or roll >= _account_share(age, pid in staff_ids)):
            continue
        if persona is not None:
            level = 1 if persona == "citizen_level1" else 2
        else:
            level = 2 if level_roll < (0.92 if pid in staff_ids else 0.6 if age >= 75 else 0.85) else 1
        version = weighted(rng, APP_VERSIONS) if rng.random() < 0.95 else ""
        if persona is not None:
            version = OLD_APP_VERSION if persona == "citizen_old_app" else CURRENT_APP_VERSION
        birth = citizen.birth_date
        fourteen = shift_years(dt.date(birth.year, birth.month or 1, birth.day or 1), 14)
        granted = max(today - dt.timedelta(days=rng.randint(10, 1200)), fourteen, VNEID_LEVEL2_SINCE)
        granted = min(granted, today)
        seen_day = today - dt.timedelta(days=rng.randint(0, 90))
        users.append(
            User(
                username=pid,
                kind=AccountKind.CITIZEN,
                full_name=citizen.full_name,
                phone=citizen.phone,
                citizen=citizen,
                assurance_level=level,
                assurance_granted_on=granted,
                app_version=version,
                app_version_seen_at=local_time(seen_day, rng.randint(6, 21), rng.randrange(60))
                if version
                else None,
                password=password_hash,
                date_joined=local_time(
                    granted - dt.timedelta(days=rng.randint(0, 30)), rng.randint(7, 20), rng.randrange(60)
                ),
            )
        )
    User.objects.bulk_create(users, batch_size=BATCH_SIZE)
    return Accounts(users)


def build_superuser(*, password_hash: str, today: dt.date) -> User | None:
    """Create the "admin" superuser for /admin/, unless an account of that name exists already."""
    if User.objects.filter(username="admin").exists():
        return None
    user = User(
        username="admin",
        kind=AccountKind.STAFF,
        full_name="Quản trị hệ thống",
        is_staff=True,
        is_superuser=True,
        password=password_hash,
        date_joined=local_time(today - dt.timedelta(days=900), 8),
    )
    User.objects.bulk_create([user])
    return user
