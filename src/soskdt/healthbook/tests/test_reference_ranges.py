"""Out-of-range flags: only where a range is known, the value is a number and the unit matches."""

from decimal import Decimal

import pytest

from soskdt.healthbook.reference_ranges import TESTS, assess, find_test, normalise_unit, parse_number

MALE, FEMALE = "1", "2"


def flag(code, name, value, unit, sex=MALE, age=45):
    found = assess(code=code, name=name, value=value, unit=unit, sex=sex, age=age)
    return "unknown" if found is None else found.flag


@pytest.mark.parametrize(
    ("code", "name", "value", "unit", "expected"),
    [
        ("GLU", "Glucose", "7.8", "mmol/L", "high"),
        ("GLU", "Glucose", "3.1", "mmol/L", "low"),
        ("GLU", "Glucose", "5.0", "mmol/L", None),
        ("", "Định lượng Glucose [Máu]", "140", "mg/dL", "high"),
        ("HBA1C", "HbA1c", "7.2", "%", "high"),
        ("CHOL", "Cholesterol toàn phần", "6.1", "mmol/L", "high"),
        ("", "Định lượng Triglycerid [Máu]", "2.4", "mmol/L", "high"),
        ("", "HDL-Cholesterol", "0.7", "mmol/L", "low"),
        ("", "LDL-Cholesterol", "4.1", "mmol/L", "high"),
        ("CRE", "Creatinin", "110", "µmol/L", None),
        ("", "Định lượng Urê [Máu]", "9.1", "mmol/L", "high"),
        ("", "Đo hoạt độ AST (GOT) [Máu]", "80", "U/L", "high"),
        ("", "Đo hoạt độ ALT (GPT) [Máu]", "35", "UI/L", None),
        ("HGB", "Hemoglobin", "11.2", "g/dL", "low"),
        ("WBC", "Số lượng bạch cầu", "3.2", "G/L", "low"),
        ("", "Số lượng tiểu cầu (PLT)", "520", "x10^9/L", "high"),
        ("", "Kali", "5.6", "mmol/L", "high"),
        ("", "Natri", "140", "mmol/L", None),
    ],
)
def test_common_tests_are_flagged_high_or_low(code, name, value, unit, expected):
    assert flag(code, name, value, unit) == expected


def test_sex_specific_ranges_apply_to_the_patient_s_sex():
    assert flag("CRE", "Creatinin", "110", "µmol/L", sex=MALE) is None
    assert flag("CRE", "Creatinin", "110", "µmol/L", sex=FEMALE) == "high"
    assert flag("HGB", "Hemoglobin", "125", "g/L", sex=MALE) == "low"
    assert flag("HGB", "Hemoglobin", "125", "g/L", sex=FEMALE) is None
    assert flag("HGB", "Hemoglobin", "125", "g/L", sex="3") == "unknown"


@pytest.mark.parametrize(
    ("code", "name", "value", "unit"),
    [
        ("GLU", "Glucose", "Âm tính", "mmol/L"),  # not a number
        ("GLU", "Glucose", "<2.0", "mmol/L"),  # a bound, not a value
        ("GLU", "Glucose", "7.8", "mg%"),  # a unit the range is not written in
        ("GLU", "Glucose", "7.8", ""),  # no unit
        ("", "Glucose niệu", "7.8", "mmol/L"),  # a urine test
        ("", "Tổng phân tích nước tiểu", "1.020", ""),
        ("", "Chỉ số lạ", "99", "mmol/L"),  # unknown test
        ("", "Bạch cầu trung tính", "9.0", "G/L"),  # a differential count, not total WBC
    ],
)
def test_no_flag_where_no_range_is_known(code, name, value, unit):
    assert flag(code, name, value, unit) == "unknown"


def test_children_get_no_flag_because_their_ranges_depend_on_age():
    assert flag("WBC", "Số lượng bạch cầu", "13.0", "G/L", age=6) == "unknown"
    assert flag("WBC", "Số lượng bạch cầu", "13.0", "G/L", age=18) == "high"


def test_the_range_text_uses_the_vietnamese_decimal_comma():
    found = assess(code="GLU", name="", value="5", unit="mmol/L", sex=MALE, age=40)
    assert found.range_text == "3,9 – 6,4"
    assert assess(code="ALT", name="", value="5", unit="U/L", sex=MALE, age=40).range_text == "≤ 40"
    assert assess(code="HDL", name="", value="5", unit="mmol/L", sex=MALE, age=40).range_text == "≥ 0,9"


def test_numbers_and_units_are_read_leniently():
    assert parse_number("5,6") == Decimal("5.6")
    assert parse_number(" 12 ") == Decimal("12")
    assert parse_number("1.2.3") is None
    assert normalise_unit("µmol/L") == normalise_unit("umol/l") == normalise_unit("μmol/L")
    assert normalise_unit("x10^9/L") == normalise_unit("10*9/L")


def test_hba1c_is_not_mistaken_for_haemoglobin_nor_hdl_for_total_cholesterol():
    assert find_test("", "Định lượng HbA1c [Máu]").key == "hba1c"
    assert find_test("", "Định lượng HDL-C").key == "hdl"
    assert find_test("", "Định lượng Cholesterol toàn phần [Máu]").key == "cholesterol"


def test_the_table_covers_the_common_tests():
    keys = {test.key for test in TESTS}
    assert {
        "glucose",
        "hba1c",
        "cholesterol",
        "triglycerides",
        "creatinine",
        "urea",
        "ast",
        "alt",
        "hemoglobin",
        "wbc",
        "platelets",
    } <= keys
