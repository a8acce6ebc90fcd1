"""Appendix 1 as files: DOCX, XLSX and PDF in the layout of a Vietnamese administrative document, and JSON.

Every renderer takes an ``Appendix1`` (``soskdt.rollout.report``) and returns bytes; nothing here writes to
the database. What the three documents share lives in this module: the letterhead (issuing unit, number,
place and date, signer), the title, the cells of table I.1 and the texts of sections I.2–III, so that the
DOCX, the PDF and the XLSX say the same thing in the same words (the letter's, verbatim from ``HEADINGS``).

    render(appendix, "docx", letterhead_for(appendix))  ->  bytes

Layout decisions (docs/exports.md): the whole report is **A4 landscape** — Nghị định 30/2020/NĐ-CP allows a
document with tables to be laid out across the page, and table I.1 has ten columns; margins top/bottom 20 mm,
left 30 mm, right 15 mm; Times New Roman 13 pt (the table 11 pt).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.utils import translation

from soskdt.registry.models import OrgUnit, OrgUnitKind
from soskdt.rollout.periods import format_int, local_zone
from soskdt.rollout.report import HEADINGS, SCOPE_CONSOLIDATED, SOURCE_LIVE, Appendix1, Row

#: Output formats: (media type, file extension).
FORMATS: dict[str, tuple[str, str]] = {
    "json": ("application/json; charset=utf-8", "json"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx"),
    "pdf": ("application/pdf", "pdf"),
}

NATIONAL_NAME = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
NATIONAL_MOTTO = "Độc lập - Tự do - Hạnh phúc"
DOCUMENT_KIND = "BÁO CÁO"
# The abbreviation of the document kind in the number "Số: …/BC-…" (Nghị định 30/2020/NĐ-CP, Phụ lục III).
KIND_CODE = "BC"
NOT_REPORTED = "Chưa báo cáo"
PROVISIONAL_MARK = "(*)"

# Short names used in document numbers ("310/TTYT-KHNV"): by the unit's kind, else the name's initials.
_KIND_ABBREVIATIONS: dict[str, str] = {
    OrgUnitKind.PROVINCE_DEPARTMENT: "SYT",
    OrgUnitKind.HEALTH_CENTRE: "TTYT",
    OrgUnitKind.COMMUNE_STATION: "TYT",
    OrgUnitKind.HOSPITAL: "BV",
}
# "Trung tâm Y tế khu vực An Phú" → "An Phú": the place name of the date line comes after these prefixes.
_QUALIFIERS = (
    "khu vực", "huyện", "quận", "thị xã", "thành phố", "tỉnh", "xã", "phường", "thị trấn", "đặc khu",
)  # fmt: skip
_PLACE_PREFIX = re.compile(
    r"^(?:Trung tâm Y tế|Trạm Y tế|Sở Y tế|Bệnh viện(?: đa khoa)?|Phòng khám đa khoa)"
    rf"(?:\s+(?:{'|'.join(_QUALIFIERS)}))?\s+(?P<place>.+)$",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Letterhead:
    """Who issues the report and who signs it: the parts of an administrative document around the content.

    ``superior`` is the governing body printed above the issuer (*cơ quan chủ quản*), also the addressee
    (*Kính gửi*); empty when unknown.
    """

    issuer: str
    superior: str = ""
    abbreviation: str = ""
    place: str = ""
    date: dt.date = field(default_factory=lambda: dt.datetime.now(local_zone()).date())
    signer_title: str = ""
    recipients: tuple[str, ...] = ("Như trên;", "Lưu: VT.")

    @property
    def number_line(self) -> str:
        """``Số:      /BC-TTYT`` — the number itself is given by the clerk when the report is issued."""
        suffix = f"{KIND_CODE}-{self.abbreviation}" if self.abbreviation else KIND_CODE
        return f"Số:        /{suffix}"

    @property
    def date_line(self) -> str:
        return date_line(self.place, self.date)


def date_line(place: str, day: dt.date) -> str:
    """``An Phú, ngày 05 tháng 01 năm 2025``.

    Nghị định 30/2020/NĐ-CP (Phụ lục I, mục II.6): days below 10 and months below 3 take a leading zero.
    """
    month = f"{day.month:02d}" if day.month < 3 else str(day.month)
    text = f"ngày {day.day:02d} tháng {month} năm {day.year}"
    return f"{place}, {text}" if place else text.capitalize()


def abbreviate(name: str, kind: str = "") -> str:
    """``TTYT`` for a health centre, ``TYT`` for a station; else the initials (``Khoa Khám bệnh`` → ``KKB``)."""
    if kind in _KIND_ABBREVIATIONS:
        return _KIND_ABBREVIATIONS[kind]
    initials = [word[0] for word in re.split(r"[\s\-–/,]+", name) if word]
    plain = unicodedata.normalize("NFD", "".join(initials))
    return "".join(c for c in plain if not unicodedata.combining(c)).upper()[:10]


def place_of(unit: OrgUnit | None) -> str:
    """The place name of the date line: ``SOSKDT["REPORT_PLACE"]`` if set, else read off the nearest unit name."""
    configured = str(getattr(settings, "SOSKDT", {}).get("REPORT_PLACE", "") or "")
    if configured:
        return configured
    seen: set[int] = set()
    while unit is not None and unit.pk not in seen:
        seen.add(unit.pk)
        match = _PLACE_PREFIX.match(unit.name.strip())
        if match and match.group("place").strip().lower() not in _QUALIFIERS:
            return match.group("place").strip()
        unit = unit.parent
    return ""


def signer_title(appendix: Appendix1) -> str:
    """The head of the unit signs its report; the centre's (or department's) director the consolidation."""
    if appendix.scope == SCOPE_CONSOLIDATED:
        return "GIÁM ĐỐC"
    return str(HEADINGS["signature"])


def local_day(moment: dt.datetime) -> dt.date:
    return moment.astimezone(local_zone()).date()


def default_letterhead(appendix: Appendix1) -> Letterhead:
    """A letterhead from the report alone (no database): no superior, no place."""
    return Letterhead(
        issuer=appendix.unit.name,
        abbreviation=abbreviate(appendix.unit.name, appendix.unit.kind),
        date=local_day(appendix.generated_at),
        signer_title=signer_title(appendix),
    )


def letterhead_for(
    appendix: Appendix1, *, place: str | None = None, day: dt.date | None = None
) -> Letterhead:
    """The letterhead of ``appendix``'s unit, with its superior and place read from the org tree."""
    unit = OrgUnit.objects.select_related("parent__parent").filter(code=appendix.unit.code).first()
    base = default_letterhead(appendix)
    if unit is None:
        return base
    return Letterhead(
        issuer=unit.name,
        superior=unit.parent.name if unit.parent is not None else "",
        abbreviation=base.abbreviation,
        place=place if place is not None else place_of(unit),
        date=day or base.date,
        signer_title=base.signer_title,
    )


