"""Every write of the roll-out tracker: campaign, roster, statuses, records, the report workflow, reminders.

Keyword-only functions, one transaction each. Who may call them is decided by the pages and the API
(``rollout.selectors.unit_for`` / ``can_edit_unit``); these functions check the domain rules.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as gettext_now
from django.utils.translation import gettext_lazy as _

from soskdt.core import reasons
from soskdt.core.errors import DomainError, define
from soskdt.core.identifiers import IdentifierError, parse_personal_id
from soskdt.identity.models import User
from soskdt.registry.models import OrgUnit, OrgUnitKind
from soskdt.rollout import selectors
from soskdt.rollout.models import (
    REASON_CATEGORY,
    Campaign,
    CoverageFigure,
    Indicator,
    MonthlyReport,
    PrintingRecord,
    PrintKind,
    ReceptionAction,
    ReceptionHelp,
    ReminderSent,
    ReportAction,
    ReportEvent,
    ReportStatus,
    RosterEntry,
    StatusChange,
    TrainingSession,
)
from soskdt.rollout.periods import Period

logger = logging.getLogger(__name__)

REPORT_LOCKED = define("ROLLOUT_REPORT_LOCKED", _("Báo cáo đã nộp hoặc đã duyệt, không sửa được."))
TRANSITION_INVALID = define(
    "ROLLOUT_TRANSITION_INVALID", _("Không thể chuyển báo cáo từ trạng thái “{current}” bằng thao tác này.")
)
COMMENT_REQUIRED = define("ROLLOUT_COMMENT_REQUIRED", _("Vui lòng ghi ý kiến (lý do trả lại hoặc mở lại)."))
PERIOD_INVALID = define(
    "ROLLOUT_PERIOD_INVALID", _("Tháng báo cáo không hợp lệ (trước đợt triển khai hoặc ở tương lai).")
)
REASON_REQUIRED = define("ROLLOUT_REASON_REQUIRED", _("Vui lòng chọn lý do chưa thực hiện."))
REASON_UNKNOWN = define("ROLLOUT_REASON_UNKNOWN", _("Lý do không có trong danh mục."))
OTHER_TEXT_REQUIRED = define("ROLLOUT_OTHER_TEXT_REQUIRED", _("Vui lòng ghi rõ “Lý do khác”."))
STATUS_BACKDATED = define(
    "ROLLOUT_STATUS_BACKDATED", _("Thời điểm hiệu lực không được trước lần cập nhật gần nhất ({latest}).")
)
INDICATOR_UNKNOWN = define("ROLLOUT_INDICATOR_UNKNOWN", _("Chỉ tiêu không có trong danh mục."))
UNDO_EXPIRED = define(
    "ROLLOUT_UNDO_EXPIRED", _("Chỉ hoàn tác được lượt ghi nhận của chính bạn trong 15 phút.")
)
ATTENDEE_NOT_ON_ROSTER = define(
    "ROLLOUT_ATTENDEE_NOT_ON_ROSTER", _("Người tham dự không có trong danh sách cán bộ của đơn vị.")
)
ROSTER_PERSON_EXISTS = define(
    "ROLLOUT_ROSTER_PERSON_EXISTS", _("Số định danh cá nhân này đã có trong danh sách cán bộ của đơn vị.")
)
ROSTER_PERIOD_INVALID = define(
    "ROLLOUT_ROSTER_PERIOD_INVALID", _("Ngày kết thúc không được trước ngày bắt đầu.")
)
VALUE_INVALID = define("ROLLOUT_VALUE_INVALID", _("Giá trị không hợp lệ."))
CAMPAIGN_INVALID = define("ROLLOUT_CAMPAIGN_INVALID", _("Cài đặt đợt triển khai không hợp lệ."))

UNDO_WINDOW = dt.timedelta(minutes=15)


# --- campaign ------------------------------------------------------------------------------------------


@transaction.atomic
def update_campaign(*, centre: OrgUnit, by: User, **values: Any) -> Campaign:
    """Create or change the campaign settings of ``centre`` (targets, target date, deadline day)."""
    allowed = {
        "name",
        "letter_reference",
        "starts_on",
        "target_date",
        "target_level2_percent",
        "target_smartphone_percent",
        "deadline_day",
        "reminder_days_before",
    }
    unknown = set(values) - allowed
    if unknown:
        raise DomainError(CAMPAIGN_INVALID, details=[{"field": f} for f in sorted(unknown)])
    campaign = Campaign.objects.select_for_update().filter(centre=centre).first() or Campaign(centre=centre)
    for name, value in values.items():
        setattr(campaign, name, value)
    problems = []
    if not 2 <= int(campaign.deadline_day) <= 28:
        problems.append({"field": "deadline_day"})
    for name in ("target_level2_percent", "target_smartphone_percent"):
        if not 0 <= int(getattr(campaign, name)) <= 100:
            problems.append({"field": name})
    if not 0 <= int(campaign.reminder_days_before) < int(campaign.deadline_day):
        problems.append({"field": "reminder_days_before"})
    if problems:
        raise DomainError(CAMPAIGN_INVALID, details=problems)
    campaign.starts_on = campaign.starts_on.replace(day=1)
    campaign.updated_by = by
    campaign.save()
    return campaign


# --- roster --------------------------------------------------------------------------------------------


def _clean_personal_id(value: str) -> str:
    try:
        return parse_personal_id(value).value
    except IdentifierError as exc:
        raise DomainError(exc.code, details=[{"field": "personal_id", "value": value}]) from exc


@transaction.atomic
def add_roster_entry(
    *,
    unit: OrgUnit,
    by: User,
    full_name: str,
    personal_id: str,
    position: str = "",
    department: str = "",
    has_smartphone: bool = True,
    active_from: dt.date,
    active_to: dt.date | None = None,
) -> RosterEntry:
    """Put a staff member on ``unit``'s roster."""
    pid = _clean_personal_id(personal_id)
    if active_to is not None and active_to < active_from:
        raise DomainError(ROSTER_PERIOD_INVALID, details=[{"field": "active_to"}])
    if RosterEntry.objects.filter(unit=unit, personal_id=pid).exists():
        raise DomainError(ROSTER_PERSON_EXISTS, status=409, details=[{"field": "personal_id", "value": pid}])
    return RosterEntry.objects.create(
        unit=unit,
        full_name=" ".join(full_name.split()),
        personal_id=pid,
        position=position.strip(),
        department=department.strip(),
        has_smartphone=has_smartphone,
        active_from=active_from,
        active_to=active_to,
    )


