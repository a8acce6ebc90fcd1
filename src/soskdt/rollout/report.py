"""Appendix 1 of letter 310/TTYT-KHNV as pure data: one unit's monthly report, or a centre's consolidation.

``Appendix1`` is what every output is made from (the pages, the JSON API, and the DOCX/XLSX/PDF exports):
plain dataclasses of numbers and strings, no model instances, with ``to_json()``/``from_json()`` using the
stable English keys documented in ``docs/rollout.md``. Build one with:

- ``build_unit_report(unit, period)`` — a unit's report: the numbers frozen at its last submission when it
  is submitted or approved, else computed now from the roster and statuses "as of the period's end";
- ``build_consolidated(area, period)`` — every reporting unit under ``area`` active at the period's end,
  each unit's rows (the same layout), one TT numbering, and totals. A unit with nothing to count has a row
  with ``has_data = False`` and null counts: "not reported" is never a 0.

Table I.1 (DOMAIN.md §7), per department:

============ ======================================================================================
key          meaning
============ ======================================================================================
number       TT (1, 2, …; None on the totals row)
department   Khoa/phòng tại đơn vị
total_staff  Tổng số lượng CBCCVC và người lao động (roster on the period's last day)
level2_done  … đã cài đặt, đăng ký và kích hoạt định danh VNeID mức 2 (of all staff)
level2_missing, level2_reasons  … chưa … mức 2 (all staff), and why, with counts
book_created … đã được khởi tạo Sổ SKĐT trên VNeID (everybody who has it)
card_linked  … đã tích hợp thẻ BHYT vào Sổ SKĐT trên VNeID (everybody who has it)
card_missing, card_reasons  … chưa tích hợp thẻ BHYT … among staff **with a smartphone** (the letter's target
             population for install/link/use), and why
============ ======================================================================================

Extra per row (not columns of the form, used for rates and charts): ``smartphone_staff``,
``vneid_installed``/``vneid_missing`` and ``book_missing`` (missing = with a smartphone and not yet).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from soskdt.core import reasons
from soskdt.registry.models import OrgUnit, OrgUnitKind
from soskdt.registry.selectors import unit_descendants
from soskdt.rollout.models import (
    REASON_CATEGORY,
    Campaign,
    MonthlyReport,
    PrintingRecord,
    PrintKind,
    ReceptionAction,
    ReceptionHelp,
    ReportStatus,
    RosterEntry,
    TrainingSession,
)
from soskdt.rollout.periods import Period, local_zone, percent
from soskdt.rollout.selectors import (
    BOOK,
    CARD,
    LEVEL2,
    REPORTING_KINDS,
    UNKNOWN_REASON,
    VNEID,
    CoverageCount,
    StaffState,
    SystemFacts,
    campaign_for,
    entered_coverage,
    reason_label,
    staff_states,
    system_coverage,
)

#: The form's wording, verbatim from the letter's Appendix 1 (including its "Thông kê").
HEADINGS: dict[str, Any] = {
    "appendix": _("PHỤ LỤC 1"),
    "title": _("Thông kê kết quả triển khai thực hiện sổ sức khỏe điện tử trên ứng dụng VNeID"),
    "part_i": _("I. Kết quả thực hiện"),
    "i1": _(
        "1. Số lượng, tỷ lệ cán bộ, công chức, viên chức, người lao động thuộc phạm vi quản lý đã rà soát, "
        "đăng ký và kích hoạt sử dụng tài khoản định danh điện tử VNeID mức 2, tích hợp thẻ bảo hiểm y tế "
        "vào ví giấy tờ và sử dụng Sổ sức khỏe điện tử trên VNeID:"
    ),
    "i2": _("2. Triển khai khu vực tiếp đón, hướng dẫn bệnh nhân đăng ký khám chữa bệnh"),
    "i3": _("3. Công tác tập huấn triển khai Sổ sức khỏe điện tử"),
    "i4": _("4. Công tác in ấn tài liệu, tuyên truyền"),
    "part_ii": _("II. Khó khăn, vướng mắc"),
    "part_iii": _("III. Đề xuất, kiến nghị"),
    "signature": _("THỦ TRƯỞNG ĐƠN VỊ"),
    "signature_note": _("(Ký tên và đóng dấu)"),
    "totals": _("Tổng cộng"),
}

#: Table I.1's columns in the form's order: (Row attribute, heading verbatim from the letter).
I1_COLUMNS: tuple[tuple[str, Any], ...] = (
    ("number", _("TT")),
    ("department", _("Khoa/phòng tại đơn vị")),
    ("total_staff", _("Tổng số lượng CBCCVC và người lao động")),
    ("level2_done", _("Số lượng Đã cài đặt, đăng ký và kích hoạt định danh VNeID mức 2")),
    ("level2_missing", _("Số lượng Chưa cài đặt, đăng ký và kích hoạt định danh VNeID mức 2")),
    ("level2_reasons_text", _("Lý do chưa cài đặt, đăng ký và kích hoạt định danh VNeID mức 2")),
    ("book_created", _("Số lượng đã được khởi tạo Sổ SKĐT trên VNeID")),
    ("card_linked", _("Số lượng Đã tích hợp thẻ BHYT vào Sổ SKĐT trên VNeID")),
    ("card_missing", _("Số lượng Chưa tích hợp thẻ BHYT vào Sổ SKĐT trên VNeID")),
    ("card_reasons_text", _("Lý do chưa tích hợp thẻ BHYT vào Sổ SKĐT trên VNeID")),
)

SCOPE_UNIT = "unit"
SCOPE_CONSOLIDATED = "consolidated"
SOURCE_SNAPSHOT = "snapshot"
SOURCE_LIVE = "live"
SOURCE_NONE = "none"
MISSING = "missing"  # a unit-status value: no report row at all
TIMELINESS_LABELS: dict[str, Any] = {
    "on_time": _("Đúng hạn"),
    "late": _("Trễ hạn"),
    "missing": _("Chưa báo cáo"),
    "pending": _("Chưa đến hạn"),
}
STATUS_LABELS: dict[str, Any] = {**dict(ReportStatus.choices), MISSING: _("Chưa tạo báo cáo")}


def _iso(value: dt.date | dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def _datetime(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


def _pct(value: Decimal | None) -> float | None:
    return float(value) if value is not None else None


# --- table I.1 -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReasonCount:
    """How many staff gave one reason (``OTHER`` reasons are counted per free text, in the label)."""

    code: str
    label: str
    count: int

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "label": self.label, "count": self.count}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ReasonCount:
        return cls(data["code"], data["label"], int(data["count"]))


def format_reasons(items: Sequence[ReasonCount]) -> str:
    """``"Không có điện thoại thông minh: 3; Chưa có CCCD gắn chip: 1"`` (the form's reason columns)."""
    return "; ".join(f"{item.label}: {item.count}" for item in items)


def _reason_order(category: str) -> dict[str, int]:
    return {code: i for i, code in enumerate(reasons.CATEGORIES[category])}


def summarise_reasons(
    indicator: str, found: Iterable[tuple[str, str]], *, labels: dict[tuple[str, str, str], str] | None = None
) -> list[ReasonCount]:
    """Count ``(code, free text)`` pairs: the most frequent first, then in the reason list's order.

    ``labels`` caches the translated labels across many rows (translating is the slow part of a big report).
    """
    counts = Counter((code or UNKNOWN_REASON, text if code == "OTHER" else "") for code, text in found)
    order = _reason_order(REASON_CATEGORY[indicator])
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], order.get(kv[0][0], 99), kv[0][1]))
    if labels is None:
        labels = {}
    result = []
    for (code, text), n in ranked:
        key = (indicator, code, text)
        label = labels.get(key)
        if label is None:
            label = labels[key] = reason_label(indicator, code, text)
        result.append(ReasonCount(code, label, n))
    return result