# --- the content, shared by DOCX and PDF ---------------------------------------------------------------


def title_lines(appendix: Appendix1) -> tuple[str, str]:
    """``BÁO CÁO`` and the summary line (*trích yếu*) with the month."""
    return (
        DOCUMENT_KIND,
        f"Kết quả triển khai thực hiện sổ sức khỏe điện tử trên ứng dụng VNeID tháng {appendix.period.label}",
    )


def addressee_line(letterhead: Letterhead) -> str:
    return f"Kính gửi: {letterhead.superior}." if letterhead.superior else ""


def intro_line(appendix: Appendix1, letterhead: Letterhead) -> str:
    campaign = appendix.campaign
    return (
        f"Thực hiện Công văn số {campaign.letter_reference} về việc {_lower_first(campaign.name)}, "
        f"{letterhead.issuer} báo cáo kết quả thực hiện tháng {appendix.period.label} như sau:"
    )


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text else text


def unit_sources(appendix: Appendix1) -> dict[str, str]:
    return {status.unit.code: status.source for status in appendix.units}


def department_label(appendix: Appendix1, row: Row, sources: dict[str, str] | None = None) -> str:
    """Column 2 of table I.1: the *Khoa/Phòng*; in a consolidation with its unit when the names differ."""
    text = row.department
    if appendix.scope == SCOPE_CONSOLIDATED and row.unit_name and row.unit_name != row.department:
        text = f"{text} ({row.unit_name})"
    sources = unit_sources(appendix) if sources is None else sources
    if appendix.scope == SCOPE_CONSOLIDATED and row.has_data and sources.get(row.unit_code) == SOURCE_LIVE:
        text = f"{text} {PROVISIONAL_MARK}"
    return text


