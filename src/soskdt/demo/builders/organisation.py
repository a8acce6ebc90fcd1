"""The organisation tree (province department, regional centre, departments, stations) and facilities."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from soskdt.demo import names
from soskdt.demo.builders.common import REFORM_DAY
from soskdt.registry.models import Facility, FacilityLevel, OrgUnit, OrgUnitKind

# (short code, name, staff count). With the two leaders at centre level and the stations, ~200 staff.
DEPARTMENTS: tuple[tuple[str, str, int], ...] = (
    ("KKB", "Khoa Khám bệnh", 26),
    ("HSCC", "Khoa Hồi sức cấp cứu", 20),
    ("NOI", "Khoa Nội tổng hợp", 28),
    ("NGOAI", "Khoa Ngoại tổng hợp", 22),
    ("SAN", "Khoa Sản", 20),
    ("NHI", "Khoa Nhi", 18),
    ("XNCDHA", "Khoa Xét nghiệm - Chẩn đoán hình ảnh", 16),
    ("KHNV", "Phòng Kế hoạch - Nghiệp vụ", 12),
)
CLINICAL_DEPARTMENTS = frozenset({"KKB", "HSCC", "NOI", "NGOAI", "SAN", "NHI", "XNCDHA"})
STATION_STAFF = (8, 7, 7, 7, 7)
LEADERS = 2

HOSPITAL_CODE = "89010"
POLYCLINIC_CODE = "89011"
STATION_FACILITY_CODE = "89012"


@dataclass
class OrgTree:
    province: OrgUnit
    centre: OrgUnit
    former_centre: OrgUnit
    departments: dict[str, OrgUnit]  # by short code (see DEPARTMENTS)
    stations: dict[str, OrgUnit]  # by commune name

    @property
    def units(self) -> list[OrgUnit]:
        return [
            self.province,
            self.former_centre,
            self.centre,
            *self.departments.values(),
            *self.stations.values(),
        ]


def build_org_units() -> OrgTree:
    """Create An Giang's health department, the An Phú regional centre with its departments and stations.

    The district centre that preceded it is kept, closed on 30 June 2025, so that reports for a period
    roll up over the units that existed then.
    """
    code = names.PROVINCE_CODE
    province = OrgUnit(
        code=f"SYT-{code}",
        name=f"Sở Y tế tỉnh {names.PROVINCE_NAME}",
        kind=OrgUnitKind.PROVINCE_DEPARTMENT,
        province_code=code,
        valid_from=dt.date(1976, 1, 1),
    )
    OrgUnit.objects.bulk_create([province])
    former = OrgUnit(
        code="TTYTH-ANPHU",
        name="Trung tâm Y tế huyện An Phú",
        kind=OrgUnitKind.HEALTH_CENTRE,
        parent=province,
        province_code=code,
        valid_from=dt.date(2006, 1, 1),
        valid_to=REFORM_DAY - dt.timedelta(days=1),
    )
    centre = OrgUnit(
        code="TTYTKV-ANPHU",
        name="Trung tâm Y tế khu vực An Phú",
        kind=OrgUnitKind.HEALTH_CENTRE,
        parent=province,
        province_code=code,
        valid_from=REFORM_DAY,
    )
    OrgUnit.objects.bulk_create([former, centre])
    departments = {
        short: OrgUnit(
            code=f"ANPHU-{short}",
            name=name,
            kind=OrgUnitKind.DEPARTMENT,
            parent=centre,
            province_code=code,
            valid_from=REFORM_DAY,
        )
        for short, name, _count in DEPARTMENTS
    }
    stations = {
        commune.name: OrgUnit(
            code=commune.station_code,
            name=f"Trạm Y tế xã {commune.name}",
            kind=OrgUnitKind.COMMUNE_STATION,
            parent=centre,
            province_code=code,
            commune_code=commune.code,  # the centre's territory, for the coverage indicator
            valid_from=REFORM_DAY,
        )
        for commune in names.COMMUNES
    }
    OrgUnit.objects.bulk_create([*departments.values(), *stations.values()])
    return OrgTree(province, centre, former, departments, stations)


def build_facilities(org: OrgTree) -> dict[str, Facility]:
    """Create the three facilities (5-digit codes with An Giang's prefix), keyed by code."""
    facilities = [
        Facility(
            code=HOSPITAL_CODE,
            name="Trung tâm Y tế khu vực An Phú",
            level=FacilityLevel.BASIC,
            province_code=names.PROVINCE_CODE,
            org_unit=org.centre,
            active_from=dt.date(2006, 1, 1),
        ),
        Facility(
            code=POLYCLINIC_CODE,
            name="Phòng khám đa khoa khu vực Long Bình",
            level=FacilityLevel.INITIAL,
            province_code=names.PROVINCE_CODE,
            org_unit=org.centre,
            active_from=dt.date(2010, 1, 1),
        ),
        Facility(
            code=STATION_FACILITY_CODE,
            name="Trạm Y tế xã Vĩnh Hậu",
            level=FacilityLevel.INITIAL,
            province_code=names.PROVINCE_CODE,
            org_unit=org.stations["Vĩnh Hậu"],
            active_from=dt.date(2010, 1, 1),
        ),
    ]
    Facility.objects.bulk_create(facilities)
    return {facility.code: facility for facility in facilities}