def merge_reasons(groups: Iterable[Sequence[ReasonCount]]) -> list[ReasonCount]:
    """Add up reason counts of several rows (same code and label)."""
    counts: Counter[tuple[str, str]] = Counter()
    for group in groups:
        for item in group:
            counts[(item.code, item.label)] += item.count
    return [
        ReasonCount(code, label, n)
        for (code, label), n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    ]


@dataclass(slots=True)
class Row:
    """One row of table I.1 (or the totals row, with ``number`` None). Counts are None only when ``has_data`` is False."""

    number: int | None
    department: str
    total_staff: int | None
    level2_done: int | None
    level2_missing: int | None
    level2_reasons: list[ReasonCount]
    book_created: int | None
    card_linked: int | None
    card_missing: int | None
    card_reasons: list[ReasonCount]
    smartphone_staff: int | None = None
    vneid_installed: int | None = None
    vneid_missing: int | None = None
    book_missing: int | None = None
    unit_code: str = ""
    unit_name: str = ""
    has_data: bool = True

    @property
    def level2_reasons_text(self) -> str:
        return format_reasons(self.level2_reasons)

    @property
    def card_reasons_text(self) -> str:
        return format_reasons(self.card_reasons)

    @property
    def level2_percent(self) -> Decimal | None:
        """Staff with a level-2 account, % of all staff (target: 100%)."""
        return percent(self.level2_done, self.total_staff)

    def _smartphone_percent(self, missing: int | None) -> Decimal | None:
        if self.smartphone_staff is None or missing is None:
            return None
        return percent(self.smartphone_staff - missing, self.smartphone_staff)

    @property
    def card_percent(self) -> Decimal | None:
        """Staff with a smartphone who linked their BHYT card, % (target: 100%)."""
        return self._smartphone_percent(self.card_missing)

    @property
    def book_percent(self) -> Decimal | None:
        return self._smartphone_percent(self.book_missing)

    @property
    def vneid_percent(self) -> Decimal | None:
        return self._smartphone_percent(self.vneid_missing)

    def to_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "department": self.department,
            "unit_code": self.unit_code,
            "unit_name": self.unit_name,
            "has_data": self.has_data,
            "total_staff": self.total_staff,
            "level2_done": self.level2_done,
            "level2_missing": self.level2_missing,
            "level2_reasons": [r.to_json() for r in self.level2_reasons],
            "level2_reasons_text": self.level2_reasons_text,
            "book_created": self.book_created,
            "card_linked": self.card_linked,
            "card_missing": self.card_missing,
            "card_reasons": [r.to_json() for r in self.card_reasons],
            "card_reasons_text": self.card_reasons_text,
            "smartphone_staff": self.smartphone_staff,
            "vneid_installed": self.vneid_installed,
            "vneid_missing": self.vneid_missing,
            "book_missing": self.book_missing,
            "level2_percent": _pct(self.level2_percent),
            "card_percent": _pct(self.card_percent),
            "book_percent": _pct(self.book_percent),
            "vneid_percent": _pct(self.vneid_percent),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Row:
        return cls(
            number=data.get("number"),
            department=data["department"],
            total_staff=data.get("total_staff"),
            level2_done=data.get("level2_done"),
            level2_missing=data.get("level2_missing"),
            level2_reasons=[ReasonCount.from_json(r) for r in data.get("level2_reasons", [])],
            book_created=data.get("book_created"),
            card_linked=data.get("card_linked"),
            card_missing=data.get("card_missing"),
            card_reasons=[ReasonCount.from_json(r) for r in data.get("card_reasons", [])],
            smartphone_staff=data.get("smartphone_staff"),
            vneid_installed=data.get("vneid_installed"),
            vneid_missing=data.get("vneid_missing"),
            book_missing=data.get("book_missing"),
            unit_code=data.get("unit_code", ""),
            unit_name=data.get("unit_name", ""),
            has_data=data.get("has_data", True),
        )


