"""Completeness and timeliness (units × months) over a reorganisation, and the coverage indicator."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from soskdt import testing
from soskdt.registry.models import OrgUnitKind
from soskdt.rollout import services
from soskdt.rollout.dashboard import INACTIVE, completeness_grid
from soskdt.rollout.periods import Period, format_int, format_percent
from soskdt.rollout.tests.conftest import at

pytestmark = pytest.mark.django_db


def test_the_seed_letters_coverage_is_13_55_percent():
    assert format_percent(369164, 2724670) == "13,55%"
    assert format_int(369164) == "369.164" and format_int(2724670) == "2.724.670"
    assert format_percent(1, 0) == "—"


def test_the_dashboard_shows_the_coverage_indicator(org_tree, centre_admin):
    services.add_coverage_figure(
        area=org_tree.province,
        by=None,
        as_of=dt.date(2024, 11, 22),
        books_integrated=369164,
        population=2724670,
        source="Cục C06",
    )
    client = Client()
    client.force_login(centre_admin)
    page = client.get(reverse("rollout:dashboard")).content.decode()
    assert "13,55%" in page and "369.164" in page and "2.724.670" in page


@pytest.fixture
def reorganised(org_tree, unit_reporter):
    centre = testing.make_orgunit(kind=OrgUnitKind.HEALTH_CENTRE, parent=org_tree.province, name="TTYT thử")
    steady = testing.make_orgunit(kind=OrgUnitKind.DEPARTMENT, parent=centre, name="Khoa ổn định", code="K1")
    closing = testing.make_orgunit(
        kind=OrgUnitKind.COMMUNE_STATION,
        parent=centre,
        name="Trạm giải thể 15/01",
        code="K2",
        valid_to=dt.date(2025, 1, 15),
    )
    opening = testing.make_orgunit(
        kind=OrgUnitKind.COMMUNE_STATION,
        parent=centre,
        name="Trạm mới 15/01",
        code="K3",
        valid_from=dt.date(2025, 1, 15),
    )
    testing.make_orgunit(
        kind=OrgUnitKind.DEPARTMENT,
        parent=centre,
        name="Đã giải thể từ trước",
        code="K4",
        valid_to=dt.date(2024, 6, 30),
    )

    def submit(unit, period, when):
        report = services.start_report(unit=unit, period=period, by=unit_reporter)
        services.submit_report(report=report, by=unit_reporter, now=when)

    submit(steady, Period(2024, 12), at(2025, 1, 6))
    submit(closing, Period(2024, 12), at(2025, 1, 9))
    submit(opening, Period(2025, 1), at(2025, 2, 12))
    return centre


def test_units_opened_or_closed_do_not_distort_the_denominator(reorganised):
    months = [Period(2024, 12), Period(2025, 1), Period(2025, 2)]
    grid = completeness_grid(reorganised, months, now=at(2025, 2, 20))
    states = {row.unit.code: [c.state for c in row.cells] for row in grid.rows}
    assert states == {
        "K1": ["on_time", "missing", "pending"],
        "K2": ["on_time", INACTIVE, INACTIVE],
        "K3": [INACTIVE, "late", "pending"],
    }
    december, january, february = grid.columns
    assert (december.due, december.submitted, december.completeness, december.timeliness) == (
        2,
        2,
        "100,0%",
        "100,0%",
    )
    assert (january.due, january.submitted, january.completeness, january.timeliness) == (
        2,
        1,
        "50,0%",
        "0,0%",
    )
    # Nothing is due yet in February: no rate, not 0%.
    assert (february.due, february.completeness) == (0, "—")
    assert (grid.overall.due, grid.overall.on_time, grid.overall.completeness) == (4, 2, "75,0%")


def test_not_reported_is_never_shown_as_zero(reorganised):
    grid = completeness_grid(reorganised, [Period(2025, 1)], now=at(2025, 2, 20))
    steady = next(row for row in grid.rows if row.unit.code == "K1")
    assert steady.cells[0].label == "Chưa báo cáo"
    assert steady.tally.completeness == "0,0%"  # one report due, none submitted: a rate, not a count
