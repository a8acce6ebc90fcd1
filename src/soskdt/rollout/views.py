"""Pages of the roll-out tracker.

Unit reporters: their unit's roster with statuses (filters, htmx quick edit), the XLSX import and export,
the monthly report (Appendix 1) with its workflow, trainings, printing, and the "3 taps" reception form.
Reception staff: only their own unit's reception form. Centre and province administrators: the dashboard
(consolidated table, completeness and timeliness, charts, coverage, reminders), approval, and the campaign
settings. Everybody else: 404.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import wraps
from typing import Any, cast

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from soskdt.core.errors import DomainError, NotFound
from soskdt.identity.auth import staff_required
from soskdt.identity.models import User
from soskdt.registry.models import OrgUnit
from soskdt.rollout import charts, dashboard, forms, selectors, services
from soskdt.rollout.models import (
    Indicator,
    MonthlyReport,
    PrintingRecord,
    ReceptionAction,
    ReportStatus,
    RosterEntry,
    TrainingSession,
)
from soskdt.rollout.periods import Period, format_int, format_percent
from soskdt.rollout.report import (
    HEADINGS,
    I1_COLUMNS,
    CoverageRate,
    build_consolidated,
    build_unit_report,
    compute_units,
    total_row,
)

# Filters of the roster page ("thiếu" = still missing), with the indicator each looks at.
FILTERS: dict[str, tuple[str, str]] = {
    "muc2": (Indicator.LEVEL2, "Chưa có mức 2"),
    "vneid": (Indicator.VNEID_INSTALLED, "Chưa cài VNeID"),
    "bhyt": (Indicator.CARD_LINKED, "Chưa tích hợp BHYT"),
    "so": (Indicator.BOOK_CREATED, "Chưa tạo sổ"),
}
COLUMN_ORDER = (Indicator.LEVEL2, Indicator.VNEID_INSTALLED, Indicator.BOOK_CREATED, Indicator.CARD_LINKED)
SHORT_LABELS: dict[str, str] = {
    Indicator.LEVEL2: "Mức 2",
    Indicator.VNEID_INSTALLED: "VNeID",
    Indicator.BOOK_CREATED: "Sổ SKĐT",
    Indicator.CARD_LINKED: "Thẻ BHYT",
}
View = Callable[..., HttpResponse]


def _guarded(allowed: Callable[[User], bool]) -> Callable[[View], View]:
    """Staff for whom ``allowed`` holds; anybody else, and anything out of scope, is the plain 404."""

    def decorator(view: View) -> View:
        @staff_required
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not allowed(cast(User, request.user)):
                raise Http404
            try:
                return view(request, *args, **kwargs)
            except NotFound as exc:
                raise Http404 from exc

        return wrapper

    return decorator


#: Staff with a roll-out permission only.
rollout_page = _guarded(lambda user: selectors.is_reporter(user) or selectors.is_admin(user))


def _viewer(request: HttpRequest) -> User:
    return cast(User, request.user)


def _period(key: str | None, default: Period) -> Period:
    if not key:
        return default
    try:
        return Period.parse(key)
    except ValueError as exc:
        raise Http404 from exc


def _editable_unit(request: HttpRequest, code: str) -> OrgUnit:
    unit = selectors.unit_for(_viewer(request), code)
    if not selectors.can_edit_unit(_viewer(request), unit):
        raise Http404
    return unit


def _base(request: HttpRequest, unit: OrgUnit | None = None, **extra: Any) -> dict[str, Any]:
    viewer = _viewer(request)
    context: dict[str, Any] = {
        "unit": unit,
        "is_admin": selectors.is_admin(viewer),
        "can_edit": unit is not None and selectors.can_edit_unit(viewer, unit),
        "today": timezone.localdate(),
    }
    context.update(extra)
    return context


# --- home and the unit's roster ------------------------------------------------------------------------


@staff_required
def home(request: HttpRequest) -> HttpResponse:
    viewer = _viewer(request)
    if not (selectors.is_reporter(viewer) or selectors.is_admin(viewer)):
        if selectors.can_guide_patients(viewer):
            return redirect("rollout:reception")  # reception staff: their unit's reception form
        raise Http404
    if not selectors.is_reporter(viewer):
        return redirect("rollout:dashboard")
    try:
        unit = selectors.home_unit(viewer)
    except NotFound as exc:
        raise Http404 from exc
    return _unit_page(request, unit)


@rollout_page
def unit_page(request: HttpRequest, code: str) -> HttpResponse:
    return _unit_page(request, selectors.unit_for(_viewer(request), code))


def _status_view(indicator: str, resolved: selectors.Resolved, can_edit: bool) -> dict[str, Any]:
    if resolved.done:
        mode = "full" if resolved.source != selectors.SOURCE_SYSTEM else ""
    elif resolved.source != selectors.SOURCE_SYSTEM:
        mode = "full"
    else:
        mode = "reason" if resolved.reason_editable else ""
    return {
        "indicator": indicator,
        "label": SHORT_LABELS[indicator],
        "done": resolved.done,
        "reason": ""
        if resolved.done
        else selectors.reason_label(indicator, resolved.reason_code, resolved.reason_text),
        "source": resolved.source,
        "editable": can_edit and bool(mode),
    }


def _staff_rows(states: list[selectors.StaffState], can_edit: bool) -> list[dict[str, Any]]:
    return [
        {
            "state": state,
            "cells": [_status_view(ind, state.statuses[ind], can_edit) for ind in COLUMN_ORDER],
        }
        for state in states
    ]


def _unit_page(request: HttpRequest, unit: OrgUnit) -> HttpResponse:
    viewer = _viewer(request)
    now = timezone.now()
    today = timezone.localdate()
    states = selectors.staff_states([unit.pk], now)
    summary = total_row(compute_rows(unit, states))
    missing = request.GET.get("thieu", "")
    query = " ".join(request.GET.get("q", "").split()).lower()
    shown = states
    if missing in FILTERS:
        indicator = FILTERS[missing][0]
        shown = [s for s in shown if not s.statuses[indicator].done]
        if indicator != Indicator.LEVEL2:
            shown = [s for s in shown if s.has_smartphone]
    if query:
        shown = [s for s in shown if query in s.full_name.lower() or query in s.personal_id]
    current = Period.of(today)
    campaign = selectors.campaign_for(unit)
    reports = {
        r.period: r
        for r in MonthlyReport.objects.filter(unit=unit, period__in=[current.start, current.previous().start])
    }
    due_cards = []
    for period in (current.previous(), current):
        if period < Period.of(campaign.starts_on):
            continue
        report = reports.get(period.start)
        due_cards.append(
            {
                "period": period,
                "report": report,
                "deadline": period.deadline(campaign.deadline_day),
                "status_label": report.get_status_display() if report else _("Chưa tạo báo cáo"),
                "overdue": (report is None or report.first_submitted_at is None)
                and now >= period.deadline(campaign.deadline_day),
            }
        )
    can_edit = selectors.can_edit_unit(viewer, unit)
    context = _base(
        request,
        unit,
        summary=summary,
        summary_pct={
            "level2": format_percent(summary.level2_done, summary.total_staff),
            "card": format_percent(
                (summary.smartphone_staff or 0) - (summary.card_missing or 0), summary.smartphone_staff
            ),
            "book": format_percent(
                (summary.smartphone_staff or 0) - (summary.book_missing or 0), summary.smartphone_staff
            ),
            "vneid": format_percent(
                (summary.smartphone_staff or 0) - (summary.vneid_missing or 0), summary.smartphone_staff
            ),
        },
        rows=_staff_rows(shown, can_edit),
        total=len(states),
        shown=len(shown),
        filters=[(key, label) for key, (_ind, label) in FILTERS.items()],
        missing=missing,
        q=request.GET.get("q", ""),
        due_cards=due_cards,
        columns=[SHORT_LABELS[i] for i in COLUMN_ORDER],
        tab="roster",
    )
    return render(request, "rollout/unit.html", context)


def compute_rows(unit: OrgUnit, states: list[selectors.StaffState]) -> list[Any]:
    from soskdt.rollout.report import unit_rows

    return unit_rows(unit, states)


@rollout_page
@require_http_methods(["GET", "POST"])
def status_cell(request: HttpRequest, code: str, pk: int, indicator: str) -> HttpResponse:
    """The htmx quick edit of one status: GET the small form, POST it back for the updated cell."""
    unit = _editable_unit(request, code)
    if indicator not in Indicator.values:
        raise Http404
    entry = selectors.entry_of(unit, pk)
    now = timezone.now()
    state = selectors.staff_states([unit.pk], now, entry_ids=[entry.pk])
    if not state:
        raise Http404
    cell = _status_view(indicator, state[0].statuses[indicator], True)
    if not cell["editable"]:
        raise Http404
    reason_only = state[0].statuses[indicator].source == selectors.SOURCE_SYSTEM
    status = 200
    if request.method == "POST" and request.POST.get("cancel") is None:
        form = forms.StatusForm(request.POST, indicator=indicator, reason_only=reason_only)
        if form.is_valid():
            try:
                services.record_status(
                    entry=entry,
                    indicator=indicator,
                    done=False if reason_only else form.cleaned_data["done"],
                    reason_code=form.cleaned_data["reason_code"],
                    reason_text=form.cleaned_data["reason_text"],
                    by=_viewer(request),
                )
            except DomainError as exc:
                form.add_error("reason_code" if "REASON" in exc.code else None, exc.message)
                status = 422
            else:
                return _cell_response(request, unit, entry, indicator)
        else:
            status = 422
    elif request.method == "POST":
        return _cell_response(request, unit, entry, indicator)
    else:
        current = state[0].statuses[indicator]
        form = forms.StatusForm(
            indicator=indicator,
            reason_only=reason_only,
            initial={
                "done": "1" if current.done else "0",
                "reason_code": "" if current.reason_code == selectors.UNKNOWN_REASON else current.reason_code,
                "reason_text": current.reason_text,
            },
        )
    context = _base(
        request,
        unit,
        form=form,
        entry=entry,
        indicator=indicator,
        label=SHORT_LABELS[indicator],
        reason_only=reason_only,
    )
    if request.htmx:  # type: ignore[attr-defined]
        status = 200  # htmx swaps only successful answers: the form comes back with its errors
    return render(request, "rollout/_status_form.html", context, status=status)


def _cell_response(request: HttpRequest, unit: OrgUnit, entry: RosterEntry, indicator: str) -> HttpResponse:
    """Close the quick-edit sheet and replace the status cell in the table (an out-of-band swap)."""
    state = selectors.staff_states([unit.pk], timezone.now(), entry_ids=[entry.pk])[0]
    cell = _status_view(indicator, state.statuses[indicator], True)
    context = _base(request, unit, cell=cell, entry_id=entry.pk, entry_name=entry.full_name, oob=True)
    return render(request, "rollout/_status_cell.html", context)


@rollout_page
@require_http_methods(["GET", "POST"])
def entry_add(request: HttpRequest, code: str) -> HttpResponse:
    unit = _editable_unit(request, code)
    status = 200
    if request.method == "POST":
        form = forms.RosterEntryForm(request.POST)
        if form.is_valid():
            try:
                entry = services.add_roster_entry(unit=unit, by=_viewer(request), **form.cleaned_data)
            except DomainError as exc:
                form.add_error(
                    "personal_id"
                    if "PERSONAL_ID" in exc.code or "ROSTER_PERSON" in exc.code
                    else "active_to",
                    exc.message,
                )
                status = exc.status
            else:
                messages.success(request, _("Đã thêm {name} vào danh sách.").format(name=entry.full_name))
                return redirect("rollout:unit", code=unit.code)
        else:
            status = 422
    else:
        form = forms.RosterEntryForm(initial={"active_from": timezone.localdate(), "department": ""})
    return render(
        request, "rollout/entry_form.html", _base(request, unit, form=form, tab="roster"), status=status
    )


@rollout_page
@require_http_methods(["GET", "POST"])
def entry_edit(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    unit = selectors.unit_for(_viewer(request), code)
    entry = selectors.entry_of(unit, pk)
    can_edit = selectors.can_edit_unit(_viewer(request), unit)
    status = 200
    initial = {
        "full_name": entry.full_name,
        "personal_id": entry.personal_id,
        "position": entry.position,
        "department": entry.department,
        "has_smartphone": "1" if entry.has_smartphone else "0",
        "active_from": entry.active_from,
        "active_to": entry.active_to,
    }
    if request.method == "POST":
        if not can_edit:
            raise Http404
        form = forms.RosterEntryForm(request.POST, initial=initial, editing=True)
        if form.is_valid():
            values = {k: v for k, v in form.cleaned_data.items() if k != "personal_id"}
            try:
                services.update_roster_entry(entry=entry, by=_viewer(request), **values)
            except DomainError as exc:
                form.add_error("active_to", exc.message)
                status = exc.status
            else:
                messages.success(request, _("Đã cập nhật thông tin cán bộ."))
                return redirect("rollout:unit", code=unit.code)
        else:
            status = 422
    else:
        form = forms.RosterEntryForm(initial=initial, editing=True)
    state = selectors.staff_states([unit.pk], timezone.now(), entry_ids=[entry.pk], day=timezone.localdate())
    history = [
        {
            "change": change,
            "label": Indicator(change.indicator).label,
            "old": _value_label(
                change.indicator, change.old_done, change.old_reason_code, change.old_reason_text
            ),
            "new": _value_label(change.indicator, change.done, change.reason_code, change.reason_text),
        }
        for change in selectors.status_history(entry)
    ]
    context = _base(
        request,
        unit,
        form=form,
        entry=entry,
        cells=[_status_view(i, state[0].statuses[i], can_edit) for i in COLUMN_ORDER] if state else [],
        history=history,
        tab="roster",
    )
    return render(request, "rollout/entry_form.html", context, status=status)


def _value_label(indicator: str, done: bool | None, code: str, text: str) -> str:
    if done is None:
        return "—"
    if done:
        return _("Đã thực hiện")
    return _("Chưa — {reason}").format(reason=selectors.reason_label(indicator, code, text))


@rollout_page
@require_GET
def roster_template(request: HttpRequest) -> HttpResponse:
    from soskdt.rollout import xlsx  # openpyxl: imported on the first download, not with the URL map

    response = HttpResponse(
        xlsx.roster_template(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = 'attachment; filename="mau-danh-sach-can-bo.xlsx"'
    return response


@rollout_page
@require_GET
def roster_export(request: HttpRequest, code: str) -> HttpResponse:
    from soskdt.rollout import xlsx  # openpyxl: imported on the first download, not with the URL map

    unit = selectors.unit_for(_viewer(request), code)
    states = selectors.staff_states([unit.pk], timezone.now())
    entries = {e.pk: e for e in RosterEntry.objects.filter(pk__in=[s.entry_id for s in states])}
    source_labels = {
        selectors.SOURCE_SYSTEM: _("Hệ thống"),
        selectors.SOURCE_ENTERED: _("Đơn vị nhập"),
        selectors.SOURCE_NONE: "",
    }
    rows = []
    for state in states:
        entry = entries[state.entry_id]
        rows.append(
            xlsx.ExportRow(
                entry.full_name,
                entry.personal_id,
                entry.position,
                entry.department,
                entry.has_smartphone,
                entry.active_from,
                entry.active_to,
                [
                    (
                        _("Đã") if state.statuses[i].done else _("Chưa"),
                        ""
                        if state.statuses[i].done
                        else selectors.reason_label(
                            i, state.statuses[i].reason_code, state.statuses[i].reason_text
                        ),
                        str(source_labels[state.statuses[i].source]),
                    )
                    for i in COLUMN_ORDER
                ],
            )
        )
    data = xlsx.roster_export(rows, [str(Indicator(i).label) for i in COLUMN_ORDER])
    response = HttpResponse(
        data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="danh-sach-can-bo-{unit.code}.xlsx"'
    return response


@rollout_page
@require_http_methods(["GET", "POST"])
def roster_import(request: HttpRequest, code: str) -> HttpResponse:
    from soskdt.rollout import xlsx  # openpyxl: imported on the first use of this page, not with the URL map

    unit = _editable_unit(request, code)
    outcome = None
    status = 200
    if request.method == "POST":
        form = forms.ImportForm(request.POST, request.FILES)
        if form.is_valid():
            outcome = services.import_roster(unit=unit, by=_viewer(request), stream=form.cleaned_data["file"])
            status = 422 if outcome.file_rejected else 200
        else:
            status = 422
    else:
        form = forms.ImportForm()
    context = _base(request, unit, form=form, outcome=outcome, columns=xlsx.COLUMNS, tab="roster")
    return render(request, "rollout/import.html", context, status=status)


# --- the monthly report --------------------------------------------------------------------------------


@rollout_page
@require_http_methods(["GET", "POST"])
def report_page(request: HttpRequest, code: str, period: str) -> HttpResponse:
    viewer = _viewer(request)
    unit = selectors.unit_for(viewer, code)
    month = _period(period, Period.of(timezone.localdate()))
    campaign = selectors.campaign_for(unit)
    if month > Period.of(timezone.localdate()) or month < Period.of(campaign.starts_on):
        raise Http404
    can_edit = selectors.can_edit_unit(viewer, unit)
    report = selectors.report_of(unit, month.start)
    status = 200
    if request.method == "POST":
        if not can_edit:
            raise Http404
        report = services.start_report(unit=unit, period=month, by=viewer)
        form = forms.ReportTextsForm(request.POST)
        if form.is_valid():
            try:
                services.save_report_texts(report=report, by=viewer, **form.cleaned_data)
            except DomainError as exc:
                messages.error(request, exc.message)
                status = exc.status
            else:
                messages.success(request, _("Đã lưu báo cáo."))
                if request.POST.get("then") == "submit":
                    return _do_action(request, unit, month, "nop")
                return redirect("rollout:report", code=unit.code, period=month.key)
        else:
            status = 422
    else:
        form = forms.ReportTextsForm(
            initial={
                name: getattr(report, name)
                for name in ("reception_note", "training_note", "printing_note", "difficulties", "proposals")
            }
            if report
            else None
        )
    appendix = build_unit_report(unit, month)
    events = list(report.events.select_related("actor").order_by("at", "pk")) if report else []
    context = _base(
        request,
        unit,
        appendix=appendix,
        report=report,
        period=month,
        form=form,
        events=events,
        columns=[str(h) for _k, h in I1_COLUMNS],
        headings=HEADINGS,
        editable=can_edit and (report is None or report.is_editable),
        can_submit=can_edit and (report is None or report.is_editable),
        can_decide=selectors.is_admin(viewer)
        and report is not None
        and report.status == ReportStatus.SUBMITTED,
        can_reopen=selectors.is_admin(viewer)
        and report is not None
        and report.status == ReportStatus.APPROVED,
        previous=month.previous() if month.previous() >= Period.of(campaign.starts_on) else None,
        next=month.next() if month.next() <= Period.of(timezone.localdate()) else None,
        tab="report",
    )
    return render(request, "rollout/report.html", context, status=status)


_ACTIONS = {"nop", "duyet", "tra-lai", "mo-lai"}


@rollout_page
@require_POST
def report_action(request: HttpRequest, code: str, period: str, action: str) -> HttpResponse:
    unit = selectors.unit_for(_viewer(request), code)
    if action not in _ACTIONS:
        raise Http404
    return _do_action(request, unit, _period(period, Period.of(timezone.localdate())), action)


def _do_action(request: HttpRequest, unit: OrgUnit, month: Period, action: str) -> HttpResponse:
    viewer = _viewer(request)
    comment = request.POST.get("comment", "")
    try:
        if action == "nop":
            if not selectors.can_edit_unit(viewer, unit):
                raise Http404
            report = services.start_report(unit=unit, period=month, by=viewer)
            report = services.submit_report(report=report, by=viewer)
            if report.on_time:
                messages.success(
                    request, _("Đã nộp báo cáo tháng {period} (đúng hạn).").format(period=month.label)
                )
            else:
                messages.warning(
                    request, _("Đã nộp báo cáo tháng {period} (trễ hạn).").format(period=month.label)
                )
        else:
            if not selectors.is_admin(viewer):
                raise Http404
            report_or_none = selectors.report_of(unit, month.start)
            if report_or_none is None:
                raise Http404
            if action == "duyet":
                services.approve_report(report=report_or_none, by=viewer, comment=comment)
                messages.success(request, _("Đã duyệt báo cáo của {unit}.").format(unit=unit.name))
            elif action == "tra-lai":
                services.return_report(report=report_or_none, by=viewer, comment=comment)
                messages.success(request, _("Đã trả lại báo cáo cho {unit}.").format(unit=unit.name))
            else:
                services.reopen_report(report=report_or_none, by=viewer, comment=comment)
                messages.success(request, _("Đã mở lại báo cáo của {unit}.").format(unit=unit.name))
    except DomainError as exc:
        messages.error(request, exc.message)
    target = request.POST.get("next", "")
    if target == "dashboard" and selectors.is_admin(viewer):
        return redirect(f"{reverse('rollout:dashboard')}?ky={month.key}")
    return redirect("rollout:report", code=unit.code, period=month.key)


# --- trainings, printing, reception --------------------------------------------------------------------


@rollout_page
@require_http_methods(["GET", "POST"])
def trainings(request: HttpRequest, code: str) -> HttpResponse:
    viewer = _viewer(request)
    unit = selectors.unit_for(viewer, code)
    can_edit = selectors.can_edit_unit(viewer, unit)
    roster = selectors.roster_on([unit.pk], timezone.localdate()).order_by("department", "full_name")
    status = 200
    form = forms.TrainingForm(roster=roster, initial={"held_on": timezone.localdate()})
    if request.method == "POST":
        if not can_edit:
            raise Http404
        if "delete" in request.POST:
            services.delete_training(unit=unit, session_id=int(request.POST["delete"]), by=viewer)
            messages.success(request, _("Đã xóa buổi tập huấn."))
            return redirect("rollout:trainings", code=unit.code)
        form = forms.TrainingForm(request.POST, roster=roster)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.add_training(
                    unit=unit,
                    by=viewer,
                    held_on=data["held_on"],
                    topic=data["topic"],
                    attendee_ids=[e.pk for e in data["attendees"]],
                    other_attendees=data.get("other_attendees") or 0,
                    note=data["note"],
                )
            except DomainError as exc:
                form.add_error("attendees", exc.message)
                status = exc.status
            else:
                messages.success(request, _("Đã ghi nhận buổi tập huấn."))
                return redirect("rollout:trainings", code=unit.code)
        else:
            status = 422
    sessions = list(
        TrainingSession.objects.filter(unit=unit)
        .order_by("-held_on", "-pk")
        .prefetch_related("attendees")[:50]
    )
    numbers = compute_units([unit], Period.of(timezone.localdate()), timezone.now())[unit.pk]
    context = _base(
        request,
        unit,
        form=form,
        sessions=sessions,
        trained=numbers.training,
        trained_pct=format_percent(numbers.training.trained_staff, numbers.training.total_staff),
        tab="trainings",
    )
    return render(request, "rollout/trainings.html", context, status=status)


@rollout_page
@require_http_methods(["GET", "POST"])
def printing(request: HttpRequest, code: str) -> HttpResponse:
    viewer = _viewer(request)
    unit = selectors.unit_for(viewer, code)
    can_edit = selectors.can_edit_unit(viewer, unit)
    status = 200
    form = forms.PrintingForm(initial={"recorded_on": timezone.localdate()})
    if request.method == "POST":
        if not can_edit:
            raise Http404
        if "delete" in request.POST:
            services.delete_printing(unit=unit, record_id=int(request.POST["delete"]), by=viewer)
            messages.success(request, _("Đã xóa."))
            return redirect("rollout:printing", code=unit.code)
        form = forms.PrintingForm(request.POST)
        if form.is_valid():
            services.add_printing(unit=unit, by=viewer, **form.cleaned_data)
            messages.success(request, _("Đã ghi nhận."))
            return redirect("rollout:printing", code=unit.code)
        status = 422
    records = list(PrintingRecord.objects.filter(unit=unit).order_by("-recorded_on", "-pk")[:100])
    return render(
        request,
        "rollout/printing.html",
        _base(request, unit, form=form, records=records, tab="printing"),
        status=status,
    )


#: Reception staff and unit reporters, for their own unit's reception form only.
reception_page = _guarded(selectors.can_guide_patients)


@reception_page
@require_http_methods(["GET", "POST"])
def reception(request: HttpRequest) -> HttpResponse:
    """The short address of one's own unit's reception form (a bookmark on the reception desk's phone)."""
    return _reception(request, selectors.reception_unit(_viewer(request)))


@reception_page
@require_http_methods(["GET", "POST"])
def unit_reception(request: HttpRequest, code: str) -> HttpResponse:
    """Three big buttons: one tap records one patient helped; the last record can be undone."""
    return _reception(request, selectors.reception_unit(_viewer(request), code))


def _reception(request: HttpRequest, unit: OrgUnit) -> HttpResponse:
    viewer = _viewer(request)
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            record = services.record_reception(unit=unit, action=action, by=viewer)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Đã ghi nhận: {action}.").format(action=record.get_action_display()))
        if request.htmx:  # type: ignore[attr-defined]
            return _reception_panel(request, unit, viewer)
        return redirect("rollout:unit_reception", code=unit.code)
    return render(request, "rollout/reception.html", _reception_context(request, unit, viewer))


@reception_page
@require_POST
def reception_undo(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    viewer = _viewer(request)
    unit = selectors.reception_unit(viewer, code)
    selectors.reception_record_of(viewer, unit, pk)  # another unit's or person's record: 404
    try:
        record = services.undo_reception(unit=unit, record_id=pk, by=viewer)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.info(request, _("Đã hoàn tác: {action}.").format(action=record.get_action_display()))
    if request.htmx:  # type: ignore[attr-defined]
        return _reception_panel(request, unit, viewer)
    return redirect("rollout:unit_reception", code=unit.code)


def _reception_context(request: HttpRequest, unit: OrgUnit, viewer: User) -> dict[str, Any]:
    today = timezone.localdate()
    period = Period.of(today)
    month = selectors.reception_counts(
        unit, timezone.make_aware(dt.datetime.combine(period.start, dt.time(0)))
    )
    day = selectors.reception_counts(unit, timezone.make_aware(dt.datetime.combine(today, dt.time(0))))
    last = selectors.last_reception_of(viewer, unit)
    can_undo = last is not None and timezone.now() - last.helped_at <= services.UNDO_WINDOW
    buttons = [
        {"action": value, "label": label, "today": day.get(value, 0), "month": month.get(value, 0)}
        for value, label in ReceptionAction.choices
    ]
    return _base(
        request,
        unit,
        buttons=buttons,
        last=last if can_undo else None,
        period=period,
        tab="reception",
        # Reception staff see only this form; the unit's page is for its reporters and the administrators.
        sees_unit=selectors.is_reporter(viewer) or selectors.is_admin(viewer),
    )


def _reception_panel(request: HttpRequest, unit: OrgUnit, viewer: User) -> HttpResponse:
    return render(
        request,
        "rollout/_reception_panel.html",
        {**_reception_context(request, unit, viewer), "partial": True},
    )


# --- the health centre's dashboard ---------------------------------------------------------------------


@rollout_page
@require_GET
def dashboard_page(request: HttpRequest) -> HttpResponse:
    viewer = _viewer(request)
    area = selectors.admin_area(viewer)
    now = timezone.now()
    today = timezone.localdate()
    campaign = selectors.campaign_for(area)
    month = _period(request.GET.get("ky"), Period.of(today).previous())
    if month > Period.of(today):
        raise Http404
    consolidated = build_consolidated(area, month, now=now)
    months = dashboard.campaign_months(area, today)
    grid = dashboard.completeness_grid(area, months, now=now)
    units = [row.unit for row in grid.rows if row.cells and row.cells[-1].state != dashboard.INACTIVE]
    expected = {u.code for u in units}
    progress_units = dashboard.unit_progress(consolidated)
    bar = (
        charts.units_bar_chart(
            progress_units,
            target=campaign.target_level2_percent,
            title=_("Tiến độ theo đơn vị, tháng {period}").format(period=month.label),
        )
        if progress_units
        else ""
    )
    line_data = dashboard.month_progress(units, months, now=now)
    line = (
        charts.months_line_chart(
            line_data, target=campaign.target_smartphone_percent, title=_("Tiến độ chung theo tháng")
        )
        if line_data
        else ""
    )
    figures = dashboard.coverage_figures(area)
    due = services.due_period(today)
    unit_by_code = {u.code: u for u in units}
    sent = dashboard.reminders_sent(units, due)
    due_statuses = (
        build_consolidated(area, due, now=now, only_submitted=True).units
        if due != month
        else consolidated.units
    )
    reminders = [
        {"unit": unit_by_code[s.unit.code], "status": s, "sent": sent.get(unit_by_code[s.unit.code].pk)}
        for s in due_statuses
        if s.unit.code in unit_by_code and s.timeliness in ("pending", "missing")
    ]
    pending = [s for s in consolidated.units if s.status == ReportStatus.SUBMITTED]
    context = _base(
        request,
        None,
        area=area,
        campaign=campaign,
        period=month,
        months_choice=dashboard.campaign_months(area, today, limit=24)[::-1],
        appendix=consolidated,
        columns=[str(h) for _k, h in I1_COLUMNS],
        grid=grid,
        bar_chart=mark_safe(bar),  # noqa: S308 - SVG generated by matplotlib from our numbers (text escaped)
        line_chart=mark_safe(line),  # noqa: S308
        totals_pct={
            "level2": format_percent(consolidated.totals.level2_done, consolidated.totals.total_staff),
            "card": format_percent(
                (consolidated.totals.smartphone_staff or 0) - (consolidated.totals.card_missing or 0),
                consolidated.totals.smartphone_staff,
            ),
            "book": format_percent(
                (consolidated.totals.smartphone_staff or 0) - (consolidated.totals.book_missing or 0),
                consolidated.totals.smartphone_staff,
            ),
        },
        system_coverage=_coverage_view(consolidated.coverage.system if consolidated.coverage else None),
        figures=[
            {
                "figure": f,
                "books": format_int(f.books_integrated),
                "population": format_int(f.population),
                "rate": format_percent(f.books_integrated, f.population),
            }
            for f in figures
        ],
        coverage_form=forms.CoverageForm(initial={"as_of": today}),
        due=due,
        due_deadline=due.deadline(campaign.deadline_day),
        reminders=reminders,
        pending=pending,
        expected=expected,
    )
    return render(request, "rollout/dashboard.html", context)


def _coverage_view(rate: CoverageRate | None) -> dict[str, Any] | None:
    if rate is None:
        return None
    return {
        "rate": rate,
        "known": rate.population is not None,
        "books": format_int(rate.books_integrated),
        "population": format_int(rate.population),
        "percent": format_percent(rate.books_integrated, rate.population),
    }


@rollout_page
@require_GET
def consolidated_print(request: HttpRequest, period: str) -> HttpResponse:
    area = selectors.admin_area(_viewer(request))
    month = _period(period, Period.of(timezone.localdate()))
    if month > Period.of(timezone.localdate()):
        raise Http404
    appendix = build_consolidated(area, month, only_submitted=request.GET.get("chi_da_nop") == "1")
    context = _base(
        request,
        None,
        appendix=appendix,
        area=area,
        period=month,
        columns=[str(h) for _k, h in I1_COLUMNS],
        headings=HEADINGS,
    )
    return render(request, "rollout/print.html", context)


@rollout_page
@require_http_methods(["GET", "POST"])
def campaign_settings(request: HttpRequest) -> HttpResponse:
    viewer = _viewer(request)
    area = selectors.admin_area(viewer)
    campaign = selectors.campaign_for(area)
    owned = campaign.centre_id == area.pk
    fields = (
        "name",
        "letter_reference",
        "starts_on",
        "target_date",
        "target_level2_percent",
        "target_smartphone_percent",
        "deadline_day",
        "reminder_days_before",
    )
    status = 200
    if request.method == "POST":
        form = forms.CampaignForm(request.POST)
        if form.is_valid():
            try:
                services.update_campaign(centre=area, by=viewer, **form.cleaned_data)
            except DomainError as exc:
                form.add_error(None, exc.message)
                status = 422
            else:
                messages.success(request, _("Đã lưu cài đặt đợt triển khai."))
                return redirect("rollout:dashboard")
        else:
            status = 422
    else:
        form = forms.CampaignForm(initial={name: getattr(campaign, name) for name in fields})
    return render(
        request,
        "rollout/campaign.html",
        _base(request, None, form=form, area=area, owned=owned),
        status=status,
    )


@rollout_page
@require_POST
def send_reminders_now(request: HttpRequest) -> HttpResponse:
    viewer = _viewer(request)
    area = selectors.admin_area(viewer)
    runs = services.send_reminders(
        area=area, force=True, base_url=request.build_absolute_uri("/").rstrip("/")
    )
    sent = sum(len(r.sent) for r in runs)
    skipped = [code for r in runs for code in r.skipped_no_recipient]
    messages.success(request, _("Đã gửi nhắc nhở đến {n} đơn vị.").format(n=sent))
    if skipped:
        messages.warning(
            request,
            _("Chưa có địa chỉ thư điện tử của cán bộ báo cáo: {units}.").format(units=", ".join(skipped)),
        )
    return redirect("rollout:dashboard")


@rollout_page
@require_POST
def add_coverage(request: HttpRequest) -> HttpResponse:
    viewer = _viewer(request)
    area = selectors.admin_area(viewer)
    form = forms.CoverageForm(request.POST)
    if form.is_valid():
        try:
            services.add_coverage_figure(area=area, by=viewer, **form.cleaned_data)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Đã ghi nhận số liệu tích hợp."))
    else:
        messages.error(request, _("Số liệu chưa hợp lệ."))
    return redirect(reverse("rollout:dashboard") + "#bao-phu")
