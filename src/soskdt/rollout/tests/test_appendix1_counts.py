"""Table I.1 counted from statuses as of the period's end, with the smartphone denominator and reason texts."""

from __future__ import annotations

import datetime as dt

import pytest

from soskdt.rollout import services
from soskdt.rollout.models import Indicator
from soskdt.rollout.periods import Period
from soskdt.rollout.report import (
    Appendix1,
    ReasonCount,
    build_consolidated,
    build_unit_report,
    format_reasons,
)
from soskdt.rollout.tests.conftest import add_staff, at, give_account, link_card

pytestmark = pytest.mark.django_db

DECEMBER = Period(2024, 12)


@pytest.fixture
def december(exam_unit, unit_reporter):
    """Ten people on the examination department's roster, worked out by hand in the tests below."""
    by = unit_reporter
    u = exam_unit
    a = add_staff(u, name="A")
    give_account_a = give_account(a, granted_on=dt.date(2024, 3, 1))
    link_card(give_account_a, linked_at=at(2024, 12, 10))
    b = add_staff(u, name="B")
    give_account(b, granted_on=dt.date(2024, 12, 15), app_version="")
    services.record_status(
        entry=b,
        indicator=Indicator.CARD_LINKED,
        done=False,
        reason_code="WRONG_NUMBER",
        by=by,
        effective_at=at(2024, 12, 20),
    )
    c = add_staff(u, name="C")
    give_account(c, granted_on=dt.date(2025, 1, 5))
    services.record_status(
        entry=c,
        indicator=Indicator.LEVEL2,
        done=False,
        reason_code="AWAITING_APPROVAL",
        by=by,
        effective_at=at(2024, 12, 1),
    )
    add_staff(u, name="D", smartphone=False)
    e = add_staff(u, name="E", smartphone=False)
    services.record_status(
        entry=e,
        indicator=Indicator.LEVEL2,
        done=False,
        reason_code="NO_SMARTPHONE",
        by=by,
        effective_at=at(2024, 11, 1),
    )
    f = add_staff(u, name="F")
    services.record_status(
        entry=f, indicator=Indicator.LEVEL2, done=True, by=by, effective_at=at(2024, 11, 1)
    )
    services.record_status(
        entry=f, indicator=Indicator.CARD_LINKED, done=True, by=by, effective_at=at(2024, 12, 5)
    )
    g = add_staff(u, name="G")
    services.record_status(
        entry=g,
        indicator=Indicator.LEVEL2,
        done=False,
        reason_code="NO_CHIP_ID",
        by=by,
        effective_at=at(2024, 11, 1),
    )
    services.record_status(
        entry=g, indicator=Indicator.LEVEL2, done=True, by=by, effective_at=at(2025, 1, 10)
    )
    h = add_staff(u, name="H", department="Phòng khám số 2")
    services.record_status(
        entry=h, indicator=Indicator.LEVEL2, done=True, by=by, effective_at=at(2024, 10, 1)
    )
    services.record_status(
        entry=h,
        indicator=Indicator.CARD_LINKED,
        done=False,
        reason_code="OTHER",
        reason_text="Đang đi công tác",
        by=by,
        effective_at=at(2024, 12, 2),
    )
    add_staff(u, name="I (vào làm 02/01/2025)", active_from=dt.date(2025, 1, 2))
    add_staff(u, name="J (nghỉ 30/11/2024)", active_to=dt.date(2024, 11, 30))
    return u


