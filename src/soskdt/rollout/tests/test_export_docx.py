"""The Word file of Appendix 1: opened again with python-docx, its cells say what the JSON says.

It is laid out as an administrative document (Nghị định 30/2020/NĐ-CP): national heading, issuing unit,
number and date line, title, table I.1 with the letter's headings, sections, signature block, page numbers —
in Times New Roman in every font slot.
"""

from __future__ import annotations

import io
import json
import re
from typing import Any

import pytest
from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from docx.table import Table

from soskdt.rollout.exports import letterhead_for, render
from soskdt.rollout.report import I1_COLUMNS, Appendix1
from soskdt.rollout.tests.export_data import DIFFICULTIES, LONG_BINH, PROPOSALS, ExportCase, make_export_case

pytestmark = pytest.mark.django_db

NUMBER_KEYS = ("total_staff", "level2_done", "level2_missing", "book_created", "card_linked", "card_missing")


@pytest.fixture
def case(org_tree, unit_reporter) -> ExportCase:
    return make_export_case(org_tree, unit_reporter)


def as_docx(appendix: Appendix1) -> tuple[DocumentObject, dict[str, Any]]:
    data = render(appendix, "docx", letterhead_for(appendix))
    return Document(io.BytesIO(data)), json.loads(render(appendix, "json"))


def vn(value: int) -> str:
    return f"{value:,}".replace(",", ".")


def i1_table(doc: DocumentObject) -> Table:
    headings = [str(heading) for _key, heading in I1_COLUMNS]
    for table in doc.tables:
        if [cell.text for cell in table.rows[0].cells] == headings:
            return table
    raise AssertionError("no table with the letter's I.1 headings")


def all_text(doc: DocumentObject) -> str:
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            parts.extend(cell.text for cell in row.cells)
    return "\n".join(parts)


def runs_with(doc: DocumentObject, text: str) -> list[Any]:
    found = []
    paragraphs = list(doc.paragraphs)
    for table in doc.tables:
        for row in table.rows:
            for cell in row.cells:
                paragraphs.extend(cell.paragraphs)
    for paragraph in paragraphs:
        found.extend(run for run in paragraph.runs if run.text == text)
    assert found, f"no run {text!r}"
    return found


def test_unit_report_table_cells_equal_the_json_values(case):
    doc, data = as_docx(case.unit_report())
    table = i1_table(doc)
    body, totals = table.rows[1:-1], table.rows[-1]
    assert [row["department"] for row in data["rows"]] == ["Khoa Khám bệnh", LONG_BINH]
    assert len(body) == len(data["rows"])
    for cells, row in zip(body, data["rows"], strict=True):
        texts = [cell.text for cell in cells.cells]
        assert texts[0] == str(row["number"])
        assert texts[1] == row["department"]
        assert [texts[2], texts[3], texts[4], texts[6], texts[7], texts[8]] == [
            vn(row[key]) for key in NUMBER_KEYS
        ]
        assert texts[5] == row["level2_reasons_text"]
        assert texts[9] == row["card_reasons_text"]
    total_texts = [cell.text for cell in totals.cells]
    assert total_texts[:2] == ["", "Tổng cộng"]
    assert [total_texts[i] for i in (2, 3, 4, 6, 7, 8)] == [vn(data["totals"][key]) for key in NUMBER_KEYS]
    assert total_texts[9] == data["totals"]["card_reasons_text"]
    assert "Lý do khác (Đang đi công tác): 1" in total_texts[9]
    assert all(run.bold for run in totals.cells[1].paragraphs[0].runs)


