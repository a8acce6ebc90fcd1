"""Appendix 1 as a PDF: the Word document's content and layout, for printing or sending as is.

fpdf2 on A4 landscape with DejaVu Serif (regular, bold, italic, bold italic) embedded from matplotlib's bundled
fonts, which cover Vietnamese; the text stays extractable (each font carries its ToUnicode map). DejaVu Serif
is wider than Times New Roman, so it is set a point smaller than the Word file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from soskdt.rollout.exports import (
    NATIONAL_MOTTO,
    NATIONAL_NAME,
    NOT_REPORTED,
    Letterhead,
    addressee_line,
    completeness_line,
    default_letterhead,
    i1_texts,
    intro_line,
    provisional_note,
    rates_line,
    sections,
    title_lines,
    unit_sources,
)
from soskdt.rollout.report import HEADINGS, I1_COLUMNS, Appendix1

FONT = "DejaVuSerif"
BODY_PT = 12
SMALL_PT = 10.5
TABLE_PT = 9
HEAD_PT = 8.5
LINE_MM = 6.0
MARGINS_MM = {"top": 20, "bottom": 20, "left": 30, "right": 15}
TEXT_WIDTH_MM = 297 - MARGINS_MM["left"] - MARGINS_MM["right"]
LEFT_MM = 112
RIGHT_MM = TEXT_WIDTH_MM - LEFT_MM
I1_WIDTHS_MM = (10, 32, 19, 19, 19, 48, 19, 19, 19, 48)
_NUMERIC = {0, 2, 3, 4, 6, 7, 8}
_SIGNATURE_ROOM_MM = 48  # the signer's title, the note, and space for the signature and the seal


@cache
def font_files() -> dict[str, Path]:
    """DejaVu Serif's four styles from matplotlib's data directory ("" regular, B, I, BI)."""
    import matplotlib

    folder = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    files = {
        "": folder / "DejaVuSerif.ttf",
        "B": folder / "DejaVuSerif-Bold.ttf",
        "I": folder / "DejaVuSerif-Italic.ttf",
        "BI": folder / "DejaVuSerif-BoldItalic.ttf",
    }
    missing = [str(path) for path in files.values() if not path.exists()]
    if missing:
        raise FileNotFoundError(f"DejaVu Serif fonts not found: {', '.join(missing)}")
    return files


class _ReportPdf(FPDF):
    def __init__(self) -> None:
        super().__init__(orientation="landscape", unit="mm", format="A4")
        self.measure = _Measure(self)

    def header(self) -> None:
        # Nghị định 30/2020/NĐ-CP (Phụ lục I): the page number centred in the top margin, none on page 1.
        if self.page_no() < 2:
            return
        y = self.get_y()
        self.set_y(MARGINS_MM["top"] - 11)
        self.set_font(FONT, size=BODY_PT)
        self.cell(0, 5, str(self.page_no()), align="C")
        self.set_y(y)


def render_pdf(appendix: Appendix1, letterhead: Letterhead | None = None) -> bytes:
    """The report as a PDF."""
    head = letterhead or default_letterhead(appendix)
    pdf = _ReportPdf()
    for style, path in font_files().items():
        pdf.add_font(FONT, style, str(path))
    pdf.set_margins(MARGINS_MM["left"], MARGINS_MM["top"], MARGINS_MM["right"])
    pdf.set_auto_page_break(True, margin=MARGINS_MM["bottom"])
    kind, summary = title_lines(appendix)
    pdf.set_title(f"{kind} {summary}")
    pdf.set_author(head.issuer)
    pdf.set_creator("SoSKDT")
    pdf.set_lang("vi")
    pdf.add_page()
    _letterhead(pdf, head)
    _title(pdf, appendix, head)
    _part_one(pdf, appendix)
    for section in sections(appendix):
        _keep_room(pdf, 3 * LINE_MM)  # a heading never ends a page alone
        _text(pdf, section.heading, style="B", indent=True)
        for paragraph in section.paragraphs:
            _text(pdf, paragraph, indent=True)
        for bullet in section.bullets:
            _text(pdf, f"- {bullet}", indent=True)
    _signature(pdf, head)
    return bytes(pdf.output())


def _keep_room(pdf: _ReportPdf, height: float) -> None:
    if pdf.will_page_break(height):
        pdf.add_page()


def _text(
    pdf: _ReportPdf,
    text: str,
    *,
    style: str = "",
    size: float = BODY_PT,
    align: str = "J",
    indent: bool = False,
    after: float = 1.5,
) -> None:
    """A paragraph across the text width: justified (``J``) or left-aligned (``L``), first line indented."""
    width = pdf.w - pdf.l_margin - pdf.r_margin
    first = 10.0 if indent else 0.0
    line = LINE_MM * size / BODY_PT
    lines = pdf.measure.wrap(text, width, style, size, first_indent=first)
    pdf.set_font(FONT, style, size)
    space = pdf.measure.width(style, size, " ")
    for index, (words, used) in enumerate(lines):
        if pdf.will_page_break(line):
            pdf.add_page()
            pdf.set_font(FONT, style, size)
        x = pdf.l_margin + (first if index == 0 else 0.0)
        baseline = pdf.get_y() + line * 0.72
        last = index == len(lines) - 1
        if align == "J" and not last and len(words) > 1:
            gap = space + (width - (x - pdf.l_margin) - used) / (len(words) - 1)
            for word in words:
                pdf.text(x, baseline, word)
                x += pdf.measure.width(style, size, word) + gap
        elif words:
            pdf.text(x, baseline, " ".join(words))
        pdf.set_y(pdf.get_y() + line)
    pdf.ln(after)


def _centred(pdf: FPDF, x: float, width: float, text: str, style: str = "", size: float = BODY_PT) -> float:
    """Write ``text`` centred in the column [x, x + width] at the current y; return the text's width."""
    pdf.set_font(FONT, style, size)
    pdf.set_x(x)
    pdf.multi_cell(width, LINE_MM * size / BODY_PT, text, align="C", new_x=XPos.LEFT, new_y=YPos.NEXT)
    return min(pdf.get_string_width(text), width)


