"""Appendix 1 as a Word document laid out as a Vietnamese administrative report (Nghị định 30/2020/NĐ-CP).

A4 landscape (the I.1 table has ten columns), margins 20/20/30/15 mm, Times New Roman everywhere — the
Latin, East-Asian and complex-script slots of every style, so Word never substitutes a font for Vietnamese
letters. From the top: the two-column borderless letterhead (governing body and issuing unit with its short
rule | national name and motto), the number and the place/date line, ``BÁO CÁO`` and its summary line, the
addressee, then I.1 (the letter's column headings, repeated on every page, one TT numbering, a totals row),
I.2–I.4, II, III, and the signature block (*Nơi nhận* on the left; the signer's title, *(Ký tên và đóng
dấu)* and room for the signature and seal on the right). Page numbers at the top centre from page 2 on.
"""

from __future__ import annotations

import copy
import io
from typing import Any

from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.section import WD_ORIENT
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Length, Mm, Pt
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph

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

FONT = "Times New Roman"
BODY_PT = 13
TABLE_PT = 11
HEADER_PT = 10
TABLE_STYLE = "Bảng số liệu"
REASONS_STYLE = "Bảng lý do"
REASONS_PT = 10
PAGE_WIDTH_MM, PAGE_HEIGHT_MM = 297, 210
MARGINS_MM = {"top": 20, "bottom": 20, "left": 30, "right": 15}
TEXT_WIDTH_MM = PAGE_WIDTH_MM - MARGINS_MM["left"] - MARGINS_MM["right"]  # 252
# Letterhead and signature: left and right columns.
LEFT_MM, RIGHT_MM = 112, TEXT_WIDTH_MM - 112
# Table I.1 column widths (mm), TT … Lý do chưa tích hợp; they add up to the text width.
I1_WIDTHS_MM = (10, 32, 19, 19, 19, 48, 19, 19, 19, 48)
_NUMERIC = {0, 2, 3, 4, 6, 7, 8}
_REASONS = {5, 9}
_CELL_MARGIN_MM = 1.9  # Word's default left/right cell margin (108 twips)


def render_docx(appendix: Appendix1, letterhead: Letterhead | None = None) -> bytes:
    """The report as a .docx file."""
    head = letterhead or default_letterhead(appendix)
    doc = Document()
    _set_up(doc)
    _letterhead(doc, head)
    _title(doc, appendix, head)
    _part_one(doc, appendix)
    for section in sections(appendix):
        _paragraph(doc, section.heading, bold=True, indent=True, keep_with_next=True)
        for text in section.paragraphs:
            _paragraph(doc, text, indent=True, justify=True)
        for text in section.bullets:
            _paragraph(doc, f"- {text}", indent=True, justify=True)
    _signature(doc, head)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


# --- page, fonts, styles -------------------------------------------------------------------------------


def _set_fonts(rpr: Any) -> None:
    """Times New Roman in every font slot; drop theme fonts, which would win over the explicit names."""
    fonts = rpr.get_or_add_rFonts()  # inserted where the schema wants it (Word is strict about order)
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        if fonts.get(qn(attr)) is not None:
            del fonts.attrib[qn(attr)]
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attr), FONT)
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        rpr.insert_element_before(lang, "w:eastAsianLayout", "w:specVanish", "w:oMath")
    lang.set(qn("w:val"), "vi-VN")


def _set_up(doc: DocumentObject) -> None:
    defaults = doc.styles.element.find(qn("w:docDefaults"))
    if defaults is not None:
        rpr = defaults.find(f"{qn('w:rPrDefault')}/{qn('w:rPr')}")
        if rpr is not None:
            _set_fonts(rpr)
    for style in doc.styles:
        if style.type in (WD_STYLE_TYPE.PARAGRAPH, WD_STYLE_TYPE.CHARACTER, WD_STYLE_TYPE.TABLE):
            style.element.get_or_add_rPr()
    for rpr in list(doc.styles.element.iter(qn("w:rPr"))):  # styles, and the table styles' conditional parts
        _set_fonts(rpr)
    normal = doc.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(BODY_PT)
    fmt = normal.paragraph_format  # type: ignore[attr-defined]
    fmt.space_before = Pt(0)
    fmt.space_after = Pt(6)  # Nghị định 30: at least 6 pt between paragraphs, single line spacing or more
    fmt.line_spacing = 1.0
    table_text = doc.styles.add_style(TABLE_STYLE, WD_STYLE_TYPE.PARAGRAPH)
    table_text.base_style = normal
    table_text.font.size = Pt(TABLE_PT)
    table_text.paragraph_format.space_after = Pt(0)  # type: ignore[attr-defined]
    table_text.paragraph_format.space_before = Pt(0)  # type: ignore[attr-defined]
    _set_fonts(table_text.element.get_or_add_rPr())
    reasons = doc.styles.add_style(REASONS_STYLE, WD_STYLE_TYPE.PARAGRAPH)
    reasons.base_style = table_text
    reasons.font.size = Pt(REASONS_PT)
    _set_fonts(reasons.element.get_or_add_rPr())

    section = doc.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width = Mm(PAGE_WIDTH_MM)
    section.page_height = Mm(PAGE_HEIGHT_MM)
    section.top_margin = Mm(MARGINS_MM["top"])
    section.bottom_margin = Mm(MARGINS_MM["bottom"])
    section.left_margin = Mm(MARGINS_MM["left"])
    section.right_margin = Mm(MARGINS_MM["right"])
    section.header_distance = Mm(10)
    section.footer_distance = Mm(10)
    _page_numbers(section)


