"""The dashboard, the unit page and the JSON report read in a bounded number of queries, whatever the size."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from soskdt import testing
from soskdt.registry.models import OrgUnitKind
from soskdt.rollout import services
from soskdt.rollout.models import Indicator
from soskdt.rollout.periods import Period
from soskdt.rollout.tests.conftest import add_staff, at, give_account

pytestmark = pytest.mark.django_db


def grow(org_tree, reporter, units: int, staff: int) -> None:
    for u in range(units):
        unit = testing.make_orgunit(
            kind=OrgUnitKind.COMMUNE_STATION, parent=org_tree.centre, name=f"Trạm {u}"
        )
        for s in range(staff):
            entry = add_staff(unit, name=f"Người {u}-{s}", smartphone=s % 4 != 0)
            if s % 3 == 0:
                give_account(entry)
            else:
                services.record_status(
                    entry=entry, indicator=Indicator.LEVEL2, done=False, reason_code="NO_CHIP_ID", by=reporter
                )
        if u % 2 == 0:
            report = services.start_report(unit=unit, period=Period(2024, 12), by=reporter)
            services.submit_report(report=report, by=reporter, now=at(2025, 1, 5))


def count(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


def test_the_dashboard_does_not_query_per_unit_or_per_staff_member(org_tree, centre_admin, unit_reporter):
    client = Client()
    client.force_login(centre_admin)
    url = reverse("rollout:dashboard") + "?ky=2024-12"
    grow(org_tree, unit_reporter, units=2, staff=3)
    small = count(client, url)
    grow(org_tree, unit_reporter, units=6, staff=8)
    large = count(client, url)
    assert large == small
    assert large <= 70


def test_the_unit_page_and_the_json_report_are_bounded(
    exam_unit, unit_reporter, django_assert_max_num_queries
):
    for s in range(30):
        entry = add_staff(exam_unit, name=f"Người {s}", department=f"Phòng {s % 3}")
        if s % 2:
            give_account(entry)
    client = Client()
    client.force_login(unit_reporter)
    with django_assert_max_num_queries(15):
        client.get(reverse("rollout:unit", args=[exam_unit.code]))
    with django_assert_max_num_queries(20):
        client.get(f"/api/v1/rollout/reports/{exam_unit.code}/2024-12")
