"""Where each QĐ 130 field is kept, and how one input row becomes one database row.

The ingestion pipeline hands the book typed values keyed by the standard's field names (``NGAY_VAO``),
so this module is the one place in the health book that spells them. Each table maps field names to
columns; the column's model field gives its type and size. A field with no column, or a value that
does not fit its column, goes to the row's JSON ``extra`` (``raw_extras`` for the visit) under its
field name: nothing sent is dropped.

A row is rendered once as PostgreSQL COPY text (tab-separated, ``\\N`` for empty). The same text is
what the content hash is computed over, what PostgreSQL loads, and what SQLite rows are made from,
so the two backends store exactly the same values. Local times are written without an offset: the
loader sets the session time zone to Asia/Ho_Chi_Minh for the COPY and PostgreSQL converts each
value to UTC once.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from django.db import models
from django.utils.translation import gettext_lazy as _

from soskdt.core.dates import PartialDate
from soskdt.core.errors import Problem, define
from soskdt.healthbook import models as hb

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NULL = "\\N"

VALUE_KEPT_AS_TEXT = define(
    "VISIT_VALUE_KEPT_AS_TEXT",
    _("Giá trị không khớp kiểu hoặc độ dài của cột; đã được giữ nguyên dạng văn bản trong trường khác."),
)

_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_COPY_UNESCAPE_RE = re.compile(r"\\(.)")
_COPY_UNESCAPES = {"\\": "\\", "t": "\t", "n": "\n", "r": "\r"}


class Unstorable(ValueError):
    """A value that does not fit its column (wrong type, too long, out of range)."""


# --- value formatting ------------------------------------------------------------------------


def escape_copy(text: str) -> str:
    """Escape a string for PostgreSQL COPY text format."""
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        return text.translate(_COPY_ESCAPES)
    return text


def unescape_copy(text: str) -> str:
    """Undo ``escape_copy``."""
    if "\\" not in text:
        return text
    return _COPY_UNESCAPE_RE.sub(lambda m: _COPY_UNESCAPES.get(m.group(1), m.group(1)), text)


def as_qd130_text(value: object) -> str:
    """Render a typed value back as QĐ 130 text (dates ``yyyymmdd``, times ``yyyymmddHHMM``)."""
    if isinstance(value, str):
        return value
    if isinstance(value, dt.datetime):
        return value.strftime("%Y%m%d%H%M")
    if isinstance(value, dt.date):
        return value.strftime("%Y%m%d")
    if isinstance(value, list | tuple):
        return ";".join(as_qd130_text(item) for item in value)
    if isinstance(value, PartialDate):
        return f"{value.year:04d}{value.month or 0:02d}{value.day or 0:02d}0000"
    return str(value)


def json_default(value: object) -> object:
    """JSON for the typed values of QĐ 130: exact decimals as text, ISO dates and local times."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date | PartialDate):
        return value.isoformat()
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    return str(value)


