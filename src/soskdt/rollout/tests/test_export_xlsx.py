"""The Excel workbook of Appendix 1: one sheet per section, numbers as numbers, totals as formulas.

openpyxl does not evaluate formulas, so each test checks the formula's text and that the cells it adds up
give the JSON's total (the sums are computed here).
"""

from __future__ import annotations

import io
import json
import re
from typing import Any

import pytest
from openpyxl import load_workbook
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from soskdt.rollout.exports import letterhead_for, render
from soskdt.rollout.exports.xlsx import I1_FIRST_ROW, I1_HEADER_ROW, SHEETS, UNITS_SHEET
from soskdt.rollout.report import I1_COLUMNS, Appendix1
from soskdt.rollout.tests.export_data import ExportCase, make_export_case

pytestmark = pytest.mark.django_db

COUNT_COLUMNS = {
    "C": "total_staff",
    "D": "level2_done",
    "E": "level2_missing",
    "G": "book_created",
    "H": "card_linked",
    "I": "card_missing",
}


@pytest.fixture
def case(org_tree, unit_reporter) -> ExportCase:
    return make_export_case(org_tree, unit_reporter)


def as_xlsx(appendix: Appendix1) -> tuple[Workbook, dict[str, Any]]:
    data = render(appendix, "xlsx", letterhead_for(appendix))
    return load_workbook(io.BytesIO(data)), json.loads(render(appendix, "json"))


def sum_range(ws: Worksheet, formula: str) -> int:
    """Add up the cells of ``=SUM(C7:C9)`` ourselves (numbers only, like Excel)."""
    match = re.fullmatch(r"=SUM\(([A-Z]+)(\d+):([A-Z]+)(\d+)\)", formula)
    assert match, formula
    column, first, _same, last = match.groups()
    values = [ws[f"{column}{row}"].value for row in range(int(first), int(last) + 1)]
    return sum(v for v in values if isinstance(v, int | float) and not isinstance(v, bool))


def test_one_sheet_per_section_with_the_letters_wording(case):
    book, _data = as_xlsx(case.unit_report())
    assert book.sheetnames == list(SHEETS)
    i1 = book[SHEETS[0]]
    assert [i1.cell(I1_HEADER_ROW, c).value for c in range(1, 11)] == [str(h) for _k, h in I1_COLUMNS]
    assert i1["A4"].value == "I. Kết quả thực hiện"
    assert i1["A5"].value.startswith("1. Số lượng, tỷ lệ cán bộ, công chức, viên chức, người lao động")
    assert (
        book[SHEETS[1]]["A1"].value
        == "2. Triển khai khu vực tiếp đón, hướng dẫn bệnh nhân đăng ký khám chữa bệnh"
    )
    assert book[SHEETS[2]]["A1"].value == "3. Công tác tập huấn triển khai Sổ sức khỏe điện tử"
    assert book[SHEETS[3]]["A1"].value == "4. Công tác in ấn tài liệu, tuyên truyền"
    texts = [row[0] for row in book[SHEETS[4]].iter_rows(values_only=True)]
    assert "II. Khó khăn, vướng mắc" in texts and "III. Đề xuất, kiến nghị" in texts
    assert "Thiếu điện thoại hỗ trợ NFC." in texts  # each line of the unit's text is a row


def test_table_i1_numbers_are_numbers_equal_to_the_json_and_totals_are_sum_formulas(case):
    book, data = as_xlsx(case.unit_report())
    ws = book[SHEETS[0]]
    rows = data["rows"]
    for offset, row in enumerate(rows):
        line = I1_FIRST_ROW + offset
        assert ws[f"A{line}"].value == row["number"]
        assert ws[f"B{line}"].value == row["department"]
        for column, key in COUNT_COLUMNS.items():
            cell = ws[f"{column}{line}"]
            assert cell.value == row[key] and isinstance(cell.value, int), (column, key)
            assert cell.number_format == "#,##0"
        assert ws[f"F{line}"].value == (row["level2_reasons_text"] or None)
        assert ws[f"J{line}"].value == (row["card_reasons_text"] or None)
    total = I1_FIRST_ROW + len(rows)
    last = total - 1
    assert ws[f"B{total}"].value == "Tổng cộng"
    for column, key in COUNT_COLUMNS.items():
        formula = ws[f"{column}{total}"].value
        assert formula == f"=SUM({column}{I1_FIRST_ROW}:{column}{last})"
        assert sum_range(ws, formula) == data["totals"][key] == sum(r[key] for r in rows)
    assert ws[f"J{total}"].value == data["totals"]["card_reasons_text"]
    level2_rate = next(
        ws.cell(r, 6)
        for r in range(total + 1, total + 8)
        if ws.cell(r, 2).value == "Tỷ lệ đã kích hoạt định danh VNeID mức 2"
    )
    assert level2_rate.value == f'=IF(C{total}>0,D{total}/C{total},"")'
    assert level2_rate.number_format == "0.00%"
    card_rate = ws.cell(level2_rate.row + 1, 6)
    assert card_rate.value == pytest.approx(data["totals"]["card_percent"] / 100)


