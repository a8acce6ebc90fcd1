"""The roster as an Excel file: the template, reading an import (every bad row reported), and the export.

The columns and their rules are documented in docs/rollout.md; ``COLUMNS`` is the one place they are declared.
"""

from __future__ import annotations

import datetime as dt
import io
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

from django.utils.translation import gettext_lazy as _
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from soskdt.core.errors import define, message_for
from soskdt.core.identifiers import IdentifierError, parse_personal_id

MAX_ROWS = 20_000
MAX_BYTES = 5 * 1024 * 1024
SHEET_NAME = "Danh sách cán bộ"
GUIDE_SHEET_NAME = "Hướng dẫn"
YES, NO = "Có", "Không"


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    heading: str
    required: bool
    width: int
    help: str


COLUMNS: tuple[Column, ...] = (
    Column("full_name", "Họ và tên", True, 28, "Họ và tên đầy đủ, có dấu."),
    Column(
        "personal_id",
        "Số định danh cá nhân",
        True,
        20,
        "12 chữ số (số CCCD). Định dạng ô là Văn bản (Text) để giữ số 0 ở đầu.",
    ),
    Column("position", "Chức vụ", False, 22, "Ví dụ: Bác sĩ, Điều dưỡng, Trưởng khoa."),
    Column(
        "department",
        "Khoa/Phòng",
        False,
        28,
        "Khoa/phòng tại đơn vị (mỗi khoa/phòng là một dòng của bảng I.1); để trống: tên đơn vị.",
    ),
    Column("has_smartphone", "Có điện thoại thông minh", True, 14, "Có hoặc Không."),
    Column("active_from", "Ngày bắt đầu", True, 14, "Ngày bắt đầu làm việc tại đơn vị: dd/mm/yyyy."),
    Column(
        "active_to",
        "Ngày kết thúc",
        False,
        14,
        "Ngày nghỉ việc hoặc chuyển đơn vị: dd/mm/yyyy; để trống nếu đang làm việc.",
    ),
)
HEADINGS = [c.heading for c in COLUMNS]

FILE_UNREADABLE = define("ROSTER_FILE_UNREADABLE", _("Không đọc được tệp Excel (.xlsx)."))
FILE_TOO_LARGE = define("ROSTER_FILE_TOO_LARGE", _("Tệp quá lớn (tối đa 5 MB, {max_rows} dòng)."))
SHEET_EMPTY = define("ROSTER_SHEET_EMPTY", _("Trang tính không có dòng tiêu đề."))
COLUMN_MISSING = define("ROSTER_COLUMN_MISSING", _("Thiếu cột bắt buộc “{column}” trong dòng tiêu đề."))
COLUMN_DUPLICATED = define(
    "ROSTER_COLUMN_DUPLICATED", _("Cột “{column}” xuất hiện nhiều lần trong dòng tiêu đề.")
)
VALUE_REQUIRED = define("ROSTER_VALUE_REQUIRED", _("Thiếu giá trị bắt buộc."))
VALUE_TOO_LONG = define("ROSTER_VALUE_TOO_LONG", _("Giá trị dài quá {max_length} ký tự."))
PERSONAL_ID_INVALID = define("ROSTER_PERSONAL_ID_INVALID", _("Số định danh cá nhân phải gồm đúng 12 chữ số."))
PERSONAL_ID_AS_NUMBER = define(
    "ROSTER_PERSONAL_ID_AS_NUMBER",
    _("Số định danh bị lưu dạng số nên mất số 0 ở đầu; hãy định dạng cột là Văn bản (Text) và nhập lại."),
)
DUPLICATE_PERSON = define("ROSTER_DUPLICATE_PERSON", _("Số định danh này đã có ở dòng {first_row} của tệp."))
SMARTPHONE_INVALID = define("ROSTER_SMARTPHONE_INVALID", _("Chỉ ghi “Có” hoặc “Không”."))
DATE_INVALID = define("ROSTER_DATE_INVALID", _("Ngày không hợp lệ; dùng dạng dd/mm/yyyy."))
PERIOD_INVALID = define("ROSTER_PERIOD_INVALID", _("Ngày kết thúc không được trước ngày bắt đầu."))

IMPORT_CODES: tuple[str, ...] = (
    FILE_UNREADABLE,
    FILE_TOO_LARGE,
    SHEET_EMPTY,
    COLUMN_MISSING,
    COLUMN_DUPLICATED,
    VALUE_REQUIRED,
    VALUE_TOO_LONG,
    PERSONAL_ID_INVALID,
    PERSONAL_ID_AS_NUMBER,
    DUPLICATE_PERSON,
    SMARTPHONE_INVALID,
    DATE_INVALID,
    PERIOD_INVALID,
)
_MAX_LENGTH = {"full_name": 255, "position": 100, "department": 255}
_YES = {"có", "co", "x", "yes", "y", "1", "true", "đúng"}
_NO = {"không", "khong", "no", "n", "0", "false", "sai"}


