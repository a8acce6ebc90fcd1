"""A visit as an A4 PDF: the download that has the paper book's legal value (QĐ 31/QĐ-BYT, 2026).

fpdf2 with DejaVu Sans (regular and bold) embedded, taken from matplotlib's bundled fonts, which cover
Vietnamese. Made on request inside the logged read (``reads.visit_pdf``), never stored.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from pathlib import Path

from django.utils import timezone
from django.utils.translation import gettext as _
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from soskdt.healthbook import present
from soskdt.healthbook.reads import DrugItem, ResultItem, ServiceItem, VisitDetail

FONT = "DejaVu"
_INK = (26, 26, 26)
_MUTED = (90, 90, 90)
_BRAND = (127, 13, 19)
_SHADE = (239, 239, 236)
_LINE = (200, 200, 200)


@cache
def font_paths() -> tuple[Path, Path]:
    """DejaVu Sans and DejaVu Sans Bold from matplotlib's data directory."""
    import matplotlib

    folder = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    regular, bold = folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf"
    if not regular.exists() or not bold.exists():
        raise FileNotFoundError(f"DejaVu Sans fonts not found in {folder}")
    return regular, bold


class _VisitPdf(FPDF):
    def __init__(self, footer_text: str) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.footer_text = footer_text

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FONT, size=8)
        self.set_text_color(*_MUTED)
        page = _("Trang {page}/{pages}").format(page=self.page_no(), pages="{nb}")
        self.cell(0, 5, f"{self.footer_text}    {page}", align="C")


