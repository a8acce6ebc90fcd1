"""Read register CSV files: UTF-8 check, header, records with their line numbers, value checks.

Every error code the registry import can report is declared here, once, so that
docs/registry-import.md can list them all (a test keeps the two in step).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
import tempfile
import unicodedata
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, TypeVar

from django.utils.translation import gettext_lazy as _

from soskdt.core.dates import PartialDate, parse_partial_date
from soskdt.core.errors import Problem, define, message_for
from soskdt.core.identifiers import IdentifierError

T = TypeVar("T")

# A line longer than this is not a register row; reading it whole would defeat bounded memory.
MAX_LINE_BYTES = 1 << 20

FILE_CODES = (
    define("FILE_UNREADABLE", _("Không đọc được tệp.")),
    define(
        "FILE_ENCODING_INVALID",
        _("Tệp không phải văn bản UTF-8 (lỗi giải mã ở dòng {line}). Hãy lưu lại tệp dạng “CSV UTF-8”."),
    ),
    define("FILE_EMPTY", _("Tệp trống: không có dòng tiêu đề.")),
    define(
        "CSV_MALFORMED", _("Tệp CSV sai cấu trúc ở dòng {line} (dấu ngoặc kép không khớp hoặc dòng quá dài).")
    ),
    define("COLUMN_MISSING", _("Thiếu cột bắt buộc “{column}” trong dòng tiêu đề.")),
    define("COLUMN_DUPLICATED", _("Cột “{column}” xuất hiện nhiều lần trong dòng tiêu đề.")),
    define(
        "IMPORT_INTERRUPTED", _("Lỗi cơ sở dữ liệu khi nạp lô bắt đầu từ dòng {line}; quá trình nạp đã dừng.")
    ),
)
WARNING_CODES = (
    define("COLUMN_UNKNOWN", _("Cột “{column}” không được hỗ trợ và sẽ bị bỏ qua.")),
    "PERSONAL_ID_BIRTH_YEAR_MISMATCH",
    "PERSONAL_ID_SEX_MISMATCH",
    define(
        "REPRESENTATIVE_NOT_FOUND",
        _("Người đại diện {value} không có trong sổ đăng ký dân cư; chưa liên kết."),
    ),
    define("CARD_HOLDER_NOT_FOUND", _("Chủ thẻ {value} không có trong sổ đăng ký dân cư.")),
    define("CARD_HOLDER_DETAILS_DIFFER", _("Thông tin trên thẻ khác với sổ đăng ký dân cư: {fields}.")),
)
ROW_CODES = (
    define("ROW_FIELD_COUNT", _("Dòng có {found} trường, trong khi dòng tiêu đề có {expected} cột.")),
    define("VALUE_REQUIRED", _("Thiếu giá trị bắt buộc.")),
    define("VALUE_TOO_LONG", _("Giá trị dài quá {max_length} ký tự.")),
    define("DUPLICATE_KEY", _("Khóa {value} đã xuất hiện ở một dòng trước trong tệp.")),
    define("DATE_INVALID", _("Ngày không hợp lệ; dùng dạng dd/mm/yyyy hoặc yyyy-mm-dd.")),
    define("PERIOD_INVALID", _("Ngày kết thúc không được trước ngày bắt đầu.")),
    define(
        "BIRTH_DATE_INVALID",
        _("Ngày sinh không hợp lệ; dùng dạng yyyy, yyyy-mm, yyyy-mm-dd hoặc dd/mm/yyyy."),
    ),
    define("BIRTH_DATE_IN_FUTURE", _("Ngày sinh ở tương lai.")),
    define("SEX_INVALID", _("Giới tính phải là 1 (Nam), 2 (Nữ) hoặc 3 (Chưa xác định).")),
    define("PHONE_INVALID", _("Số điện thoại phải gồm 9 đến 14 chữ số, có thể bắt đầu bằng dấu +.")),
    define("PROVINCE_CODE_INVALID", _("Mã tỉnh phải gồm 2 hoặc 3 chữ số.")),
    define("COMMUNE_CODE_INVALID", _("Mã xã phải gồm 5 chữ số.")),
    "PERSONAL_ID_INVALID",
    define("REPRESENTATIVE_SELF", _("Người đại diện không thể là chính người này.")),
    "CARD_CODE_INVALID",
    "CARD_GROUP_UNKNOWN",
    "CARD_LEVEL_INVALID",
    "SOCIAL_INSURANCE_NUMBER_INVALID",
    define("CARD_NUMBER_MISMATCH", _("Mã số BHXH phải trùng với 10 ký tự cuối của mã thẻ.")),
    define("CARD_ISSUER_INVALID", _("Cơ quan cấp phải là BHXH_VN hoặc BHXH_CAND.")),
    define(
        "CARD_PERIOD_OVERLAP",
        _(
            "Người này đã có thẻ {other} còn giá trị từ {valid_from} đến {valid_to}, trùng thời hạn với thẻ này."
        ),
    ),
    "FACILITY_CODE_INVALID",
    define(
        "FACILITY_LEVEL_INVALID",
        _("Cấp chuyên môn phải là initial (ban đầu), basic (cơ bản) hoặc specialised (chuyên sâu)."),
    ),
    define("ORG_UNIT_CODE_INVALID", _("Mã đơn vị chỉ gồm chữ, số và các dấu . - _ (tối đa 20 ký tự).")),
    define(
        "ORG_UNIT_KIND_INVALID",
        _(
            "Loại đơn vị phải là province_department, health_centre, department, commune_station, hospital, "
            "other hoặc tên tiếng Việt của loại (Sở Y tế, Trung tâm Y tế, Khoa/Phòng, Trạm Y tế, Bệnh viện, Khác)."
        ),
    ),
    define("ORG_UNIT_NOT_FOUND", _("Không tìm thấy đơn vị {value} trong sổ đăng ký.")),
    define(
        "PARENT_NOT_FOUND", _("Không tìm thấy đơn vị cấp trên {value} trong sổ đăng ký hoặc ở dòng trước.")
    ),
    define(
        "ORG_UNIT_CYCLE", _("Đơn vị cấp trên {value} nằm dưới chính đơn vị này: cây đơn vị sẽ thành vòng.")
    ),
)
IMPORT_CODES: tuple[str, ...] = FILE_CODES + WARNING_CODES + ROW_CODES

_PHONE_RE = re.compile(r"^\+?[0-9]{9,14}$")
_PHONE_SEPARATORS = str.maketrans("", "", " .-()")
_PROVINCE_RE = re.compile(r"^[0-9]{2,3}$")
_COMMUNE_RE = re.compile(r"^[0-9]{5}$")
ORG_UNIT_CODE_RE = re.compile(r"^[A-Za-z0-9._-]{1,20}$")
_SEX_VALUES = {"1": "1", "nam": "1", "2": "2", "nữ": "2", "nu": "2", "3": "3", "chưa xác định": "3"}


class FileRejected(Exception):
    """The file cannot be imported at all (unreadable, not UTF-8, bad CSV, missing columns)."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(p.code for p in problems))
        self.problems = problems