def _page_numbers(section: Any) -> None:
    """Page numbers as Nghị định 30/2020/NĐ-CP (Phụ lục I) wants them: Arabic digits, 13 pt upright, centred
    in the top margin, and none on the first page (its own, empty, header)."""
    section.different_first_page_header_footer = True
    section.first_page_header.is_linked_to_previous = False  # an empty header of its own
    header = section.header.paragraphs[0]
    header.alignment = WD_ALIGN_PARAGRAPH.CENTER
    header.paragraph_format.space_after = Pt(0)
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), "PAGE")
    run = OxmlElement("w:r")
    rpr = OxmlElement("w:rPr")
    run.append(rpr)
    _set_fonts(rpr)
    rpr.sz_val = Pt(BODY_PT)
    text = OxmlElement("w:t")
    text.text = "2"
    run.append(text)
    field.append(run)
    header._p.append(field)


# --- small builders ------------------------------------------------------------------------------------


def _run_format(paragraph: Paragraph, text: str, **style: Any) -> None:
    run = paragraph.add_run(text)
    if style.get("bold"):
        run.bold = True
    if style.get("italic"):
        run.italic = True
    if style.get("underline"):
        run.underline = True
    if style.get("size"):
        run.font.size = Pt(style["size"])


def _paragraph(
    doc: DocumentObject,
    text: str,
    *,
    align: Any = None,
    indent: bool = False,
    justify: bool = False,
    keep_with_next: bool = False,
    **style: Any,
) -> Paragraph:
    paragraph = doc.add_paragraph()
    if align is not None:
        paragraph.alignment = align
    elif justify:
        paragraph.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    if indent:
        paragraph.paragraph_format.first_line_indent = Mm(12.7)
    if keep_with_next:
        paragraph.paragraph_format.keep_with_next = True
    _run_format(paragraph, text, **style)
    return paragraph


def _cell_paragraph(
    cell: _Cell, text: str, *, first: bool = False, align: Any = WD_ALIGN_PARAGRAPH.CENTER, **style: Any
) -> Paragraph:
    paragraph = cell.paragraphs[0] if first else cell.add_paragraph()
    paragraph.alignment = align
    paragraph.paragraph_format.space_after = Pt(0)
    _run_format(paragraph, text, **style)
    return paragraph


def _rule(cell: _Cell, cell_mm: float, line_mm: float) -> None:
    """A short centred horizontal line (the rule under the issuer's name or the summary line)."""
    paragraph = cell.add_paragraph()
    fmt = paragraph.paragraph_format
    side = max((cell_mm - 2 * _CELL_MARGIN_MM - line_mm) / 2, 0)
    fmt.left_indent = Mm(side)
    fmt.right_indent = Mm(side)
    fmt.space_before = Pt(0)
    fmt.space_after = Pt(0)
    fmt.line_spacing = Pt(2)
    _bottom_border(paragraph)
    paragraph.add_run().font.size = Pt(2)


# Successors of w:pBdr in w:pPr and of w:tblBorders in w:tblPr (ECMA-376 order; Word rejects other orders).
_PBDR_SUCCESSORS = (
    "w:shd", "w:tabs", "w:suppressAutoHyphens", "w:kinsoku", "w:wordWrap", "w:overflowPunct",
    "w:topLinePunct", "w:autoSpaceDE", "w:autoSpaceDN", "w:bidi", "w:adjustRightInd", "w:snapToGrid",
    "w:spacing", "w:ind", "w:contextualSpacing", "w:mirrorIndents", "w:suppressOverlap", "w:jc",
    "w:textDirection", "w:textAlignment", "w:textboxTightWrap", "w:outlineLvl", "w:divId", "w:cnfStyle",
    "w:rPr", "w:sectPr", "w:pPrChange",
)  # fmt: skip
_TBLBORDERS_SUCCESSORS = (
    "w:shd", "w:tblLayout", "w:tblCellMar", "w:tblLook", "w:tblCaption", "w:tblDescription", "w:tblPrChange",
)  # fmt: skip