def _rule(pdf: FPDF, x: float, width: float, length: float, gap: float = 0.6) -> None:
    y = pdf.get_y() + gap
    pdf.set_line_width(0.3)
    pdf.line(x + (width - length) / 2, y, x + (width + length) / 2, y)
    pdf.set_y(y + 1.5)


def _letterhead(pdf: FPDF, head: Letterhead) -> None:
    left_x, right_x, top = pdf.l_margin, pdf.l_margin + LEFT_MM, pdf.get_y()
    pdf.set_y(top)
    if head.superior:
        _centred(pdf, left_x, LEFT_MM, head.superior.upper(), size=SMALL_PT + 0.5)
    issuer_width = _centred(pdf, left_x, LEFT_MM, head.issuer.upper(), "B", SMALL_PT + 0.5)
    _rule(pdf, left_x, LEFT_MM, max(issuer_width * 0.4, 25))
    left_bottom = pdf.get_y()
    pdf.set_y(top)
    _centred(pdf, right_x, RIGHT_MM, NATIONAL_NAME, "B", SMALL_PT + 0.5)
    motto_width = _centred(pdf, right_x, RIGHT_MM, NATIONAL_MOTTO, "B", BODY_PT)
    _rule(pdf, right_x, RIGHT_MM, motto_width)
    row_two = max(left_bottom, pdf.get_y()) + 2
    pdf.set_y(row_two)
    _centred(pdf, left_x, LEFT_MM, head.number_line, size=BODY_PT)
    pdf.set_y(row_two)
    _centred(pdf, right_x, RIGHT_MM, head.date_line, "I", BODY_PT)
    pdf.ln(5)


def _title(pdf: _ReportPdf, appendix: Appendix1, head: Letterhead) -> None:
    kind, summary = title_lines(appendix)
    x, width = pdf.l_margin, TEXT_WIDTH_MM
    _centred(pdf, x, width, kind, "B", BODY_PT + 1)
    summary_width = _centred(pdf, x, width, summary, "B", BODY_PT + 1)
    _rule(pdf, x, width, min(summary_width * 0.35, 70), gap=1.6)
    pdf.ln(3)
    addressee = addressee_line(head)
    if addressee:
        _centred(pdf, x, width, addressee)
        pdf.ln(2)
    _text(pdf, intro_line(appendix, head), indent=True)


def _part_one(pdf: _ReportPdf, appendix: Appendix1) -> None:
    _keep_room(pdf, 6 * LINE_MM)
    _text(pdf, str(HEADINGS["part_i"]), style="B", indent=True)
    _text(pdf, str(HEADINGS["i1"]), style="B", indent=True)
    completeness = completeness_line(appendix)
    if completeness:
        _text(pdf, completeness, indent=True)
    _i1_table(pdf, appendix)
    note = provisional_note(appendix)
    pdf.ln(1.5)
    if note:
        _text(pdf, note, style="I", size=SMALL_PT, align="L")
    _text(pdf, rates_line(appendix), indent=True)


@dataclass(frozen=True, slots=True)
class _Cell:
    text: str
    span: int = 1  # columns covered
    align: str = "L"  # L or C
    style: str = ""  # "", B, I