def test_sections_two_to_four_add_up_with_formulas(case):
    book, data = as_xlsx(case.unit_report())
    reception = book[SHEETS[1]]
    values = {reception[f"A{r}"].value: reception[f"B{r}"].value for r in range(6, 10)}
    assert values["Cài đặt ứng dụng VNeID"] == data["reception"]["installed_app"] == 2
    assert values["Tích hợp thẻ BHYT"] == data["reception"]["linked_card"] == 1
    assert values["Mở Sổ sức khỏe điện tử"] == data["reception"]["opened_book"] == 0
    assert values["Tổng cộng"] == "=SUM(B6:B8)"
    assert sum_range(reception, "=SUM(B6:B8)") == data["reception"]["total"]

    training = book[SHEETS[2]]
    summary = {training[f"A{r}"].value: training[f"B{r}"].value for r in range(5, 10)}
    assert summary["Số buổi tập huấn trong tháng"] == data["training"]["sessions"] == 1
    assert summary["Số lượt người tham dự"] == data["training"]["attendees"] == 3
    assert summary["Số cán bộ đã được tập huấn"] == data["training"]["trained_staff"] == 2
    assert summary["Tổng số cán bộ"] == data["training"]["total_staff"] == 5
    assert summary["Tỷ lệ cán bộ đã được tập huấn"] == '=IF(B8>0,B7/B8,"")'
    cells = list(training.iter_rows(min_row=1, values_only=True))
    item = next(row for row in cells if row[2] == "Khai thác thông tin Sổ sức khỏe điện tử trên VNeID")
    assert item[0].date().isoformat() == data["training"]["items"][0]["held_on"]
    assert item[3] == data["training"]["items"][0]["attendees"]
    total = next(row for row in training.iter_rows(min_row=1) if row[2].value == "Cộng")
    assert sum_range(training, total[3].value) == sum(i["attendees"] for i in data["training"]["items"])

    printing = book[SHEETS[3]]
    kinds = [
        row
        for row in printing.iter_rows(min_row=1)
        if isinstance(row[3].value, str) and "SUMIF" in row[3].value
    ]
    assert [row[2].value for row in kinds] == [t["label"] for t in data["printing"]["totals"]]
    for row in kinds:
        match = re.fullmatch(r"=SUMIF\(\$C\$(\d+):\$C\$(\d+),C(\d+),\$D\$(\d+):\$D\$(\d+)\)", row[3].value)
        assert match, row[3].value
        first, last = int(match.group(1)), int(match.group(2))
        label = printing[f"C{match.group(3)}"].value
        summed = sum(
            printing[f"D{r}"].value for r in range(first, last + 1) if printing[f"C{r}"].value == label
        )
        expected = next(t["quantity"] for t in data["printing"]["totals"] if t["label"] == label)
        assert summed == expected == 2


def test_every_sheet_prints_landscape_fitted_to_the_width_with_frozen_wrapped_headers(case):
    book, _data = as_xlsx(case.consolidated())
    assert book.sheetnames == [*SHEETS, UNITS_SHEET]
    for ws in book.worksheets:
        assert ws.page_setup.orientation == "landscape"
        assert ws.page_setup.fitToWidth == 1 and ws.page_setup.fitToHeight == 0
        assert ws.sheet_properties.pageSetUpPr.fitToPage
        assert int(ws.page_setup.paperSize) == 9  # A4
    i1 = book[SHEETS[0]]
    assert i1.freeze_panes == f"C{I1_FIRST_ROW}"
    assert i1.print_title_rows == f"${I1_HEADER_ROW}:${I1_HEADER_ROW}"
    assert all(i1.cell(I1_HEADER_ROW, c).alignment.wrap_text for c in range(1, 11))
    assert i1.column_dimensions["B"].width >= 25 and i1.column_dimensions["F"].width >= 30
    tall = [i1.row_dimensions[r].height for r in range(I1_FIRST_ROW, I1_FIRST_ROW + 3)]
    assert all(height and height > 15 for height in tall)  # wrapped reasons get their lines


def test_consolidated_workbook_keeps_a_not_reported_unit_empty_not_zero(case):
    book, data = as_xlsx(case.consolidated())
    ws = book[SHEETS[0]]
    station_offset = next(i for i, row in enumerate(data["rows"]) if not row["has_data"])
    line = I1_FIRST_ROW + station_offset
    assert ws[f"B{line}"].value == "Trạm Y tế xã"
    assert ws[f"C{line}"].value == "Chưa báo cáo"
    assert f"C{line}:J{line}" in {str(r) for r in ws.merged_cells.ranges}
    assert all(ws[f"{c}{line}"].value is None for c in "DEGHI")
    total = I1_FIRST_ROW + len(data["rows"])
    for column, key in COUNT_COLUMNS.items():
        assert sum_range(ws, ws[f"{column}{total}"].value) == data["totals"][key]
    units = book[UNITS_SHEET]
    listed = [row[0] for row in units.iter_rows(min_row=6, values_only=True)]
    assert listed == [u["code"] for u in data["units"]]