def _heading(pdf: FPDF, text: str) -> None:
    pdf.ln(2)
    pdf.set_font(FONT, "B", 11.5)
    pdf.set_text_color(*_BRAND)
    pdf.multi_cell(0, 7, text.upper(), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_draw_color(*_BRAND)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
    pdf.ln(1.5)
    pdf.set_text_color(*_INK)
    pdf.set_draw_color(*_LINE)


def _rows(pdf: FPDF, rows: list[tuple[str, str]]) -> None:
    if not rows:
        return
    with pdf.table(
        col_widths=(32, 68),
        first_row_as_headings=False,
        borders_layout="HORIZONTAL_LINES",
        line_height=5.2,
        padding=1,
    ) as table:
        for label, value in rows:
            row = table.row()
            pdf.set_font(FONT, size=9)
            row.cell(label)
            row.cell(value)


def _table(
    pdf: FPDF, headings: tuple[str, ...], widths: tuple[int, ...], body: list[tuple[str, ...]]
) -> None:
    pdf.set_font(FONT, size=8.5)
    with pdf.table(
        col_widths=widths,
        headings_style=_headings_style(),
        borders_layout="SINGLE_TOP_LINE",
        line_height=4.8,
        padding=1,
    ) as table:
        head = table.row()
        for text in headings:
            head.cell(text)
        for cells in body:
            row = table.row()
            for text in cells:
                row.cell(text)


def _headings_style() -> object:
    from fpdf.fonts import FontFace

    return FontFace(family=FONT, emphasis="BOLD", fill_color=_SHADE)


def _drug_rows(drugs: list[DrugItem]) -> list[tuple[str, ...]]:
    return [
        (
            d.name if not d.strength or d.strength in d.name else f"{d.name} {d.strength}",
            "; ".join(x for x in (d.dose, d.usage) if x),
            f"{present.fmt_number(d.quantity)} {d.unit}".strip(),
            d.route_label,
        )
        for d in drugs
    ]


def _flag(item: ResultItem) -> str:
    return {"high": _("Cao"), "low": _("Thấp")}.get(item.flag or "", "")


def _results(pdf: FPDF, services: list[ServiceItem], other: list[ResultItem]) -> None:
    lab_rows: list[tuple[str, ...]] = []
    reports: list[tuple[str, ResultItem]] = []
    procedures: list[ServiceItem] = []
    for service in services:
        if service.category in ("surgery", "procedure"):
            procedures.append(service)
        for result in service.results:
            if result.value:
                lab_rows.append((result.name, result.value, result.unit, result.reference, _flag(result)))
            if result.description or result.conclusion:
                reports.append((service.name, result))
    for result in other:
        if result.value:
            lab_rows.append((result.name, result.value, result.unit, result.reference, _flag(result)))
        if result.description or result.conclusion:
            reports.append((result.name, result))
    if lab_rows:
        _heading(pdf, _("Xét nghiệm"))
        _table(
            pdf,
            (_("Chỉ số"), _("Kết quả"), _("Đơn vị"), _("Tham chiếu"), _("Đánh giá")),
            (40, 16, 14, 18, 12),
            lab_rows,
        )
    if reports:
        _heading(pdf, _("Chẩn đoán hình ảnh, thăm dò chức năng"))
        for name, result in reports:
            pdf.set_font(FONT, "B", 9.5)
            pdf.multi_cell(0, 5.2, name, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            pdf.set_font(FONT, size=9)
            if result.description:
                pdf.multi_cell(
                    0, 5, f"{_('Mô tả')}: {result.description}", new_x=XPos.LMARGIN, new_y=YPos.NEXT
                )
            if result.conclusion:
                pdf.multi_cell(
                    0, 5, f"{_('Kết luận')}: {result.conclusion}", new_x=XPos.LMARGIN, new_y=YPos.NEXT
                )
            pdf.ln(1)
    if procedures:
        _heading(pdf, _("Phẫu thuật, thủ thuật"))
        _table(
            pdf,
            (_("Tên"), _("Thời điểm thực hiện"), _("Phương pháp vô cảm")),
            (55, 22, 23),
            [(s.name, present.fmt_time(s.performed_at), s.anaesthesia_label) for s in procedures],
        )


def render_visit_pdf(detail: VisitDetail, *, generated_at: dt.datetime) -> bytes:
    """Lay out one visit on A4 pages with a footer (generation time, page n of N); return the bytes."""
    regular, bold = font_paths()
    generated = timezone.localtime(generated_at).strftime("%d/%m/%Y %H:%M")
    pdf = _VisitPdf(_("Sổ sức khỏe điện tử · Tạo lúc {time}").format(time=generated))
    pdf.add_font(FONT, "", str(regular))
    pdf.add_font(FONT, "B", str(bold))
    pdf.set_title(_("Chi tiết đợt khám chữa bệnh"))
    pdf.set_author("SoSKDT")
    pdf.set_creator("SoSKDT")
    pdf.set_lang("vi")
    pdf.set_margins(15, 14, 15)
    pdf.set_auto_page_break(True, margin=16)
    pdf.alias_nb_pages()
    pdf.add_page()
    visit, summary = detail.visit, detail.summary

    pdf.set_font(FONT, size=9)
    pdf.set_text_color(*_MUTED)
    pdf.cell(0, 5, _("SỔ SỨC KHỎE ĐIỆN TỬ"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(*_INK)
    pdf.set_font(FONT, "B", 15)
    pdf.multi_cell(0, 8, _("CHI TIẾT ĐỢT KHÁM CHỮA BỆNH"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT, "B", 11)
    pdf.multi_cell(
        0, 6, f"{summary.facility_name} ({summary.facility_code})", new_x=XPos.LMARGIN, new_y=YPos.NEXT
    )
    pdf.set_font(FONT, size=10)
    dates = " – ".join(
        x for x in (present.fmt_time(visit.admitted_at), present.fmt_time(visit.discharged_at)) if x
    )
    pdf.multi_cell(0, 5.5, f"{summary.visit_type_label} · {dates}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(1)

    for section in (present.administrative(detail), present.visit_section(detail)):
        _heading(pdf, section.title)
        _rows(pdf, section.rows)

    _heading(pdf, _("Chẩn đoán xác định khi ra viện"))
    if detail.diagnoses:
        _table(
            pdf,
            (_("Mã ICD-10"), _("Chẩn đoán"), ""),
            (18, 66, 16),
            [(d.code, d.text, _("Bệnh chính") if d.main else _("Bệnh kèm theo")) for d in detail.diagnoses],
        )
    else:
        pdf.set_font(FONT, size=9)
        pdf.multi_cell(0, 5, _("Không có dữ liệu."), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    if detail.drugs:
        _heading(pdf, _("Thuốc đã điều trị, đơn thuốc"))
        _table(
            pdf,
            (_("Tên thuốc, hàm lượng"), _("Liều dùng, cách dùng"), _("Số lượng"), _("Đường dùng")),
            (36, 40, 13, 11),
            _drug_rows(detail.drugs),
        )

    if detail.items is not None:
        _results(pdf, detail.items.services, detail.items.other_results)

    for section in present.papers(detail):
        _heading(pdf, section.title)
        _rows(pdf, section.rows)

    return bytes(pdf.output())