#: Table I.1's count columns (the nine after TT, in the form's order): Row attribute, is a number.
I1_VALUE_COLUMNS: tuple[tuple[str, bool], ...] = (
    ("department", False),
    ("total_staff", True),
    ("level2_done", True),
    ("level2_missing", True),
    ("level2_reasons_text", False),
    ("book_created", True),
    ("card_linked", True),
    ("card_missing", True),
    ("card_reasons_text", False),
)


def i1_values(appendix: Appendix1, row: Row, sources: dict[str, str] | None = None) -> list[Any]:
    """The ten cells of a row as values: TT, the department label, then numbers (or None) and reason texts."""
    values: list[Any] = [row.number]
    for key, _numeric in I1_VALUE_COLUMNS:
        if key == "department":
            values.append(department_label(appendix, row, sources))
        else:
            values.append(getattr(row, key))
    return values


def i1_texts(appendix: Appendix1, row: Row, sources: dict[str, str] | None = None) -> list[str]:
    """The ten cells of a row as printed: numbers the Vietnamese way (1.234), nothing for a missing count."""
    texts = []
    numeric_columns = (True, *(numeric for _key, numeric in I1_VALUE_COLUMNS))
    for numeric, value in zip(numeric_columns, i1_values(appendix, row, sources), strict=True):
        if value is None:
            texts.append("")
        elif numeric:
            texts.append(format_int(value))
        else:
            texts.append(str(value))
    return texts


def provisional_note(appendix: Appendix1) -> str:
    """The note under a consolidated table when some units are counted live (not submitted yet)."""
    if appendix.scope != SCOPE_CONSOLIDATED or not any(s.source == SOURCE_LIVE for s in appendix.units):
        return ""
    when = appendix.as_of.astimezone(local_zone()).strftime("%H:%M ngày %d/%m/%Y")
    return f"{PROVISIONAL_MARK} Đơn vị chưa nộp báo cáo: số liệu tạm tính đến {when}."


def _rate(value: Any) -> str:
    return "—" if value is None else f"{value}%".replace(".", ",")


def rates_line(appendix: Appendix1) -> str:
    """The "tỷ lệ" the form's I.1 asks for, from the totals row."""
    t = appendix.totals
    return (
        f"Tỷ lệ: đã kích hoạt định danh VNeID mức 2: {_rate(t.level2_percent)} tổng số CBCCVC và người lao "
        f"động; trong số người có điện thoại thông minh ({format_int(t.smartphone_staff)} người): đã tích "
        f"hợp thẻ BHYT {_rate(t.card_percent)}, đã khởi tạo Sổ SKĐT {_rate(t.book_percent)}."
    )


def completeness_line(appendix: Appendix1) -> str:
    """For a consolidation: how many units submitted (the rest are counted live or not at all)."""
    if appendix.scope != SCOPE_CONSOLIDATED:
        return ""
    total = len(appendix.units)
    submitted = sum(1 for s in appendix.units if s.status in ("submitted", "approved"))
    on_time = sum(1 for s in appendix.units if s.timeliness == "on_time")
    return (
        f"Số đơn vị đã nộp báo cáo: {submitted}/{total} (đúng hạn: {on_time}); "
        f"số liệu tính đến {appendix.as_of.astimezone(local_zone()).strftime('%d/%m/%Y')}."
    )


@dataclass(frozen=True, slots=True)
class Section:
    """One numbered part after table I.1: its heading (verbatim), paragraphs, and bulleted lines."""

    key: str
    heading: str
    paragraphs: tuple[str, ...] = ()
    bullets: tuple[str, ...] = ()
    level: int = 2  # 1: a Roman-numbered part (II, III); 2: a point of part I


def _lines(text: str) -> tuple[str, ...]:
    return tuple(line.strip() for line in (text or "").splitlines() if line.strip())


