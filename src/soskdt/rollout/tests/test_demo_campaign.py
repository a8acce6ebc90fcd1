"""The demo's campaign: rosters for every unit, derived and entered statuses, three months of reports."""

from __future__ import annotations

import pytest
from django.utils import timezone

from soskdt.demo.builders import build_demo
from soskdt.registry.models import OrgUnitKind
from soskdt.rollout.models import (
    MonthlyReport,
    ReceptionHelp,
    ReportStatus,
    RosterEntry,
    StatusChange,
    TrainingSession,
)
from soskdt.rollout.periods import Period
from soskdt.rollout.report import build_consolidated, expected_units
from soskdt.rollout.selectors import SOURCE_ENTERED, SOURCE_SYSTEM, staff_states

pytestmark = pytest.mark.django_db


def test_the_demo_runs_a_whole_campaign():
    today = timezone.localdate()
    result = build_demo(today=today, citizens=150)
    units = expected_units(result.org.centre, Period.of(today))
    assert len(units) == 13
    assert {u.kind for u in units} == {OrgUnitKind.DEPARTMENT, OrgUnitKind.COMMUNE_STATION}
    assert all(RosterEntry.objects.filter(unit=u).exists() for u in units)
    sources = {s.statuses["level2"].source for s in staff_states([u.pk for u in units], timezone.now())}
    assert {SOURCE_SYSTEM, SOURCE_ENTERED} <= sources
    assert StatusChange.objects.filter(effective_to__isnull=False).exists()  # some statuses changed over time
    months = {Period.of(p) for p in MonthlyReport.objects.values_list("period", flat=True)}
    assert len(months) == 3
    statuses = set(MonthlyReport.objects.values_list("status", flat=True))
    assert {ReportStatus.APPROVED, ReportStatus.SUBMITTED} <= statuses
    assert MonthlyReport.objects.filter(on_time=False).exists()
    assert ReceptionHelp.objects.exists() and TrainingSession.objects.exists()
    last = Period.of(today).previous()
    consolidated = build_consolidated(result.org.centre, last)
    # Before the 10th last month's late reports are still to come (the demo never dates one in the future),
    # so the month before it is looked at too.
    earlier = build_consolidated(result.org.centre, last.previous())
    assert {u.timeliness for u in consolidated.units + earlier.units} >= {"on_time", "late"}
    assert consolidated.totals.total_staff and consolidated.totals.total_staff > 150
    # The stations carry their communes' codes: SoSKDT counts the An Phú area's coverage itself.
    assert consolidated.coverage is not None
    system = consolidated.coverage.system
    assert system.population and system.population > 150
    assert system.books_integrated is not None and 0 < system.books_integrated < system.population
    assert consolidated.coverage.entered is not None and consolidated.coverage.entered.source
    # The examination department reports two rows: the department and the Long Bình polyclinic.
    assert [r.department for r in consolidated.rows if r.unit_code == "ANPHU-KKB"] == [
        "Khoa Khám bệnh",
        "Phòng khám đa khoa khu vực Long Bình",
    ]