@transaction.atomic
def update_roster_entry(*, entry: RosterEntry, by: User, **values: Any) -> RosterEntry:
    """Change a roster entry (name, position, department, smartphone, active period)."""
    allowed = {"full_name", "position", "department", "has_smartphone", "active_from", "active_to"}
    for name, value in values.items():
        if name not in allowed:
            raise DomainError(VALUE_INVALID, details=[{"field": name}])
        setattr(entry, name, value.strip() if isinstance(value, str) else value)
    if entry.active_to is not None and entry.active_to < entry.active_from:
        raise DomainError(ROSTER_PERIOD_INVALID, details=[{"field": "active_to"}])
    entry.save()
    return entry


# --- statuses ------------------------------------------------------------------------------------------


def check_reason(indicator: str, done: bool, reason_code: str, reason_text: str) -> tuple[str, str]:
    """Return the (code, text) to store; a "not yet" needs a reason of the indicator's list, OTHER a text."""
    if indicator not in Indicator.values:
        raise DomainError(INDICATOR_UNKNOWN)
    if done:
        return "", ""
    code = (reason_code or "").strip()
    text = " ".join((reason_text or "").split())[:255]
    if not code:
        raise DomainError(REASON_REQUIRED, details=[{"field": "reason_code"}])
    if code not in reasons.CATEGORIES[REASON_CATEGORY[indicator]]:
        raise DomainError(REASON_UNKNOWN, details=[{"field": "reason_code", "value": code}])
    if code == "OTHER" and not text:
        raise DomainError(OTHER_TEXT_REQUIRED, details=[{"field": "reason_text"}])
    return code, text if code == "OTHER" else ""