def count_row(
    states: Sequence[StaffState],
    *,
    department: str,
    number: int | None = None,
    labels: dict[tuple[str, str, str], str] | None = None,
) -> Row:
    """Count table I.1 for these staff (their statuses already resolved as of the period's end)."""
    # One pass over the staff (a consolidation counts 50,000 of them); the reasons keep the staff's order.
    level2_done = book_created = card_linked = vneid_installed = 0
    phones = vneid_missing = book_missing = 0
    level2_why: list[tuple[str, str]] = []
    card_why: list[tuple[str, str]] = []
    for state in states:
        statuses = state.statuses
        level2, card = statuses[LEVEL2], statuses[CARD]
        book_done, vneid_done = statuses[BOOK].done, statuses[VNEID].done
        if level2.done:
            level2_done += 1
        else:
            level2_why.append((level2.reason_code, level2.reason_text))
        if book_done:
            book_created += 1
        if card.done:
            card_linked += 1
        if vneid_done:
            vneid_installed += 1
        if state.has_smartphone:
            phones += 1
            if not card.done:
                card_why.append((card.reason_code, card.reason_text))
            if not vneid_done:
                vneid_missing += 1
            if not book_done:
                book_missing += 1
    if labels is None:
        labels = {}
    return Row(
        number=number,
        department=department,
        total_staff=len(states),
        level2_done=level2_done,
        level2_missing=len(level2_why),
        level2_reasons=summarise_reasons(LEVEL2, level2_why, labels=labels),
        book_created=book_created,
        card_linked=card_linked,
        card_missing=len(card_why),
        card_reasons=summarise_reasons(CARD, card_why, labels=labels),
        smartphone_staff=phones,
        vneid_installed=vneid_installed,
        vneid_missing=vneid_missing,
        book_missing=book_missing,
    )


def _sum(values: Iterable[int | None]) -> int:
    return sum(v for v in values if v is not None)


def total_row(rows: Sequence[Row]) -> Row:
    """The totals row of these rows (rows without data are left out)."""
    counted = [r for r in rows if r.has_data]
    return Row(
        number=None,
        department=str(HEADINGS["totals"]),
        total_staff=_sum(r.total_staff for r in counted),
        level2_done=_sum(r.level2_done for r in counted),
        level2_missing=_sum(r.level2_missing for r in counted),
        level2_reasons=merge_reasons(r.level2_reasons for r in counted),
        book_created=_sum(r.book_created for r in counted),
        card_linked=_sum(r.card_linked for r in counted),
        card_missing=_sum(r.card_missing for r in counted),
        card_reasons=merge_reasons(r.card_reasons for r in counted),
        smartphone_staff=_sum(r.smartphone_staff for r in counted),
        vneid_installed=_sum(r.vneid_installed for r in counted),
        vneid_missing=_sum(r.vneid_missing for r in counted),
        book_missing=_sum(r.book_missing for r in counted),
    )


def placeholder_row(unit: UnitInfo) -> Row:
    """The row of a unit with nothing to count: null counts, never zeros."""
    return Row(
        None,
        unit.name,
        None,
        None,
        None,
        [],
        None,
        None,
        None,
        [],
        unit_code=unit.code,
        unit_name=unit.name,
        has_data=False,
    )


