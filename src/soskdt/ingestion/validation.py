"""Check one parsed visit against the QĐ 130 catalogue and the cross-field rules; collect every problem at once.

``validate_visit(parsed, today=None)`` returns a ``ValidatedVisit``: ``errors`` (the visit is invalid),
``warnings`` and typed ``values``. Field checks are compiled once per table from the catalogue (kind, size,
code list); cross-field rules follow DOMAIN.md §5, each with its own code (see ``errors.py``).

Decisions worth knowing (also in docs/ingestion-errors.md):
* MA_LOAI_KCB 10–16 (QĐ 1804, from 2026-08-01, secondary source) are accepted with a warning.
* XML8 with type 02 is a warning (the catalogue's XML8 field note lists 02; DOMAIN.md lists 03/04/06).
* XML4 NGAY_KQ may fall up to 60 days after NGAY_RA (QĐ 4750 correction for late culture results).
* FACILITY_MISMATCH is checked on XML1, XML13 and XML14 MA_CSKCB (XML6/XML15 may name another facility).
* Totals are compared with a tolerance of 1 đồng (lines are rounded to 2 decimals before summing).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from soskdt.core.dates import PartialDate
from soskdt.core.errors import Problem
from soskdt.core.identifiers import ICD10_RE, IdentifierError, PersonalId, parse_card_code
from soskdt.ingestion import errors as E
from soskdt.ingestion.catalogue import (
    MAX_SECONDARY_DIAGNOSES,
    ROW_TABLES,
    VISIT_TYPES_LATER,
    TableSpec,
    load_catalogue,
)
from soskdt.ingestion.records import ParsedVisit, ValidatedVisit

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
LATE_RESULT_DAYS = 60
TOTAL_TOLERANCE = Decimal(1)
#: Tables whose MA_CSKCB is the sending facility (XML6 and XML15 may name the facility that manages the patient).
FACILITY_TABLES = ("XML1", "XML13", "XML14")
#: Tables not sent inside a GIAMDINHHS HOSO (XML0 is the stand-alone check-in, XML12 is keyed on the portal).
NOT_EXPECTED_TABLES = frozenset({"XML0", "XML12"})

(
    K_TEXT,
    K_NUMBER,
    K_CODE,
    K_TIME,
    K_DATE,
    K_BIRTH,
    K_TIME_OR_DATE,
    K_DATE_LIST,
    K_CARD,
    K_CARD_LIST,
    K_FACILITY,
    K_FACILITY_LIST,
    K_ICD,
    K_ICD_LIST,
    K_PERSONAL_ID,
    K_DECIMAL,
) = range(16)
_KIND_OF_FORMAT = {
    "text": K_TEXT,
    "number": K_NUMBER,
    "code": K_CODE,
    "time": K_TIME,
    "date": K_DATE,
    "birth": K_BIRTH,
    "time_or_date": K_TIME_OR_DATE,
    "date_list": K_DATE_LIST,
    "card": K_CARD,
    "card_list": K_CARD_LIST,
    "facility": K_FACILITY,
    "facility_list": K_FACILITY_LIST,
    "icd": K_ICD,
    "icd_list": K_ICD_LIST,
    "personal_id": K_PERSONAL_ID,
    "decimal": K_DECIMAL,
}
_DECIMAL_RE = re.compile(r"[0-9]+\.[0-9]+\Z")
_PASSPORT_RE = re.compile(r"[A-Z][0-9]{7}\Z")
_MISSING = object()


@dataclass(frozen=True, slots=True)
class _CodeRule:
    allowed: frozenset[str]
    strict: bool
    numeric: bool  # typed as number in the catalogue: "02" and "2" are the same code
    later: frozenset[str]  # accepted with VISIT_TYPE_NOT_IN_QD130


@dataclass(frozen=True, slots=True)
class _TableRules:
    spec: TableSpec
    fields: Mapping[str, tuple[int, int, _CodeRule | None]]
    required: tuple[str, ...]
    # The two most frequent kinds get their own name -> max length maps (0 = no limit) for the hot loop.
    numbers: Mapping[str, int]
    texts: Mapping[str, int]


@dataclass(frozen=True, slots=True)
class _RequiredIf:
    field: str
    when: Callable[[Mapping[str, object]], bool]
    condition: str


def _group_in(*groups: str) -> Callable[[Mapping[str, object]], bool]:
    wanted = frozenset(groups)
    return lambda row: row.get("MA_NHOM") in wanted


def _group_not_in(*groups: str) -> Callable[[Mapping[str, object]], bool]:
    unwanted = frozenset(groups)
    return lambda row: "MA_NHOM" in row and row.get("MA_NHOM") not in unwanted


def _termination(row: Mapping[str, object]) -> bool:
    return row.get("MA_DINH_CHI_THAI") == 1


_PERFORMED = ("1", "2", "3", "8", "18")
_SUPPLY_GROUPS = ("10", "11")
#: Conditional requirements from the catalogue's portal flags ("Bắt buộc khi …"), evaluated on typed values.
REQUIRED_IF: Mapping[str, tuple[_RequiredIf, ...]] = {
    "XML2": (_RequiredIf("TT_THAU", _group_not_in("7", "17"), "MA_NHOM khác 7 và 17"),),
    "XML3": (
        _RequiredIf("NGUOI_THUC_HIEN", _group_in(*_PERFORMED), "MA_NHOM là 1, 2, 3, 8 hoặc 18"),
        _RequiredIf("NGAY_TH_YL", _group_in(*_PERFORMED), "MA_NHOM là 1, 2, 3, 8 hoặc 18"),
        _RequiredIf("TT_THAU", _group_in("10"), "MA_NHOM là 10"),
        _RequiredIf("MA_XANG_DAU", _group_in("12"), "MA_NHOM là 12"),
        _RequiredIf("MA_VAT_TU", _group_in(*_SUPPLY_GROUPS), "MA_NHOM là 10 hoặc 11 (vật tư y tế)"),
        _RequiredIf("TEN_VAT_TU", _group_in(*_SUPPLY_GROUPS), "MA_NHOM là 10 hoặc 11 (vật tư y tế)"),
        _RequiredIf("MA_DICH_VU", _group_not_in(*_SUPPLY_GROUPS), "MA_NHOM không phải vật tư y tế (10, 11)"),
        _RequiredIf("TEN_DICH_VU", _group_not_in(*_SUPPLY_GROUPS), "MA_NHOM không phải vật tư y tế (10, 11)"),
    ),
    "XML7": (
        _RequiredIf("NGUYENNHAN_DINHCHI", _termination, "MA_DINH_CHI_THAI là 1"),
        _RequiredIf("THOIGIAN_DINHCHI", _termination, "MA_DINH_CHI_THAI là 1"),
        _RequiredIf("TUOI_THAI", _termination, "MA_DINH_CHI_THAI là 1"),
    ),
}
#: XML1 totals and the XML2/XML3 line field each one sums (T_THUOC: XML2 only; T_VTYT: XML3 supplies only;
#: T_BHTT_GDV: T_BHTT of lines paid fee-for-service, MA_PTTT 1).
TOTALS: tuple[tuple[str, str], ...] = (
    ("T_THUOC", "THANH_TIEN_BV"),
    ("T_VTYT", "THANH_TIEN_BV"),
    ("T_TONGCHI_BV", "THANH_TIEN_BV"),
    ("T_TONGCHI_BH", "THANH_TIEN_BH"),
    ("T_BNTT", "T_BNTT"),
    ("T_BNCCT", "T_BNCCT"),
    ("T_BHTT", "T_BHTT"),
    ("T_NGUONKHAC", "T_NGUONKHAC"),
    ("T_BHTT_GDV", "T_BHTT"),
)
_LINE_SUMS = ("THANH_TIEN_BV", "THANH_TIEN_BH", "T_BNTT", "T_BNCCT", "T_BHTT", "T_NGUONKHAC")


def _compile(spec: TableSpec) -> _TableRules:
    cat = load_catalogue()
    compiled: dict[str, tuple[int, int, _CodeRule | None]] = {}
    for f in spec.fields:
        kind = _KIND_OF_FORMAT[f.format]
        rule = None
        if kind == K_CODE and f.code_list:
            later = VISIT_TYPES_LATER if f.name == "MA_LOAI_KCB" else frozenset()
            rule = _CodeRule(cat.codes(f.code_list), f.strict_codes, f.type == "number", later)
        compiled[f.name] = (kind, f.max_len or 0, rule)
    numbers = {name: entry[1] for name, entry in compiled.items() if entry[0] == K_NUMBER}
    texts = {name: entry[1] for name, entry in compiled.items() if entry[0] == K_TEXT}
    return _TableRules(spec, compiled, spec.required, numbers, texts)


_RULES: dict[str, _TableRules] = {}


def _rules(table: str) -> _TableRules | None:
    rules = _RULES.get(table)
    if rules is None:
        spec = load_catalogue().tables.get(table)
        if spec is None:
            return None
        rules = _RULES[table] = _compile(spec)
    return rules


# --- value parsers (cached: the same times and codes repeat across rows) --------------------------------------
_TIME_CACHE: dict[str, dt.datetime | None] = {}
_DATE_CACHE: dict[str, dt.date | None] = {}
_CACHE_MAX = 4096


def parse_time(value: str) -> dt.datetime | None:
    """``yyyymmddHHMM`` -> naive local datetime, or None if it is not a real time (years 1900–2199)."""
    found = _TIME_CACHE.get(value, _MISSING)
    if found is not _MISSING:
        return found  # type: ignore[return-value]
    result: dt.datetime | None = None
    if len(value) == 12 and value.isdigit() and value.isascii() and "19" <= value[:2] <= "21":
        try:
            n = int(value)
            result = dt.datetime(
                n // 100000000, n // 1000000 % 100, n // 10000 % 100, n // 100 % 100, n % 100
            )
        except ValueError:
            result = None
    if len(_TIME_CACHE) >= _CACHE_MAX:
        _TIME_CACHE.clear()
    _TIME_CACHE[value] = result
    return result


def parse_date(value: str) -> dt.date | None:
    """``yyyymmdd`` -> date, or None if it is not a real date (years 1900–2199)."""
    found = _DATE_CACHE.get(value, _MISSING)
    if found is not _MISSING:
        return found  # type: ignore[return-value]
    result: dt.date | None = None
    if len(value) == 8 and value.isdigit() and value.isascii() and "19" <= value[:2] <= "21":
        try:
            n = int(value)
            result = dt.date(n // 10000, n // 100 % 100, n % 100)
        except ValueError:
            result = None
    if len(_DATE_CACHE) >= _CACHE_MAX:
        _DATE_CACHE.clear()
    _DATE_CACHE[value] = result
    return result


def parse_birth(value: str) -> dt.datetime | PartialDate | None:
    """QĐ 130 birth date: ``yyyymmddHHMM`` (or ``yyyymmdd``) with day and month 00 when unknown."""
    if len(value) not in (8, 12) or not value.isdigit() or not value.isascii():
        return None
    year, month, day = int(value[:4]), int(value[4:6]), int(value[6:8])
    hour, minute = (int(value[8:10]), int(value[10:12])) if len(value) == 12 else (0, 0)
    if not 1850 <= year <= 2199 or hour > 23 or minute > 59 or (month == 0 and day != 0):
        return None
    try:
        if month == 0:
            return PartialDate(year)
        if day == 0:
            return PartialDate(year, month)
        return dt.datetime(year, month, day, hour, minute)
    except ValueError:
        return None


def parse_number(value: str) -> int | Decimal | None:
    """Plain non-negative number with "." as decimal point; None otherwise."""
    if value.isdigit() and value.isascii():
        return int(value)
    if _DECIMAL_RE.match(value):
        try:
            return Decimal(value)
        except InvalidOperation:  # pragma: no cover - the pattern already guarantees a decimal
            return None
    return None


def is_personal_id_number(value: str) -> bool:
    """12-digit personal ID, 9-digit old ID card, or passport (upper-case letter + 7 digits) — portal rule."""
    if value.isdigit() and value.isascii():
        return len(value) in (9, 12)
    return bool(_PASSPORT_RE.match(value))


def _items(value: str) -> list[str]:
    return [item.strip() for item in value.split(";") if item.strip()]


_CARD_CACHE: dict[str, str | None] = {}


def _card_problem(value: str) -> str | None:
    found = _CARD_CACHE.get(value, _MISSING)
    if found is _MISSING:
        try:
            parse_card_code(value)
            found = None
        except IdentifierError as exc:
            found = exc.code if exc.code != "CARD_CODE_MISSING" else E.CARD_CODE_INVALID
        if len(_CARD_CACHE) >= _CACHE_MAX:
            _CARD_CACHE.clear()
        _CARD_CACHE[value] = found
    return found  # type: ignore[return-value]


def _is_facility(value: str) -> bool:
    return len(value) == 5 and value.isdigit() and value.isascii()


# --- the validator -------------------------------------------------------------------------------------------
class _Collector:
    __slots__ = ("file", "record", "errors", "warnings")

    def __init__(self, file: str, record: str | None) -> None:
        self.file = file
        self.record = record
        self.errors: list[Problem] = []
        self.warnings: list[Problem] = []

    def add(
        self,
        code: str,
        table: str | None = None,
        row: int | None = None,
        field: str | None = None,
        value: str | None = None,
        **params: Any,
    ) -> None:
        problem = E.make_problem(
            code, file=self.file, record=self.record, table=table, row=row, field=field, value=value, **params
        )
        (self.warnings if problem.severity == E.WARNING else self.errors).append(problem)

    def take(self, problem: Problem) -> None:
        (self.warnings if problem.severity == E.WARNING else self.errors).append(problem)


def _check_rows(
    rules: _TableRules, table: str, rows: list[dict[str, str]], out: _Collector
) -> list[dict[str, object]]:
    # The hot loop of validation (about a thousand non-empty fields per visit): kinds are small ints tested in
    # order of frequency, the common cases are inlined and times go through a cache.
    fields_get = rules.fields.get
    number_limit = rules.numbers.get
    text_limit = rules.texts.get
    required = rules.required
    typed_rows: list[dict[str, object]] = []
    unknown: set[str] = set()
    add = out.add
    time_cache_get = _TIME_CACHE.get
    for position, row in enumerate(rows, start=1):
        typed: dict[str, object] = {}
        for name, value in row.items():
            if not value:
                continue
            limit = number_limit(name)
            if limit is not None:
                if limit and len(value) > limit:
                    add(E.FIELD_TOO_LONG, table, position, name, value, length=len(value), max=limit)
                elif value.isdigit() and value.isascii():
                    typed[name] = int(value)
                else:
                    number = parse_number(value)
                    if number is None:
                        add(E.FIELD_NUMBER_INVALID, table, position, name, value)
                    else:
                        typed[name] = number
                continue
            limit = text_limit(name)
            if limit is not None:
                if limit and len(value) > limit:
                    add(E.FIELD_TOO_LONG, table, position, name, value, length=len(value), max=limit)
                else:
                    typed[name] = value
                continue
            entry = fields_get(name)
            if entry is None:
                if name not in unknown:
                    unknown.add(name)
                    add(E.FIELD_UNKNOWN, table, position, name, value)
                continue
            kind, max_len, code_rule = entry
            if max_len and len(value) > max_len:
                add(E.FIELD_TOO_LONG, table, position, name, value, length=len(value), max=max_len)
                continue
            if kind == K_TIME:
                moment = time_cache_get(value, _MISSING)
                if moment is _MISSING:
                    moment = parse_time(value)
                if moment is None:
                    add(E.FIELD_TIME_INVALID, table, position, name, value)
                else:
                    typed[name] = moment
            elif kind == K_CODE:
                if code_rule is None:
                    typed[name] = value
                else:
                    code = (
                        value
                        if not code_rule.numeric
                        else (str(int(value)) if value.isdigit() and value.isascii() else "")
                    )
                    if code and code in code_rule.allowed:
                        typed[name] = code
                    else:
                        checked = _check_code(code_rule, value, table, position, name, add)
                        if checked is not None:
                            typed[name] = checked
            else:
                _check_other(kind, value, table, position, name, typed, add)
        if not all(map(row.get, required)):
            for name in required:
                if not row.get(name):
                    add(E.FIELD_REQUIRED, table, position, name)
        typed_rows.append(typed)
    return typed_rows


def _check_other(
    kind: int,
    value: str,
    table: str,
    position: int,
    name: str,
    typed: dict[str, object],
    add: Callable[..., None],
) -> None:
    """The less frequent kinds: dates, lists, identifiers."""
    if kind == K_DATE:
        day = parse_date(value)
        if day is None:
            add(E.FIELD_DATE_INVALID, table, position, name, value)
        else:
            typed[name] = day
    elif kind in (K_ICD, K_ICD_LIST):
        _check_icd(kind, value, table, position, name, typed, add)
    elif kind == K_FACILITY:
        if _is_facility(value):
            typed[name] = value
        else:
            add(E.FACILITY_CODE_INVALID, table, position, name, value)
    elif kind in (K_CARD, K_CARD_LIST):
        items = [value] if kind == K_CARD else _items(value)
        bad = False
        for item in items:
            code = _card_problem(item.upper())
            if code is not None:
                add(code, table, position, name, item)
                bad = True
        if not bad:
            typed[name] = items[0].upper() if kind == K_CARD else [i.upper() for i in items]
    elif kind == K_DATE_LIST:
        days = []
        for item in _items(value):
            day = parse_date(item)
            if day is None:
                add(E.FIELD_DATE_INVALID, table, position, name, item)
                return
            days.append(day)
        typed[name] = days
    elif kind == K_FACILITY_LIST:
        codes = _items(value)
        wrong = [c for c in codes if not _is_facility(c)]
        for c in wrong:
            add(E.FACILITY_CODE_INVALID, table, position, name, c)
        if not wrong:
            typed[name] = codes
    elif kind == K_PERSONAL_ID:
        if is_personal_id_number(value):
            typed[name] = value
        else:
            add(E.ID_NUMBER_INVALID, table, position, name, value)
    elif kind == K_BIRTH:
        birth = parse_birth(value)
        if birth is None:
            add(E.FIELD_BIRTH_DATE_INVALID, table, position, name, value)
        else:
            typed[name] = birth
    elif kind == K_TIME_OR_DATE:
        when = parse_time(value) if len(value) == 12 else parse_date(value)
        if when is None:
            add(E.FIELD_TIME_INVALID, table, position, name, value)
        else:
            typed[name] = when
    elif kind == K_DECIMAL:
        number = parse_number(value)
        if number is None:
            add(E.FIELD_NUMBER_INVALID, table, position, name, value)
        else:
            typed[name] = number


def _check_code(
    rule: _CodeRule | None, value: str, table: str, position: int, name: str, add: Callable[..., None]
) -> str | None:
    if rule is None:
        return value
    code = value
    if rule.numeric:
        if not (value.isdigit() and value.isascii()):
            add(
                E.FIELD_CODE_NOT_IN_LIST if rule.strict else E.FIELD_CODE_UNKNOWN,
                table,
                position,
                name,
                value,
            )
            return None
        code = str(int(value))
    if code in rule.allowed:
        return code
    if code in rule.later:
        add(E.VISIT_TYPE_NOT_IN_QD130, table, position, name, value)
        return code
    if rule.strict:
        add(E.FIELD_CODE_NOT_IN_LIST, table, position, name, value)
        return None
    add(E.FIELD_CODE_UNKNOWN, table, position, name, value)
    return code


def _check_icd(
    kind: int,
    value: str,
    table: str,
    position: int,
    name: str,
    typed: dict[str, object],
    add: Callable[..., None],
) -> None:
    if kind == K_ICD:
        if ICD10_RE.match(value):
            typed[name] = value
        else:
            add(E.ICD10_INVALID, table, position, name, value)
        return
    codes = _items(value)
    wrong = [c for c in codes if not ICD10_RE.match(c)]
    for c in wrong:
        add(E.ICD10_INVALID, table, position, name, c)
    if name == "MA_BENH_KT" and len(codes) > MAX_SECONDARY_DIAGNOSES:
        add(E.ICD10_TOO_MANY_SECONDARY, table, position, name, value, count=len(codes))
        return
    if not wrong:
        typed[name] = codes


def _raw_records(spec: TableSpec, document: Mapping[str, Any]) -> list[dict[str, str]]:
    """Flat records of a raw document whose table is catalogued (XML6, XML9, XML10, XML11, XML15)."""
    data = document.get("data")
    if not isinstance(data, dict):
        return []
    if spec.single_record:
        candidates: list[Any] = [data]
    else:
        container = data.get(spec.list_container or "", data) if spec.list_container else data
        if not isinstance(container, dict):
            return []
        found = container.get(spec.record_element or "", [])
        candidates = found if isinstance(found, list) else [found]
    records = []
    for record in candidates:
        if isinstance(record, dict):
            records.append({k: v for k, v in record.items() if isinstance(v, str)})
    return records


def validate_visit(parsed: ParsedVisit, *, today: dt.date | None = None) -> ValidatedVisit:
    """Check every field and cross-field rule of ``parsed``; never raises, never stops at the first problem."""
    out = _Collector(parsed.file, parsed.ma_lk)
    result = ValidatedVisit(parsed=parsed)
    try:
        _validate(parsed, today or dt.datetime.now(VIETNAM).date(), out, result.values)
    except Exception as exc:  # a bug must not lose the visit: report it as an error of the visit
        out.add(E.HOSO_UNREADABLE, extra={"reason": repr(exc)[:200]})
    result.errors = out.errors
    result.warnings = out.warnings
    return result


def _validate(
    parsed: ParsedVisit, today: dt.date, out: _Collector, values: dict[str, list[dict[str, object]]]
) -> None:
    for problem in parsed.problems:
        out.take(problem)
    for table, rows in parsed.tables.items():
        rules = _rules(table)
        if rules is None:  # pragma: no cover - the parser only fills catalogued row tables
            continue
        values[table] = _check_rows(rules, table, rows, out)
        if rules.spec.single_record and len(rows) > 1:
            out.add(E.TABLE_REPEATED, table)
        conditional = REQUIRED_IF.get(table)
        if conditional:
            for position, (raw, typed) in enumerate(zip(rows, values[table], strict=True), start=1):
                for rule in conditional:
                    if not raw.get(rule.field) and rule.when(typed):
                        out.add(E.FIELD_REQUIRED_IF, table, position, rule.field, condition=rule.condition)
    raw_rows: dict[str, list[dict[str, str]]] = {}
    for key, document in parsed.raw_documents.items():
        table = key.split(".", 1)[0]
        rules = _rules(table)
        if rules is None:
            out.add(E.TABLE_UNKNOWN, table)
            continue
        if table in NOT_EXPECTED_TABLES:
            out.add(E.TABLE_NOT_EXPECTED, table)
            continue
        records = _raw_records(rules.spec, document)
        raw_rows.setdefault(table, []).extend(records)
        values.setdefault(table, []).extend(_check_rows(rules, table, records, out))

    xml1_rows = values.get("XML1")
    if not xml1_rows:
        out.add(E.XML1_MISSING, "XML1")
        return
    _cross_checks(parsed, today, out, values, raw_rows)


def _cross_checks(
    parsed: ParsedVisit,
    today: dt.date,
    out: _Collector,
    values: dict[str, list[dict[str, object]]],
    raw_rows: dict[str, list[dict[str, str]]],
) -> None:
    raw1 = parsed.tables["XML1"][0]
    x1 = values["XML1"][0]
    add = out.add
    key = raw1.get("MA_LK") or ""

    # Every row carries the visit's key.
    if key:
        for table, rows in (*parsed.tables.items(), *raw_rows.items()):
            if table == "XML1":
                continue
            for position, row in enumerate(rows, start=1):
                other = row.get("MA_LK")
                if other and other != key:
                    add(E.RECORD_KEY_MISMATCH, table, position, "MA_LK", other, expected=key)

    # Another facility's data is refused by the API on this code.
    facility = parsed.facility_code
    if not facility:
        add(E.ENVELOPE_FACILITY_MISSING)
    else:
        for table in FACILITY_TABLES:
            for position, row in enumerate(parsed.tables.get(table, ()), start=1):
                code = row.get("MA_CSKCB")
                if code and code != facility:
                    add(E.FACILITY_MISMATCH, table, position, "MA_CSKCB", code, expected=facility)

    arrival = x1.get("NGAY_VAO")
    discharge = x1.get("NGAY_RA")
    inpatient = x1.get("NGAY_VAO_NOI_TRU")
    visit_type = x1.get("MA_LOAI_KCB")
    # Up to the end of tomorrow: one day of slack for clocks and time zones.
    horizon = dt.datetime.combine(today + dt.timedelta(days=2), dt.time())
    for name, moment in (("NGAY_VAO", arrival), ("NGAY_RA", discharge)):
        if isinstance(moment, dt.datetime) and moment >= horizon:
            add(E.TIME_IN_FUTURE, "XML1", 1, name, raw1.get(name))
    birth = x1.get("NGAY_SINH")
    if birth is not None and _birth_after(birth, today):
        add(E.TIME_IN_FUTURE, "XML1", 1, "NGAY_SINH", raw1.get("NGAY_SINH"))

    for table in ("XML1", "XML7", "XML8", "XML13", "XML14"):
        for position, typed in enumerate(values.get(table, ()), start=1):
            start, end = typed.get("NGAY_VAO"), typed.get("NGAY_RA")
            if isinstance(start, dt.datetime) and isinstance(end, dt.datetime) and end < start:
                add(
                    E.DISCHARGE_BEFORE_ADMISSION,
                    table,
                    position,
                    "NGAY_RA",
                    parsed.tables[table][position - 1].get("NGAY_RA"),
                )
    if isinstance(inpatient, dt.datetime) and isinstance(arrival, dt.datetime) and inpatient < arrival:
        add(E.INPATIENT_ADMISSION_BEFORE_ARRIVAL, "XML1", 1, "NGAY_VAO_NOI_TRU", raw1.get("NGAY_VAO_NOI_TRU"))

    _treatment_days(raw1, x1, out)
    _card_fields(raw1, out)
    _personal_id(x1, out)
    if isinstance(visit_type, str):
        _documents_for_type(parsed, x1, visit_type, out)
    stay = (
        (arrival, discharge)
        if isinstance(arrival, dt.datetime) and isinstance(discharge, dt.datetime)
        else None
    )
    if stay is not None and stay[1] >= stay[0]:
        _times_within_stay(parsed, values, stay, out)
    _results(parsed, values, out)
    follow = values.get("XML14")
    if follow and isinstance(discharge, dt.datetime):
        for position, typed in enumerate(follow, start=1):
            appointment = typed.get("NGAY_HEN_KL")
            if isinstance(appointment, dt.datetime) and appointment < discharge:
                add(
                    E.FOLLOW_UP_BEFORE_DISCHARGE,
                    "XML14",
                    position,
                    "NGAY_HEN_KL",
                    parsed.tables["XML14"][position - 1].get("NGAY_HEN_KL"),
                )
    _totals(x1, values, out)


def _birth_after(birth: object, today: dt.date) -> bool:
    if isinstance(birth, dt.datetime):
        return birth.date() > today
    if isinstance(birth, PartialDate):
        return (birth.year, birth.month or 1) > (today.year, today.month if birth.month else 1)
    return False


def _treatment_days(raw1: Mapping[str, str], x1: Mapping[str, object], out: _Collector) -> None:
    visit_type = x1.get("MA_LOAI_KCB")
    days = x1.get("SO_NGAY_DTRI")
    if not isinstance(days, int):
        return
    expected: int | None = None
    if visit_type in ("01", "07", "09"):
        expected = 0
    elif visit_type in ("02", "03", "04", "06"):
        start, end = x1.get("NGAY_VAO"), x1.get("NGAY_RA")
        if isinstance(start, dt.datetime) and isinstance(end, dt.datetime) and end >= start:
            expected = (end.date() - start.date()).days + 1
    if expected is not None and days != expected:
        out.add(
            E.TREATMENT_DAYS_INVALID,
            "XML1",
            1,
            "SO_NGAY_DTRI",
            raw1.get("SO_NGAY_DTRI"),
            visit_type=visit_type,
            expected=expected,
        )


def _card_fields(raw1: Mapping[str, str], out: _Collector) -> None:
    names = ("MA_THE_BHYT", "MA_DKBD", "GT_THE_TU", "GT_THE_DEN")
    counts = [len(raw1.get(n, "").split(";")) if raw1.get(n) else 0 for n in names]
    if len(set(counts)) > 1:
        out.add(E.CARD_FIELDS_COUNT_MISMATCH, "XML1", 1, "MA_THE_BHYT", raw1.get("MA_THE_BHYT"))


def _personal_id(x1: Mapping[str, object], out: _Collector) -> None:
    number = x1.get("SO_CCCD")
    if not isinstance(number, str) or len(number) != 12 or not number.isdigit():
        return
    birth = x1.get("NGAY_SINH")
    year = birth.year if isinstance(birth, (dt.datetime, PartialDate)) else None
    sex = {"1": "M", "2": "F"}.get(str(x1.get("GIOI_TINH")))
    for code in PersonalId(number).consistency_warnings(birth_year=year, sex=sex):
        out.add(code, "XML1", 1, "SO_CCCD", number)


def _documents_for_type(
    parsed: ParsedVisit, x1: Mapping[str, object], visit_type: str, out: _Collector
) -> None:
    if "XML8" in parsed.tables:
        if visit_type == "02":
            out.add(E.SUMMARY_FOR_OUTPATIENT_TREATMENT, "XML8", value=visit_type)
        elif visit_type not in ("03", "04", "06"):
            out.add(E.SUMMARY_NOT_ALLOWED, "XML8", value=visit_type)
    if visit_type == "03" and "XML7" not in parsed.tables and x1.get("MA_LOAI_RV") != "3":
        out.add(E.DISCHARGE_PAPER_MISSING, "XML7")


def _times_within_stay(
    parsed: ParsedVisit,
    values: Mapping[str, list[dict[str, object]]],
    stay: tuple[dt.datetime, dt.datetime],
    out: _Collector,
) -> None:
    start, end = stay
    late_end = end + dt.timedelta(days=LATE_RESULT_DAYS)
    for table in ("XML2", "XML3"):
        raw_rows = parsed.tables.get(table, [])
        for position, row in enumerate(values.get(table, ()), start=1):
            ordered = row.get("NGAY_YL")
            if isinstance(ordered, dt.datetime) and not start <= ordered <= end:
                out.add(
                    E.ORDER_OUTSIDE_STAY, table, position, "NGAY_YL", raw_rows[position - 1].get("NGAY_YL")
                )
    for table in ("XML3", "XML4"):
        raw_rows = parsed.tables.get(table, [])
        for position, row in enumerate(values.get(table, ()), start=1):
            result = row.get("NGAY_KQ")
            if isinstance(result, dt.datetime) and not start <= result <= late_end:
                out.add(
                    E.RESULT_OUTSIDE_STAY, table, position, "NGAY_KQ", raw_rows[position - 1].get("NGAY_KQ")
                )


def _results(parsed: ParsedVisit, values: Mapping[str, list[dict[str, object]]], out: _Collector) -> None:
    services = values.get("XML3", [])
    raw_services = parsed.tables.get("XML3", [])
    results = values.get("XML4", [])
    raw_results = parsed.tables.get("XML4", [])
    first_order: dict[str, dt.datetime] = {}
    imaging: list[tuple[int, str]] = []
    for position, row in enumerate(services, start=1):
        ordered, result = row.get("NGAY_YL"), row.get("NGAY_KQ")
        if isinstance(ordered, dt.datetime) and isinstance(result, dt.datetime) and result < ordered:
            out.add(
                E.RESULT_BEFORE_ORDER, "XML3", position, "NGAY_KQ", raw_services[position - 1].get("NGAY_KQ")
            )
        code = raw_services[position - 1].get("MA_DICH_VU")
        if not code:
            continue
        if isinstance(ordered, dt.datetime) and (code not in first_order or ordered < first_order[code]):
            first_order[code] = ordered
        if row.get("MA_NHOM") == "2":
            imaging.append((position, code))
    by_service: dict[str, list[int]] = {}
    for position, raw in enumerate(raw_results, start=1):
        code = raw.get("MA_DICH_VU") or ""
        by_service.setdefault(code, []).append(position)
        if raw.get("GIA_TRI") and not raw.get("NGAY_KQ"):
            out.add(E.RESULT_TIME_MISSING, "XML4", position, "NGAY_KQ")
        result = results[position - 1].get("NGAY_KQ") if position <= len(results) else None
        ordered = first_order.get(code)
        if isinstance(result, dt.datetime) and ordered is not None and result < ordered:
            out.add(E.RESULT_BEFORE_ORDER, "XML4", position, "NGAY_KQ", raw.get("NGAY_KQ"))
    reported: set[str] = set()
    for position, code in imaging:
        rows = by_service.get(code)
        if not rows:
            out.add(E.IMAGING_REPORT_MISSING, "XML3", position, "MA_DICH_VU", code)
            continue
        if code in reported:
            continue
        reported.add(code)
        for result_position in rows:
            raw = raw_results[result_position - 1]
            for name in ("MO_TA", "KET_LUAN"):
                if not raw.get(name):
                    out.add(E.IMAGING_REPORT_MISSING, "XML4", result_position, name, code)


def _totals(x1: Mapping[str, object], values: Mapping[str, list[dict[str, object]]], out: _Collector) -> None:
    sums = dict.fromkeys(_LINE_SUMS, 0)
    sums.update(T_THUOC=0, T_VTYT=0, T_BHTT_GDV=0)
    for table in ("XML2", "XML3"):
        for row in values.get(table, ()):
            for name in _LINE_SUMS:
                amount = row.get(name)
                if amount is not None:
                    sums[name] += amount  # type: ignore[operator]
            bv = row.get("THANH_TIEN_BV") or 0
            if table == "XML2":
                sums["T_THUOC"] += bv  # type: ignore[operator]
            elif row.get("MA_NHOM") in _SUPPLY_GROUPS:
                sums["T_VTYT"] += bv  # type: ignore[operator]
            if row.get("MA_PTTT") == "1":
                sums["T_BHTT_GDV"] += row.get("T_BHTT") or 0  # type: ignore[operator]
    for total_name, line_name in TOTALS:
        declared = x1.get(total_name)
        if not isinstance(declared, (int, Decimal)):
            continue
        total = Decimal(sums[total_name if total_name in ("T_THUOC", "T_VTYT", "T_BHTT_GDV") else line_name])
        if abs(declared - total) > TOTAL_TOLERANCE:
            out.add(E.TOTAL_MISMATCH, "XML1", 1, total_name, str(declared), expected=_plain(total))


def _plain(value: Decimal) -> str:
    return str(int(value)) if value == value.to_integral_value() else f"{value:.2f}"


__all__ = ["ROW_TABLES", "parse_birth", "parse_date", "parse_number", "parse_time", "validate_visit"]
