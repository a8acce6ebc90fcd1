from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from soskdt.registry.models import Facility, OrgUnit
from soskdt.registry.tests.helpers import codes, run_import

pytestmark = pytest.mark.django_db

UNIT_HEADER = ["code", "name", "kind", "parent_code", "province_code", "valid_from", "valid_to"]
TREE = [
    ["SYT-79", "Sở Y tế TP. Hồ Chí Minh", "province_department", "", "79", "", ""],
    ["TTYT-Q3", "Trung tâm Y tế khu vực Quận 3", "Trung tâm Y tế", "SYT-79", "79", "01/07/2025", ""],
    ["TTYT-Q3-KHNV", "Khoa/Phòng Kế hoạch nghiệp vụ", "Khoa/Phòng", "TTYT-Q3", "79", "01/07/2025", ""],
    ["TYT-VTS", "Trạm Y tế phường Võ Thị Sáu", "commune_station", "TTYT-Q3", "79", "01/07/2025", ""],
]
FACILITY_HEADER = ["code", "name", "level", "province_code", "org_unit_code", "active_from", "active_to"]


@pytest.mark.parametrize("batch_size", [1, 2, 100])
def test_a_tree_file_loads_with_every_parent_linked_whatever_the_batch_size(write_csv, batch_size):
    result = run_import("orgunits", write_csv(UNIT_HEADER, TREE), batch_size=batch_size)

    assert (result.created, result.rejected, result.exit_status) == (4, 0, 0)
    parents = dict(OrgUnit.objects.values_list("code", "parent__code"))
    assert parents == {"SYT-79": None, "TTYT-Q3": "SYT-79", "TTYT-Q3-KHNV": "TTYT-Q3", "TYT-VTS": "TTYT-Q3"}
    centre = OrgUnit.objects.get(code="TTYT-Q3")
    assert (centre.kind, centre.valid_from, centre.valid_to) == ("health_centre", dt.date(2025, 7, 1), None)
    assert OrgUnit.objects.get(code="SYT-79").valid_from == dt.date(2000, 1, 1)


def test_importing_the_same_tree_twice_changes_nothing(write_csv):
    path = write_csv(UNIT_HEADER, TREE)
    run_import("orgunits", path)
    before = list(OrgUnit.objects.order_by("pk").values())

    again = run_import("orgunits", path)

    assert (again.created, again.updated, again.unchanged) == (0, 0, 4)
    assert list(OrgUnit.objects.order_by("pk").values()) == before


def test_moving_a_unit_to_another_parent_is_an_update(write_csv):
    run_import("orgunits", write_csv(UNIT_HEADER, TREE))
    moved = ["TYT-VTS", "Trạm Y tế phường Võ Thị Sáu", "commune_station", "SYT-79", "79", "01/07/2025", ""]

    result = run_import("orgunits", write_csv(UNIT_HEADER, [moved]))

    assert result.updated == 1
    assert OrgUnit.objects.get(code="TYT-VTS").parent.code == "SYT-79"


def test_a_station_gets_the_commune_it_serves_and_a_bad_code_is_rejected(write_csv):
    run_import("orgunits", write_csv(UNIT_HEADER, TREE))
    header = ["code", "name", "kind", "parent_code", "commune_code"]
    rows = [
        ["TYT-VTS", "Trạm Y tế phường Võ Thị Sáu", "commune_station", "TTYT-Q3", "26734"],
        ["TYT-XH", "Trạm Y tế phường Xuân Hòa", "commune_station", "TTYT-Q3", "2673A"],
    ]

    result = run_import("orgunits", write_csv(header, rows))

    assert (result.updated, result.rejected) == (1, 1)
    assert codes(result) == ["COMMUNE_CODE_INVALID"]
    station = OrgUnit.objects.get(code="TYT-VTS")
    assert (station.commune_code, station.province_code) == ("26734", "79")  # a column left out stays
    assert OrgUnit.objects.get(code="TTYT-Q3").commune_code == ""


def test_a_parent_that_appears_only_later_in_the_file_is_not_found(write_csv):
    result = run_import("orgunits", write_csv(UNIT_HEADER, [TREE[1], TREE[0]]))

    assert (result.created, result.rejected) == (1, 1)
    [error] = list(result.errors)
    assert (error.code, error.row, error.column, error.value) == (
        "PARENT_NOT_FOUND",
        2,
        "parent_code",
        "SYT-79",
    )


def test_a_child_of_a_rejected_unit_is_rejected_too(write_csv):
    rows = [TREE[0], [*TREE[1][:2], "not a kind", *TREE[1][3:]], TREE[2]]

    result = run_import("orgunits", write_csv(UNIT_HEADER, rows))

    assert codes(result) == ["ORG_UNIT_KIND_INVALID", "PARENT_NOT_FOUND"]


def test_a_parent_below_the_unit_itself_is_a_cycle(write_csv):
    run_import("orgunits", write_csv(UNIT_HEADER, TREE))
    looping = ["SYT-79", "Sở Y tế TP. Hồ Chí Minh", "province_department", "TTYT-Q3-KHNV", "79", "", ""]
    own_parent = ["TYT-VTS", "Trạm Y tế phường Võ Thị Sáu", "commune_station", "TYT-VTS", "79", "", ""]

    result = run_import("orgunits", write_csv(UNIT_HEADER, [looping, own_parent]))

    assert [(p.code, p.row) for p in result.errors] == [("ORG_UNIT_CYCLE", 2), ("ORG_UNIT_CYCLE", 3)]
    assert OrgUnit.objects.get(code="SYT-79").parent is None