def problem(
    code: str,
    *,
    line: int | None = None,
    column: str | None = None,
    value: str | None = None,
    severity: str = "error",
    **params: Any,
) -> Problem:
    """Build a Problem whose message is formatted with its line, column, value and ``params``."""
    message = message_for(code, line=line, column=column, value=value, **params)
    return Problem(code, message=message, row=line, column=column, value=value, severity=severity)


def clean(value: str) -> str:
    """Normalise a CSV value: NFC (macOS and some tools write decomposed accents), trimmed, single spaces."""
    return " ".join(unicodedata.normalize("NFC", value).split())


class ProblemLog:
    """Problems spooled to a temporary file, so that a million bad rows do not fill memory."""

    _FIELDS = ("code", "message", "row", "column", "value", "severity")

    def __init__(self) -> None:
        self._spool: IO[str] | None = None
        self.count = 0

    def add(self, item: Problem) -> None:
        if self._spool is None:
            self._spool = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115 - lives as long as the log
        record = {name: getattr(item, name) for name in self._FIELDS}
        self._spool.write(json.dumps(record, ensure_ascii=False) + "\n")
        self.count += 1

    def __len__(self) -> int:
        return self.count

    def __iter__(self) -> Iterator[Problem]:
        if self._spool is None:
            return
        self._spool.seek(0)
        for text in self._spool:
            yield Problem(**json.loads(text))
        self._spool.seek(0, 2)


