"""The health centre's view: completeness and timeliness (units × months), progress per unit and over months.

Completeness rules: a unit is *expected* to report for a month when it is active on that month's last day
(see ``report.expected_units``); a month in which it was not active is shown as "—" and is left out of every
rate. "Not reported" is its own state (never a 0), and a month whose deadline has not passed is "pending",
also left out of the rates. Rates are "—" when nothing is due.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Q
from django.utils import timezone

from soskdt.registry.models import OrgUnit
from soskdt.registry.selectors import unit_descendants
from soskdt.rollout.charts import MonthProgress, UnitProgress
from soskdt.rollout.models import CoverageFigure, MonthlyReport, ReminderSent, RosterEntry
from soskdt.rollout.periods import Period, format_percent, local_zone, percent
from soskdt.rollout.report import (
    REPORTING_KINDS,
    TIMELINESS_LABELS,
    Appendix1,
    count_row,
    reading_moment,
    timeliness_of,
)
from soskdt.rollout.selectors import SystemFacts, campaign_for, staff_states

INACTIVE = "inactive"


@dataclass(frozen=True, slots=True)
class Cell:
    state: str  # on_time, late, missing, pending, inactive
    report_status: str = ""
    submitted_at: dt.datetime | None = None

    @property
    def label(self) -> str:
        return "—" if self.state == INACTIVE else str(TIMELINESS_LABELS[self.state])


@dataclass(slots=True)
class Tally:
    """Counts of a row or a column of the grid, with rates over the reports that were due."""

    on_time: int = 0
    late: int = 0
    missing: int = 0
    pending: int = 0

    def add(self, state: str) -> None:
        if state != INACTIVE:
            setattr(self, state, getattr(self, state) + 1)

    @property
    def due(self) -> int:
        return self.on_time + self.late + self.missing

    @property
    def submitted(self) -> int:
        return self.on_time + self.late

    @property
    def completeness(self) -> str:
        return format_percent(self.submitted, self.due, 1)

    @property
    def timeliness(self) -> str:
        return format_percent(self.on_time, self.due, 1)


@dataclass(slots=True)
class GridRow:
    unit: OrgUnit
    cells: list[Cell]
    tally: Tally = field(default_factory=Tally)


@dataclass(slots=True)
class Grid:
    months: list[Period]
    rows: list[GridRow]
    columns: list[Tally]
    overall: Tally


def _active_on(unit: OrgUnit, day: dt.date) -> bool:
    return unit.valid_from <= day and (unit.valid_to is None or unit.valid_to >= day)


def completeness_grid(area: OrgUnit, months: Sequence[Period], *, now: dt.datetime | None = None) -> Grid:
    """Units × months: on time / late / not reported / not due yet / not active, with rates (3 queries)."""
    now = now or timezone.now()
    if not months:
        return Grid([], [], [], Tally())
    first, last = months[0], months[-1]
    units = list(
        unit_descendants(area).filter(
            Q(valid_from__lte=last.end) & (Q(valid_to__isnull=True) | Q(valid_to__gte=first.end)),
            kind__in=REPORTING_KINDS,
        )
    )
    order = {kind: i for i, kind in enumerate(REPORTING_KINDS)}
    units.sort(key=lambda u: (order.get(u.kind, 9), u.code))
    deadline_day = campaign_for(area).deadline_day
    reports = {
        (r.unit_id, r.period): r
        for r in MonthlyReport.objects.filter(unit__in=units, period__gte=first.start, period__lte=last.start)
    }
    columns = [Tally() for _ in months]
    overall = Tally()
    rows: list[GridRow] = []
    for unit in units:
        row = GridRow(unit, [])
        for index, period in enumerate(months):
            if not _active_on(unit, period.end):
                cell = Cell(INACTIVE)
            else:
                report = reports.get((unit.pk, period.start))
                state = timeliness_of(report, period.deadline(deadline_day), now)
                cell = Cell(
                    state, report.status if report else "", report.first_submitted_at if report else None
                )
            row.cells.append(cell)
            row.tally.add(cell.state)
            columns[index].add(cell.state)
            overall.add(cell.state)
        rows.append(row)
    return Grid(list(months), rows, columns, overall)


def campaign_months(area: OrgUnit, today: dt.date, *, limit: int = 6) -> list[Period]:
    """The last ``limit`` months of the campaign up to this month."""
    campaign = campaign_for(area)
    first = Period.of(campaign.starts_on)
    months = first.months_until(Period.of(today))
    return months[-limit:]


def unit_progress(consolidated: Appendix1) -> list[UnitProgress]:
    """Per unit: % with level 2, % of smartphone owners with the card linked (units with data only)."""
    totals: dict[str, list] = {}
    for row in consolidated.rows:
        if row.has_data:
            totals.setdefault(row.unit_code, [row.unit_name, []])[1].append(row)
    found = []
    for _code, (name, rows) in totals.items():
        staff = sum(r.total_staff or 0 for r in rows)
        level2 = sum(r.level2_done or 0 for r in rows)
        phones = sum(r.smartphone_staff or 0 for r in rows)
        missing = sum(r.card_missing or 0 for r in rows)
        found.append(
            UnitProgress(name, _float(percent(level2, staff)), _float(percent(phones - missing, phones)))
        )
    return found


def _float(value: Decimal | None) -> float | None:
    return float(value) if value is not None else None


def month_progress(
    area_units: Sequence[OrgUnit], months: Sequence[Period], *, now: dt.datetime | None = None
) -> list[MonthProgress]:
    """Overall %, month by month, as of each month's end (statuses read once from identity and wallet)."""
    now = now or timezone.now()
    if not months or not area_units:
        return []
    ids = [u.pk for u in area_units]
    first_day, last_day = months[0].start, reading_moment(months[-1], now).astimezone(local_zone()).date()
    everyone = RosterEntry.objects.filter(
        Q(active_to__isnull=True) | Q(active_to__gte=first_day), unit_id__in=ids, active_from__lte=last_day
    ).values("personal_id")
    facts = SystemFacts.load(everyone)
    found = []
    for period in months:
        moment = reading_moment(period, now)
        states = staff_states(ids, moment, facts=facts)
        row = count_row(states, department="")
        found.append(
            MonthProgress(
                period.label,
                _float(row.level2_percent) if states else None,
                _float(row.card_percent) if states else None,
                _float(row.book_percent) if states else None,
            )
        )
    return found


def coverage_figures(area: OrgUnit) -> list[CoverageFigure]:
    """The coverage figures recorded for ``area`` and the units above it, newest first."""
    chain: list[int] = []
    current: OrgUnit | None = area
    while current is not None and current.pk not in chain:
        chain.append(current.pk)
        current = current.parent
    return list(CoverageFigure.objects.filter(area_id__in=chain).select_related("area")[:12])


def reminders_sent(units: Sequence[OrgUnit], period: Period) -> dict[int, ReminderSent]:
    return {r.unit_id: r for r in ReminderSent.objects.filter(unit__in=units, period=period.start)}
