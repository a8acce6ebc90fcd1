"""Factories for tests: keyword-only functions with sensible defaults and unique identifiers.

Every factory saves what it makes and returns it. Identifiers come from one counter per process, so two
calls never collide within a test; pass your own value when a test needs a particular one.
Accounts are made through identity.services, so they obey the same rules as real ones.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from soskdt.identity import services
from soskdt.identity.models import Role, User
from soskdt.registry.models import (
    CardIssuer,
    Citizen,
    Facility,
    FacilityLevel,
    InsuranceCard,
    OrgUnit,
    OrgUnitKind,
    Sex,
)

DEFAULT_PASSWORD = "SoSKDT@2025"  # noqa: S105 - test-only; meets the VNeID rules: 8–20 chars, upper, lower, digit, special

_counter = itertools.count(1)

_FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ"]
_GIVEN_MALE = ["Văn An", "Minh Khoa", "Quốc Bảo", "Đức Thắng", "Hữu Phước", "Thanh Tùng"]
_GIVEN_FEMALE = ["Thị Bình", "Thị Lan", "Ngọc Ánh", "Thu Hương", "Mỹ Duyên", "Kim Ngân"]


def _next() -> int:
    return next(_counter)


def make_orgunit(
    *,
    code: str | None = None,
    name: str | None = None,
    kind: str = OrgUnitKind.HEALTH_CENTRE,
    parent: OrgUnit | None = None,
    province_code: str = "79",
    valid_from: dt.date = dt.date(2000, 1, 1),
    valid_to: dt.date | None = None,
    **extra: Any,
) -> OrgUnit:
    n = _next()
    return OrgUnit.objects.create(
        code=code or f"T{n:05d}",
        name=name or f"{OrgUnitKind(kind).label} {n}",
        kind=kind,
        parent=parent,
        province_code=province_code,
        valid_from=valid_from,
        valid_to=valid_to,
        **extra,
    )


def make_facility(
    *,
    code: str | None = None,
    name: str | None = None,
    level: str = FacilityLevel.BASIC,
    province_code: str = "79",
    org_unit: OrgUnit | None = None,
    **extra: Any,
) -> Facility:
    n = _next()
    return Facility.objects.create(
        code=code or f"{province_code}{n % 1000:03d}",
        name=name or f"Cơ sở khám chữa bệnh {n}",
        level=level,
        province_code=province_code,
        org_unit=org_unit,
        **extra,
    )


def personal_id_for(*, birth_year: int, sex: str, province: str = "079", serial: int | None = None) -> str:
    """Build a well-formed 12-digit personal ID ``PPP G YY RRRRRR`` for that birth year and sex."""
    century_digit = (birth_year // 100 - 19) * 2 + (1 if sex == Sex.FEMALE else 0)
    serial = _next() if serial is None else serial
    return f"{province}{century_digit}{birth_year % 100:02d}{serial % 1_000_000:06d}"


def make_citizen(
    *,
    personal_id: str | None = None,
    full_name: str | None = None,
    birth_year: int = 1985,
    birth_month: int | None = 6,
    birth_day: int | None = 15,
    sex: str = Sex.MALE,
    phone: str | None = None,
    province_code: str = "79",
    **extra: Any,
) -> Citizen:
    n = _next()
    if full_name is None:
        given = _GIVEN_FEMALE if sex == Sex.FEMALE else _GIVEN_MALE
        full_name = f"{_FAMILY[n % len(_FAMILY)]} {given[n % len(given)]}"
    return Citizen.objects.create(
        personal_id=personal_id or personal_id_for(birth_year=birth_year, sex=sex, serial=n),
        full_name=full_name,
        birth_year=birth_year,
        birth_month=birth_month,
        birth_day=birth_day,
        sex=sex,
        phone=f"09{n % 100_000_000:08d}" if phone is None else phone,
        province_code=province_code,
        **extra,
    )


def make_card(
    *,
    citizen: Citizen | None = None,
    code: str | None = None,
    group: str = "DN",
    benefit_level: int = 4,
    province: str = "79",
    social_insurance_number: str | None = None,
    valid_from: dt.date | None = None,
    valid_to: dt.date | None = None,
    primary_care_facility_code: str = "79001",
    issuer: str = CardIssuer.VSS,
    **extra: Any,
) -> InsuranceCard:
    """Make a BHYT card of the insurance register for ``citizen`` (same name, birth date, sex), valid today."""
    citizen = citizen or make_citizen()
    today = timezone.localdate()
    number = social_insurance_number or f"{province}{_next() % 100_000_000:08d}"
    defaults: dict[str, Any] = {
        "full_name": citizen.full_name,
        "birth_year": citizen.birth_year,
        "birth_month": citizen.birth_month,
        "birth_day": citizen.birth_day,
        "sex": citizen.sex,
    }
    defaults.update(extra)
    return InsuranceCard.objects.create(
        code=code or f"{group}{benefit_level}{province}{number}",
        social_insurance_number=number,
        holder_personal_id=citizen.personal_id,
        valid_from=valid_from or dt.date(today.year, 1, 1),
        valid_to=valid_to or dt.date(today.year, 12, 31),
        primary_care_facility_code=primary_care_facility_code,
        issuer=issuer,
        **defaults,
    )


def make_citizen_account(
    *,
    citizen: Citizen | None = None,
    password: str = DEFAULT_PASSWORD,
    phone: str = "",
    assurance_level: int = 2,
    granted_on: dt.date | None = None,
    **citizen_fields: Any,
) -> User:
    """Make a citizen account (level 2 unless told); extra keywords go to ``make_citizen``."""
    citizen = citizen or make_citizen(**citizen_fields)
    return services.create_citizen_account(
        citizen=citizen,
        password=password,
        phone=phone,
        assurance_level=assurance_level,
        granted_on=granted_on or dt.date(2024, 3, 1),
    )


def make_staff(
    *,
    username: str | None = None,
    full_name: str | None = None,
    password: str = DEFAULT_PASSWORD,
    org_unit: OrgUnit | None = None,
    facility: Facility | None = None,
    roles: Iterable[str] = (),
    is_staff: bool = False,
    is_superuser: bool = False,
) -> User:
    """Make a staff account; a clinician or submitter without a facility gets one in its unit."""
    roles = list(roles)
    org_unit = org_unit or make_orgunit()
    if facility is None and services.FACILITY_ROLES.intersection(roles):
        facility = make_facility(org_unit=org_unit)
    n = _next()
    user = services.create_staff_account(
        username=username or f"canbo{n}",
        full_name=full_name or f"{_FAMILY[n % len(_FAMILY)]} {_GIVEN_FEMALE[n % len(_GIVEN_FEMALE)]}",
        password=password,
        org_unit=org_unit,
        facility=facility,
        roles=roles,
    )
    if is_staff or is_superuser:
        user.is_staff, user.is_superuser = True, is_superuser
        user.save(update_fields=["is_staff", "is_superuser"])
    return user


@dataclass(frozen=True, slots=True)
class OrgTree:
    """A province health department, one health centre under it, two departments and a commune station."""

    province: OrgUnit
    centre: OrgUnit
    departments: tuple[OrgUnit, OrgUnit]
    station: OrgUnit
    centre_facility: Facility


def make_org_tree(*, province_code: str = "79") -> OrgTree:
    province = make_orgunit(name="Sở Y tế", kind=OrgUnitKind.PROVINCE_DEPARTMENT, province_code=province_code)
    centre = make_orgunit(
        name="Trung tâm Y tế khu vực",
        kind=OrgUnitKind.HEALTH_CENTRE,
        parent=province,
        province_code=province_code,
    )
    exam = make_orgunit(
        name="Khoa Khám bệnh", kind=OrgUnitKind.DEPARTMENT, parent=centre, province_code=province_code
    )
    planning = make_orgunit(
        name="Phòng Kế hoạch - Nghiệp vụ",
        kind=OrgUnitKind.DEPARTMENT,
        parent=centre,
        province_code=province_code,
    )
    station = make_orgunit(
        name="Trạm Y tế xã", kind=OrgUnitKind.COMMUNE_STATION, parent=centre, province_code=province_code
    )
    facility = make_facility(name="Trung tâm Y tế khu vực", org_unit=centre, province_code=province_code)
    return OrgTree(province, centre, (exam, planning), station, facility)


__all__ = [
    "DEFAULT_PASSWORD",
    "OrgTree",
    "Role",
    "make_card",
    "make_citizen",
    "make_citizen_account",
    "make_facility",
    "make_org_tree",
    "make_orgunit",
    "make_staff",
    "personal_id_for",
]
