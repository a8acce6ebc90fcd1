"""The demo personas: who to log in as, chosen deterministically and recorded for later runs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from soskdt.demo.builders.common import age_of
from soskdt.demo.builders.organisation import HOSPITAL_CODE
from soskdt.demo.builders.population import Population
from soskdt.demo.builders.staff import Staff
from soskdt.demo.models import DemoPersona
from soskdt.identity.models import Role
from soskdt.registry.models import Citizen

PERSONA_KEYS: tuple[str, ...] = (
    "citizen",
    "citizen_mismatch",
    "citizen_expired",
    "citizen_old_app",
    "citizen_level1",
    "parent",
    "clinician",
    "submitter",
    "unit_reporter",
    "reception",
    "centre_admin",
    "province_admin",
    "auditor",
    "admin",
)


def choose_citizen_personas(population: Population, today: dt.date) -> dict[str, Citizen]:
    """Pick the citizens the logins table offers; the card and account builders then shape them.

    Adds "child": the parent persona's child under 6 (no login of its own).
    """
    inconsistent = set(population.inconsistent_ids)
    used: set[str] = set()

    def suitable(c: Citizen, low: int, high: int) -> bool:
        return (
            low <= age_of(c, today) <= high
            and c.birth_day is not None
            and bool(c.phone)
            and c.personal_id not in inconsistent
            and c.personal_id not in used
            and c.occupation not in ("Công an", "Hưu trí")
        )

    chosen: dict[str, Citizen] = {}
    for child in population.citizens:
        parent = child.representative
        if parent is not None and age_of(child, today) < 6 and suitable(parent, 22, 50):
            chosen["parent"], chosen["child"] = parent, child
            used.update((parent.personal_id, child.personal_id))
            break
    wanted = (
        ("citizen", 25, 50),
        ("citizen_mismatch", 25, 55),
        ("citizen_expired", 25, 55),
        ("citizen_old_app", 30, 60),
        ("citizen_level1", 55, 75),
    )
    for key, low, high in wanted:
        for citizen in population.citizens:
            if citizen.representative is None and suitable(citizen, low, high):
                chosen[key] = citizen
                used.add(citizen.personal_id)
                break
    missing = [key for key in ("parent", *(w[0] for w in wanted)) if key not in chosen]
    if missing:
        raise ValueError(f"population too small for the personas {missing}")
    return chosen


#: Recorded with the personas but not a login: the ``parent`` persona's child (its personal ID), whose visits
#: the demo loads and whom the logins table names.
CHILD_KEY = "child"
RECORDED_KEYS: tuple[str, ...] = (*PERSONA_KEYS, CHILD_KEY)


def record_personas(usernames: Mapping[str, str]) -> list[DemoPersona]:
    """Remember which account plays which persona (and who the child is), for ``--logins``, tests and walks."""
    personas = [
        DemoPersona(key=key, username=usernames[key], position=index)
        for index, key in enumerate(RECORDED_KEYS)
        if key in usernames
    ]
    DemoPersona.objects.bulk_create(personas)
    return personas


def staff_personas(staff: Staff) -> dict[str, str]:
    """Usernames of the staff personas: the first holder of each role (in the plan's fixed order)."""

    def first(role: str, unit_code: str | None = None, facility_code: str | None = None) -> str:
        for member in staff.with_role(role):
            user = member.user
            if unit_code and user.org_unit and user.org_unit.code != unit_code:
                continue
            if facility_code and (user.facility is None or user.facility.code != facility_code):
                continue
            return user.username
        raise ValueError(f"no staff member with role {role}")

    return {
        "clinician": first(Role.CLINICIAN, "ANPHU-KKB", HOSPITAL_CODE),
        "submitter": first(Role.SUBMITTER, facility_code=HOSPITAL_CODE),
        "unit_reporter": first(Role.UNIT_REPORTER, "ANPHU-NOI"),
        "reception": first(Role.RECEPTION, "ANPHU-KKB"),
        "centre_admin": first(Role.CENTRE_ADMIN),
        "province_admin": first(Role.PROVINCE_ADMIN),
        "auditor": first(Role.AUDITOR),
    }