@transaction.atomic
def record_status(
    *,
    entry: RosterEntry,
    indicator: str,
    done: bool,
    by: User | None,
    reason_code: str = "",
    reason_text: str = "",
    effective_at: dt.datetime | None = None,
) -> StatusChange | None:
    """Record an entered status of a staff member; return the change, or None when nothing changed.

    The current value (if any) is closed at ``effective_at`` (default now) and kept with who set it,
    so that a report for an earlier month still counts the value of that month's end.
    """
    code, text = check_reason(indicator, done, reason_code, reason_text)
    now = timezone.now()
    effective_at = effective_at or now
    current = (
        StatusChange.objects.select_for_update()
        .filter(entry=entry, indicator=indicator, effective_to__isnull=True)
        .first()
    )
    if current is not None:
        if (current.done, current.reason_code, current.reason_text) == (done, code, text):
            return None
        if effective_at < current.effective_from:
            raise DomainError(
                STATUS_BACKDATED,
                latest=timezone.localtime(current.effective_from).strftime("%d/%m/%Y %H:%M"),
            )
        current.effective_to = effective_at
        current.save(update_fields=["effective_to"])
    return StatusChange.objects.create(
        entry=entry,
        indicator=indicator,
        done=done,
        reason_code=code,
        reason_text=text,
        old_done=current.done if current else None,
        old_reason_code=current.reason_code if current else "",
        old_reason_text=current.reason_text if current else "",
        effective_from=effective_at,
        changed_at=now,
        changed_by=by,
    )


# --- XLSX roster import --------------------------------------------------------------------------------


@dataclass
class ImportOutcome:
    """What an import did: rows read, created, updated, unchanged, and every problem (row, column, code)."""

    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list[dict[str, Any]] = field(default_factory=list)

    @property
    def rejected(self) -> int:
        return len({p["row"] for p in self.problems if p.get("row") is not None})

    @property
    def file_rejected(self) -> bool:
        return any(p.get("row") is None for p in self.problems)

    def to_json(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "problems": self.problems,
        }


_ROSTER_FIELDS = ("full_name", "position", "department", "has_smartphone", "active_from", "active_to")


