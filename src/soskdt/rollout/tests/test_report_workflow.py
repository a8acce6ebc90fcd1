"""The monthly report: draft → submitted → approved or returned; locks, reopening, on time or late."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from soskdt.core.errors import DomainError
from soskdt.rollout import services
from soskdt.rollout.models import Indicator, ReportAction, ReportStatus
from soskdt.rollout.periods import Period
from soskdt.rollout.report import build_unit_report
from soskdt.rollout.tests.conftest import add_staff, at

pytestmark = pytest.mark.django_db

DECEMBER = Period(2024, 12)


@pytest.fixture
def report(exam_unit, unit_reporter):
    add_staff(exam_unit, name="Một")
    return services.start_report(unit=exam_unit, period=DECEMBER, by=unit_reporter)


def test_submitted_before_the_10th_is_on_time_and_from_the_10th_is_late(org_tree, unit_reporter):
    assert DECEMBER.deadline(10) == at(2025, 1, 10, 0)
    on_time = services.start_report(unit=org_tree.departments[0], period=DECEMBER, by=unit_reporter)
    services.submit_report(
        report=on_time, by=unit_reporter, now=at(2025, 1, 9, 23) + dt.timedelta(minutes=59)
    )
    late = services.start_report(unit=org_tree.departments[1], period=DECEMBER, by=unit_reporter)
    services.submit_report(report=late, by=unit_reporter, now=at(2025, 1, 10, 0))
    on_time.refresh_from_db()
    late.refresh_from_db()
    assert on_time.on_time is True and late.on_time is False


def test_the_workflow_locks_returns_approves_and_logs_a_reopening(report, unit_reporter, centre_admin):
    services.save_report_texts(
        report=report, by=unit_reporter, difficulties="Nhiều cán bộ chưa có CCCD gắn chip."
    )
    services.submit_report(report=report, by=unit_reporter, now=at(2025, 1, 8))
    report.refresh_from_db()
    assert report.status == ReportStatus.SUBMITTED and report.snapshot is not None
    with pytest.raises(DomainError) as locked:
        services.save_report_texts(report=report, by=unit_reporter, proposals="x")
    assert locked.value.code == "ROLLOUT_REPORT_LOCKED"
    with pytest.raises(DomainError):
        services.return_report(report=report, by=centre_admin, comment="  ")
    services.return_report(report=report, by=centre_admin, comment="Bổ sung lý do chưa tích hợp thẻ.")
    report.refresh_from_db()
    assert report.status == ReportStatus.RETURNED and report.is_editable
    services.save_report_texts(
        report=report, by=unit_reporter, proposals="Đề nghị Công an xã hỗ trợ cấp CCCD."
    )
    services.submit_report(report=report, by=unit_reporter, now=at(2025, 1, 15))
    report.refresh_from_db()
    assert report.on_time is True  # the first submission, before the deadline, decides
    assert report.submitted_at == at(2025, 1, 15)
    services.approve_report(report=report, by=centre_admin)
    report.refresh_from_db()
    assert report.status == ReportStatus.APPROVED
    with pytest.raises(DomainError) as again:
        services.submit_report(report=report, by=unit_reporter)
    assert again.value.code == "ROLLOUT_TRANSITION_INVALID"
    with pytest.raises(DomainError):
        services.reopen_report(report=report, by=centre_admin, comment="")
    services.reopen_report(report=report, by=centre_admin, comment="Sai số liệu khoa Khám bệnh.")
    report.refresh_from_db()
    assert report.status == ReportStatus.RETURNED
    actions = list(report.events.order_by("pk").values_list("action", "actor__username", "comment"))
    assert [a[0] for a in actions] == [
        ReportAction.CREATED,
        ReportAction.SAVED,
        ReportAction.SUBMITTED,
        ReportAction.RETURNED,
        ReportAction.SAVED,
        ReportAction.SUBMITTED,
        ReportAction.APPROVED,
        ReportAction.REOPENED,
    ]
    assert actions[-1][1:] == (centre_admin.username, "Sai số liệu khoa Khám bệnh.")


def test_an_approved_report_keeps_its_numbers_when_statuses_change_later(
    report, exam_unit, unit_reporter, centre_admin
):
    services.submit_report(report=report, by=unit_reporter, now=at(2025, 1, 5))
    services.approve_report(report=report, by=centre_admin)
    entry = exam_unit.rollout_roster.get()
    # A late correction effective in December itself: the live numbers change, the approved report does not.
    services.record_status(
        entry=entry, indicator=Indicator.LEVEL2, done=True, by=unit_reporter, effective_at=at(2024, 12, 30)
    )
    assert build_unit_report(exam_unit, DECEMBER, live=True).totals.level2_done == 1
    frozen = build_unit_report(exam_unit, DECEMBER)
    assert frozen.totals.level2_done == 0
    assert frozen.status == ReportStatus.APPROVED and frozen.on_time is True


def test_only_an_administrator_decides_and_only_the_unit_submits_through_the_pages(
    report, exam_unit, unit_reporter, centre_admin
):
    reporter, admin = Client(), Client()
    reporter.force_login(unit_reporter)
    admin.force_login(centre_admin)
    action = lambda name: reverse("rollout:report_action", args=[exam_unit.code, DECEMBER.key, name])  # noqa: E731
    assert admin.post(action("nop")).status_code == 404
    assert reporter.post(action("nop")).status_code == 302
    assert reporter.post(action("duyet")).status_code == 404
    assert reporter.post(action("tra-lai"), {"comment": "x"}).status_code == 404
    report.refresh_from_db()
    assert report.status == ReportStatus.SUBMITTED
    assert admin.post(action("duyet")).status_code == 302
    report.refresh_from_db()
    assert report.status == ReportStatus.APPROVED
    assert reporter.post(action("mo-lai"), {"comment": "x"}).status_code == 404
    admin.post(action("mo-lai"), {"comment": "Cần sửa"})
    report.refresh_from_db()
    assert report.status == ReportStatus.RETURNED


def test_a_report_for_a_future_month_or_before_the_campaign_is_refused(exam_unit, unit_reporter):
    with pytest.raises(DomainError):
        services.start_report(unit=exam_unit, period=Period(2024, 11), by=unit_reporter)
    with pytest.raises(DomainError):
        services.start_report(unit=exam_unit, period=Period(2200, 1), by=unit_reporter)


def test_the_report_page_saves_and_submits(exam_unit, unit_reporter):
    client = Client()
    client.force_login(unit_reporter)
    url = reverse("rollout:report", args=[exam_unit.code, DECEMBER.key])
    page = client.get(url).content.decode()
    assert "Khoa/phòng tại đơn vị" in page and "THỦ TRƯỞNG ĐƠN VỊ" in page
    response = client.post(url, {"difficulties": "Thiếu điện thoại thông minh", "then": "submit"})
    assert response.status_code == 302
    page = client.get(url).content.decode()
    assert "Đã nộp" in page and "Trễ hạn" in page and "Thiếu điện thoại thông minh" in page