class _Measure:
    """Word widths measured once per font, and greedy word wrapping with them.

    fpdf2's ``multi_cell`` and ``table()`` re-measure a line for every character they add (quadratic in the
    length of a paragraph), which made a province's 700 rows take over 20 s; wrapping here and placing each
    line with ``text()`` draws the same pages in a fraction of that.
    """

    def __init__(self, pdf: FPDF) -> None:
        self.pdf = pdf
        self.words: dict[tuple[str, float, str], float] = {}

    def width(self, style: str, size: float, word: str) -> float:
        key = (style, size, word)
        found = self.words.get(key)
        if found is None:
            self.pdf.set_font(FONT, style, size)
            found = self.words[key] = self.pdf.get_string_width(word)
        return found

    def wrap(
        self, text: str, width: float, style: str, size: float, *, first_indent: float = 0.0
    ) -> list[tuple[list[str], float]]:
        """``text`` in lines no wider than ``width`` (the first ``first_indent`` narrower): (words, width)."""
        space = self.width(style, size, " ")
        lines: list[tuple[list[str], float]] = []
        for paragraph in text.split("\n"):
            words: list[str] = []
            used = 0.0
            room = width - (first_indent if not lines else 0.0)
            for word in paragraph.split():
                wide = self.width(style, size, word)
                while wide > room and len(word) > 1:  # a word longer than the line: break it
                    cut = len(word) - 1
                    while cut > 1 and self.width(style, size, word[:cut]) > room:
                        cut -= 1
                    if words:
                        lines.append((words, used))
                        words, used, room = [], 0.0, width
                    lines.append(([word[:cut]], self.width(style, size, word[:cut])))
                    room = width
                    word = word[cut:]
                    wide = self.width(style, size, word)
                if words and used + space + wide > room:
                    lines.append((words, used))
                    words, used, room = [], 0.0, width
                used = used + space + wide if words else wide
                words.append(word)
            lines.append((words, used))
        return lines


class _Grid:
    """Table I.1 drawn cell by cell: lines wrapped by ``_Measure``, each placed with ``text()``."""

    header: tuple[Sequence[_Cell], float, tuple[int, int, int]] | None = None

    def __init__(self, pdf: _ReportPdf, widths: Sequence[float]) -> None:
        self.pdf = pdf
        self.widths = list(widths)
        self.pad = 1.0

    def row(self, cells: Sequence[_Cell], size: float, *, fill: tuple[int, int, int] | None = None) -> float:
        """Draw one row at the current y (a new page first when it does not fit); return its height."""
        pdf = self.pdf
        line = size * 0.3528 * 1.22
        spans: list[tuple[_Cell, float, list[tuple[list[str], float]]]] = []
        column = 0
        for cell in cells:
            width = sum(self.widths[column : column + cell.span])
            spans.append((cell, width, pdf.measure.wrap(cell.text, width - 2 * self.pad, cell.style, size)))
            column += cell.span
        height = max(len(lines) for _c, _w, lines in spans) * line + 2 * self.pad
        if pdf.will_page_break(height):
            pdf.add_page()
            if self.header is not None and cells is not self.header[0]:
                self.row(*self.header[0:1], self.header[1], fill=self.header[2])
        top, x = pdf.get_y(), pdf.l_margin
        for cell, width, lines in spans:
            pdf.rect(x, top, width, height, style="DF" if fill else "D")
            pdf.set_font(FONT, cell.style, size)
            first = top + (height - len(lines) * line) / 2 + line * 0.78  # the first baseline, centred
            for index, (words, used) in enumerate(lines):
                if not words:
                    continue
                left = x + (width - used) / 2 if cell.align == "C" else x + self.pad
                pdf.text(left, first + index * line, " ".join(words))
            x += width
        pdf.set_y(top + height)
        return height


def _i1_table(pdf: _ReportPdf, appendix: Appendix1) -> None:
    grid = _Grid(pdf, I1_WIDTHS_MM)
    pdf.set_draw_color(0, 0, 0)
    pdf.set_line_width(0.2)
    header = [_Cell(str(heading), align="C", style="B") for _key, heading in I1_COLUMNS]
    shade = (235, 238, 242)
    pdf.set_fill_color(*shade)
    grid.header = (header, HEAD_PT, shade)
    grid.row(header, HEAD_PT, fill=shade)
    sources = unit_sources(appendix)
    for row in appendix.rows:
        texts = i1_texts(appendix, row, sources)
        if row.has_data:
            cells = [_Cell(text, align="C" if i in _NUMERIC else "L") for i, text in enumerate(texts)]
        else:
            cells = [
                _Cell(texts[0], align="C"),
                _Cell(texts[1]),
                _Cell(NOT_REPORTED, span=len(texts) - 2, align="C", style="I"),
            ]
        grid.row(cells, TABLE_PT)
    totals = ["", str(appendix.totals.department), *i1_texts(appendix, appendix.totals)[2:]]
    grid.row(
        [_Cell(t, align="C" if i in _NUMERIC else "L", style="B") for i, t in enumerate(totals)], TABLE_PT
    )


def _signature(pdf: FPDF, head: Letterhead) -> None:
    if pdf.get_y() + _SIGNATURE_ROOM_MM > pdf.h - pdf.b_margin:
        pdf.add_page()
    pdf.ln(4)
    top = pdf.get_y()
    left_x, right_x = pdf.l_margin, pdf.l_margin + LEFT_MM
    pdf.set_xy(left_x, top)
    pdf.set_font(FONT, "BI", SMALL_PT)
    pdf.cell(LEFT_MM, 5.5, "Nơi nhận:", new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_font(FONT, "", SMALL_PT - 1)
    for line in head.recipients:
        pdf.set_x(left_x)
        pdf.cell(LEFT_MM, 4.8, f"- {line}", new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_y(top)
    _centred(pdf, right_x, RIGHT_MM, head.signer_title, "B", BODY_PT)
    _centred(pdf, right_x, RIGHT_MM, str(HEADINGS["signature_note"]), "I", BODY_PT)
