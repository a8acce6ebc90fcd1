"""Field formats: what is accepted, what is refused, and the typed values the loader gets."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from soskdt.core.dates import PartialDate
from soskdt.ingestion.records import ParsedVisit
from soskdt.ingestion.tests.test_validation_error_codes import check, visit_tables
from soskdt.ingestion.validation import (
    is_personal_id_number,
    parse_birth,
    parse_date,
    parse_number,
    parse_time,
    validate_visit,
)


def test_typed_values_keep_codes_as_strings_and_convert_numbers_and_times() -> None:
    tables = visit_tables("inpatient")
    checked = check(tables)
    assert checked.is_valid
    x1 = checked.values["XML1"][0]
    assert x1["MA_LOAI_KCB"] == "03"
    assert x1["MA_QUOCTICH"] == "000" and x1["MA_NGHE_NGHIEP"] == "00000"
    assert isinstance(x1["NGAY_VAO"], dt.datetime) and x1["NGAY_VAO"].tzinfo is None
    assert isinstance(x1["GT_THE_DEN"], list) and isinstance(x1["GT_THE_DEN"][0], dt.date)
    assert isinstance(x1["MA_THE_BHYT"], list) and len(x1["MA_THE_BHYT"][0]) == 15
    assert x1["CAN_NANG"] == Decimal(tables["XML1"][0]["CAN_NANG"])
    assert isinstance(x1["T_TONGCHI_BV"], (int, Decimal))
    assert x1["SO_NGAY_DTRI"] == int(tables["XML1"][0]["SO_NGAY_DTRI"])
    assert x1["KET_QUA_DTRI"] in ("1", "2") and x1["GIOI_TINH"] in ("1", "2")
    assert isinstance(x1["MA_BENH_KT"], list)
    drug = checked.values["XML2"][0]
    assert drug["MA_NHOM"] == "4" and isinstance(drug["SO_LUONG"], int)
    assert isinstance(checked.values["XML7"][0]["NGAY_CT"], dt.date)
    assert len(checked.values["XML3"]) == len(tables["XML3"])
    assert checked.value("XML1", "MA_LK") == tables["XML1"][0]["MA_LK"]
    assert checked.value("XML9", "MA_LK") is None


def test_invalid_values_are_left_out_of_the_typed_values() -> None:
    tables = visit_tables("exam")
    tables["XML1"][0]["NGAY_TTOAN"] = "2025"
    checked = check(tables)
    assert "NGAY_TTOAN" not in checked.values["XML1"][0]
    assert checked.parsed.tables["XML1"][0]["NGAY_TTOAN"] == "2025"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("198503150730", dt.datetime(1985, 3, 15, 7, 30)),
        ("198503000000", PartialDate(1985, 3)),
        ("198500000000", PartialDate(1985)),
        ("19850315", dt.datetime(1985, 3, 15)),
        ("198500150000", None),
        ("198502300000", None),
        ("198503152460", None),
        ("1985031507", None),
        ("abcd03150730", None),
    ],
)
def test_birth_date_may_have_unknown_day_and_month(raw: str, expected: object) -> None:
    assert parse_birth(raw) == expected


def test_partial_birth_date_is_accepted_in_a_visit() -> None:
    tables = visit_tables("exam")
    tables["XML1"][0]["NGAY_SINH"] = tables["XML1"][0]["NGAY_SINH"][:4] + "00000000"
    checked = check(tables)
    assert checked.is_valid and not checked.warnings
    assert isinstance(checked.value("XML1", "NGAY_SINH"), PartialDate)


@pytest.mark.parametrize(
    ("raw", "ok"),
    [
        ("202503150000", True),
        ("202502281259", True),
        ("202402291200", True),
        ("202302291200", False),
        ("202503152400", False),
        ("202503151260", False),
        ("20250315", False),
        ("2025031512000", False),
        ("１２３４５６７８９０１２", False),
    ],
)
def test_times_are_twelve_digits_of_a_real_moment(raw: str, ok: bool) -> None:
    assert (parse_time(raw) is not None) is ok


@pytest.mark.parametrize(
    ("raw", "ok"),
    [
        ("20250315", True),
        ("20240229", True),
        ("20230229", False),
        ("20251301", False),
        ("2025031", False),
        ("00000000", False),
    ],
)
def test_dates_are_eight_digits_of_a_real_day(raw: str, ok: bool) -> None:
    assert (parse_date(raw) is not None) is ok


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0", 0),
        ("007", 7),
        ("12.50", Decimal("12.50")),
        ("1500000", 1500000),
        ("1,500", None),
        ("1.500,00", None),
        ("-5", None),
        (".5", None),
        ("5.", None),
        ("1e3", None),
        ("٣", None),
        (" 5", None),
    ],
)
def test_numbers_use_a_decimal_point_and_no_separators(raw: str, expected: object) -> None:
    assert parse_number(raw) == expected


@pytest.mark.parametrize(
    ("raw", "ok"),
    [
        ("079085001234", True),
        ("025123456", True),
        ("B1234567", True),
        ("C7654321", True),
        ("0790851234", False),
        ("b1234567", False),
        ("AB123456", False),
        ("07908500123A", False),
        ("0790850012345", False),
    ],
)
def test_personal_id_number_shapes_follow_the_portal_rule(raw: str, ok: bool) -> None:
    assert is_personal_id_number(raw) is ok


def test_passport_number_is_accepted_without_consistency_warnings() -> None:
    tables = visit_tables("exam")
    tables["XML1"][0]["SO_CCCD"] = "B1234567"
    assert not check(tables).problems


def test_several_cards_during_one_stay_are_accepted() -> None:
    tables = visit_tables("exam")
    x1 = tables["XML1"][0]
    x1["MA_THE_BHYT"] = f"{x1['MA_THE_BHYT']};HT3791234567890"
    x1["MA_DKBD"] = f"{x1['MA_DKBD']};79001"
    x1["GT_THE_TU"] = f"{x1['GT_THE_TU']};20250601"
    x1["GT_THE_DEN"] = f"{x1['GT_THE_DEN']};20261231"
    checked = check(tables)
    assert not checked.problems
    assert len(checked.value("XML1", "MA_THE_BHYT")) == 2  # type: ignore[arg-type]


def test_code_lists_keep_leading_zeros_and_refuse_near_misses() -> None:
    tables = visit_tables("exam")
    tables["XML1"][0]["MA_LOAI_KCB"] = "1"
    assert [p.code for p in check(tables).problems] == ["FIELD_CODE_NOT_IN_LIST"]


def test_numeric_codes_compare_as_numbers() -> None:
    tables = visit_tables("exam")
    tables["XML2"][0]["MA_NHOM"] = "04"
    checked = check(tables)
    assert checked.is_valid and checked.values["XML2"][0]["MA_NHOM"] == "4"


def test_secondary_diagnoses_tolerate_spaces_and_a_trailing_separator() -> None:
    tables = visit_tables("exam")
    tables["XML1"][0]["MA_BENH_KT"] = " I10 ; E11.9;"
    checked = check(tables)
    assert checked.is_valid and checked.value("XML1", "MA_BENH_KT") == ["I10", "E11.9"]


def test_unknown_fields_are_reported_once_per_table() -> None:
    tables = visit_tables("inpatient")
    for row in tables["XML2"]:
        row["MA_CU"] = "x"
    warnings = check(tables).warnings
    assert [(w.code, w.table, w.field) for w in warnings] == [("FIELD_UNKNOWN", "XML2", "MA_CU")]


def test_raw_tables_are_checked_against_the_catalogue_too() -> None:
    tables = visit_tables("exam")
    key = tables["XML1"][0]["MA_LK"]
    tables["XML15"] = (
        "<CHI_TIEU_DIEUTRI_BENHLAO><DSACH_CHITIET_DIEUTRI_BENHLAO><CHITIET_DIEUTRI_BENHLAO>"
        f"<MA_LK>{key}-X</MA_LK><MA_BN>BN1</MA_BN><NGAYBD_DTRI_LAO>20251340</NGAYBD_DTRI_LAO>"
        "</CHITIET_DIEUTRI_BENHLAO></DSACH_CHITIET_DIEUTRI_BENHLAO></CHI_TIEU_DIEUTRI_BENHLAO>"
    )
    codes = {p.code for p in check(tables).errors}
    assert {"RECORD_KEY_MISMATCH", "FIELD_DATE_INVALID", "FIELD_REQUIRED"} <= codes


def test_validation_of_an_empty_parsed_visit_reports_missing_xml1() -> None:
    checked = validate_visit(ParsedVisit(file="f", index=1, facility_code="79048", ma_lk=None))
    assert [p.code for p in checked.errors] == ["XML1_MISSING"]