def _decoded_lines(handle: IO[bytes]) -> Iterator[str]:
    """Yield the file's lines as text; raise FileRejected at the first line that is not UTF-8 text."""
    number = 0
    while raw := handle.readline(MAX_LINE_BYTES):
        number += 1
        if len(raw) == MAX_LINE_BYTES and not raw.endswith(b"\n"):
            raise FileRejected([problem("CSV_MALFORMED", line=number)])
        try:
            # NUL never occurs in UTF-8 text (UTF-16 files are full of it) and PostgreSQL refuses it.
            if b"\x00" in raw:
                raise UnicodeDecodeError("utf-8", raw, raw.index(b"\x00"), raw.index(b"\x00") + 1, "NUL byte")
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise FileRejected([problem("FILE_ENCODING_INVALID", line=number)]) from None
        yield text.removeprefix("\ufeff") if number == 1 else text


def _records(path: Path, delimiter: str) -> Generator[tuple[int, list[str]], None, None]:
    """Yield ``(line where the record starts, fields)`` for every non-blank record."""
    try:
        with path.open("rb") as handle:
            reader = csv.reader(_decoded_lines(handle), delimiter=delimiter, strict=True)
            next_line = 1
            while True:
                try:
                    fields = next(reader)
                except StopIteration:
                    return
                except csv.Error:
                    raise FileRejected([problem("CSV_MALFORMED", line=reader.line_num)]) from None
                start, next_line = next_line, reader.line_num + 1
                # Spreadsheets append rows of empty cells; they are not records.
                if any(field.strip() for field in fields):
                    yield start, fields
    except OSError:
        raise FileRejected([problem("FILE_UNREADABLE", value=str(path))]) from None


def _sniff_delimiter(path: Path) -> str:
    # Excel with Vietnamese regional settings (decimal comma) saves CSV with semicolons.
    try:
        with path.open("rb") as handle:
            first = handle.readline(MAX_LINE_BYTES).decode("utf-8", errors="replace")
    except OSError:
        raise FileRejected([problem("FILE_UNREADABLE", value=str(path))]) from None
    return ";" if ";" in first and "," not in first else ","


@dataclass(frozen=True, slots=True)
class CsvTable:
    """A checked CSV file: its delimiter and the (normalised) column names of its header."""

    path: Path
    delimiter: str
    columns: tuple[str, ...]
    header_line: int

    def records(self) -> Iterator[tuple[int, list[str]]]:
        """Yield ``(line, fields)`` for every data record after the header."""
        for line, fields in _records(self.path, self.delimiter):
            if line > self.header_line:
                yield line, fields


def open_table(
    path: str | Path, *, known: Iterable[str], required: Iterable[str]
) -> tuple[CsvTable, list[Problem]]:
    """Check the whole file once (encoding, CSV structure, header); return it with header warnings.

    Raises FileRejected before anything is loaded, so that a bad byte on line 900,000 does not leave
    the first 899,999 rows imported.
    """
    path = Path(path)
    if not path.is_file():
        raise FileRejected([problem("FILE_UNREADABLE", value=str(path))])
    delimiter = _sniff_delimiter(path)
    records = _records(path, delimiter)
    first = next(records, None)
    if first is None:
        raise FileRejected([problem("FILE_EMPTY")])
    header_line, names = first
    columns = tuple(clean(name).lower() for name in names)
    problems: list[Problem] = []
    seen: set[str] = set()
    for name in columns:
        if name in seen:
            problems.append(problem("COLUMN_DUPLICATED", line=header_line, column=name))
        seen.add(name)
    problems += [
        problem("COLUMN_MISSING", line=header_line, column=name) for name in required if name not in seen
    ]
    if problems:
        records.close()
        raise FileRejected(problems)
    for _record in records:
        pass  # read to the end: raises on the first undecodable or malformed line
    supported = set(known)
    warnings = [
        problem("COLUMN_UNKNOWN", line=header_line, column=name, severity="warning")
        for name in columns
        if name and name not in supported
    ]
    return CsvTable(path, delimiter, columns, header_line), warnings


