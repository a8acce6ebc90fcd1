"""Build the demo data set: An Giang's health department, the An Phú regional centre, its staff and people.

One module per part, each with a ``build_…`` function that writes with ``bulk_create`` and returns what it
made, so that later issues can add parts (visits, shares, roll-out reports) without touching these. Every
part draws from its own random stream derived from the seed, so adding a part never changes another's data.
Dates are relative to ``today`` (cards valid today stay valid whenever the demo is loaded); the same seed and
the same ``today`` give identical data.

The rows are written directly rather than through each app's services: the services take one row (and one
password hash, ~80 ms with argon2) at a time, which would make a 2,000-person demo take minutes. What the
services would check is checked by this app's tests instead.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.contrib.auth.hashers import make_password
from django.db import transaction

from soskdt.demo.builders.accounts import Accounts, build_citizen_accounts, build_superuser
from soskdt.demo.builders.common import (
    DEFAULT_CITIZENS,
    DEFAULT_SEED,
    DEMO_PASSWORD,
    MIN_CITIZENS,
    Numbers,
    part_rng,
)
from soskdt.demo.builders.insurance import Cards, build_insurance_cards
from soskdt.demo.builders.organisation import OrgTree, build_facilities, build_org_units
from soskdt.demo.builders.personas import (
    CHILD_KEY,
    PERSONA_KEYS,
    choose_citizen_personas,
    record_personas,
    staff_personas,
)
from soskdt.demo.builders.population import Population, build_residents
from soskdt.demo.builders.rollout import build_demo_rollout
from soskdt.demo.builders.staff import Staff, build_staff
from soskdt.identity.models import User
from soskdt.registry.models import Citizen, Facility

__all__ = [
    "DEFAULT_CITIZENS",
    "DEFAULT_SEED",
    "DEMO_PASSWORD",
    "MIN_CITIZENS",
    "PERSONA_KEYS",
    "DemoResult",
    "build_demo",
]


@dataclass
class DemoResult:
    seed: int
    today: dt.date
    org: OrgTree
    facilities: dict[str, Facility]
    population: Population
    staff: Staff
    cards: Cards
    accounts: Accounts
    admin: User | None
    personas: dict[str, str] = field(default_factory=dict)  # persona key -> username
    # The register people behind the citizen personas, plus "child" (the parent persona's child under 6).
    citizen_personas: dict[str, Citizen] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        users = self.accounts.users
        return {
            "org_units": len(self.org.units),
            "facilities": len(self.facilities),
            "residents": len(self.population.citizens),
            "staff": len(self.staff.members),
            "cards": len(self.cards.cards),
            "cards_valid_today": len(self.cards.valid_on(self.today)),
            "cards_mismatched": len(self.cards.mismatched),
            "citizen_accounts": len(users),
            "level2_accounts": sum(1 for u in users if u.assurance_level == 2),
            "level1_accounts": sum(1 for u in users if u.assurance_level == 1),
        }


def build_demo(*, today: dt.date, seed: int = DEFAULT_SEED, citizens: int = DEFAULT_CITIZENS) -> DemoResult:
    """Build the whole demo in one transaction; the same ``seed`` and ``today`` give the same data."""
    if citizens < MIN_CITIZENS:
        raise ValueError(f"at least {MIN_CITIZENS} citizens are needed for the demo personas")
    with transaction.atomic():
        # argon2 is slow on purpose (~80 ms a hash). For the demo only, every account gets the same
        # encoded hash of the one demo password; real accounts are always hashed one by one, each salted.
        password_hash = make_password(DEMO_PASSWORD)
        numbers = Numbers()
        org = build_org_units()
        facilities = build_facilities(org)
        population = build_residents(
            rng=part_rng(seed, "residents"), numbers=numbers, today=today, count=citizens
        )
        staff = build_staff(
            rng=part_rng(seed, "staff"),
            numbers=numbers,
            today=today,
            org=org,
            facilities=facilities,
            password_hash=password_hash,
        )
        chosen = choose_citizen_personas(population, today)
        everyone = population.citizens + staff.citizens
        cards = build_insurance_cards(
            rng=part_rng(seed, "cards"),
            numbers=numbers,
            today=today,
            citizens=everyone,
            household_of={**population.household_of, **staff.household_of},
            personas=chosen,
        )
        accounts = build_citizen_accounts(
            rng=part_rng(seed, "accounts"),
            today=today,
            citizens=everyone,
            staff_ids={c.personal_id for c in staff.citizens},
            personas=chosen,
            password_hash=password_hash,
        )
        admin = build_superuser(password_hash=password_hash, today=today)
        build_demo_rollout(seed=seed, today=today, org=org, staff=staff)
        usernames = {key: c.personal_id for key, c in chosen.items() if key != CHILD_KEY}
        usernames.update(staff_personas(staff))
        usernames["admin"] = "admin"
        record_personas({**usernames, CHILD_KEY: chosen[CHILD_KEY].personal_id})
        return DemoResult(
            seed, today, org, facilities, population, staff, cards, accounts, admin, usernames, chosen
        )