def _bottom_border(paragraph: Paragraph) -> None:
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("w:val", "single"), ("w:sz", "6"), ("w:space", "1"), ("w:color", "000000")):
        bottom.set(qn(key), value)
    borders.append(bottom)
    paragraph._p.get_or_add_pPr().insert_element_before(borders, *_PBDR_SUCCESSORS)


def _text_width_mm(text: str, size_pt: float, *, bold: bool = False) -> float:
    # A rough width for Times New Roman capitals (about 0.68 em, 0.72 em bold): enough to size a rule.
    return len(text) * size_pt * (0.72 if bold else 0.68) * 0.3528


def _borderless(table: Table) -> None:
    borders = OxmlElement("w:tblBorders")
    for side in ("top", "left", "bottom", "right", "insideH", "insideV"):
        edge = OxmlElement(f"w:{side}")
        edge.set(qn("w:val"), "nil")
        borders.append(edge)
    table._tbl.tblPr.insert_element_before(borders, *_TBLBORDERS_SUCCESSORS)


def _fixed_widths(table: Table, widths_mm: tuple[float, ...]) -> None:
    table.autofit = False  # w:tblLayout type="fixed"
    for column, width in zip(table.columns, widths_mm, strict=True):
        column.width = Mm(width)


def _set_cell_width(cell: _Cell, width: Length) -> None:
    cell.width = width


# --- the parts -----------------------------------------------------------------------------------------


def _letterhead(doc: DocumentObject, head: Letterhead) -> None:
    table = doc.add_table(rows=2, cols=2)
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    _borderless(table)
    _fixed_widths(table, (LEFT_MM, RIGHT_MM))
    for row in table.rows:
        _set_cell_width(row.cells[0], Mm(LEFT_MM))
        _set_cell_width(row.cells[1], Mm(RIGHT_MM))
    left, right = table.rows[0].cells
    issuer = head.issuer.upper()
    if head.superior:
        _cell_paragraph(left, head.superior.upper(), first=True)
        _cell_paragraph(left, issuer, bold=True)
    else:
        _cell_paragraph(left, issuer, first=True, bold=True)
    rule = min(max(_text_width_mm(issuer, BODY_PT, bold=True) * 0.4, 25), LEFT_MM * 0.5)
    _rule(left, LEFT_MM, rule)
    _cell_paragraph(right, NATIONAL_NAME, first=True, bold=True)
    _cell_paragraph(right, NATIONAL_MOTTO, bold=True, underline=True, size=14)
    number, day = table.rows[1].cells
    _cell_paragraph(number, head.number_line, first=True).paragraph_format.space_before = Pt(6)
    _cell_paragraph(day, head.date_line, first=True, italic=True, size=14).paragraph_format.space_before = Pt(
        6
    )


def _title(doc: DocumentObject, appendix: Appendix1, head: Letterhead) -> None:
    kind, summary = title_lines(appendix)
    first = _paragraph(doc, kind, align=WD_ALIGN_PARAGRAPH.CENTER, bold=True, size=14)
    first.paragraph_format.space_before = Pt(18)
    first.paragraph_format.space_after = Pt(0)
    first.paragraph_format.keep_with_next = True
    second = _paragraph(doc, summary, align=WD_ALIGN_PARAGRAPH.CENTER, bold=True, size=14)
    second.paragraph_format.space_after = Pt(0)
    second.paragraph_format.keep_with_next = True
    rule = doc.add_paragraph()
    side = (TEXT_WIDTH_MM - 60) / 2
    rule.paragraph_format.left_indent = Mm(side)
    rule.paragraph_format.right_indent = Mm(side)
    rule.paragraph_format.space_after = Pt(12)
    rule.paragraph_format.line_spacing = Pt(4)
    _bottom_border(rule)
    rule.add_run().font.size = Pt(2)
    addressee = addressee_line(head)
    if addressee:
        _paragraph(doc, addressee, align=WD_ALIGN_PARAGRAPH.CENTER)
    _paragraph(doc, intro_line(appendix, head), indent=True, justify=True)


def _part_one(doc: DocumentObject, appendix: Appendix1) -> None:
    _paragraph(doc, str(HEADINGS["part_i"]), bold=True, indent=True, keep_with_next=True)
    # No "keep with next" into the table: LibreOffice would then keep the paragraph with the whole table.
    _paragraph(doc, str(HEADINGS["i1"]), bold=True, indent=True, justify=True)
    completeness = completeness_line(appendix)
    if completeness:
        _paragraph(doc, completeness, indent=True)
    _i1_table(doc, appendix)
    note = provisional_note(appendix)
    if note:
        _paragraph(doc, note, italic=True, size=TABLE_PT).paragraph_format.space_before = Pt(3)
    _paragraph(doc, rates_line(appendix), indent=True, justify=True).paragraph_format.space_before = Pt(6)