def sections(appendix: Appendix1) -> list[Section]:
    """Sections I.2, I.3, I.4, II and III with the same wording as the report page."""
    rec, tr, pr = appendix.reception, appendix.training, appendix.printing
    reception = Section(
        "i2",
        str(HEADINGS["i2"]),
        (
            f"Số lượt hướng dẫn người bệnh: {format_int(rec.total)} (cài đặt ứng dụng VNeID: "
            f"{format_int(rec.installed_app)}; tích hợp thẻ BHYT: {format_int(rec.linked_card)}; "
            f"mở Sổ sức khỏe điện tử: {format_int(rec.opened_book)}).",
            *_lines(rec.note),
        ),
    )
    training = Section(
        "i3",
        str(HEADINGS["i3"]),
        (
            f"Số buổi tập huấn trong tháng: {format_int(tr.sessions)}, số lượt người tham dự: "
            f"{format_int(tr.attendees)}. Số cán bộ đã được tập huấn: {format_int(tr.trained_staff)}/"
            f"{format_int(tr.total_staff)} ({_rate(tr.trained_percent)}).",
            *_lines(tr.note),
        ),
        tuple(
            f"{i.held_on:%d/%m/%Y}{' — ' + i.unit_name if i.unit_name else ''}: {i.topic} "
            f"({format_int(i.attendees)} người)"
            for i in tr.items
        ),
    )
    printed: tuple[str, ...]
    if pr.items:
        places = "; ".join(
            f"{i.location or '—'}{f' ({i.unit_name})' if i.unit_name else ''}" for i in pr.items
        )
        printed = (
            "Đã in ấn, tuyên truyền: "
            + "; ".join(f"{t.label}: {format_int(t.quantity)}" for t in pr.totals)
            + ".",
            f"Nơi dán, đặt: {places}.",
        )
    else:
        printed = ("Chưa có hoạt động in ấn, tuyên truyền trong tháng.",)
    printing = Section("i4", str(HEADINGS["i4"]), (*printed, *_lines(pr.note)))
    difficulties = Section("ii", str(HEADINGS["part_ii"]), _lines(appendix.difficulties) or ("—",), level=1)
    proposals = Section("iii", str(HEADINGS["part_iii"]), _lines(appendix.proposals) or ("—",), level=1)
    return [reception, training, printing, difficulties, proposals]


# --- rendering -----------------------------------------------------------------------------------------


def to_json_bytes(appendix: Appendix1) -> bytes:
    """``to_json()`` as UTF-8 (Vietnamese kept readable, not ``\\u`` escaped)."""
    return json.dumps(appendix.to_json(), ensure_ascii=False, indent=2).encode("utf-8")


def render(appendix: Appendix1, fmt: str, letterhead: Letterhead | None = None) -> bytes:
    """Render ``appendix`` as ``fmt`` (json, xlsx, docx, pdf); official documents are always in Vietnamese."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}")
    with translation.override("vi"):
        return _renderer(fmt)(appendix, letterhead)


def _renderer(fmt: str) -> Callable[[Appendix1, Letterhead | None], bytes]:
    if fmt == "json":
        return lambda appendix, _letterhead: to_json_bytes(appendix)
    if fmt == "docx":
        from soskdt.rollout.exports.docx import render_docx

        return render_docx
    if fmt == "xlsx":
        from soskdt.rollout.exports.xlsx import render_xlsx

        return render_xlsx
    from soskdt.rollout.exports.pdf import render_pdf

    return render_pdf


def filename_for(appendix: Appendix1, fmt: str) -> str:
    """``phu-luc-1-ANPHU-KKB-2024-12.docx``; a consolidation: ``phu-luc-1-tong-hop-<centre>-<period>``."""
    stem = "phu-luc-1-tong-hop" if appendix.scope == SCOPE_CONSOLIDATED else "phu-luc-1"
    code = re.sub(r"[^A-Za-z0-9_-]+", "-", appendix.unit.code).strip("-") or "don-vi"
    return f"{stem}-{code}-{appendix.period.key}.{FORMATS[fmt][1]}"


def public_url() -> str:
    """The citizen web app's address printed on posters (``SOSKDT["PUBLIC_URL"]``)."""
    return str(getattr(settings, "SOSKDT", {}).get("PUBLIC_URL", "http://127.0.0.1:8000/"))


def unit_poster(unit: OrgUnit, *, size: str = "A4", url: str | None = None) -> bytes:
    """The Appendix 2 poster of ``unit`` (its superior above its name; the campaign letter in the footer)."""
    from soskdt.rollout.exports.poster import render_poster
    from soskdt.rollout.selectors import campaign_for

    reference = campaign_for(unit).letter_reference
    return render_poster(
        unit.name,
        url or public_url(),
        size=size,
        superior=unit.parent.name if unit.parent is not None else "",
        footer=f"Phụ lục 2 kèm theo Công văn số {reference}" if reference else "",
    )


__all__ = [
    "FORMATS",
    "Letterhead",
    "Section",
    "date_line",
    "default_letterhead",
    "department_label",
    "filename_for",
    "i1_texts",
    "i1_values",
    "letterhead_for",
    "render",
    "sections",
    "title_lines",
    "unit_poster",
]