class RowCheck:
    """The values of one CSV row and the problems found while reading them."""

    def __init__(self, line: int, values: Mapping[str, str]) -> None:
        self.line = line
        self.values = values
        self.errors: list[Problem] = []
        self.warnings: list[Problem] = []

    def error(self, column: str | None, code: str, *, value: str | None = None, **params: Any) -> None:
        value = self.values.get(column or "") if value is None else value
        self.errors.append(problem(code, line=self.line, column=column, value=value, **params))

    def warning(self, column: str | None, code: str, *, value: str | None = None, **params: Any) -> None:
        value = self.values.get(column or "") if value is None else value
        self.warnings.append(
            problem(code, line=self.line, column=column, value=value, severity="warning", **params)
        )

    def raw(self, column: str) -> str:
        return self.values.get(column, "")

    def text(self, column: str, *, max_length: int, required: bool = False) -> str:
        value = self.raw(column)
        if not value and required:
            self.error(column, "VALUE_REQUIRED")
        elif len(value) > max_length:
            self.error(column, "VALUE_TOO_LONG", max_length=max_length)
        return value

    def _missing(self, column: str, required: bool) -> bool:
        if self.raw(column):
            return False
        if required:
            self.error(column, "VALUE_REQUIRED")
        return True

    def identifier(self, column: str, parse: Callable[[str], T], *, required: bool = True) -> T | None:
        """Parse an identifier with one of soskdt.core.identifiers' parsers; its error code is kept."""
        if self._missing(column, required):
            return None
        try:
            return parse(self.raw(column))
        except IdentifierError as exc:
            self.error(column, exc.code)
            return None

    def date(self, column: str, *, required: bool = False, default: dt.date | None = None) -> dt.date | None:
        if self._missing(column, required):
            return default
        try:
            day = parse_partial_date(self.raw(column)).as_date()
        except ValueError:
            day = None
        if day is None:
            self.error(column, "DATE_INVALID")
        return day

    def period(self, start: dt.date | None, end: dt.date | None, end_column: str) -> None:
        if start is not None and end is not None and end < start:
            self.error(end_column, "PERIOD_INVALID")

    def birth_date(self, column: str, *, today: dt.date) -> PartialDate | None:
        if self._missing(column, True):
            return None
        try:
            birth = parse_partial_date(self.raw(column))
        except ValueError:
            self.error(column, "BIRTH_DATE_INVALID")
            return None
        # Future only if even the earliest day the partial date allows is after today.
        if (birth.year, birth.month or 1, birth.day or 1) > (today.year, today.month, today.day):
            self.error(column, "BIRTH_DATE_IN_FUTURE")
            return None
        return birth

    def sex(self, column: str) -> str | None:
        if self._missing(column, True):
            return None
        sex = _SEX_VALUES.get(self.raw(column).lower())
        if sex is None:
            self.error(column, "SEX_INVALID")
        return sex

    def choice(self, column: str, choices: Mapping[str, str], code: str, *, default: str) -> str:
        """Map a value (a code or its label, any case) to its code; empty gives ``default``."""
        if not self.raw(column):
            return default
        found = choices.get(self.raw(column).lower())
        if found is None:
            self.error(column, code)
            return default
        return found

    def phone(self, column: str) -> str:
        value = self.raw(column).translate(_PHONE_SEPARATORS)
        if value and not _PHONE_RE.match(value):
            self.error(column, "PHONE_INVALID")
        return value

    def province_code(self, column: str, *, default: str = "") -> str:
        value = self.raw(column)
        if value and not _PROVINCE_RE.match(value):
            self.error(column, "PROVINCE_CODE_INVALID")
        return value or default

    def commune_code(self, column: str) -> str:
        value = self.raw(column)
        if value and not _COMMUNE_RE.match(value):
            self.error(column, "COMMUNE_CODE_INVALID")
        return value


def birth_sex_for_id(sex: str | None) -> str | None:
    """Map a register sex code to the ``'M'``/``'F'`` that the personal ID encodes (none for code 3)."""
    return {"1": "M", "2": "F"}.get(sex or "")