def _i1_table(doc: DocumentObject, appendix: Appendix1) -> None:
    table = doc.add_table(rows=2, cols=len(I1_COLUMNS))
    table.style = doc.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    _fixed_widths(table, I1_WIDTHS_MM)
    header, prototype = table.rows
    _repeat_as_header(header._tr)
    for index, (cell, (_key, heading)) in enumerate(zip(header.cells, I1_COLUMNS, strict=True)):
        _set_cell_width(cell, Mm(I1_WIDTHS_MM[index]))
        cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
        paragraph = cell.paragraphs[0]
        paragraph.style = doc.styles[TABLE_STYLE]
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        run = paragraph.add_run(str(heading))
        run.bold = True
        run.font.size = Pt(HEADER_PT)
    # One formatted empty row, copied for every row: python-docx's per-cell API is slow on large tables.
    for index, cell in enumerate(prototype.cells):
        _set_cell_width(cell, Mm(I1_WIDTHS_MM[index]))
        cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
        paragraph = cell.paragraphs[0]
        paragraph.style = doc.styles[REASONS_STYLE if index in _REASONS else TABLE_STYLE]
        if index in _NUMERIC:
            paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    template = copy.deepcopy(prototype._tr)
    cant_split = OxmlElement("w:cantSplit")
    template.get_or_add_trPr().append(cant_split)
    tbl = table._tbl
    tbl.remove(prototype._tr)
    sources = unit_sources(appendix)
    for row in appendix.rows:
        texts = i1_texts(appendix, row, sources)
        tr = copy.deepcopy(template)
        tbl.append(tr)
        if row.has_data:
            _fill(tr, texts)
        else:
            _fill(tr, texts[:2])
            _merge_not_reported(table, tr)
    totals = appendix.totals
    tr = copy.deepcopy(template)
    tbl.append(tr)
    _fill(tr, ["", str(totals.department), *i1_texts(appendix, totals)[2:]], bold=True)


def _repeat_as_header(tr: Any) -> None:
    pr = tr.get_or_add_trPr()
    pr.append(OxmlElement("w:tblHeader"))
    pr.append(OxmlElement("w:cantSplit"))


def _fill(tr: Any, texts: list[str], *, bold: bool = False) -> None:
    """Put ``texts`` in the first cells of a copied row (one run each, straight into the XML)."""
    for tc, text in zip(tr.tc_lst, texts, strict=False):
        if not text:
            continue
        run = OxmlElement("w:r")
        if bold:
            rpr = OxmlElement("w:rPr")
            rpr.append(OxmlElement("w:b"))
            run.append(rpr)
        node = OxmlElement("w:t")
        node.text = text
        if text != text.strip():
            node.set(qn("xml:space"), "preserve")
        run.append(node)
        tc.p_lst[0].append(run)


def _merge_not_reported(table: Table, tr: Any) -> None:
    cells = [_Cell(tc, table) for tc in tr.tc_lst]
    merged = cells[2].merge(cells[-1])
    paragraph = merged.paragraphs[0]
    for extra in merged.paragraphs[1:]:
        extra._p.getparent().remove(extra._p)
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    paragraph.add_run(NOT_REPORTED).italic = True


def _signature(doc: DocumentObject, head: Letterhead) -> None:
    spacer = doc.add_paragraph()
    spacer.paragraph_format.space_after = Pt(0)
    spacer.paragraph_format.keep_with_next = True
    table = doc.add_table(rows=1, cols=2)
    _borderless(table)
    _fixed_widths(table, (LEFT_MM, RIGHT_MM))
    table.rows[0]._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))
    left, right = table.rows[0].cells
    _set_cell_width(left, Mm(LEFT_MM))
    _set_cell_width(right, Mm(RIGHT_MM))
    # Nghị định 30: "Nơi nhận:" 12 pt bold italic, the list 11 pt; the signer's title 13 pt bold.
    _cell_paragraph(
        left, "Nơi nhận:", first=True, align=WD_ALIGN_PARAGRAPH.LEFT, bold=True, italic=True, size=12
    )
    for line in head.recipients:
        _cell_paragraph(left, f"- {line}", align=WD_ALIGN_PARAGRAPH.LEFT, size=11)
    _cell_paragraph(right, head.signer_title, first=True, bold=True)
    _cell_paragraph(right, str(HEADINGS["signature_note"]), italic=True)
    for _ in range(5):  # room for the signature and the seal
        _cell_paragraph(right, "")
