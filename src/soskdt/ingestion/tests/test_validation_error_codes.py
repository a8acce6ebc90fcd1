"""One mutation of a valid visit per validation code, producing exactly that code (and nothing else)."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable

import pytest

from soskdt.ingestion import samples
from soskdt.ingestion.parser import iter_visits
from soskdt.ingestion.records import ParsedVisit, ValidatedVisit
from soskdt.ingestion.validation import validate_visit

FACILITY = "79048"
TODAY = dt.date(2026, 1, 15)
Tables = dict[str, object]


def visit_tables(kind: str = "exam", seed: int = 3, **changes: object) -> dict[str, list[dict[str, str]]]:
    spec = samples.random_visit(random.Random(seed), kind=kind)
    if spec.patient.card_code is None:
        spec.patient.card_code = "HC4790123456789"
    for name, value in changes.items():
        setattr(spec, name, value)
    return samples.visit_tables(spec, FACILITY)


def check(tables: Tables, *, facility: str = FACILITY, today: dt.date = TODAY) -> ValidatedVisit:
    (visit,) = list(iter_visits(samples.build_envelope(facility, [tables]), file_name="t.xml"))  # type: ignore[list-item]
    assert isinstance(visit, ParsedVisit), visit
    return validate_visit(visit, today=today)


def shift(value: str, **delta: float) -> str:
    moment = dt.datetime.strptime(value, "%Y%m%d%H%M") + dt.timedelta(**delta)
    return samples.qd130_time(moment)


def _lab_row(tables: dict[str, list[dict[str, str]]]) -> dict[str, str]:
    return next(r for r in tables["XML3"] if r["MA_NHOM"] == "1")


def _set(
    table: str, field: str, value: str, row: int = 0
) -> Callable[[dict[str, list[dict[str, str]]]], None]:
    def mutate(t: dict[str, list[dict[str, str]]]) -> None:
        t[table][row][field] = value

    return mutate


def _edit(
    fn: Callable[[dict[str, list[dict[str, str]]]], object],
) -> Callable[[dict[str, list[dict[str, str]]]], None]:
    def mutate(t: dict[str, list[dict[str, str]]]) -> None:
        fn(t)

    return mutate


def _xml1(field: str, fn: Callable[[str], str]) -> Callable[[dict[str, list[dict[str, str]]]], None]:
    def mutate(t: dict[str, list[dict[str, str]]]) -> None:
        t["XML1"][0][field] = fn(t["XML1"][0][field])

    return mutate


XML0 = "<CHI_TIEU_TRANG_THAI_KCB><DSACH_TRANG_THAI_KCB><TRANG_THAI_KCB><MA_LK>x</MA_LK></TRANG_THAI_KCB></DSACH_TRANG_THAI_KCB></CHI_TIEU_TRANG_THAI_KCB>"

# code -> (visit kind, spec changes, mutation of the tables, today)
CASES: dict[
    str, tuple[str, dict[str, object], Callable[[dict[str, list[dict[str, str]]]], None], dt.date]
] = {
    "XML1_MISSING": ("exam", {}, _edit(lambda t: t.pop("XML1")), TODAY),
    "TABLE_REPEATED": ("inpatient", {}, _edit(lambda t: t.__setitem__("XML7.2", t["XML7"])), TODAY),
    "TABLE_UNKNOWN": (
        "exam",
        {},
        _edit(lambda t: t.__setitem__("XML16", "<BANG_16><MA_LK>x</MA_LK></BANG_16>")),
        TODAY,
    ),
    "TABLE_NOT_EXPECTED": ("exam", {}, _edit(lambda t: t.__setitem__("XML0", XML0)), TODAY),
    "FIELD_REQUIRED": ("exam", {}, _set("XML1", "HO_TEN", ""), TODAY),
    "FIELD_REQUIRED_IF": (
        "inpatient",
        {},
        _edit(lambda t: _lab_row(t).__setitem__("NGUOI_THUC_HIEN", "")),
        TODAY,
    ),
    "FIELD_TOO_LONG": ("exam", {}, _set("XML1", "HO_TEN", "Nguyễn " * 50), TODAY),
    "FIELD_UNKNOWN": ("exam", {}, _set("XML1", "MA_CU", "A01"), TODAY),
    "FIELD_NUMBER_INVALID": ("exam", {}, _set("XML2", "DON_GIA", "1,500.00"), TODAY),
    "FIELD_TIME_INVALID": ("exam", {}, _set("XML1", "NGAY_TTOAN", "202502301000"), TODAY),
    "FIELD_DATE_INVALID": ("exam", {}, _set("XML1", "GT_THE_DEN", "20251331"), TODAY),
    "FIELD_BIRTH_DATE_INVALID": ("exam", {}, _set("XML1", "NGAY_SINH", "198515320000"), TODAY),
    "FIELD_CODE_NOT_IN_LIST": ("exam", {}, _set("XML1", "KET_QUA_DTRI", "9"), TODAY),
    "FIELD_CODE_UNKNOWN": ("exam", {}, _set("XML1", "MA_KHUVUC", "K9"), TODAY),
    "VISIT_TYPE_NOT_IN_QD130": ("exam", {}, _set("XML1", "MA_LOAI_KCB", "14"), TODAY),
    "ICD10_INVALID": ("exam", {}, _set("XML1", "MA_BENH_CHINH", "i10"), TODAY),
    "ICD10_TOO_MANY_SECONDARY": (
        "exam",
        {},
        _set("XML1", "MA_BENH_KT", ";".join(f"I{n:02d}" for n in range(10, 23))),
        TODAY,
    ),
    "ID_NUMBER_INVALID": ("exam", {}, _set("XML1", "SO_CCCD", "0790851234"), TODAY),
    "CARD_CODE_INVALID": ("exam", {}, _set("XML1", "MA_THE_BHYT", "HC47912345"), TODAY),
    "CARD_GROUP_UNKNOWN": ("exam", {}, _set("XML1", "MA_THE_BHYT", "ZZ4790123456789"), TODAY),
    "CARD_LEVEL_INVALID": ("exam", {}, _set("XML1", "MA_THE_BHYT", "HC9790123456789"), TODAY),
    "FACILITY_CODE_INVALID": ("exam", {}, _set("XML1", "MA_NOI_DI", "BV01"), TODAY),
    "PERSONAL_ID_BIRTH_YEAR_MISMATCH": (
        "exam",
        {},
        _xml1("NGAY_SINH", lambda v: f"{int(v[:4]) + 1}{v[4:]}"),
        TODAY,
    ),
    "PERSONAL_ID_SEX_MISMATCH": ("exam", {}, _xml1("GIOI_TINH", lambda v: "2" if v == "1" else "1"), TODAY),
    "TIME_IN_FUTURE": ("exam", {}, _edit(lambda t: None), dt.date(2024, 12, 1)),
    "DISCHARGE_BEFORE_ADMISSION": ("exam", {}, _xml1("NGAY_RA", lambda v: shift(v, hours=-5)), TODAY),
    "INPATIENT_ADMISSION_BEFORE_ARRIVAL": (
        "inpatient",
        {},
        _edit(
            lambda t: t["XML1"][0].__setitem__(
                "NGAY_VAO_NOI_TRU", shift(t["XML1"][0]["NGAY_VAO"], minutes=-30)
            )
        ),
        TODAY,
    ),
    "ORDER_OUTSIDE_STAY": (
        "exam",
        {},
        _edit(lambda t: t["XML2"][0].__setitem__("NGAY_YL", shift(t["XML1"][0]["NGAY_VAO"], days=-1))),
        TODAY,
    ),
    "RESULT_OUTSIDE_STAY": (
        "inpatient",
        {},
        _edit(lambda t: t["XML4"][0].__setitem__("NGAY_KQ", shift(t["XML1"][0]["NGAY_RA"], days=61))),
        TODAY,
    ),
    "RESULT_BEFORE_ORDER": (
        "inpatient",
        {},
        _edit(lambda t: _lab_row(t).__setitem__("NGAY_KQ", shift(_lab_row(t)["NGAY_YL"], minutes=-1))),
        TODAY,
    ),
    "TREATMENT_DAYS_INVALID": ("exam", {}, _set("XML1", "SO_NGAY_DTRI", "2"), TODAY),
    "RESULT_TIME_MISSING": ("inpatient", {}, _set("XML4", "NGAY_KQ", ""), TODAY),
    "IMAGING_REPORT_MISSING": ("imaging", {}, _set("XML4", "KET_LUAN", ""), TODAY),
    "SUMMARY_NOT_ALLOWED": ("exam", {"summary": True}, _edit(lambda t: None), TODAY),
    "SUMMARY_FOR_OUTPATIENT_TREATMENT": (
        "exam",
        {"summary": True, "visit_type": "02"},
        _edit(lambda t: None),
        TODAY,
    ),
    "DISCHARGE_PAPER_MISSING": ("inpatient", {}, _edit(lambda t: t.pop("XML7")), TODAY),
    "FOLLOW_UP_BEFORE_DISCHARGE": (
        "follow_up",
        {},
        _edit(lambda t: t["XML14"][0].__setitem__("NGAY_HEN_KL", shift(t["XML1"][0]["NGAY_RA"], days=-1))),
        TODAY,
    ),
    "CARD_FIELDS_COUNT_MISMATCH": (
        "exam",
        {},
        _xml1("MA_THE_BHYT", lambda v: f"{v};{v[:5]}9876543210"),
        TODAY,
    ),
    "RECORD_KEY_MISMATCH": ("exam", {}, _set("XML2", "MA_LK", "LK-KHAC"), TODAY),
    "FACILITY_MISMATCH": ("exam", {}, _set("XML1", "MA_CSKCB", "01001"), TODAY),
    "TOTAL_MISMATCH": ("exam", {}, _xml1("T_TONGCHI_BV", lambda v: str(int(v) + 5000)), TODAY),
}


@pytest.mark.parametrize("code", CASES)
def test_mutation_triggers_exactly_its_code(code: str) -> None:
    kind, changes, mutate, today = CASES[code]
    assert not check(visit_tables(kind)).problems  # the unmutated visit is clean
    tables = visit_tables(kind, **changes)
    mutate(tables)
    checked = check(tables, today=today)
    assert {p.code for p in checked.problems} == {code}, [
        (p.code, p.table, p.field, p.value) for p in checked.problems
    ]
    problem = checked.problems[0]
    assert problem.file == "t.xml"
    assert problem.message and problem.message != code
    if code != "XML1_MISSING":
        assert problem.record == tables["XML1"][0]["MA_LK"]
    assert checked.is_valid is (problem.severity == "warning")


def test_problem_locates_table_row_field_and_value() -> None:
    tables = visit_tables("inpatient")
    tables["XML2"][2]["SO_LUONG"] = "abc"
    (problem,) = check(tables).errors
    assert (problem.code, problem.table, problem.row, problem.field, problem.value) == (
        "FIELD_NUMBER_INVALID",
        "XML2",
        3,
        "SO_LUONG",
        "abc",
    )


def test_imaging_service_without_any_report_row_is_flagged_on_the_service() -> None:
    tables = visit_tables("imaging")
    del tables["XML4"]
    (problem,) = check(tables).errors
    assert (problem.code, problem.table, problem.field) == ("IMAGING_REPORT_MISSING", "XML3", "MA_DICH_VU")


def test_absconded_inpatient_needs_no_discharge_paper() -> None:
    tables = visit_tables("inpatient", discharge_type="3")
    del tables["XML7"]
    assert check(tables).is_valid


def test_results_may_come_up_to_sixty_days_after_discharge() -> None:
    tables = visit_tables("inpatient")
    tables["XML4"][0]["NGAY_KQ"] = shift(tables["XML1"][0]["NGAY_RA"], days=59)
    assert not check(tables).problems


def test_every_problem_is_collected_at_once() -> None:
    tables = visit_tables("inpatient")
    tables["XML1"][0]["HO_TEN"] = ""
    tables["XML1"][0]["MA_BENH_CHINH"] = "X"
    tables["XML1"][0]["MA_CSKCB"] = "01001"
    tables["XML2"][0]["SO_LUONG"] = "1.000,5"
    tables["XML2"][1]["MA_LK"] = "other"
    tables["XML3"][0]["NGAY_YL"] = "2025"
    tables["XML4"][0]["NGAY_KQ"] = ""
    tables["XML1"][0]["T_TONGCHI_BH"] = "1"
    codes = [p.code for p in check(tables).problems]
    for code in (
        "FIELD_REQUIRED",
        "ICD10_INVALID",
        "FACILITY_MISMATCH",
        "FIELD_NUMBER_INVALID",
        "RECORD_KEY_MISMATCH",
        "FIELD_TIME_INVALID",
        "RESULT_TIME_MISSING",
        "TOTAL_MISMATCH",
    ):
        assert code in codes


def test_visit_type_two_summary_warning_still_counts_days() -> None:
    tables = visit_tables("exam", summary=True, visit_type="02")
    checked = check(tables)
    assert checked.is_valid and [w.code for w in checked.warnings] == ["SUMMARY_FOR_OUTPATIENT_TREATMENT"]
    assert checked.value("XML1", "SO_NGAY_DTRI") == 1