@dataclass(slots=True)
class RowProblem:
    """One problem of the file: its sheet row (the header is row 1), column heading and letter, code, message."""

    code: str
    message: str
    row: int | None = None
    column: str | None = None
    column_letter: str | None = None
    value: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "column": self.column,
            "column_letter": self.column_letter,
            "code": self.code,
            "message": self.message,
            "value": self.value,
        }


@dataclass(frozen=True, slots=True)
class RosterRecord:
    row: int
    full_name: str
    personal_id: str
    position: str
    department: str
    has_smartphone: bool
    active_from: dt.date
    active_to: dt.date | None


@dataclass
class ParsedRoster:
    rows: int = 0
    records: list[RosterRecord] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFC", " ".join(str(text).split())).lower()
    text = text.replace("đ", "d")
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


_BY_HEADING = {_fold(c.heading): c for c in COLUMNS}


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return unicodedata.normalize("NFC", " ".join(str(value).split()))


def _parse_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = _text(value)
    for fmt in ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(text)


def read_roster(stream: IO[bytes] | bytes) -> ParsedRoster:
    """Read the first sheet of a roster workbook; return the good records and every problem found."""
    parsed = ParsedRoster()
    data = stream if isinstance(stream, bytes) else stream.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        parsed.problems.append(RowProblem(FILE_TOO_LARGE, message_for(FILE_TOO_LARGE, max_rows=MAX_ROWS)))
        return parsed
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        sheet = book.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header = next(rows, None)
    except Exception:  # noqa: BLE001 - openpyxl raises many kinds on a broken or foreign file
        parsed.problems.append(RowProblem(FILE_UNREADABLE, message_for(FILE_UNREADABLE)))
        return parsed
    if header is None or not any(_text(v) for v in header):
        parsed.problems.append(RowProblem(SHEET_EMPTY, message_for(SHEET_EMPTY)))
        return parsed
    positions: dict[str, int] = {}
    for index, value in enumerate(header):
        column = _BY_HEADING.get(_fold(_text(value)))
        if column is None:
            continue  # an extra column (e.g. the statuses of an export) is ignored
        if column.key in positions:
            parsed.problems.append(
                RowProblem(
                    COLUMN_DUPLICATED,
                    message_for(COLUMN_DUPLICATED, column=column.heading),
                    column=column.heading,
                )
            )
        positions[column.key] = index
    for column in COLUMNS:
        if column.required and column.key not in positions:
            parsed.problems.append(
                RowProblem(
                    COLUMN_MISSING, message_for(COLUMN_MISSING, column=column.heading), column=column.heading
                )
            )
    if parsed.problems:
        return parsed
    headings = {c.key: c.heading for c in COLUMNS}
    letters = {key: get_column_letter(index + 1) for key, index in positions.items()}
    first_row_of: dict[str, int] = {}
    for number, values in enumerate(rows, start=2):
        if not any(_text(v) for v in values):
            continue
        parsed.rows += 1
        if parsed.rows > MAX_ROWS:
            parsed.problems.append(
                RowProblem(FILE_TOO_LARGE, message_for(FILE_TOO_LARGE, max_rows=MAX_ROWS), row=number)
            )
            break
        problems: list[RowProblem] = []

        def cell(key: str, values: Sequence[Any] = values) -> Any:
            index = positions.get(key)
            return values[index] if index is not None and index < len(values) else None

        def bad(
            key: str,
            code: str,
            value: Any = None,
            number: int = number,
            problems: list[RowProblem] = problems,
            **params: Any,
        ) -> None:
            problems.append(
                RowProblem(
                    code,
                    message_for(code, **params),
                    row=number,
                    column=headings[key],
                    column_letter=letters.get(key),
                    value=None if value is None else _text(value),
                )
            )

        texts: dict[str, str] = {}
        for key in ("full_name", "position", "department"):
            texts[key] = _text(cell(key))
            if len(texts[key]) > _MAX_LENGTH[key]:
                bad(key, VALUE_TOO_LONG, texts[key][:40], max_length=_MAX_LENGTH[key])
        if not texts["full_name"]:
            bad("full_name", VALUE_REQUIRED)

        raw_id = cell("personal_id")
        personal_id = ""
        if raw_id is None or _text(raw_id) == "":
            bad("personal_id", VALUE_REQUIRED)
        elif isinstance(raw_id, int | float) and len(_text(raw_id)) < 12:
            bad("personal_id", PERSONAL_ID_AS_NUMBER, raw_id)
        else:
            try:
                personal_id = parse_personal_id(_text(raw_id).replace(" ", "")).value
            except IdentifierError:
                bad("personal_id", PERSONAL_ID_INVALID, raw_id)
        if personal_id:
            if personal_id in first_row_of:
                bad("personal_id", DUPLICATE_PERSON, personal_id, first_row=first_row_of[personal_id])
                personal_id = ""
            else:
                first_row_of[personal_id] = number

        raw_phone = cell("has_smartphone")
        smartphone: bool | None = None
        if isinstance(raw_phone, bool):
            smartphone = raw_phone
        else:
            folded = _fold(_text(raw_phone))
            if not folded:
                bad("has_smartphone", VALUE_REQUIRED)
            elif folded in {_fold(v) for v in _YES}:
                smartphone = True
            elif folded in {_fold(v) for v in _NO}:
                smartphone = False
            else:
                bad("has_smartphone", SMARTPHONE_INVALID, raw_phone)

        dates: dict[str, dt.date | None] = {"active_from": None, "active_to": None}
        for key in dates:
            raw = cell(key)
            if raw is None or _text(raw) == "":
                if key == "active_from":
                    bad(key, VALUE_REQUIRED)
                continue
            try:
                dates[key] = _parse_date(raw)
            except ValueError:
                bad(key, DATE_INVALID, raw)
        if dates["active_from"] and dates["active_to"] and dates["active_to"] < dates["active_from"]:
            bad("active_to", PERIOD_INVALID, dates["active_to"].strftime("%d/%m/%Y"))

        if problems:
            parsed.problems.extend(problems)
            continue
        assert smartphone is not None and dates["active_from"] is not None
        parsed.records.append(
            RosterRecord(
                row=number,
                full_name=texts["full_name"],
                personal_id=personal_id,
                position=texts["position"],
                department=texts["department"],
                has_smartphone=smartphone,
                active_from=dates["active_from"],
                active_to=dates["active_to"],
            )
        )
    return parsed