def dump_json(value: object) -> str:
    """Canonical JSON text: sorted keys, compact, Vietnamese kept as is."""
    return json.dumps(value, default=json_default, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def local_naive(value: dt.datetime) -> dt.datetime:
    """Return a datetime as naive Asia/Ho_Chi_Minh wall time (naive input is taken as already local)."""
    if value.tzinfo is None:
        return value
    return value.astimezone(LOCAL_TZ).replace(tzinfo=None)


def parse_time(value: object) -> dt.datetime:
    """Coerce a QĐ 130 time (naive local datetime, aware datetime, date or ``yyyymmddHHMM`` text)."""
    if isinstance(value, dt.datetime):
        return local_naive(value)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    text = str(value).strip()
    try:
        if len(text) == 12 and text.isdigit():
            return dt.datetime(
                int(text[:4]), int(text[4:6]), int(text[6:8]), int(text[8:10]), int(text[10:12])
            )
        if len(text) == 8 and text.isdigit():
            return dt.datetime(int(text[:4]), int(text[4:6]), int(text[6:8]))
        return local_naive(dt.datetime.fromisoformat(text))
    except ValueError as exc:
        raise Unstorable(text) from exc


def parse_date(value: object) -> dt.date:
    """Coerce a QĐ 130 date (date, datetime or ``yyyymmdd`` text)."""
    if isinstance(value, dt.datetime):
        return local_naive(value).date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    try:
        if len(text) in (8, 12) and text.isdigit():
            return dt.date(int(text[:4]), int(text[4:6]), int(text[6:8]))
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise Unstorable(text) from exc


Formatter = Callable[[Any], str]


def _text_formatter(max_length: int | None) -> Formatter:
    def fmt(value: Any) -> str:
        text = value if type(value) is str else as_qd130_text(value)
        if max_length is not None and len(text) > max_length:
            raise Unstorable(text)
        return text

    return fmt


def _int_formatter(low: int, high: int) -> Formatter:
    def fmt(value: Any) -> str:
        if type(value) is not int:
            try:
                number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
                if not number.is_finite() or number != number.to_integral_value():
                    raise Unstorable(str(value))
                value = int(number)
            except (InvalidOperation, ValueError, TypeError) as exc:
                raise Unstorable(str(value)) from exc
        if not low <= value <= high:
            raise Unstorable(str(value))
        return str(value)

    return fmt


def _decimal_formatter(value: Any) -> str:
    try:
        number = (
            value
            if isinstance(value, Decimal)
            else Decimal(repr(value) if type(value) is float else str(value).strip())
        )
    except (InvalidOperation, ValueError) as exc:
        raise Unstorable(str(value)) from exc
    if not number.is_finite():
        raise Unstorable(str(value))
    return str(number)


def _time_formatter(value: Any) -> str:
    return str(parse_time(value))


# COPY text of local times: the lines of a visit share a handful of times, and str() of a datetime costs
# several dictionary lookups. Bounded like the validator's caches.
_TIME_TEXT: dict[dt.datetime, str] = {}
_TIME_TEXT_MAX = 4096


def _time_text(value: dt.datetime) -> str:
    """``str(value)`` of a naive datetime, from the cache."""
    text = _TIME_TEXT.get(value)
    if text is None:
        if len(_TIME_TEXT) >= _TIME_TEXT_MAX:
            _TIME_TEXT.clear()
        text = _TIME_TEXT[value] = str(value)
    return text


def _date_formatter(value: Any) -> str:
    return parse_date(value).isoformat()


def formatter_for(model_field: models.Field[Any, Any]) -> Formatter:
    """Return the text formatter of a column: any value in, COPY text (unescaped) out, or ``Unstorable``."""
    if isinstance(model_field, models.DateTimeField):
        return _time_formatter
    if isinstance(model_field, models.DateField):
        return _date_formatter
    if isinstance(model_field, models.DecimalField):
        return _decimal_formatter
    if isinstance(model_field, models.PositiveSmallIntegerField):
        return _int_formatter(0, 32767)
    if isinstance(model_field, models.PositiveIntegerField):
        return _int_formatter(0, 2_147_483_647)
    if isinstance(model_field, models.CharField):
        return _text_formatter(model_field.max_length)
    if isinstance(model_field, models.TextField):
        return _text_formatter(None)
    raise TypeError(f"no formatter for {model_field!r}")


def _fast_branch(model_field: models.Field[Any, Any], i: int) -> list[str]:
    """Source lines that render ``v`` into ``p{i}`` when it already has the column's exact type."""
    if isinstance(model_field, models.DateTimeField):
        return [f"elif type(v) is datetime and v.tzinfo is None: p{i} = time_text_get(v) or time_text(v)"]
    if isinstance(model_field, models.DateField):
        return [f"elif type(v) is date: p{i} = v.isoformat()"]
    if isinstance(model_field, models.DecimalField):
        # Exact numeric columns take any finite decimal as written (models.ExactDecimalField).
        return [f"elif (type(v) is Decimal and v.is_finite()) or type(v) is int: p{i} = str(v)"]
    # Codes typed as text ("4") in integer columns: plain ASCII digits short enough to be in range.
    if isinstance(model_field, models.PositiveSmallIntegerField):
        return [
            f"elif type(v) is int and 0 <= v <= 32767: p{i} = str(v)",
            f"elif type(v) is str and len(v) < 5 and v.isdigit() and v.isascii(): p{i} = str(int(v))",
        ]
    if isinstance(model_field, models.PositiveIntegerField):
        return [
            f"elif type(v) is int and 0 <= v <= 2147483647: p{i} = str(v)",
            f"elif type(v) is str and len(v) < 10 and v.isdigit() and v.isascii(): p{i} = str(int(v))",
        ]
    # ";"-separated lists (ICD-10 codes, cards) arrive as lists of strings.
    if isinstance(model_field, models.CharField) and model_field.max_length:
        return [
            f"elif type(v) is str and len(v) <= {model_field.max_length}: p{i} = v",
            f"elif type(v) is list and (t := joined(v)) is not None and len(t) <= {model_field.max_length}: p{i} = t",
        ]
    return [
        f"elif type(v) is str: p{i} = v",
        f"elif type(v) is list and (t := joined(v)) is not None: p{i} = t",
    ]


def _joined(items: list[Any]) -> str | None:
    """``as_qd130_text`` of a list of strings (None when an item is not a string: the formatter decides)."""
    try:
        return ";".join(items)
    except TypeError:
        return None


def copy_value(value: object) -> str:
    """Render a loader-computed value (ids, flags, times with offset, JSON) as COPY text."""
    if value is None:
        return NULL
    if isinstance(value, str):
        return escape_copy(value)
    if isinstance(value, dt.datetime | dt.date):
        return str(value)
    if isinstance(value, dict | list):
        return escape_copy(dump_json(value))
    return str(value)


# --- tables ----------------------------------------------------------------------------------


def _concrete_field(found: object) -> models.Field[Any, Any]:
    if not isinstance(found, models.Field):
        raise TypeError(f"{found!r} is not a column")
    return found


class TableMap:
    """How the rows of one QĐ 130 table are stored in one model.

    ``pairs`` maps field names to columns in COPY order. ``numbered`` tables store ``STT`` in
    ``line_no`` (the row's position when STT is missing or not a number). ``key_fields`` repeat the
    visit's key (``MA_LK``): they are kept in ``extra`` only when they differ from it.

    Rendering runs for every row the country sends, so each table gets a renderer compiled from its
    columns (``renderer_source``): straight-line code that takes values of the expected type as they
    are and hands anything else to the column's formatter. A value no formatter accepts makes the row
    go through ``_render_slowly``, which keeps it as text in ``extra`` with a warning.
    """

    def __init__(
        self,
        table: str,
        model: type[models.Model],
        pairs: Sequence[tuple[str, str]],
        *,
        numbered: bool,
        extra_column: str = "extra",
        key_fields: Sequence[str] = ("MA_LK",),
    ) -> None:
        self.table = table
        self.model = model
        self.numbered = numbered
        self.extra_column = extra_column
        self.key_fields = tuple(key_fields)
        self.pairs = tuple(pairs)
        meta = model._meta
        self.fields: tuple[models.Field[Any, Any], ...] = tuple(
            _concrete_field(meta.get_field(col)) for _src, col in self.pairs
        )
        self.formatters: tuple[tuple[str, Formatter], ...] = tuple(
            (src, formatter_for(f)) for (src, _col), f in zip(self.pairs, self.fields, strict=True)
        )
        self.time_columns: tuple[str, ...] = tuple(
            f.column for f in self.fields if isinstance(f, models.DateTimeField)
        )
        self.known = (
            frozenset(src for src, _col in self.pairs)
            | set(self.key_fields)
            | ({"STT"} if numbered else set())
        )
        self.columns: tuple[str, ...] = (
            (("line_no",) if numbered else ()) + tuple(col for _src, col in self.pairs) + (extra_column,)
        )
        self.db_table: str = meta.db_table
        self.renderer_source = self._renderer_source()
        namespace: dict[str, Any] = {
            "N": NULL,
            "Decimal": Decimal,
            "datetime": dt.datetime,
            "date": dt.date,
            "escape": escape_copy,
            "time_text_get": _TIME_TEXT.get,
            "time_text": _time_text,
            "joined": _joined,
            "KNOWN": self.known,
        }
        namespace.update({f"f{i}": fmt for i, (_src, fmt) in enumerate(self.formatters)})
        exec(compile(self.renderer_source, f"<renderer {table}>", "exec"), namespace)  # noqa: S102 - our own source
        self._render_mapped: Callable[[Mapping[str, Any]], str] = namespace["render_mapped"]
        self._render_plain: Callable[[Mapping[str, Any], Mapping[str, object]], str | None] = namespace[
            "render_plain"
        ]

    def _renderer_source(self) -> str:
        """Source of ``render_mapped(row)`` (the columns of ``pairs``) and ``render_plain(row, keys)``.

        ``render_plain`` renders the whole line of a row with nothing unusual (no field outside the map, the
        visit's own keys, a numeric STT): what ``render`` would return, or None to let it take the long way.
        """
        n = len(self.pairs)
        columns: list[str] = []
        for i, ((src, _col), model_field) in enumerate(zip(self.pairs, self.fields, strict=True)):
            columns.append(f"    v = get({src!r})")
            columns.append(f"    if v is None: p{i} = N; nulls += 1")
            columns.extend(f"    {branch}" for branch in _fast_branch(model_field, i))
            columns.append(f"    else: p{i} = f{i}(v)")
        parts = ", ".join(f"p{i}" for i in range(n)) + ("," if n == 1 else "")
        join = [
            f"    parts = ({parts})",
            "    line = '\\t'.join(parts)",
            # Only free text can hold a tab, newline or backslash; escape when one is there.
            f"    if line.count('\\\\') != nulls or line.count('\\t') != {n - 1} or '\\n' in line or '\\r' in line:",
            "        line = '\\t'.join([p if p is N else escape(p) for p in parts])",
        ]
        lines = [
            "def render_mapped(row):",
            "    get = row.get",
            "    nulls = 0",
            *columns,
            *join,
            "    return line",
        ]
        lines += [
            "",
            "def render_plain(row, keys):",
            "    if not row.keys() <= KNOWN: return None",
            "    get = row.get",
        ]
        for name in self.key_fields:
            lines += [
                f"    v = get({name!r})",
                f"    if v is not None and v != keys.get({name!r}): return None",
            ]
        if self.numbered:
            lines += [
                "    stt = get('STT')",
                "    if type(stt) is not int or not 0 <= stt <= 2147483647: return None",
            ]
        lines += ["    nulls = 0", *columns, *join]
        lines.append("    return f'{stt}\\t{line}\\t{N}'" if self.numbered else "    return f'{line}\\t{N}'")
        return "\n".join(lines) + "\n"

    # Rendering ------------------------------------------------------------------------------

    def render(
        self,
        row: Mapping[str, Any],
        *,
        keys: Mapping[str, object],
        position: int = 1,
        problems: list[dict[str, Any]] | None = None,
    ) -> str:
        """Render ``row`` as one COPY text line of ``columns``; values that do not fit go to ``extra``.

        Problems (a value kept as text) are appended to ``problems`` when given.
        """
        try:
            line = self._render_plain(row, keys)
        except Unstorable:
            line = None
        if line is not None:
            return line
        try:
            mapped = self._render_mapped(row)
            extras: dict[str, Any] | None = None
        except Unstorable:
            mapped, extras = self._render_slowly(row, position=position, problems=problems)
        if not row.keys() <= self.known:
            extras = extras or {}
            extras.update((k, v) for k, v in row.items() if k not in self.known and v is not None)
        for name in self.key_fields:
            sent = row.get(name)
            if sent is not None and sent != keys.get(name):
                extras = extras or {}
                extras[name] = sent
        if self.numbered:
            stt = row.get("STT")
            if type(stt) is int and 0 <= stt <= 2_147_483_647:
                mapped = f"{stt}\t{mapped}"
            else:
                mapped = f"{position}\t{mapped}"
                if stt is not None:
                    extras = extras or {}
                    extras["STT"] = as_qd130_text(stt)
        return f"{mapped}\t{escape_copy(dump_json(extras))}" if extras else f"{mapped}\t{NULL}"

    def _render_slowly(
        self, row: Mapping[str, Any], *, position: int, problems: list[dict[str, Any]] | None
    ) -> tuple[str, dict[str, Any]]:
        extras: dict[str, Any] = {}
        parts: list[str] = []
        for src, fmt in self.formatters:
            value = row.get(src)
            if value is None:
                parts.append(NULL)
                continue
            try:
                parts.append(escape_copy(fmt(value)))
            except Unstorable:
                parts.append(NULL)
                text = as_qd130_text(value)
                extras[src] = text
                if problems is not None:
                    problems.append(
                        Problem(
                            code=VALUE_KEPT_AS_TEXT,
                            table=self.table,
                            row=position,
                            field=src,
                            value=text[:100],
                            severity="warning",
                        ).as_dict()
                    )
        return "\t".join(parts), extras

    # Reading back ---------------------------------------------------------------------------

    def to_source(self, stored: Mapping[str, Any]) -> dict[str, Any]:
        """Rebuild the input row (field name → value) from a stored row (column → value)."""
        row: dict[str, Any] = {}
        if self.numbered:
            row["STT"] = stored.get("line_no")
        for src, column in self.pairs:
            value = stored.get(column)
            if isinstance(value, dt.datetime):
                value = local_naive(value)
            row[src] = value
        extra = stored.get(self.extra_column)
        if isinstance(extra, str):
            extra = json.loads(extra)
        if extra:
            row.update(extra)
        return {k: v for k, v in row.items() if v is not None}


VISIT = TableMap(
    "XML1",
    hb.Visit,
    [
        ("MA_BN", "patient_code"),
        ("HO_TEN", "full_name"),
        ("SO_CCCD", "personal_id"),
        ("NGAY_SINH", "birth_raw"),
        ("GIOI_TINH", "sex"),
        ("NHOM_MAU", "blood_group"),
        ("MA_QUOCTICH", "nationality_code"),
        ("MA_DANTOC", "ethnicity_code"),
        ("MA_NGHE_NGHIEP", "occupation_code"),
        ("DIA_CHI", "address"),
        ("MATINH_CU_TRU", "province_code"),
        ("MAHUYEN_CU_TRU", "district_code"),
        ("MAXA_CU_TRU", "commune_code"),
        ("DIEN_THOAI", "phone"),
        ("MA_THE_BHYT", "card_codes"),
        ("MA_DKBD", "primary_care_codes"),
        ("GT_THE_TU", "card_valid_from"),
        ("GT_THE_DEN", "card_valid_to"),
        ("MA_LOAI_KCB", "visit_type"),
        ("MA_DOITUONG_KCB", "patient_category"),
        ("NGAY_VAO", "admitted_at"),
        ("NGAY_VAO_NOI_TRU", "inpatient_at"),
        ("NGAY_RA", "discharged_at"),
        ("LY_DO_VV", "reason"),
        ("LY_DO_VNT", "inpatient_reason"),
        ("MA_LY_DO_VNT", "inpatient_reason_code"),
        ("CHAN_DOAN_VAO", "admission_diagnosis"),
        ("CHAN_DOAN_RV", "discharge_diagnosis"),
        ("MA_BENH_CHINH", "main_icd"),
        ("MA_BENH_KT", "secondary_icds"),
        ("MA_BENH_YHCT", "traditional_icds"),
        ("MA_PTTT_QT", "procedure_codes"),
        ("MA_NOI_DI", "referred_from"),
        ("MA_NOI_DEN", "referred_to"),
        ("GIAY_CHUYEN_TUYEN", "referral_paper_number"),
        ("MA_TAI_NAN", "accident_code"),
        ("SO_NGAY_DTRI", "treatment_days"),
        ("PP_DIEU_TRI", "treatment_method"),
        ("KET_QUA_DTRI", "outcome"),
        ("MA_LOAI_RV", "discharge_type"),
        ("MA_KHOA", "department_codes"),
        ("CAN_NANG", "weight_kg"),
        ("NGAY_TAI_KHAM", "follow_up_dates"),
        ("GHI_CHU", "advice"),
        ("MA_HSBA", "medical_record_number"),
        ("T_THUOC", "total_drugs"),
        ("T_VTYT", "total_supplies"),
        ("T_TONGCHI_BV", "total_cost"),
        ("T_TONGCHI_BH", "total_insured_cost"),
        ("T_BNTT", "patient_self_pay"),
        ("T_BNCCT", "patient_copay"),
        ("T_BHTT", "insurance_paid"),
        ("T_NGUONKHAC", "other_sources"),
    ],
    numbered=False,
    extra_column="raw_extras",
    key_fields=("MA_LK", "MA_CSKCB"),
)

DRUGS = TableMap(
    "XML2",
    hb.DrugLine,
    [
        ("MA_THUOC", "drug_code"),
        ("MA_NHOM", "cost_group"),
        ("TEN_THUOC", "name"),
        ("DON_VI_TINH", "unit"),
        ("HAM_LUONG", "strength"),
        ("DUONG_DUNG", "route_code"),
        ("DANG_BAO_CHE", "dosage_form"),
        ("LIEU_DUNG", "dose"),
        ("CACH_DUNG", "usage"),
        ("SO_DANG_KY", "registration_number"),
        ("TT_THAU", "tender_info"),
        ("PHAM_VI", "scope"),
        ("TYLE_TT_BH", "insurance_rate"),
        ("SO_LUONG", "quantity"),
        ("DON_GIA", "unit_price"),
        ("THANH_TIEN_BV", "amount"),
        ("THANH_TIEN_BH", "insured_amount"),
        ("T_NGUONKHAC_NSNN", "state_budget_support"),
        ("T_NGUONKHAC_VTNN", "foreign_aid_support"),
        ("T_NGUONKHAC_VTTN", "domestic_aid_support"),
        ("T_NGUONKHAC_CL", "other_support"),
        ("T_NGUONKHAC", "other_sources"),
        ("MUC_HUONG", "benefit_rate"),
        ("T_BNTT", "patient_self_pay"),
        ("T_BNCCT", "patient_copay"),
        ("T_BHTT", "insurance_paid"),
        ("MA_KHOA", "department_code"),
        ("MA_BAC_SI", "doctor_codes"),
        ("MA_DICH_VU", "service_codes"),
        ("NGAY_YL", "ordered_at"),
        ("NGAY_TH_YL", "administered_at"),
        ("MA_PTTT", "payment_method"),
        ("NGUON_CTRA", "funding_source"),
    ],
    numbered=True,
)

SERVICES = TableMap(
    "XML3",
    hb.ServiceLine,
    [
        ("MA_DICH_VU", "service_code"),
        ("MA_PTTT_QT", "procedure_codes"),
        ("MA_VAT_TU", "supply_code"),
        ("MA_NHOM", "cost_group"),
        ("GOI_VTYT", "supply_package"),
        ("TEN_VAT_TU", "supply_name"),
        ("TEN_DICH_VU", "name"),
        ("MA_XANG_DAU", "fuel_code"),
        ("DON_VI_TINH", "unit"),
        ("PHAM_VI", "scope"),
        ("SO_LUONG", "quantity"),
        ("DON_GIA_BV", "unit_price"),
        ("DON_GIA_BH", "insured_unit_price"),
        ("TT_THAU", "tender_info"),
        ("TYLE_TT_DV", "service_rate"),
        ("TYLE_TT_BH", "insurance_rate"),
        ("THANH_TIEN_BV", "amount"),
        ("THANH_TIEN_BH", "insured_amount"),
        ("T_TRANTT", "supply_ceiling"),
        ("MUC_HUONG", "benefit_rate"),
        ("T_NGUONKHAC_NSNN", "state_budget_support"),
        ("T_NGUONKHAC_VTNN", "foreign_aid_support"),
        ("T_NGUONKHAC_VTTN", "domestic_aid_support"),
        ("T_NGUONKHAC_CL", "other_support"),
        ("T_NGUONKHAC", "other_sources"),
        ("T_BNTT", "patient_self_pay"),
        ("T_BNCCT", "patient_copay"),
        ("T_BHTT", "insurance_paid"),
        ("MA_KHOA", "department_code"),
        ("MA_GIUONG", "bed_codes"),
        ("MA_BAC_SI", "doctor_codes"),
        ("NGUOI_THUC_HIEN", "performer_codes"),
        ("MA_BENH", "icd_codes"),
        ("MA_BENH_YHCT", "traditional_icds"),
        ("NGAY_YL", "ordered_at"),
        ("NGAY_TH_YL", "performed_at"),
        ("NGAY_KQ", "result_at"),
        ("MA_PTTT", "payment_method"),
        ("PP_VO_CAM", "anaesthesia"),
        ("VI_TRI_TH_DVKT", "body_site_code"),
        ("MA_MAY", "machine_codes"),
        ("MA_HIEU_SP", "product_model"),
        ("TAI_SU_DUNG", "reused"),
    ],
    numbered=True,
)

RESULTS = TableMap(
    "XML4",
    hb.Result,
    [
        ("MA_DICH_VU", "service_code"),
        ("MA_CHI_SO", "indicator_code"),
        ("TEN_CHI_SO", "indicator_name"),
        ("GIA_TRI", "value"),
        ("DON_VI_DO", "unit"),
        ("MO_TA", "description"),
        ("KET_LUAN", "conclusion"),
        ("NGAY_KQ", "result_at"),
        ("MA_BS_DOC_KQ", "reader_codes"),
    ],
    numbered=True,
)

NOTES = TableMap(
    "XML5",
    hb.ClinicalNote,
    [
        ("DIEN_BIEN_LS", "progress"),
        ("GIAI_DOAN_BENH", "disease_stage"),
        ("HOI_CHAN", "consultation"),
        ("PHAU_THUAT", "surgery"),
        ("THOI_DIEM_DBLS", "noted_at"),
        ("NGUOI_THUC_HIEN", "author_codes"),
    ],
    numbered=True,
)

DISCHARGE_PAPER = TableMap(
    "XML7",
    hb.DischargePaper,
    [
        ("SO_LUU_TRU", "archive_number"),
        ("MA_KHOA_RV", "department_code"),
        ("NGAY_VAO", "admitted_at"),
        ("NGAY_RA", "discharged_at"),
        ("CHAN_DOAN_RV", "diagnosis"),
        ("PP_DIEUTRI", "treatment_method"),
        ("GHI_CHU", "note"),
        ("TEN_BS", "department_head_name"),
        ("NGAY_CT", "document_date"),
        ("SO_NGAY_NGHI", "rest_days"),
        ("NGOAITRU_TUNGAY", "rest_from"),
        ("NGOAITRU_DENNGAY", "rest_to"),
    ],
    numbered=False,
)

RECORD_SUMMARY = TableMap(
    "XML8",
    hb.RecordSummary,
    [
        ("MA_LOAI_KCB", "visit_type"),
        ("NGAY_VAO", "admitted_at"),
        ("NGAY_RA", "discharged_at"),
        ("CHAN_DOAN_VAO", "admission_diagnosis"),
        ("CHAN_DOAN_RV", "discharge_diagnosis"),
        ("QT_BENHLY", "illness_course"),
        ("TOMTAT_KQ", "key_results"),
        ("PP_DIEUTRI", "treatment_method"),
        ("KET_QUA_DTRI", "outcome"),
        ("GHI_CHU", "note"),
        ("NGAY_CT", "document_date"),
    ],
    numbered=False,
)

REFERRAL = TableMap(
    "XML13",
    hb.Referral,
    [
        ("SO_HOSO", "file_number"),
        ("SO_CHUYENTUYEN", "book_number"),
        ("GIAY_CHUYEN_TUYEN", "paper_number"),
        ("MA_NOI_DI", "from_facility_code"),
        ("MA_NOI_DEN", "to_facility_code"),
        ("DAU_HIEU_LS", "clinical_signs"),
        ("CHAN_DOAN_RV", "diagnosis"),
        ("QT_BENHLY", "illness_course"),
        ("TOMTAT_KQ", "key_results"),
        ("PP_DIEUTRI", "treatment_method"),
        ("MA_BENH_CHINH", "main_icd"),
        ("MA_BENH_KT", "secondary_icds"),
        ("TEN_DICH_VU", "services_used"),
        ("TEN_THUOC", "drugs_used"),
        ("MA_LOAI_RV", "discharge_type"),
        ("MA_LYDO_CT", "reason_code"),
        ("HUONG_DIEU_TRI", "recommended_treatment"),
        ("PHUONGTIEN_VC", "transport"),
        ("HOTEN_NGUOI_HT", "escort_name"),
        ("CHUCDANH_NGUOI_HT", "escort_title"),
        ("MA_BAC_SI", "doctor_codes"),
    ],
    numbered=False,
)

FOLLOW_UP = TableMap(
    "XML14",
    hb.FollowUp,
    [
        ("SO_GIAYHEN_KL", "slip_number"),
        ("NGAY_HEN_KL", "appointment_at"),
        ("CHAN_DOAN_RV", "diagnosis"),
        ("MA_BENH_CHINH", "main_icd"),
        ("MA_BENH_KT", "secondary_icds"),
        ("MA_BAC_SI", "doctor_codes"),
        ("NGAY_CT", "document_date"),
    ],
    numbered=False,
)

# Line tables in write order (results refer to service lines), with the VisitInput attribute of each.
LINE_TABLES: tuple[tuple[str, TableMap], ...] = (
    ("drugs", DRUGS),
    ("services", SERVICES),
    ("results", RESULTS),
    ("notes", NOTES),
)
DOCUMENT_TABLES: tuple[tuple[str, TableMap], ...] = (
    ("discharge_paper", DISCHARGE_PAPER),
    ("record_summary", RECORD_SUMMARY),
    ("referral", REFERRAL),
    ("follow_up", FOLLOW_UP),
)


def split_list(value: object) -> list[str]:
    """Split a ``;``-separated QĐ 130 list (or a list of values) into stripped non-empty items."""
    if value is None:
        return []
    items: Iterable[object] = value if isinstance(value, list | tuple) else str(value).split(";")
    return [text for item in items if (text := as_qd130_text(item).strip())]
