"""Staff of the centre, its stations and the province department: register people with staff accounts."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Mapping
from dataclasses import dataclass

from soskdt.demo import names
from soskdt.demo.builders.common import BATCH_SIZE, Numbers, ascii_fold, local_time, weighted
from soskdt.demo.builders.organisation import (
    CLINICAL_DEPARTMENTS,
    DEPARTMENTS,
    HOSPITAL_CODE,
    POLYCLINIC_CODE,
    STATION_FACILITY_CODE,
    STATION_STAFF,
    OrgTree,
)
from soskdt.demo.builders.population import Household, new_household, new_person
from soskdt.demo.models import DemoStaffLink
from soskdt.identity.models import AccountKind, Role, RoleAssignment, User
from soskdt.registry.models import Citizen, Facility, OrgUnit, OrgUnitKind, Sex


@dataclass
class StaffMember:
    user: User
    citizen: Citizen
    position: str
    roles: tuple[str, ...]


@dataclass
class Staff:
    members: list[StaffMember]
    household_of: dict[str, Household]  # by personal ID

    @property
    def citizens(self) -> list[Citizen]:
        return [m.citizen for m in self.members]

    @property
    def users(self) -> list[User]:
        return [m.user for m in self.members]

    def with_role(self, role: str) -> list[StaffMember]:
        return [m for m in self.members if role in m.roles]


STATION_POSITIONS = ("Bác sĩ", "Y sĩ", "Y sĩ", "Điều dưỡng", "Hộ sinh", "Dược sĩ", "Y sĩ", "Điều dưỡng")
PRESCRIBERS = frozenset({"Bác sĩ", "Y sĩ"})


def _department_positions(short: str, count: int) -> list[str]:
    """Positions in a department, the head first and the head nurse (or deputy) second."""
    if short == "KHNV":
        fixed = ["Bác sĩ", "Chuyên viên", "Nhân viên công nghệ thông tin", "Kế toán", "Kế toán"]
        return fixed + ["Chuyên viên"] * (count - len(fixed))
    if short == "XNCDHA":
        return ["Bác sĩ", "Kỹ thuật viên", "Bác sĩ", "Bác sĩ", "Bác sĩ"] + ["Kỹ thuật viên"] * (count - 5)
    carer = "Hộ sinh" if short == "SAN" else "Điều dưỡng"
    doctors = max(3, round(count * 0.28))
    extras = ["Nhân viên thống kê", "Y sĩ", "Y sĩ", "Dược sĩ"] if short == "KKB" else ["Hộ lý"]
    positions = ["Bác sĩ", carer] + ["Bác sĩ"] * (doctors - 1) + extras
    while len(positions) < count:
        positions.append("Điều dưỡng" if short == "SAN" and len(positions) % 4 == 0 else carer)
    return positions[:count]


def _staff_plan(
    org: OrgTree, facilities: Mapping[str, Facility]
) -> list[tuple[OrgUnit, str, tuple[str, ...], Facility | None]]:
    """Who works where: (unit, position, roles, facility the roles act for)."""
    hospital, polyclinic, station = (
        facilities[c] for c in (HOSPITAL_CODE, POLYCLINIC_CODE, STATION_FACILITY_CODE)
    )
    plan: list[tuple[OrgUnit, str, tuple[str, ...], Facility | None]] = [
        (org.centre, "Giám đốc", (), None),
        (org.centre, "Phó Giám đốc", (Role.CENTRE_ADMIN,), None),
    ]
    for short, _name, count in DEPARTMENTS:
        unit = org.departments[short]
        prescribers = 0
        for index, position in enumerate(_department_positions(short, count)):
            roles: list[str] = [Role.UNIT_REPORTER] if index == 1 else []
            if short == "KKB" and index == count - 1:
                # A nurse at the examination department's reception desk helps patients with VNeID, the
                # card and the book (letter 310, point 3) and records each one in the quick form.
                roles.append(Role.RECEPTION)
            facility: Facility | None = None
            if short in CLINICAL_DEPARTMENTS and position in PRESCRIBERS:
                roles.append(Role.CLINICIAN)
                # A third of the examination department works at the Long Bình polyclinic.
                facility = polyclinic if short == "KKB" and prescribers % 3 == 2 else hospital
                prescribers += 1
            elif position == "Nhân viên công nghệ thông tin":
                roles.append(Role.SUBMITTER)
                facility = hospital
            elif position == "Nhân viên thống kê":
                roles.append(Role.SUBMITTER)
                facility = polyclinic
            plan.append((unit, position, tuple(roles), facility))
    for commune, count in zip(names.COMMUNES, STATION_STAFF, strict=True):
        unit = org.stations[commune.name]
        for index, position in enumerate(STATION_POSITIONS[:count]):
            roles = []
            facility = None
            if commune.facility_code == STATION_FACILITY_CODE:
                # The Vĩnh Hậu station is a facility of its own: its head both treats and reports.
                if index == 0:
                    roles.append(Role.UNIT_REPORTER)
                if position in PRESCRIBERS:
                    roles.append(Role.CLINICIAN)
                    facility = station
                elif position == "Dược sĩ":
                    roles.append(Role.SUBMITTER)
                    facility = station
            elif index == 1:
                roles.append(Role.UNIT_REPORTER)
            plan.append((unit, position, tuple(roles), facility))
    plan += [
        (org.province, "Chuyên viên", (Role.PROVINCE_ADMIN,), None),
        (org.province, "Thanh tra viên", (Role.AUDITOR,), None),
    ]
    return plan


def staff_username(full_name: str, taken: set[str]) -> str:
    """Given name then initials, as work e-mail addresses are made: "Nguyễn Văn An" -> "annv"."""
    parts = ascii_fold(full_name).lower().split()
    base = parts[-1] + "".join(p[0] for p in parts[:-1])
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}{n}", n + 1
    taken.add(candidate)
    return candidate


def build_staff(
    *,
    rng: random.Random,
    numbers: Numbers,
    today: dt.date,
    org: OrgTree,
    facilities: Mapping[str, Facility],
    password_hash: str,
) -> Staff:
    """Create ~200 staff: each a person of the register and a staff account with its roles."""
    taken = set(User.objects.values_list("username", flat=True))
    members: list[StaffMember] = []
    household_of: dict[str, Household] = {}
    for number, (unit, position, roles, facility) in enumerate(_staff_plan(org, facilities), start=1):
        leader = position in ("Giám đốc", "Phó Giám đốc")
        age = rng.randint(45, 57) if leader else rng.randint(23, 58)
        female_share = 1.0 if position == "Hộ sinh" else 0.8 if position in ("Điều dưỡng", "Hộ lý") else 0.5
        sex = Sex.FEMALE if rng.random() < female_share else Sex.MALE
        household = new_household(rng, 100_000 + number)
        household.poverty = ""
        citizen = new_person(
            rng,
            numbers,
            today,
            household,
            age=age,
            sex=sex,
            occupation=names.STAFF_OCCUPATION,
            birth_province=weighted(rng, names.BIRTH_PROVINCES),
        )
        if not citizen.phone:
            citizen.phone = numbers.phone(rng)
        household_of[citizen.personal_id] = household
        username = staff_username(citizen.full_name, taken)
        domain = "syt-angiang" if unit.kind == OrgUnitKind.PROVINCE_DEPARTMENT else "ttyt-anphu"
        joined = local_time(
            today - dt.timedelta(days=rng.randint(60, 900)), rng.randint(7, 16), rng.randrange(60)
        )
        user = User(
            username=username,
            kind=AccountKind.STAFF,
            full_name=citizen.full_name,
            email=f"{username}@{domain}.soskdt.local",
            phone=citizen.phone,
            org_unit=unit,
            facility=facility,
            password=password_hash,
            date_joined=joined,
        )
        members.append(StaffMember(user, citizen, position, roles))
    Citizen.objects.bulk_create([m.citizen for m in members], batch_size=BATCH_SIZE)
    User.objects.bulk_create([m.user for m in members], batch_size=BATCH_SIZE)
    RoleAssignment.objects.bulk_create(
        [
            RoleAssignment(user=m.user, role=role, granted_at=m.user.date_joined)
            for m in members
            for role in m.roles
        ]
    )
    DemoStaffLink.objects.bulk_create(
        [DemoStaffLink(user=m.user, citizen=m.citizen, position=m.position) for m in members],
        batch_size=BATCH_SIZE,
    )
    return Staff(members, household_of)