@pytest.mark.parametrize(
    ("column", "value", "code"),
    [
        ("code", "TTYT Q3", "ORG_UNIT_CODE_INVALID"),
        ("code", "X" * 21, "ORG_UNIT_CODE_INVALID"),
        ("name", "", "VALUE_REQUIRED"),
        ("kind", "", "VALUE_REQUIRED"),
        ("kind", "phòng khám", "ORG_UNIT_KIND_INVALID"),
        ("parent_code", "SYT 79", "ORG_UNIT_CODE_INVALID"),
        ("province_code", "7", "PROVINCE_CODE_INVALID"),
        ("valid_from", "01.07.2025", "DATE_INVALID"),
        ("valid_to", "30/06/2025", "PERIOD_INVALID"),
    ],
)
def test_each_bad_unit_value_rejects_the_row_with_its_code(write_csv, column, value, code):
    row = list(TREE[1])
    row[UNIT_HEADER.index(column)] = value

    result = run_import("orgunits", write_csv(UNIT_HEADER, [TREE[0], row]))

    assert (result.created, result.rejected) == (1, 1)
    assert [(p.code, p.row, p.column) for p in result.errors] == [(code, 3, column)]


def test_the_admin_form_refuses_a_parent_below_the_unit(write_csv):
    run_import("orgunits", write_csv(UNIT_HEADER, TREE))
    top = OrgUnit.objects.get(code="SYT-79")
    top.parent = OrgUnit.objects.get(code="TTYT-Q3-KHNV")

    with pytest.raises(ValidationError) as raised:
        top.full_clean()

    assert "parent" in raised.value.message_dict


@pytest.fixture
def centre(write_csv) -> OrgUnit:
    run_import("orgunits", write_csv(UNIT_HEADER, TREE))
    return OrgUnit.objects.get(code="TTYT-Q3")


def test_a_good_facility_file_loads_with_its_org_unit_and_defaults(write_csv, centre):
    rows = [
        ["79048", "Trung tâm Y tế khu vực Quận 3", "cơ bản", "", "TTYT-Q3", "01/07/2025", ""],
        ["79001", "Bệnh viện Chợ Rẫy", "specialised", "79", "", "", ""],
    ]

    result = run_import("facilities", write_csv(FACILITY_HEADER, rows))

    assert (result.created, result.rejected, result.exit_status) == (2, 0, 0)
    facility = Facility.objects.get(code="79048")
    assert (facility.level, facility.province_code, facility.org_unit) == ("basic", "79", centre)
    hospital = Facility.objects.get(code="79001")
    assert (hospital.level, hospital.org_unit, hospital.active_from) == (
        "specialised",
        None,
        dt.date(2000, 1, 1),
    )


def test_importing_the_same_facilities_twice_changes_nothing(write_csv, centre):
    path = write_csv(
        FACILITY_HEADER,
        [["79048", "Trung tâm Y tế khu vực Quận 3", "basic", "79", "TTYT-Q3", "01/07/2025", ""]],
    )
    run_import("facilities", path)

    again = run_import("facilities", path)

    assert (again.created, again.updated, again.unchanged) == (0, 0, 1)


def test_a_facility_whose_org_unit_is_not_in_the_register_is_rejected(write_csv, centre):
    result = run_import(
        "facilities", write_csv(FACILITY_HEADER, [["79048", "TTYT", "", "", "TTYT-Q1", "", ""]])
    )

    assert (result.created, result.rejected) == (0, 1)
    [error] = list(result.errors)
    assert (error.code, error.column, error.value) == ("ORG_UNIT_NOT_FOUND", "org_unit_code", "TTYT-Q1")


@pytest.mark.parametrize(
    ("column", "value", "code"),
    [
        ("code", "7904", "FACILITY_CODE_INVALID"),
        ("code", "7904A", "FACILITY_CODE_INVALID"),
        ("name", "", "VALUE_REQUIRED"),
        ("level", "tuyến huyện", "FACILITY_LEVEL_INVALID"),
        ("province_code", "Q3", "PROVINCE_CODE_INVALID"),
        ("org_unit_code", "TTYT/Q3", "ORG_UNIT_CODE_INVALID"),
        ("active_from", "hôm nay", "DATE_INVALID"),
        ("active_to", "01/01/1999", "PERIOD_INVALID"),
    ],
)
def test_each_bad_facility_value_rejects_the_row_with_its_code(write_csv, centre, column, value, code):
    row = ["79048", "Trung tâm Y tế khu vực Quận 3", "basic", "79", "TTYT-Q3", "", ""]
    row[FACILITY_HEADER.index(column)] = value

    result = run_import("facilities", write_csv(FACILITY_HEADER, [row]))

    assert [(p.code, p.row, p.column) for p in result.errors] == [(code, 2, column)]
    assert not Facility.objects.exists()