def test_table_i1_counts_the_roster_as_of_the_end_of_december(december):
    report = build_unit_report(december, DECEMBER)
    assert [r.department for r in report.rows] == ["Khoa Khám bệnh", "Phòng khám số 2"]
    first, second = report.rows
    assert (first.number, first.total_staff, first.level2_done, first.level2_missing) == (1, 7, 3, 4)
    assert first.level2_reasons_text == (
        "Không có điện thoại thông minh: 2; Chưa có CCCD gắn chip: 1; Đã nộp hồ sơ, đang chờ phê duyệt: 1"
    )
    # Card linking is counted against the five with a smartphone: D and E are not "missing".
    assert first.smartphone_staff == 5
    assert (first.card_linked, first.card_missing) == (2, 3)
    assert (
        first.card_reasons_text == "Chưa có tài khoản định danh điện tử mức 2: 2; Nhập sai mã số thẻ BHYT: 1"
    )
    assert first.book_created == 0
    assert (second.number, second.total_staff, second.level2_done, second.card_missing) == (2, 1, 1, 1)
    assert second.card_reasons_text == "Lý do khác (Đang đi công tác): 1"
    totals = report.totals
    assert (
        totals.total_staff,
        totals.level2_done,
        totals.level2_missing,
        totals.card_linked,
        totals.card_missing,
    ) == (8, 4, 4, 2, 4)
    assert str(totals.level2_percent) == "50.00"
    assert str(totals.card_percent) == "33.33"  # 2 of the 6 with a smartphone


def test_a_later_month_counts_the_later_state(december):
    january = build_unit_report(december, Period(2025, 1))
    first = january.rows[0]
    # C reached level 2 on 05/01, G on 10/01, and I joined on 02/01 (with no status yet).
    assert (first.total_staff, first.level2_done) == (8, 5)
    assert "Chưa rõ lý do: 1" in first.level2_reasons_text


def test_the_reasons_text_is_the_forms_wording():
    items = [
        ReasonCount("NO_SMARTPHONE", "Không có điện thoại thông minh", 3),
        ReasonCount("NO_CHIP_ID", "Chưa có CCCD gắn chip", 1),
    ]
    assert format_reasons(items) == "Không có điện thoại thông minh: 3; Chưa có CCCD gắn chip: 1"
    assert format_reasons([]) == ""


def test_the_json_has_stable_keys_and_reads_back(december):
    report = build_unit_report(december, DECEMBER)
    data = report.to_json()
    assert set(data) >= {
        "scope",
        "unit",
        "period",
        "as_of",
        "campaign",
        "status",
        "submitted_at",
        "on_time",
        "columns",
        "rows",
        "totals",
        "reception",
        "training",
        "printing",
        "difficulties",
        "proposals",
        "units",
    }
    row = data["rows"][0]
    assert list(row)[:4] == ["number", "department", "unit_code", "unit_name"]
    assert row["level2_reasons"][0] == {
        "code": "NO_SMARTPHONE",
        "label": "Không có điện thoại thông minh",
        "count": 2,
    }
    assert row["card_percent"] == 40.0
    assert [c["key"] for c in data["columns"]] == [
        "number",
        "department",
        "total_staff",
        "level2_done",
        "level2_missing",
        "level2_reasons_text",
        "book_created",
        "card_linked",
        "card_missing",
        "card_reasons_text",
    ]
    assert data["columns"][3]["heading"] == "Số lượng Đã cài đặt, đăng ký và kích hoạt định danh VNeID mức 2"
    again = Appendix1.from_json(data)
    assert again.to_json() == data


def test_the_consolidated_report_has_every_units_rows_and_never_a_zero_for_a_unit_without_data(
    december, org_tree
):
    other, station = org_tree.departments[1], org_tree.station
    add_staff(station, name="Trạm 1", department="Không dùng")
    add_staff(station, name="Trạm 2", department="Ở trạm chỉ có một dòng", smartphone=False)
    report = build_consolidated(org_tree.centre, DECEMBER)
    assert report.scope == "consolidated"
    assert [(r.number, r.unit_name, r.department) for r in report.rows] == [
        (1, december.name, "Khoa Khám bệnh"),
        (2, december.name, "Phòng khám số 2"),
        (3, other.name, other.name),
        (4, station.name, station.name),
    ]
    empty = report.rows[2]
    assert not empty.has_data and empty.total_staff is None and empty.level2_done is None
    assert report.rows[3].total_staff == 2  # a commune station reports itself as one row
    assert report.totals.total_staff == 10
    assert [u.timeliness for u in report.units] == ["missing", "missing", "missing"]
    assert report.to_json()["rows"][2]["total_staff"] is None
