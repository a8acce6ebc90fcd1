"""Reference ranges of common laboratory tests, to flag a result as high or low where one is known.

QĐ 130 XML4 carries the value and unit of a result but no reference range, so the book keeps a small
table of adult ranges as Vietnamese hospital laboratories print them. A result is flagged only when
all of these hold: the test is recognised (by indicator code, else by name), the value is a plain
number, the unit is one the range is written in, and the patient is an adult (ranges for children
depend on age and are not in the table). Anything else is "no range known": never a guess.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Literal

Flag = Literal["high", "low"]
ADULT_AGE = 18

_NUMBER_RE = re.compile(r"^-?\d+(?:[.,]\d+)?$")
# Names mentioning urine are urine tests: the blood ranges below do not apply to them.
_URINE_RE = re.compile(r"nuoc tieu|\bnieu\b|\burine\b")


@dataclass(frozen=True, slots=True)
class Range:
    units: tuple[str, ...]  # normalised units this range is written in (see ``normalise_unit``)
    low: Decimal | None
    high: Decimal | None
    sex: str | None = None  # GIOI_TINH "1" male, "2" female; None for both


@dataclass(frozen=True, slots=True)
class ReferenceTest:
    key: str
    name: str
    codes: frozenset[str]
    pattern: re.Pattern[str]
    ranges: tuple[Range, ...]
    exclude: re.Pattern[str] | None = None


@dataclass(frozen=True, slots=True)
class Assessment:
    """A numeric result compared with its range: ``flag`` is None when the value is within it."""

    test: str
    flag: Flag | None
    low: Decimal | None
    high: Decimal | None
    unit: str

    @property
    def range_text(self) -> str:
        """The range as a Vietnamese lab sheet prints it: ``3,9 – 6,4``, ``≤ 40``, ``≥ 0,9``."""
        if self.low is not None and self.high is not None:
            return f"{_vi(self.low)} – {_vi(self.high)}"
        if self.high is not None:
            return f"≤ {_vi(self.high)}"
        if self.low is not None:
            return f"≥ {_vi(self.low)}"
        return ""


def _vi(number: Decimal) -> str:
    return format(number.normalize(), "f").replace(".", ",")


def _d(value: str | None) -> Decimal | None:
    return Decimal(value) if value is not None else None


def _r(units: str, low: str | None, high: str | None, sex: str | None = None) -> Range:
    return Range(tuple(normalise_unit(u) for u in units.split("|")), _d(low), _d(high), sex)


def _test(
    key: str,
    name: str,
    codes: str,
    pattern: str,
    *ranges: Range,
    exclude: str | None = None,
) -> ReferenceTest:
    return ReferenceTest(
        key,
        name,
        frozenset(codes.split()),
        re.compile(pattern),
        ranges,
        re.compile(exclude) if exclude else None,
    )


def normalise_unit(unit: str | None) -> str:
    """Lower case, no spaces, ``µ``/``μ`` as ``u``, ``IU``/``UI`` as ``U``, ``10^9``/``10*9`` alike."""
    text = (unit or "").strip().lower().replace(" ", "").replace("µ", "u").replace("μ", "u")
    text = text.replace("iu/", "u/").replace("ui/", "u/").replace("x10", "10").replace("*", "^")
    return text


def fold(text: str | None) -> str:
    """Lower-case ASCII for matching names: ``Định lượng Urê [Máu]`` → ``dinh luong ure [mau]``."""
    decomposed = unicodedata.normalize("NFD", (text or "").replace("đ", "d").replace("Đ", "D"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()


# Adult ranges as common Vietnamese laboratory sheets print them. Order matters: HbA1c before
# haemoglobin, HDL/LDL before total cholesterol.
TESTS: tuple[ReferenceTest, ...] = (
    _test(
        "hba1c",
        "HbA1c",
        "HBA1C A1C",
        r"hba1c|hb a1c",
        _r("%", "4.0", "6.0"),
        _r("mmol/mol", "20", "42"),
    ),
    _test(
        "glucose",
        "Glucose",
        "GLU GLUCOSE GLUC",
        r"\bglucose\b|\bglu\b|duong huyet|duong mau",
        _r("mmol/l", "3.9", "6.4"),
        _r("mg/dl", "70", "115"),
    ),
    _test("hdl", "HDL-Cholesterol", "HDL HDL-C HDLC", r"\bhdl", _r("mmol/l", "0.9", None)),
    _test("ldl", "LDL-Cholesterol", "LDL LDL-C LDLC", r"\bldl", _r("mmol/l", None, "3.4")),
    _test(
        "cholesterol",
        "Cholesterol toàn phần",
        "CHOL CHOLESTEROL TC",
        r"cholesterol",
        _r("mmol/l", "3.9", "5.2"),
        _r("mg/dl", "150", "200"),
    ),
    _test(
        "triglycerides",
        "Triglycerid",
        "TG TRIG TRIGLYCERID TRIGLYCERIDE",
        r"triglycerid",
        _r("mmol/l", "0.46", "1.88"),
        _r("mg/dl", "40", "165"),
    ),
    _test(
        "creatinine",
        "Creatinin",
        "CRE CREA CREATININ CREATININE",
        r"creatinin",
        _r("umol/l", "62", "120", "1"),
        _r("umol/l", "53", "100", "2"),
        _r("mg/dl", "0.7", "1.3", "1"),
        _r("mg/dl", "0.6", "1.1", "2"),
    ),
    _test("urea", "Urê", "URE UREA", r"\bure\b|\burea\b", _r("mmol/l", "2.5", "7.5")),
    _test(
        "uric_acid",
        "Acid uric",
        "URIC UA AURIC",
        r"\buric\b",
        _r("umol/l", "180", "420", "1"),
        _r("umol/l", "150", "360", "2"),
    ),
    _test("ast", "AST (GOT)", "AST GOT SGOT", r"\bast\b|\bgot\b", _r("u/l", None, "37")),
    _test("alt", "ALT (GPT)", "ALT GPT SGPT", r"\balt\b|\bgpt\b", _r("u/l", None, "40")),
    _test(
        "ggt",
        "GGT",
        "GGT GGT-T",
        r"\bggt\b|gamma ?gt",
        _r("u/l", "11", "50", "1"),
        _r("u/l", "7", "32", "2"),
    ),
    _test(
        "hemoglobin",
        "Huyết sắc tố (Hemoglobin)",
        "HGB HB",
        r"hemoglobin|huyet sac to|\bhgb\b|\bhb\b",
        _r("g/l", "130", "170", "1"),
        _r("g/l", "120", "150", "2"),
        _r("g/dl", "13", "17", "1"),
        _r("g/dl", "12", "15", "2"),
    ),
    _test(
        "wbc",
        "Số lượng bạch cầu",
        "WBC",
        r"\bwbc\b|bach cau",
        _r("g/l|10^9/l|k/ul", "4.0", "10.0"),
        exclude=r"trung tinh|lympho|mono|ua acid|ua base|\bneu|\blym|\bmono|\beos|\bbaso",
    ),
    _test(
        "rbc",
        "Số lượng hồng cầu",
        "RBC",
        r"\brbc\b|hong cau",
        _r("t/l|10^12/l|m/ul", "4.2", "5.4", "1"),
        _r("t/l|10^12/l|m/ul", "4.0", "4.9", "2"),
        exclude=r"luoi|nhan|the tich|\bmcv|\bmch|\brdw",
    ),
    _test(
        "platelets",
        "Số lượng tiểu cầu",
        "PLT",
        r"\bplt\b|tieu cau",
        _r("g/l|10^9/l|k/ul", "150", "450"),
        exclude=r"the tich|\bmpv|\bpdw|\bpct",
    ),
    _test("sodium", "Natri", "NA NA+", r"\bnatri\b|\bna\+?(?!\w)", _r("mmol/l", "135", "145")),
    _test("potassium", "Kali", "K K+", r"\bkali\b|\bk\+?(?!\w)", _r("mmol/l", "3.5", "5.0")),
)
_BY_CODE: dict[str, ReferenceTest] = {code: test for test in TESTS for code in test.codes}


def find_test(code: str | None, name: str | None) -> ReferenceTest | None:
    """Recognise a test by its indicator code (exact, any case), else by its name; None if unknown."""
    found = _BY_CODE.get((code or "").strip().upper())
    if found is not None:
        return found
    folded = fold(name)
    if not folded or _URINE_RE.search(folded):
        return None
    for test in TESTS:
        if test.pattern.search(folded) and not (test.exclude and test.exclude.search(folded)):
            return test
    return None


def parse_number(value: str | None) -> Decimal | None:
    """A plain number (``5.6`` or ``5,6``); None for ``<0.5``, ``Âm tính``, ranges or empty."""
    text = (value or "").strip()
    if not _NUMBER_RE.match(text):
        return None
    try:
        return Decimal(text.replace(",", "."))
    except InvalidOperation:
        return None


def assess(
    *,
    code: str | None,
    name: str | None,
    value: str | None,
    unit: str | None,
    sex: str | None,
    age: int | None,
) -> Assessment | None:
    """Compare a result with its reference range; None when no range is known for it."""
    if age is not None and age < ADULT_AGE:
        return None
    number = parse_number(value)
    if number is None:
        return None
    test = find_test(code, name)
    if test is None:
        return None
    wanted = normalise_unit(unit)
    for candidate in test.ranges:
        if wanted not in candidate.units or (candidate.sex is not None and candidate.sex != sex):
            continue
        flag: Flag | None = None
        if candidate.low is not None and number < candidate.low:
            flag = "low"
        elif candidate.high is not None and number > candidate.high:
            flag = "high"
        return Assessment(test.key, flag, candidate.low, candidate.high, unit or "")
    return None