def unit_rows(
    unit: OrgUnit, states: Sequence[StaffState], *, labels: dict[tuple[str, str, str], str] | None = None
) -> list[Row]:
    """Table I.1 rows of one unit: a commune station is one row; a department one row per *Khoa/Phòng*."""
    if not states:
        return []
    groups: dict[str, list[StaffState]] = defaultdict(list)
    if unit.kind == OrgUnitKind.COMMUNE_STATION:
        groups[unit.name] = list(states)
    else:
        for state in states:
            groups[state.department.strip() or unit.name].append(state)
    names = sorted(groups, key=lambda name: (name != unit.name, name))
    rows = [
        count_row(groups[name], department=name, number=i, labels=labels)
        for i, name in enumerate(names, start=1)
    ]
    for row in rows:
        row.unit_code, row.unit_name = unit.code, unit.name
    return rows


# --- sections I.2–I.4 ----------------------------------------------------------------------------------


@dataclass(slots=True)
class Reception:
    """I.2: patients helped at the reception area during the month, by what they were helped with."""

    installed_app: int = 0
    linked_card: int = 0
    opened_book: int = 0
    note: str = ""

    @property
    def total(self) -> int:
        return self.installed_app + self.linked_card + self.opened_book

    def to_json(self) -> dict[str, Any]:
        return {
            "installed_app": self.installed_app,
            "linked_card": self.linked_card,
            "opened_book": self.opened_book,
            "total": self.total,
            "note": self.note,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Reception:
        return cls(data["installed_app"], data["linked_card"], data["opened_book"], data.get("note", ""))


@dataclass(frozen=True, slots=True)
class TrainingItem:
    held_on: dt.date
    topic: str
    attendees: int
    unit_code: str = ""
    unit_name: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "held_on": self.held_on.isoformat(),
            "topic": self.topic,
            "attendees": self.attendees,
            "unit_code": self.unit_code,
            "unit_name": self.unit_name,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TrainingItem:
        return cls(
            dt.date.fromisoformat(data["held_on"]),
            data["topic"],
            data["attendees"],
            data.get("unit_code", ""),
            data.get("unit_name", ""),
        )


@dataclass(slots=True)
class Training:
    """I.3: sessions held in the month and the share of staff trained so far (of the roster at the month's end)."""

    sessions: int = 0
    attendees: int = 0
    trained_staff: int = 0
    total_staff: int = 0
    items: list[TrainingItem] = field(default_factory=list)
    note: str = ""

    @property
    def trained_percent(self) -> Decimal | None:
        return percent(self.trained_staff, self.total_staff)

    def to_json(self) -> dict[str, Any]:
        return {
            "sessions": self.sessions,
            "attendees": self.attendees,
            "trained_staff": self.trained_staff,
            "total_staff": self.total_staff,
            "trained_percent": _pct(self.trained_percent),
            "items": [i.to_json() for i in self.items],
            "note": self.note,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Training:
        return cls(
            data["sessions"],
            data["attendees"],
            data["trained_staff"],
            data["total_staff"],
            [TrainingItem.from_json(i) for i in data.get("items", [])],
            data.get("note", ""),
        )


@dataclass(frozen=True, slots=True)
class PrintingItem:
    recorded_on: dt.date
    kind: str
    kind_label: str
    quantity: int
    colour: bool
    location: str
    note: str = ""
    unit_code: str = ""
    unit_name: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "recorded_on": self.recorded_on.isoformat(),
            "kind": self.kind,
            "kind_label": self.kind_label,
            "quantity": self.quantity,
            "colour": self.colour,
            "location": self.location,
            "note": self.note,
            "unit_code": self.unit_code,
            "unit_name": self.unit_name,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PrintingItem:
        return cls(
            dt.date.fromisoformat(data["recorded_on"]),
            data["kind"],
            data["kind_label"],
            data["quantity"],
            data["colour"],
            data["location"],
            data.get("note", ""),
            data.get("unit_code", ""),
            data.get("unit_name", ""),
        )


@dataclass(frozen=True, slots=True)
class KindTotal:
    kind: str
    label: str
    quantity: int

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "label": self.label, "quantity": self.quantity}


@dataclass(slots=True)
class Printing:
    """I.4: what was printed or broadcast in the month, where it was posted, with totals per kind."""

    items: list[PrintingItem] = field(default_factory=list)
    note: str = ""

    @property
    def totals(self) -> list[KindTotal]:
        sums: Counter[str] = Counter()
        for item in self.items:
            sums[item.kind] += item.quantity
        labels = dict(PrintKind.choices)
        return [KindTotal(k, str(labels.get(k, k)), sums[k]) for k in PrintKind.values if sums[k]]

    def to_json(self) -> dict[str, Any]:
        return {
            "items": [i.to_json() for i in self.items],
            "totals": [t.to_json() for t in self.totals],
            "note": self.note,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Printing:
        return cls([PrintingItem.from_json(i) for i in data.get("items", [])], data.get("note", ""))


# --- the whole form ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UnitInfo:
    code: str
    name: str
    kind: str

    @classmethod
    def of(cls, unit: OrgUnit) -> UnitInfo:
        return cls(unit.code, unit.name, unit.kind)

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "name": self.name, "kind": self.kind}


@dataclass(frozen=True, slots=True)
class CampaignInfo:
    name: str
    letter_reference: str
    target_date: dt.date
    target_level2_percent: int
    target_smartphone_percent: int
    deadline_day: int
    deadline: dt.datetime  # when this month's report becomes late

    @classmethod
    def of(cls, campaign: Campaign, period: Period) -> CampaignInfo:
        return cls(
            campaign.name,
            campaign.letter_reference,
            campaign.target_date,
            campaign.target_level2_percent,
            campaign.target_smartphone_percent,
            campaign.deadline_day,
            period.deadline(campaign.deadline_day),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "letter_reference": self.letter_reference,
            "target_date": self.target_date.isoformat(),
            "target_level2_percent": self.target_level2_percent,
            "target_smartphone_percent": self.target_smartphone_percent,
            "deadline_day": self.deadline_day,
            "deadline": self.deadline.isoformat(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CampaignInfo:
        return cls(
            data["name"],
            data["letter_reference"],
            dt.date.fromisoformat(data["target_date"]),
            data["target_level2_percent"],
            data["target_smartphone_percent"],
            data["deadline_day"],
            dt.datetime.fromisoformat(data["deadline"]),
        )


@dataclass(slots=True)
class UnitStatus:
    """Where a unit's report stands for the month (one per unit; the only one of a unit's own report)."""

    unit: UnitInfo
    status: str  # draft, submitted, approved, returned, or "missing" (no report started)
    submitted_at: dt.datetime | None
    on_time: bool | None
    timeliness: str  # on_time, late, missing (due and not submitted), pending (not due yet)
    source: str  # snapshot (numbers frozen at submission), live (computed now), none (nothing to count)
    difficulties: str = ""
    proposals: str = ""

    @property
    def status_label(self) -> str:
        return str(STATUS_LABELS.get(self.status, self.status))

    @property
    def timeliness_label(self) -> str:
        return str(TIMELINESS_LABELS.get(self.timeliness, self.timeliness))

    def to_json(self) -> dict[str, Any]:
        return {
            **self.unit.to_json(),
            "status": self.status,
            "status_label": self.status_label,
            "submitted_at": _iso(self.submitted_at),
            "on_time": self.on_time,
            "timeliness": self.timeliness,
            "timeliness_label": self.timeliness_label,
            "source": self.source,
            "difficulties": self.difficulties,
            "proposals": self.proposals,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> UnitStatus:
        return cls(
            UnitInfo(data["code"], data["name"], data["kind"]),
            data["status"],
            _datetime(data.get("submitted_at")),
            data.get("on_time"),
            data["timeliness"],
            data["source"],
            data.get("difficulties", ""),
            data.get("proposals", ""),
        )


COVERAGE_SYSTEM = "system"
COVERAGE_ENTERED = "entered"
COVERAGE_LABELS: dict[str, Any] = {
    COVERAGE_SYSTEM: _("Theo số liệu SoSKDT"),
    COVERAGE_ENTERED: _("Theo số liệu nhập"),
}


@dataclass(frozen=True, slots=True)
class CoverageRate:
    """One reading of the coverage indicator "books integrated ÷ population" of an area.

    ``system``: counted by SoSKDT from its own registers at ``as_of`` (a moment); ``entered``: a figure the
    centre recorded (``as_of`` a day, ``source`` e.g. "Cục C06"). Counts are None where unknown.
    """

    kind: str
    area: UnitInfo
    as_of: dt.datetime | dt.date
    books_integrated: int | None
    population: int | None
    source: str = ""

    @property
    def label(self) -> str:
        return str(COVERAGE_LABELS.get(self.kind, self.kind))

    @property
    def percent(self) -> Decimal | None:
        return percent(self.books_integrated, self.population)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "label": self.label,
            "area": self.area.to_json(),
            "as_of": self.as_of.isoformat(),
            "books_integrated": self.books_integrated,
            "population": self.population,
            "percent": _pct(self.percent),
            "source": self.source,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CoverageRate:
        parse = dt.datetime.fromisoformat if data["kind"] == COVERAGE_SYSTEM else dt.date.fromisoformat
        return cls(
            data["kind"],
            UnitInfo(**data["area"]),
            parse(data["as_of"]),
            data.get("books_integrated"),
            data.get("population"),
            data.get("source", ""),
        )


@dataclass(frozen=True, slots=True)
class Coverage:
    """The coverage indicator of a consolidation: SoSKDT's own count, and the latest entered figure if any."""

    system: CoverageRate
    entered: CoverageRate | None

    def to_json(self) -> dict[str, Any]:
        return {"system": self.system.to_json(), "entered": self.entered.to_json() if self.entered else None}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Coverage:
        entered = data.get("entered")
        return cls(
            CoverageRate.from_json(data["system"]), CoverageRate.from_json(entered) if entered else None
        )


def _rate(kind: str, count: CoverageCount) -> CoverageRate:
    return CoverageRate(
        kind, UnitInfo.of(count.area), count.as_of, count.books_integrated, count.population, count.source
    )


def coverage_of(area: OrgUnit, period: Period, moment: dt.datetime) -> Coverage:
    """SoSKDT's count at ``moment`` and the latest figure entered up to the period's last day."""
    entered = entered_coverage(area, period.end)
    return Coverage(
        system=_rate(COVERAGE_SYSTEM, system_coverage(area, moment)),
        entered=_rate(COVERAGE_ENTERED, entered) if entered is not None else None,
    )


@dataclass(slots=True)
class Appendix1:
    """Appendix 1 for one unit (``scope == "unit"``) or consolidated for an area (``"consolidated"``)."""

    scope: str
    unit: UnitInfo  # the reporting unit, or the centre/province of a consolidation
    period: Period
    as_of: dt.datetime  # the moment the statuses were read (the period's last instant, or now if earlier)
    campaign: CampaignInfo
    rows: list[Row]
    totals: Row
    reception: Reception
    training: Training
    printing: Printing
    difficulties: str
    proposals: str
    units: list[UnitStatus]
    generated_at: dt.datetime
    # The coverage indicator (a consolidation only; None for a unit's report).
    coverage: Coverage | None = None

    # The unit's own report status (for a consolidation: None).
    @property
    def own(self) -> UnitStatus | None:
        return self.units[0] if self.scope == SCOPE_UNIT and self.units else None

    @property
    def status(self) -> str | None:
        return self.own.status if self.own else None

    @property
    def status_label(self) -> str | None:
        return self.own.status_label if self.own else None

    @property
    def submitted_at(self) -> dt.datetime | None:
        return self.own.submitted_at if self.own else None

    @property
    def on_time(self) -> bool | None:
        return self.own.on_time if self.own else None

    def to_json(self) -> dict[str, Any]:
        """Everything as JSON-ready values with stable English keys (docs/rollout.md)."""
        return {
            "scope": self.scope,
            "unit": self.unit.to_json(),
            "period": {
                "key": self.period.key,
                "year": self.period.year,
                "month": self.period.month,
                "start": self.period.start.isoformat(),
                "end": self.period.end.isoformat(),
            },
            "as_of": self.as_of.isoformat(),
            "generated_at": self.generated_at.isoformat(),
            "campaign": self.campaign.to_json(),
            "status": self.status,
            "status_label": self.status_label,
            "submitted_at": _iso(self.submitted_at),
            "on_time": self.on_time,
            "columns": [{"key": key, "heading": str(heading)} for key, heading in I1_COLUMNS],
            "rows": [r.to_json() for r in self.rows],
            "totals": self.totals.to_json(),
            "reception": self.reception.to_json(),
            "training": self.training.to_json(),
            "printing": self.printing.to_json(),
            "difficulties": self.difficulties,
            "proposals": self.proposals,
            "units": [u.to_json() for u in self.units],
            "coverage": self.coverage.to_json() if self.coverage is not None else None,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Appendix1:
        return cls(
            scope=data["scope"],
            unit=UnitInfo(**data["unit"]),
            period=Period(data["period"]["year"], data["period"]["month"]),
            as_of=dt.datetime.fromisoformat(data["as_of"]),
            campaign=CampaignInfo.from_json(data["campaign"]),
            rows=[Row.from_json(r) for r in data["rows"]],
            totals=Row.from_json(data["totals"]),
            reception=Reception.from_json(data["reception"]),
            training=Training.from_json(data["training"]),
            printing=Printing.from_json(data["printing"]),
            difficulties=data.get("difficulties", ""),
            proposals=data.get("proposals", ""),
            units=[UnitStatus.from_json(u) for u in data.get("units", [])],
            generated_at=dt.datetime.fromisoformat(data["generated_at"]),
            coverage=Coverage.from_json(data["coverage"]) if data.get("coverage") else None,
        )


# --- computing -----------------------------------------------------------------------------------------


def reading_moment(period: Period, now: dt.datetime | None = None) -> dt.datetime:
    """The moment statuses are read for ``period``: its last instant, or now while the month is running."""
    now = now or timezone.now()
    return min(period.end_moment(), now)


def timeliness_of(report: MonthlyReport | None, deadline: dt.datetime, now: dt.datetime) -> str:
    """on_time / late (decided by the first submission), else missing once the deadline has passed, else pending."""
    if report is not None and report.first_submitted_at is not None:
        return "on_time" if report.on_time else "late"
    return "missing" if now >= deadline else "pending"


def unit_status(
    unit: OrgUnit, report: MonthlyReport | None, deadline: dt.datetime, now: dt.datetime, source: str
) -> UnitStatus:
    return UnitStatus(
        unit=UnitInfo.of(unit),
        status=report.status if report else MISSING,
        submitted_at=report.submitted_at if report else None,
        on_time=report.on_time if report else None,
        timeliness=timeliness_of(report, deadline, now),
        source=source,
        difficulties=report.difficulties if report else "",
        proposals=report.proposals if report else "",
    )


@dataclass(slots=True)
class UnitNumbers:
    """Everything counted for one unit and month."""

    rows: list[Row]
    reception: Reception
    training: Training
    printing: Printing


def compute_units(
    units: Sequence[OrgUnit], period: Period, moment: dt.datetime, *, facts: SystemFacts | None = None
) -> dict[int, UnitNumbers]:
    """Count table I.1 and sections I.2–I.4 for these units, in a fixed number of queries."""
    if not units:
        return {}
    ids = [u.pk for u in units]
    day = moment.astimezone(local_zone()).date()
    by_unit: dict[int, list[StaffState]] = defaultdict(list)
    for state in staff_states(ids, moment, day=day, facts=facts):
        by_unit[state.unit_id].append(state)

    start = period.start
    zone = local_zone()
    start_at = dt.datetime.combine(start, dt.time(0), tzinfo=zone)
    reception: dict[int, Counter[str]] = defaultdict(Counter)
    helped = (
        ReceptionHelp.objects.filter(
            unit_id__in=ids, helped_at__gte=start_at, helped_at__lte=moment, undone_at__isnull=True
        )
        .values_list("unit_id", "action")
        .annotate(n=Count("pk"))
    )
    for unit_id, action, n in helped:
        reception[unit_id][action] += n

    sessions: dict[int, list[TrainingItem]] = defaultdict(list)
    rows = (
        TrainingSession.objects.filter(unit_id__in=ids, held_on__gte=start, held_on__lte=day)
        .annotate(n=Count("attendees"))
        .order_by("held_on", "pk")
        .values_list("unit_id", "held_on", "topic", "n", "other_attendees")
    )
    for unit_id, held_on, topic, n, extra in rows:
        sessions[unit_id].append(TrainingItem(held_on, topic, n + extra))
    in_month = TrainingSession.objects.filter(unit_id__in=ids, held_on__gte=start, held_on__lte=day)
    attended: dict[int, int] = dict(
        in_month.values("unit_id").annotate(n=Count("attendees", distinct=True)).values_list("unit_id", "n")
    )
    others: dict[int, int | None] = dict(
        in_month.values("unit_id").annotate(n=Sum("other_attendees")).values_list("unit_id", "n")
    )
    trained = dict(
        RosterEntry.objects.filter(
            Q(active_from__lte=day) & (Q(active_to__isnull=True) | Q(active_to__gte=day)),
            unit_id__in=ids,
            trainings__held_on__lte=day,
        )
        .values("unit_id")
        .annotate(n=Count("pk", distinct=True))
        .values_list("unit_id", "n")
    )

    printed: dict[int, list[PrintingItem]] = defaultdict(list)
    labels = dict(PrintKind.choices)
    records = PrintingRecord.objects.filter(
        unit_id__in=ids, recorded_on__gte=start, recorded_on__lte=day
    ).order_by("recorded_on", "pk")
    for record in records:
        printed[record.unit_id].append(
            PrintingItem(
                record.recorded_on,
                record.kind,
                str(labels.get(record.kind, record.kind)),
                record.quantity,
                record.colour,
                record.location,
                record.note,
            )
        )

    result: dict[int, UnitNumbers] = {}
    reason_labels: dict[tuple[str, str, str], str] = {}
    for unit in units:
        states = by_unit.get(unit.pk, [])
        counts = reception.get(unit.pk, Counter())
        result[unit.pk] = UnitNumbers(
            rows=unit_rows(unit, states, labels=reason_labels),
            reception=Reception(
                counts[ReceptionAction.INSTALLED_APP],
                counts[ReceptionAction.LINKED_CARD],
                counts[ReceptionAction.OPENED_BOOK],
            ),
            training=Training(
                sessions=len(sessions.get(unit.pk, [])),
                attendees=attended.get(unit.pk, 0) + (others.get(unit.pk) or 0),
                trained_staff=trained.get(unit.pk, 0),
                total_staff=len(states),
                items=sessions.get(unit.pk, []),
            ),
            printing=Printing(printed.get(unit.pk, [])),
        )
    return result


def _with_notes(numbers: UnitNumbers, report: MonthlyReport | None) -> UnitNumbers:
    if report is not None:
        numbers.reception.note = report.reception_note
        numbers.training.note = report.training_note
        numbers.printing.note = report.printing_note
    return numbers


def build_unit_report(
    unit: OrgUnit, period: Period, *, now: dt.datetime | None = None, live: bool = False
) -> Appendix1:
    """One unit's Appendix 1 for ``period``: as submitted when submitted or approved (unless ``live``)."""
    now = now or timezone.now()
    report = MonthlyReport.objects.filter(unit=unit, period=period.start).first()
    campaign = CampaignInfo.of(campaign_for(unit), period)
    if report is not None and report.is_locked and report.snapshot and not live:
        frozen = Appendix1.from_json(report.snapshot)
        frozen.units = [unit_status(unit, report, campaign.deadline, now, SOURCE_SNAPSHOT)]
        frozen.difficulties, frozen.proposals = report.difficulties, report.proposals
        return frozen
    moment = reading_moment(period, now)
    numbers = _with_notes(compute_units([unit], period, moment)[unit.pk], report)
    return Appendix1(
        scope=SCOPE_UNIT,
        unit=UnitInfo.of(unit),
        period=period,
        as_of=moment,
        campaign=campaign,
        rows=numbers.rows,
        totals=total_row(numbers.rows),
        reception=numbers.reception,
        training=numbers.training,
        printing=numbers.printing,
        difficulties=report.difficulties if report else "",
        proposals=report.proposals if report else "",
        units=[unit_status(unit, report, campaign.deadline, now, SOURCE_LIVE)],
        generated_at=now,
    )


def expected_units(area: OrgUnit, period: Period) -> list[OrgUnit]:
    """The reporting units under ``area`` expected to report for ``period``: those active on its last day.

    A unit closed during the month (its staff moved to a successor) is not expected; one opened during
    the month is, since its staff are counted at the month's end.
    """
    end = period.end
    units = unit_descendants(area).filter(
        Q(valid_from__lte=end) & (Q(valid_to__isnull=True) | Q(valid_to__gte=end)), kind__in=REPORTING_KINDS
    )
    order = {kind: i for i, kind in enumerate(REPORTING_KINDS)}
    return sorted(units, key=lambda u: (order.get(u.kind, 9), u.code))


def build_consolidated(
    area: OrgUnit,
    period: Period,
    *,
    units: Sequence[OrgUnit] | None = None,
    only_submitted: bool = False,
    now: dt.datetime | None = None,
    facts: SystemFacts | None = None,
) -> Appendix1:
    """The consolidated Appendix 1 of ``area`` (a centre or the province): every unit's rows, then totals.

    Submitted and approved units contribute their numbers as submitted; the others their numbers as of now
    (or, with ``only_submitted``, a row without data). A unit with nothing to count gets a row without data.
    """
    now = now or timezone.now()
    units = list(units) if units is not None else expected_units(area, period)
    campaign = CampaignInfo.of(campaign_for(area), period)
    moment = reading_moment(period, now)
    reports = {r.unit_id: r for r in MonthlyReport.objects.filter(unit__in=units, period=period.start)}
    frozen: dict[int, Appendix1] = {}
    for unit in units:
        report = reports.get(unit.pk)
        if report is not None and report.is_locked and report.snapshot:
            frozen[unit.pk] = Appendix1.from_json(report.snapshot)
    live_units = [] if only_submitted else [u for u in units if u.pk not in frozen]
    live = compute_units(live_units, period, moment, facts=facts)

    rows: list[Row] = []
    statuses: list[UnitStatus] = []
    reception = Reception()
    training = Training()
    printing = Printing()
    difficulties: list[str] = []
    proposals: list[str] = []
    for unit in units:
        report = reports.get(unit.pk)
        info = UnitInfo.of(unit)
        if unit.pk in frozen:
            source = SOURCE_SNAPSHOT
            snap = frozen[unit.pk]
            numbers = UnitNumbers(snap.rows, snap.reception, snap.training, snap.printing)
        elif unit.pk in live and live[unit.pk].rows:
            source = SOURCE_LIVE
            numbers = _with_notes(live[unit.pk], report)
        else:
            source = SOURCE_NONE
            numbers = UnitNumbers([placeholder_row(info)], Reception(), Training(), Printing())
        for row in numbers.rows:
            row.unit_code, row.unit_name = info.code, info.name
            rows.append(row)
        statuses.append(unit_status(unit, report, campaign.deadline, now, source))
        if source == SOURCE_NONE:
            continue
        reception.installed_app += numbers.reception.installed_app
        reception.linked_card += numbers.reception.linked_card
        reception.opened_book += numbers.reception.opened_book
        training.sessions += numbers.training.sessions
        training.attendees += numbers.training.attendees
        training.trained_staff += numbers.training.trained_staff
        training.total_staff += numbers.training.total_staff
        training.items += [
            TrainingItem(i.held_on, i.topic, i.attendees, info.code, info.name)
            for i in numbers.training.items
        ]
        printing.items += [
            PrintingItem(
                i.recorded_on,
                i.kind,
                i.kind_label,
                i.quantity,
                i.colour,
                i.location,
                i.note,
                info.code,
                info.name,
            )
            for i in numbers.printing.items
        ]
        if report is not None and report.difficulties.strip():
            difficulties.append(f"{unit.name}: {report.difficulties.strip()}")
        if report is not None and report.proposals.strip():
            proposals.append(f"{unit.name}: {report.proposals.strip()}")
    for number, row in enumerate(rows, start=1):
        row.number = number
    training.items.sort(key=lambda i: (i.held_on, i.unit_code))
    printing.items.sort(key=lambda i: (i.recorded_on, i.unit_code))
    return Appendix1(
        scope=SCOPE_CONSOLIDATED,
        unit=UnitInfo.of(area),
        period=period,
        as_of=moment,
        campaign=campaign,
        rows=rows,
        totals=total_row(rows),
        reception=reception,
        training=training,
        printing=printing,
        difficulties="\n".join(difficulties),
        proposals="\n".join(proposals),
        units=statuses,
        generated_at=now,
        coverage=coverage_of(area, period, moment),
    )


__all__ = [
    "HEADINGS",
    "I1_COLUMNS",
    "Appendix1",
    "CampaignInfo",
    "Coverage",
    "CoverageRate",
    "KindTotal",
    "Printing",
    "PrintingItem",
    "ReasonCount",
    "Reception",
    "Row",
    "Training",
    "TrainingItem",
    "UnitInfo",
    "UnitStatus",
    "build_consolidated",
    "build_unit_report",
    "expected_units",
    "format_reasons",
]
