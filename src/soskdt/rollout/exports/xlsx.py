"""Appendix 1 as an Excel workbook: one sheet per section, numbers as numbers, totals as formulas.

Sheets: ``I.1 Kết quả`` (the letter's table; ``=SUM`` totals; the level-2 rate as a formula),
``I.2 Tiếp đón``, ``I.3 Tập huấn``, ``I.4 In ấn`` (totals per kind with ``=SUMIF``), ``II-III``, and for a
consolidation ``Đơn vị báo cáo`` (each unit's status and timeliness). Every sheet prints on A4 landscape, fitted
to the page width, with its header row repeated; headers wrap and the panes are frozen under them.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from soskdt.rollout.exports import (
    NOT_REPORTED,
    Letterhead,
    default_letterhead,
    i1_values,
    provisional_note,
    unit_sources,
)
from soskdt.rollout.periods import local_zone
from soskdt.rollout.report import HEADINGS, I1_COLUMNS, SCOPE_CONSOLIDATED, Appendix1

SHEETS = ("I.1 Kết quả", "I.2 Tiếp đón", "I.3 Tập huấn", "I.4 In ấn", "II-III")
UNITS_SHEET = "Đơn vị báo cáo"
#: Table I.1: the header row and the first data row of sheet "I.1 Kết quả".
I1_HEADER_ROW = 6
I1_FIRST_ROW = I1_HEADER_ROW + 1
I1_WIDTHS = (5, 26, 11, 11, 11, 32, 11, 11, 11, 32)
I1_SUM_COLUMNS = ("C", "D", "E", "G", "H", "I")  # the count columns
RATE_COLUMN = 6  # F: the rates under table I.1
TEXT_WIDTH = 110  # sheet II-III: one wide column of wrapped text
RECEPTION_LABELS = (
    ("installed_app", "Cài đặt ứng dụng VNeID"),
    ("linked_card", "Tích hợp thẻ BHYT"),
    ("opened_book", "Mở Sổ sức khỏe điện tử"),
)
INT = "#,##0"
PERCENT = "0.00%"
DATE = "dd/mm/yyyy"

_BOLD = Font(name="Times New Roman", bold=True)
_TITLE = Font(name="Times New Roman", bold=True, size=13)
_ITALIC = Font(name="Times New Roman", italic=True)
_PLAIN = Font(name="Times New Roman")
_HEAD_FILL = PatternFill("solid", fgColor="E8EEF4")
_THIN = Side(style="thin", color="808080")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_WRAP_TOP = Alignment(wrap_text=True, vertical="top")
_CENTRE = Alignment(horizontal="center", vertical="center", wrap_text=True)


def render_xlsx(appendix: Appendix1, letterhead: Letterhead | None = None) -> bytes:
    """The report as an .xlsx workbook."""
    head = letterhead or default_letterhead(appendix)
    book = Workbook()
    first = book.active
    assert first is not None
    first.title = SHEETS[0]
    _i1(first, appendix, head)
    _reception(book.create_sheet(SHEETS[1]), appendix, head)
    _training(book.create_sheet(SHEETS[2]), appendix, head)
    _printing(book.create_sheet(SHEETS[3]), appendix, head)
    _texts(book.create_sheet(SHEETS[4]), appendix, head)
    if appendix.scope == SCOPE_CONSOLIDATED:
        _units(book.create_sheet(UNITS_SHEET), appendix, head)
    book.properties.title = f"Phụ lục 1 — {head.issuer} — {appendix.period.label}"
    book.properties.creator = "SoSKDT"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# --- helpers -------------------------------------------------------------------------------------------


def _print_setup(ws: Worksheet, header_row: int | None, widths: Sequence[float]) -> None:
    for index, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(index)].width = width
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0  # as many pages down as needed
    ws.sheet_properties.pageSetUpPr.fitToPage = True  # type: ignore[union-attr]
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = 30 / 25.4
    ws.page_margins.right = 15 / 25.4
    ws.page_margins.top = 20 / 25.4
    ws.page_margins.bottom = 20 / 25.4
    ws.oddFooter.center.text = "Trang &P/&N"
    if header_row is not None:
        ws.print_title_rows = f"{header_row}:{header_row}"
        ws.freeze_panes = f"A{header_row + 1}"


def _banner(ws: Worksheet, appendix: Appendix1, head: Letterhead, heading: str, columns: int) -> None:
    """Rows 1–3: the section's heading (the letter's words), the unit and month, the reading time."""
    last = get_column_letter(columns)
    ws["A1"] = heading
    ws["A1"].font = _TITLE
    ws["A1"].alignment = Alignment(wrap_text=True, vertical="center")
    ws.merge_cells(f"A1:{last}1")
    ws.row_dimensions[1].height = 34
    scope = "Tổng hợp" if appendix.scope == SCOPE_CONSOLIDATED else "Đơn vị"
    ws["A2"] = f"{scope}: {head.issuer} — tháng {appendix.period.label}"
    ws["A2"].font = _BOLD
    ws.merge_cells(f"A2:{last}2")
    as_of = appendix.as_of.astimezone(local_zone())
    ws["A3"] = f"Số liệu tính đến {as_of:%H:%M} ngày {as_of:%d/%m/%Y}"
    ws["A3"].font = _ITALIC
    ws.merge_cells(f"A3:{last}3")


def _header(ws: Worksheet, row: int, headings: Sequence[str]) -> None:
    for column, text in enumerate(headings, start=1):
        cell = ws.cell(row=row, column=column, value=text)
        cell.font = _BOLD
        cell.fill = _HEAD_FILL
        cell.alignment = _CENTRE
        cell.border = _BOX


def _fit_height(
    ws: Worksheet, row: int, texts: Sequence[tuple[Any, float]], *, line_pt: float = 14.5
) -> None:
    """Set a row's height for its wrapped texts: Excel does not re-measure rows of a generated file."""
    lines = 1
    for value, width in texts:
        if isinstance(value, str) and value and not value.startswith("="):
            per_line = max(width * 1.5, 1)  # characters of 11 pt Times New Roman per line, roughly
            lines = max(lines, sum(max(1, -(-len(part) // int(per_line))) for part in value.split("\n")))
    ws.row_dimensions[row].height = lines * line_pt + 3


def _put(ws: Worksheet, row: int, column: int, value: Any, *, fmt: str = "", bold: bool = False) -> None:
    cell = ws.cell(row=row, column=column, value=value)
    cell.border = _BOX
    cell.font = _BOLD if bold else _PLAIN
    if fmt:
        cell.number_format = fmt
    if isinstance(value, str) and not value.startswith("="):
        cell.alignment = _WRAP_TOP
    else:
        cell.alignment = Alignment(vertical="top")


def _note(ws: Worksheet, row: int, text: str, columns: int) -> int:
    """Free text under a table (one row per line); return the next free row."""
    for line in [line.strip() for line in text.splitlines() if line.strip()]:
        ws.cell(row=row, column=1, value=line).alignment = Alignment(wrap_text=True, vertical="top")
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=columns)
        ws.row_dimensions[row].height = 15 * max(1, len(line) // 120 + 1)
        row += 1
    return row


# --- the sheets ----------------------------------------------------------------------------------------


def _i1(ws: Worksheet, appendix: Appendix1, head: Letterhead) -> None:
    columns = len(I1_COLUMNS)
    _banner(ws, appendix, head, f"{HEADINGS['title']} — tháng {appendix.period.label}", columns)
    ws["A4"] = str(HEADINGS["part_i"])
    ws["A4"].font = _BOLD
    ws["A5"] = str(HEADINGS["i1"])
    ws["A5"].alignment = Alignment(wrap_text=True, vertical="top")
    ws["A5"].font = _BOLD
    ws.merge_cells(f"A5:{get_column_letter(columns)}5")
    ws.row_dimensions[5].height = 32
    _header(ws, I1_HEADER_ROW, [str(heading) for _key, heading in I1_COLUMNS])
    ws.row_dimensions[I1_HEADER_ROW].height = 80
    sources = unit_sources(appendix)
    row_no = I1_FIRST_ROW
    for row in appendix.rows:
        values = i1_values(appendix, row, sources)
        if row.has_data:
            for column, value in enumerate(values, start=1):
                _put(ws, row_no, column, value, fmt=INT if isinstance(value, int) else "")
            _fit_height(ws, row_no, list(zip(values, I1_WIDTHS, strict=True)))
        else:
            _put(ws, row_no, 1, values[0], fmt=INT)
            _put(ws, row_no, 2, values[1])
            for column in range(3, columns + 1):
                _put(ws, row_no, column, None)
            ws.cell(row=row_no, column=3, value=NOT_REPORTED).font = _ITALIC
            ws.cell(row=row_no, column=3).alignment = Alignment(horizontal="center")
            ws.merge_cells(start_row=row_no, start_column=3, end_row=row_no, end_column=columns)
        row_no += 1
    last = row_no - 1
    totals = appendix.totals
    total_row = row_no
    _put(ws, total_row, 1, None, bold=True)
    _put(ws, total_row, 2, str(totals.department), bold=True)
    for column, (key, _heading) in enumerate(I1_COLUMNS, start=1):
        letter = get_column_letter(column)
        if letter in I1_SUM_COLUMNS:
            total: Any = f"=SUM({letter}{I1_FIRST_ROW}:{letter}{last})" if appendix.rows else 0
            _put(ws, total_row, column, total, fmt=INT, bold=True)
        elif key.endswith("_reasons_text"):
            _put(ws, total_row, column, getattr(totals, key), bold=True)
    _fit_height(
        ws, total_row, [(totals.level2_reasons_text, I1_WIDTHS[5]), (totals.card_reasons_text, I1_WIDTHS[9])]
    )
    row_no = total_row + 2
    note = provisional_note(appendix)
    if note:
        row_no = _note(ws, row_no, note, columns) + 1
    # The rates the form's title asks for: label across B:E, value in F.
    phones = totals.smartphone_staff or 0
    rates: list[tuple[str, Any]] = [
        ("Tỷ lệ đã kích hoạt định danh VNeID mức 2", f'=IF(C{total_row}>0,D{total_row}/C{total_row},"")'),
        (f"Tỷ lệ đã tích hợp thẻ BHYT (trên {phones} người có điện thoại thông minh)", totals.card_percent),
        (f"Tỷ lệ đã khởi tạo Sổ SKĐT (trên {phones} người có điện thoại thông minh)", totals.book_percent),
    ]
    for label, value in rates:
        ws.cell(row=row_no, column=2, value=label).font = _BOLD
        ws.merge_cells(start_row=row_no, start_column=2, end_row=row_no, end_column=RATE_COLUMN - 1)
        if value is not None and not isinstance(value, str):
            value = float(value) / 100
        ws.cell(row=row_no, column=RATE_COLUMN, value=value).number_format = PERCENT
        row_no += 1
    _print_setup(ws, I1_HEADER_ROW, I1_WIDTHS)
    ws.freeze_panes = f"C{I1_FIRST_ROW}"


def _reception(ws: Worksheet, appendix: Appendix1, head: Letterhead) -> None:
    _banner(ws, appendix, head, str(HEADINGS["i2"]), 2)
    header = 5
    _header(ws, header, ["Nội dung hướng dẫn người bệnh", "Số lượt"])
    row = header + 1
    for key, label in RECEPTION_LABELS:
        _put(ws, row, 1, label)
        _put(ws, row, 2, getattr(appendix.reception, key), fmt=INT)
        row += 1
    _put(ws, row, 1, "Tổng cộng", bold=True)
    _put(ws, row, 2, f"=SUM(B{header + 1}:B{row - 1})", fmt=INT, bold=True)
    _note(ws, row + 2, appendix.reception.note, 2)
    _print_setup(ws, header, (60, 16))


def _training(ws: Worksheet, appendix: Appendix1, head: Letterhead) -> None:
    training = appendix.training
    _banner(ws, appendix, head, str(HEADINGS["i3"]), 4)
    summary = (
        ("Số buổi tập huấn trong tháng", training.sessions),
        ("Số lượt người tham dự", training.attendees),
        ("Số cán bộ đã được tập huấn", training.trained_staff),
        ("Tổng số cán bộ", training.total_staff),
    )
    row = 5
    for label, value in summary:
        _put(ws, row, 1, label, bold=True)
        _put(ws, row, 2, value, fmt=INT)
        row += 1
    _put(ws, row, 1, "Tỷ lệ cán bộ đã được tập huấn", bold=True)
    _put(ws, row, 2, f'=IF(B{row - 1}>0,B{row - 2}/B{row - 1},"")', fmt=PERCENT)
    header = row + 2
    _header(ws, header, ["Ngày tập huấn", "Đơn vị", "Nội dung tập huấn", "Số người tham dự"])
    row = header + 1
    for item in training.items:
        _put(ws, row, 1, item.held_on, fmt=DATE)
        _put(ws, row, 2, item.unit_name or head.issuer)
        _put(ws, row, 3, item.topic)
        _put(ws, row, 4, item.attendees, fmt=INT)
        _fit_height(ws, row, [(item.unit_name or head.issuer, 34), (item.topic, 60)])
        row += 1
    _put(ws, row, 3, "Cộng", bold=True)
    _put(ws, row, 4, f"=SUM(D{header + 1}:D{row - 1})" if training.items else 0, fmt=INT, bold=True)
    _note(ws, row + 2, training.note, 4)
    _print_setup(ws, header, (34, 34, 60, 16))
    ws.freeze_panes = f"A{header + 1}"


def _printing(ws: Worksheet, appendix: Appendix1, head: Letterhead) -> None:
    printing = appendix.printing
    _banner(ws, appendix, head, str(HEADINGS["i4"]), 7)
    header = 5
    _header(ws, header, ["Ngày", "Đơn vị", "Loại", "Số lượng", "In màu", "Nơi dán, đặt", "Ghi chú"])
    row = header + 1
    for item in printing.items:
        _put(ws, row, 1, item.recorded_on, fmt=DATE)
        _put(ws, row, 2, item.unit_name or head.issuer)
        _put(ws, row, 3, item.kind_label)
        _put(ws, row, 4, item.quantity, fmt=INT)
        _put(ws, row, 5, "Màu" if item.colour else "Trắng đen")
        _put(ws, row, 6, item.location)
        _put(ws, row, 7, item.note)
        _fit_height(
            ws, row, [(item.unit_name or head.issuer, 30), (item.kind_label, 26), (item.location, 40)]
        )
        row += 1
    first, last = header + 1, row - 1
    row += 1
    _header(ws, row, ["Tổng theo loại", "", "Loại", "Số lượng"])
    row += 1
    for total in printing.totals:
        _put(ws, row, 3, total.label)
        _put(ws, row, 4, f"=SUMIF($C${first}:$C${last},C{row},$D${first}:$D${last})", fmt=INT)
        row += 1
    if not printing.items:
        ws.cell(
            row=header + 1, column=1, value="Chưa có hoạt động in ấn, tuyên truyền trong tháng."
        ).font = _ITALIC
    _note(ws, row + 1, printing.note, 7)
    _print_setup(ws, header, (13, 30, 26, 12, 12, 40, 30))


def _texts(ws: Worksheet, appendix: Appendix1, head: Letterhead) -> None:
    row = 1
    for heading, text in (
        (HEADINGS["part_ii"], appendix.difficulties),
        (HEADINGS["part_iii"], appendix.proposals),
    ):
        ws.cell(row=row, column=1, value=str(heading)).font = _TITLE
        row += 1
        lines = [line.strip() for line in (text or "").splitlines() if line.strip()] or ["—"]
        for line in lines:
            cell = ws.cell(row=row, column=1, value=line)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            cell.font = _PLAIN
            _fit_height(ws, row, [(line, TEXT_WIDTH)])
            row += 1
        row += 1
    _print_setup(ws, None, (TEXT_WIDTH,))


def _units(ws: Worksheet, appendix: Appendix1, head: Letterhead) -> None:
    _banner(ws, appendix, head, "Tình hình nộp báo cáo của các đơn vị", 5)
    header = 5
    _header(ws, header, ["Mã đơn vị", "Đơn vị", "Trạng thái", "Thời hạn", "Nộp lúc"])
    row = header + 1
    for status in appendix.units:
        _put(ws, row, 1, status.unit.code)
        _put(ws, row, 2, status.unit.name)
        _put(ws, row, 3, status.status_label)
        _put(ws, row, 4, status.timeliness_label)
        submitted = (
            status.submitted_at.astimezone(local_zone()).replace(tzinfo=None) if status.submitted_at else None
        )
        _put(ws, row, 5, submitted, fmt="dd/mm/yyyy hh:mm")
        row += 1
    _print_setup(ws, header, (18, 40, 20, 18, 18))