def test_unit_report_has_the_national_heading_title_sections_and_signature(case):
    appendix = case.unit_report()
    doc, data = as_docx(appendix)
    text = all_text(doc)
    for expected in (
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "TRUNG TÂM Y TẾ KHU VỰC",  # the governing body above the unit
        "KHOA KHÁM BỆNH",
        "BÁO CÁO",
        "Kết quả triển khai thực hiện sổ sức khỏe điện tử trên ứng dụng VNeID tháng 01/2025",
        "Kính gửi: Trung tâm Y tế khu vực.",
        "I. Kết quả thực hiện",
        "2. Triển khai khu vực tiếp đón, hướng dẫn bệnh nhân đăng ký khám chữa bệnh",
        "Số lượt hướng dẫn người bệnh: 3 (cài đặt ứng dụng VNeID: 2; tích hợp thẻ BHYT: 1;",
        "3. Công tác tập huấn triển khai Sổ sức khỏe điện tử",
        "4. Công tác in ấn tài liệu, tuyên truyền",
        "Banner Hướng dẫn sử dụng Sổ sức khỏe điện tử trên ứng dụng VNeID: 2",
        "II. Khó khăn, vướng mắc",
        "III. Đề xuất, kiến nghị",
        PROPOSALS,
        "THỦ TRƯỞNG ĐƠN VỊ",
        "(Ký tên và đóng dấu)",
        "Nơi nhận:",
        "- Như trên;",
        "- Lưu: VT.",
    ):
        assert expected in text, expected
    for line in DIFFICULTIES.splitlines():
        assert line in text
    assert re.search(r"Số: +/BC-KKB", text)
    assert re.search(r"[Nn]gày \d{2} tháng (0[12]|[3-9]|1[012]) năm \d{4}", text)
    assert all(run.bold for run in runs_with(doc, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"))
    motto = runs_with(doc, "Độc lập - Tự do - Hạnh phúc")
    assert all(run.bold and run.underline for run in motto)
    assert all(run.bold for run in runs_with(doc, "BÁO CÁO"))
    assert all(run.bold for run in runs_with(doc, "THỦ TRƯỞNG ĐƠN VỊ"))
    assert all(run.italic for run in runs_with(doc, "(Ký tên và đóng dấu)"))
    assert data["unit"]["name"] == "Khoa Khám bệnh"


def test_every_font_slot_is_times_new_roman_and_no_theme_font_can_override_it(case):
    doc, _data = as_docx(case.unit_report())
    normal = doc.styles["Normal"]
    assert normal.font.name == "Times New Roman"
    assert normal.font.size.pt == 13
    fonts = normal.element.rPr.find(qn("w:rFonts"))
    for slot in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        assert fonts.get(qn(slot)) == "Times New Roman"
    defaults = doc.styles.element.find(qn("w:docDefaults")).find(f"{qn('w:rPrDefault')}/{qn('w:rPr')}")
    assert defaults.find(qn("w:rFonts")).get(qn("w:eastAsia")) == "Times New Roman"
    styles_xml = doc.styles.element.xml
    assert "asciiTheme" not in styles_xml and "eastAsiaTheme" not in styles_xml
    for paragraph in doc.paragraphs:
        for run in paragraph.runs:
            assert run.font.name in (None, "Times New Roman")
    for fonts in doc.element.body.iter(qn("w:rFonts")):
        assert set(fonts.attrib.values()) <= {"Times New Roman"}


def test_the_page_is_a4_landscape_with_decree_30_margins_and_numbered_pages_at_the_top_from_page_two(case):
    doc, _data = as_docx(case.unit_report())
    section = doc.sections[0]
    assert section.orientation == WD_ORIENT.LANDSCAPE
    assert abs(section.page_width - Mm(297)) < Mm(1) and abs(section.page_height - Mm(210)) < Mm(1)
    for margin, (low, high) in (
        (section.top_margin, (20, 25)),
        (section.bottom_margin, (20, 25)),
        (section.left_margin, (30, 35)),
        (section.right_margin, (15, 20)),
    ):
        assert Mm(low - 0.1) <= margin <= Mm(high + 0.1)  # stored in twips: 15 mm is 14.997 mm
    # Nghị định 30/2020/NĐ-CP: the number at the top centre, not on the first page.
    assert section.different_first_page_header_footer
    assert 'w:instr="PAGE"' in section.header._element.xml
    assert 'w:instr="PAGE"' not in section.first_page_header._element.xml
    assert not section.first_page_header.is_linked_to_previous
    assert "PAGE" not in section.footer._element.xml and "PAGE" not in section.first_page_footer._element.xml
    [number] = section.header.paragraphs
    assert number.alignment == WD_ALIGN_PARAGRAPH.CENTER
    [run] = number._p.iter(qn("w:r"))
    assert run.rPr.sz_val == Pt(13) and run.rPr.rFonts.get(qn("w:ascii")) == "Times New Roman"
    assert section.header_distance <= section.top_margin  # inside the top margin
    header = i1_table(doc).rows[0]._tr
    assert header.trPr.find(qn("w:tblHeader")) is not None  # the headings repeat on every page


def test_consolidated_report_numbers_every_units_rows_once_and_is_signed_by_the_director(case):
    appendix = case.consolidated()
    doc, data = as_docx(appendix)
    table = i1_table(doc)
    body = table.rows[1:-1]
    assert [cells.cells[0].text for cells in body] == [str(n) for n in range(1, len(data["rows"]) + 1)]
    departments = [cells.cells[1].text for cells in body]
    # the examination department has not submitted: its rows are provisional, marked (*)
    assert departments[0] == "Khoa Khám bệnh (*)"
    assert departments[1] == f"{LONG_BINH} (Khoa Khám bệnh) (*)"
    assert departments[2] == "Phòng Kế hoạch - Nghiệp vụ"  # submitted: frozen numbers, no mark
    station = body[3]
    assert station.cells[1].text == "Trạm Y tế xã"
    assert {cell.text for cell in station.cells[2:]} == {"Chưa báo cáo"}  # merged: null counts, not 0
    assert not data["rows"][3]["has_data"] and data["rows"][3]["total_staff"] is None
    totals = [cell.text for cell in table.rows[-1].cells]
    assert [totals[i] for i in (2, 3, 4, 6, 7, 8)] == [vn(data["totals"][key]) for key in NUMBER_KEYS]
    assert data["totals"]["total_staff"] == 7
    text = all_text(doc)
    assert "SỞ Y TẾ" in text and "TRUNG TÂM Y TẾ KHU VỰC" in text
    assert "GIÁM ĐỐC" in text and "(Ký tên và đóng dấu)" in text
    assert "THỦ TRƯỞNG ĐƠN VỊ" not in text
    assert re.search(r"Số: +/BC-TTYT", text)
    assert "Số đơn vị đã nộp báo cáo: 1/3" in text
    assert "(*) Đơn vị chưa nộp báo cáo: số liệu tạm tính đến" in text
    assert "Khoa Khám bệnh: Một số thẻ BHYT" in text  # II gathers every unit's difficulties, by unit