# --- writing -------------------------------------------------------------------------------------------

_HEADER_FONT = Font(bold=True, color="FFFFFF")
_HEADER_FILL = PatternFill("solid", fgColor="B3131B")
_WRAP = Alignment(wrap_text=True, vertical="top")


def _header(sheet: Any, headings: Sequence[str], widths: Sequence[int]) -> None:
    sheet.append(list(headings))
    for index, width in enumerate(widths, start=1):
        cell = sheet.cell(row=1, column=index)
        cell.font, cell.fill, cell.alignment = _HEADER_FONT, _HEADER_FILL, _WRAP
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"


def _save(book: Workbook) -> bytes:
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _text_columns(sheet: Any, last_row: int) -> None:
    # The personal ID column is text so that Excel keeps the leading zeros.
    letter = get_column_letter(HEADINGS.index("Số định danh cá nhân") + 1)
    for row in range(2, last_row + 1):
        sheet[f"{letter}{row}"].number_format = "@"


def _yes_no_validation(sheet: Any, last_row: int) -> None:
    letter = get_column_letter(HEADINGS.index("Có điện thoại thông minh") + 1)
    validation = DataValidation(type="list", formula1=f'"{YES},{NO}"', allow_blank=False)
    validation.error = "Chỉ ghi “Có” hoặc “Không”."
    sheet.add_data_validation(validation)
    validation.add(f"{letter}2:{letter}{last_row}")


def roster_template() -> bytes:
    """The empty import template: the data sheet with its Vietnamese headers, and a guide sheet."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = SHEET_NAME
    _header(sheet, HEADINGS, [c.width for c in COLUMNS])
    _text_columns(sheet, 1000)
    _yes_no_validation(sheet, 1000)
    guide = book.create_sheet(GUIDE_SHEET_NAME)
    _header(guide, ["Cột", "Bắt buộc", "Cách ghi"], [28, 10, 90])
    for column in COLUMNS:
        guide.append([column.heading, YES if column.required else NO, column.help])
    guide.append([])
    guide.append(
        [
            "Ghi chú",
            "",
            "Mỗi người một dòng, nhận biết theo số định danh cá nhân. Nhập lại cùng tệp không tạo trùng: "
            "người đã có trong danh sách được cập nhật; người không có trong tệp được giữ nguyên.",
        ]
    )
    for row in guide.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = _WRAP
    return _save(book)


@dataclass(frozen=True, slots=True)
class ExportRow:
    full_name: str
    personal_id: str
    position: str
    department: str
    has_smartphone: bool
    active_from: dt.date
    active_to: dt.date | None
    statuses: Sequence[tuple[str, str, str]]  # per indicator: (Đã/Chưa, reason label, source label)


def roster_export(rows: Iterable[ExportRow], status_headings: Sequence[str]) -> bytes:
    """The roster with its statuses: the template's columns first (so the file can be imported back)."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = SHEET_NAME
    extra: list[str] = []
    for heading in status_headings:
        extra += [heading, f"{heading} — lý do", f"{heading} — nguồn"]
    _header(sheet, [*HEADINGS, *extra], [*(c.width for c in COLUMNS), *([18, 34, 14] * len(status_headings))])
    count = 1
    for row in rows:
        values: list[Any] = [
            row.full_name,
            row.personal_id,
            row.position,
            row.department,
            YES if row.has_smartphone else NO,
            row.active_from.strftime("%d/%m/%Y"),
            row.active_to.strftime("%d/%m/%Y") if row.active_to else "",
        ]
        for state, reason, source in row.statuses:
            values += [state, reason, source]
        sheet.append(values)
        count += 1
    _text_columns(sheet, count)
    return _save(book)