@transaction.atomic
def import_roster(*, unit: OrgUnit, by: User, stream: Any) -> ImportOutcome:
    """Load a roster XLSX (docs/rollout.md) into ``unit``: good rows in, every bad row reported, idempotent.

    A person already on the roster (same personal ID) is updated; people not in the file are left as they are.
    """
    from soskdt.rollout import xlsx

    parsed = xlsx.read_roster(stream)
    outcome = ImportOutcome(rows=parsed.rows, problems=[p.as_json() for p in parsed.problems])
    if not parsed.records:
        return outcome
    existing = {
        e.personal_id: e
        for e in RosterEntry.objects.filter(
            unit=unit, personal_id__in=[r.personal_id for r in parsed.records]
        )
    }
    new: list[RosterEntry] = []
    changed: list[RosterEntry] = []
    for record in parsed.records:
        values = {
            "full_name": record.full_name,
            "position": record.position,
            "department": record.department,
            "has_smartphone": record.has_smartphone,
            "active_from": record.active_from,
            "active_to": record.active_to,
        }
        entry = existing.get(record.personal_id)
        if entry is None:
            new.append(RosterEntry(unit=unit, personal_id=record.personal_id, **values))
        elif any(getattr(entry, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(entry, k, v)
            changed.append(entry)
        else:
            outcome.unchanged += 1
    RosterEntry.objects.bulk_create(new, batch_size=500)
    now = timezone.now()
    for entry in changed:
        entry.updated_at = now
    RosterEntry.objects.bulk_update(changed, [*_ROSTER_FIELDS, "updated_at"], batch_size=500)
    outcome.created, outcome.updated = len(new), len(changed)
    logger.info(
        "roster import into %s by %s: %s",
        unit.code,
        by.username,
        outcome.to_json() | {"problems": len(outcome.problems)},
    )
    return outcome


# --- the monthly report --------------------------------------------------------------------------------


def _check_period(unit: OrgUnit, period: Period, today: dt.date | None = None) -> None:
    today = today or timezone.localdate()
    campaign = selectors.campaign_for(unit)
    if period > Period.of(today) or period < Period.of(campaign.starts_on):
        raise DomainError(PERIOD_INVALID, details=[{"field": "period", "value": period.key}])


def _event(
    report: MonthlyReport,
    action: str,
    before: str,
    by: User | None,
    comment: str = "",
    at: dt.datetime | None = None,
) -> None:
    ReportEvent.objects.create(
        report=report,
        action=action,
        from_status=before,
        to_status=report.status,
        actor=by,
        at=at or timezone.now(),
        comment=comment,
    )


@transaction.atomic
def start_report(*, unit: OrgUnit, period: Period, by: User | None) -> MonthlyReport:
    """Return the unit's report for ``period``, creating the draft on first use."""
    _check_period(unit, period)
    report = MonthlyReport.objects.filter(unit=unit, period=period.start).first()
    if report is not None:
        return report
    try:
        with transaction.atomic():
            report = MonthlyReport.objects.create(unit=unit, period=period.start)
    except IntegrityError:
        return MonthlyReport.objects.get(unit=unit, period=period.start)
    _event(report, ReportAction.CREATED, "", by)
    return report


_TEXT_FIELDS = ("reception_note", "training_note", "printing_note", "difficulties", "proposals")


@transaction.atomic
def save_report_texts(*, report: MonthlyReport, by: User, **texts: str) -> MonthlyReport:
    """Change the written parts of a draft or returned report (I.2–I.4 notes, II, III)."""
    report = MonthlyReport.objects.select_for_update().get(pk=report.pk)
    if not report.is_editable:
        raise DomainError(REPORT_LOCKED, status=409)
    changed = []
    for name, value in texts.items():
        if name not in _TEXT_FIELDS:
            raise DomainError(VALUE_INVALID, details=[{"field": name}])
        value = (value or "").strip()
        if getattr(report, name) != value:
            setattr(report, name, value)
            changed.append(name)
    if changed:
        report.save(update_fields=[*changed, "updated_at"])
        _event(report, ReportAction.SAVED, report.status, by)
    return report


def _transition(report: MonthlyReport, allowed: Iterable[str]) -> MonthlyReport:
    locked = MonthlyReport.objects.select_for_update().select_related("unit").get(pk=report.pk)
    if locked.status not in allowed:
        raise DomainError(TRANSITION_INVALID, status=409, current=locked.get_status_display())
    return locked


@transaction.atomic
def submit_report(*, report: MonthlyReport, by: User, now: dt.datetime | None = None) -> MonthlyReport:
    """Submit a draft or returned report: freeze its numbers; the first submission decides on time or late."""
    from soskdt.rollout.report import build_unit_report

    now = now or timezone.now()
    report = _transition(report, (ReportStatus.DRAFT, ReportStatus.RETURNED))
    period = Period.of(report.period)
    before = report.status
    snapshot = build_unit_report(report.unit, period, now=now, live=True)
    report.status = ReportStatus.SUBMITTED
    report.submitted_at, report.submitted_by = now, by
    if report.first_submitted_at is None:
        deadline = period.deadline(selectors.campaign_for(report.unit).deadline_day)
        report.first_submitted_at = now
        report.on_time = now < deadline
    snapshot.units[0].status = report.status
    snapshot.units[0].submitted_at = now
    snapshot.units[0].on_time = report.on_time
    report.snapshot = snapshot.to_json()
    report.save()
    _event(report, ReportAction.SUBMITTED, before, by, at=now)
    return report


@transaction.atomic
def approve_report(*, report: MonthlyReport, by: User, comment: str = "") -> MonthlyReport:
    """Approve a submitted report; it is locked from then on."""
    report = _transition(report, (ReportStatus.SUBMITTED,))
    before = report.status
    report.status = ReportStatus.APPROVED
    report.decided_at, report.decided_by = timezone.now(), by
    report.save()
    _event(report, ReportAction.APPROVED, before, by, comment.strip())
    return report


@transaction.atomic
def return_report(*, report: MonthlyReport, by: User, comment: str) -> MonthlyReport:
    """Send a submitted report back to the unit with a comment; the unit corrects and submits again."""
    if not (comment or "").strip():
        raise DomainError(COMMENT_REQUIRED, details=[{"field": "comment"}])
    report = _transition(report, (ReportStatus.SUBMITTED,))
    before = report.status
    report.status = ReportStatus.RETURNED
    report.decided_at, report.decided_by = timezone.now(), by
    report.return_comment = comment.strip()
    report.save()
    _event(report, ReportAction.RETURNED, before, by, comment.strip())
    return report


@transaction.atomic
def reopen_report(*, report: MonthlyReport, by: User, comment: str) -> MonthlyReport:
    """Reopen an approved report (administrators only, with a reason, logged): it goes back to the unit."""
    if not (comment or "").strip():
        raise DomainError(COMMENT_REQUIRED, details=[{"field": "comment"}])
    report = _transition(report, (ReportStatus.APPROVED,))
    before = report.status
    report.status = ReportStatus.RETURNED
    report.decided_at, report.decided_by = timezone.now(), by
    report.return_comment = comment.strip()
    report.save()
    _event(report, ReportAction.REOPENED, before, by, comment.strip())
    return report


# --- reception, training, printing, coverage ----------------------------------------------------------


@transaction.atomic
def record_reception(*, unit: OrgUnit, action: str, by: User, at: dt.datetime | None = None) -> ReceptionHelp:
    """Record one patient helped at reception (installed the app, linked the card, or opened the book)."""
    if action not in ReceptionAction.values:
        raise DomainError(VALUE_INVALID, details=[{"field": "action", "value": action}])
    return ReceptionHelp.objects.create(
        unit=unit, action=action, recorded_by=by, helped_at=at or timezone.now()
    )


@transaction.atomic
def undo_reception(*, unit: OrgUnit, record_id: int, by: User) -> ReceptionHelp:
    """Undo one's own reception record within 15 minutes (it stays, marked, and is no longer counted)."""
    record = ReceptionHelp.objects.select_for_update().filter(pk=record_id, unit=unit).first()
    now = timezone.now()
    if (
        record is None
        or record.recorded_by_id != by.pk
        or record.undone_at is not None
        or now - record.helped_at > UNDO_WINDOW
    ):
        raise DomainError(UNDO_EXPIRED, status=409)
    record.undone_at = now
    record.save(update_fields=["undone_at"])
    return record


@transaction.atomic
def add_training(
    *,
    unit: OrgUnit,
    by: User,
    held_on: dt.date,
    topic: str,
    attendee_ids: Sequence[int] = (),
    other_attendees: int = 0,
    note: str = "",
) -> TrainingSession:
    """Record a training session with its attendees taken from the unit's roster."""
    ids = set(attendee_ids)
    found = set(RosterEntry.objects.filter(unit=unit, pk__in=ids).values_list("pk", flat=True))
    if found != ids:
        raise DomainError(
            ATTENDEE_NOT_ON_ROSTER,
            details=[{"field": "attendees", "value": str(i)} for i in sorted(ids - found)],
        )
    session = TrainingSession.objects.create(
        unit=unit,
        held_on=held_on,
        topic=topic.strip(),
        other_attendees=max(0, other_attendees),
        note=note.strip(),
        created_by=by,
    )
    session.attendees.set(sorted(ids))
    return session


@transaction.atomic
def delete_training(*, unit: OrgUnit, session_id: int, by: User) -> None:
    TrainingSession.objects.filter(unit=unit, pk=session_id).delete()


@transaction.atomic
def add_printing(
    *,
    unit: OrgUnit,
    by: User,
    recorded_on: dt.date,
    kind: str,
    quantity: int,
    colour: bool = True,
    location: str = "",
    note: str = "",
) -> PrintingRecord:
    """Record printed material or a communication action, with where it was posted."""
    if kind not in PrintKind.values or quantity < 1:
        raise DomainError(
            VALUE_INVALID, details=[{"field": "kind" if kind not in PrintKind.values else "quantity"}]
        )
    return PrintingRecord.objects.create(
        unit=unit,
        recorded_on=recorded_on,
        kind=kind,
        quantity=quantity,
        colour=colour,
        location=location.strip(),
        note=note.strip(),
        created_by=by,
    )


@transaction.atomic
def delete_printing(*, unit: OrgUnit, record_id: int, by: User) -> None:
    PrintingRecord.objects.filter(unit=unit, pk=record_id).delete()


@transaction.atomic
def add_coverage_figure(
    *,
    area: OrgUnit,
    by: User | None,
    as_of: dt.date,
    books_integrated: int,
    population: int,
    source: str = "",
) -> CoverageFigure:
    """Record the books integrated and the population of ``area`` on a day (e.g. the C06 figures)."""
    if population <= 0 or books_integrated < 0 or books_integrated > population:
        raise DomainError(VALUE_INVALID, details=[{"field": "population"}])
    return CoverageFigure.objects.create(
        area=area,
        as_of=as_of,
        books_integrated=books_integrated,
        population=population,
        source=source.strip(),
        created_by=by,
    )


# --- reminders -----------------------------------------------------------------------------------------


@dataclass
class ReminderRun:
    period: Period
    sent: list[ReminderSent] = field(default_factory=list)
    skipped_no_recipient: list[str] = field(default_factory=list)


def due_period(today: dt.date) -> Period:
    """The month whose report is due this month (last month)."""
    return Period.of(today).previous()


def send_reminders(
    *, today: dt.date | None = None, area: OrgUnit | None = None, force: bool = False, base_url: str = ""
) -> list[ReminderRun]:
    """E-mail the reporters of units that have not submitted last month's report, once per unit and month.

    Runs for every campaign (or only ``area``'s): from ``reminder_days_before`` days before the deadline
    until the deadline (``force`` ignores the window, for the dashboard's button). Safe to run daily.
    """
    from soskdt.rollout.report import expected_units

    today = today or timezone.localdate()
    period = due_period(today)
    if area is not None:
        areas = [area]
    else:
        # Every health centre (with its own settings or the seed letter's), and any other unit with settings.
        centres = OrgUnit.objects.filter(
            Q(kind=OrgUnitKind.HEALTH_CENTRE, valid_from__lte=today)
            & (Q(valid_to__isnull=True) | Q(valid_to__gte=today))
        )
        areas = list(centres) + [
            c.centre for c in Campaign.objects.select_related("centre").exclude(centre__in=centres)
        ]
    runs: list[ReminderRun] = []
    for centre in areas:
        campaign = selectors.campaign_for(centre)
        deadline = period.deadline(campaign.deadline_day).date()
        window_opens = deadline - dt.timedelta(days=campaign.reminder_days_before)
        if period < Period.of(campaign.starts_on):
            continue
        if not force and not window_opens <= today < deadline:
            continue
        run = ReminderRun(period)
        units = expected_units(centre, period)
        submitted = set(
            MonthlyReport.objects.filter(
                unit__in=units, period=period.start, first_submitted_at__isnull=False
            ).values_list("unit_id", flat=True)
        )
        already = set(
            ReminderSent.objects.filter(unit__in=units, period=period.start).values_list("unit_id", flat=True)
        )
        waiting = [u for u in units if u.pk not in submitted and u.pk not in already]
        recipients = selectors.reporters_of([u.pk for u in waiting])
        for unit in waiting:
            emails = [u.email for u in recipients.get(unit.pk, []) if u.email]
            if not emails:
                run.skipped_no_recipient.append(unit.code)
                continue
            try:
                with transaction.atomic():
                    sent = ReminderSent.objects.create(
                        unit=unit, period=period.start, recipients=", ".join(emails)
                    )
            except IntegrityError:
                continue  # another run sent it meanwhile
            link = base_url + reverse("rollout:report", args=[unit.code, period.key])
            subject = gettext_now("Nhắc nộp báo cáo triển khai Sổ sức khỏe điện tử tháng {period}").format(
                period=period.label
            )
            body = gettext_now(
                "Kính gửi {unit},\n\nĐơn vị chưa nộp báo cáo kết quả triển khai Sổ sức khỏe điện tử trên ứng dụng "
                "VNeID tháng {period} (Phụ lục 1, công văn số {letter}). Hạn nộp: trước ngày {deadline}.\n\n"
                "Báo cáo: {link}\n\nTrung tâm Y tế"
            ).format(
                unit=unit.name,
                period=period.label,
                letter=campaign.letter_reference,
                deadline=deadline.strftime("%d/%m/%Y"),
                link=link,
            )
            send_mail(subject, body, None, emails)
            run.sent.append(sent)
        runs.append(run)
    return runs


def reminders_for(units: Sequence[OrgUnit], period: Period) -> dict[int, ReminderSent]:
    """The reminders already sent for ``period``, by unit id."""
    return {r.unit_id: r for r in ReminderSent.objects.filter(unit__in=units, period=period.start)}


__all__ = [
    "add_coverage_figure",
    "add_printing",
    "add_roster_entry",
    "add_training",
    "approve_report",
    "import_roster",
    "record_reception",
    "record_status",
    "reopen_report",
    "return_report",
    "save_report_texts",
    "send_reminders",
    "start_report",
    "submit_report",
    "undo_reception",
    "update_campaign",
    "update_roster_entry",
]
