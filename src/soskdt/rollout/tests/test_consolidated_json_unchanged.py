"""The consolidated Appendix 1 and every staff member's statuses, for a fixed data set, match a stored copy.

The data set walks every branch of the status resolution (system facts before and after the period's end,
a refused and a pending card request, level 1, books, entered values with history and free-text reasons,
people without a smartphone, people off the roster that day) and of the consolidation (a submitted unit's
frozen numbers, live units, a unit with nobody on its roster, two *Khoa/Phòng* in one department, I.2–I.4).
The stored copy (``golden/consolidated_2024_12.json``) was written by the code before ``staff_states`` was
made faster; a change that alters any number, reason or label shows up here as a diff.

To write the copy again after a deliberate change of the output:
``SOSKDT_WRITE_GOLDEN=1 pytest src/soskdt/rollout/tests/test_consolidated_json_unchanged.py``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

import pytest

from soskdt import testing
from soskdt.healthbook.models import Book
from soskdt.identity.models import Role, User
from soskdt.registry.models import OrgUnit, OrgUnitKind
from soskdt.rollout import selectors, services
from soskdt.rollout.models import Indicator, MonthlyReport, PrintKind, ReceptionAction, RosterEntry
from soskdt.rollout.periods import Period
from soskdt.rollout.report import build_consolidated, reading_moment
from soskdt.rollout.tests.conftest import at, link_card
from soskdt.wallet.models import CardLinkRequest, LinkStatus

pytestmark = pytest.mark.django_db

GOLDEN = Path(__file__).parent / "golden" / "consolidated_2024_12.json"
DECEMBER = Period(2024, 12)
NOW = at(2025, 1, 20, 10)
# Keys added to the consolidated JSON after the copy was stored (each has its own tests).
ADDED_KEYS = ("coverage",)


def _unit(code: str, name: str, kind: str, parent: OrgUnit | None, **extra: Any) -> OrgUnit:
    return testing.make_orgunit(code=code, name=name, kind=kind, parent=parent, province_code="89", **extra)


def _staff(
    unit: OrgUnit,
    serial: int,
    name: str,
    *,
    department: str = "",
    smartphone: bool = True,
    active_from: dt.date = dt.date(2024, 1, 1),
    active_to: dt.date | None = None,
) -> RosterEntry:
    return RosterEntry.objects.create(
        unit=unit,
        full_name=name,
        personal_id=f"089{1 + serial % 2}88{serial:06d}",
        position="Điều dưỡng",
        department=department,
        has_smartphone=smartphone,
        active_from=active_from,
        active_to=active_to,
    )


def _account(entry: RosterEntry, *, level: int = 2, granted_on: dt.date, app_version: str = "2.1.0") -> User:
    user = testing.make_citizen_account(
        personal_id=entry.personal_id,
        full_name=entry.full_name,
        assurance_level=level,
        granted_on=granted_on,
        province_code="89",
    )
    User.objects.filter(pk=user.pk).update(app_version=app_version)
    user.refresh_from_db()
    return user


def _request(user: User, status: str, reason: str = "") -> None:
    assert user.citizen is not None
    CardLinkRequest.objects.create(
        account=user,
        citizen=user.citizen,
        typed_value="0000000000",
        social_insurance_number="0000000000",
        issuer="VSS",
        status=status,
        reason_code=reason,
        decided_at=at(2024, 12, 3) if status != LinkStatus.PENDING else None,
    )


def _book(user: User, activated_at: dt.datetime) -> None:
    assert user.citizen is not None
    Book.objects.create(citizen=user.citizen, activated_at=activated_at)


def _enter(
    entry: RosterEntry, indicator: str, done: bool, when: dt.datetime, code: str = "", text: str = ""
) -> None:
    services.record_status(
        entry=entry,
        indicator=indicator,
        done=done,
        by=None,
        reason_code=code,
        reason_text=text,
        effective_at=when,
    )


def build_fixed_data() -> OrgUnit:
    """Build the fixed data set; return the centre."""
    province = _unit("GOLD-SYT", "Sở Y tế tỉnh Mẫu", OrgUnitKind.PROVINCE_DEPARTMENT, None)
    centre = _unit("GOLD-TTYT", "Trung tâm Y tế khu vực Mẫu", OrgUnitKind.HEALTH_CENTRE, province)
    exam = _unit("GOLD-KKB", "Khoa Khám bệnh", OrgUnitKind.DEPARTMENT, centre)
    inner = _unit("GOLD-NOI", "Khoa Nội", OrgUnitKind.DEPARTMENT, centre)
    _unit("GOLD-DUOC", "Khoa Dược", OrgUnitKind.DEPARTMENT, centre)  # nobody on its roster
    station = _unit("GOLD-TYT", "Trạm Y tế xã Mẫu", OrgUnitKind.COMMUNE_STATION, centre)
    closed = _unit(
        "GOLD-CU", "Trạm Y tế cũ", OrgUnitKind.COMMUNE_STATION, centre, valid_to=dt.date(2024, 11, 30)
    )
    _staff(closed, 99, "Người ở trạm cũ")
    reporter = testing.make_staff(username="golden.reporter", org_unit=inner, roles=[Role.UNIT_REPORTER])

    # The examination department: system facts, two Khoa/Phòng.
    a = _staff(exam, 1, "Nguyễn Văn An")
    user = _account(a, granted_on=dt.date(2024, 3, 1))
    link_card(user, linked_at=at(2024, 12, 10))
    _book(user, at(2024, 12, 11))
    b = _staff(exam, 2, "Trần Thị Bình")  # the card and the book come after the month's end
    user = _account(b, granted_on=dt.date(2024, 3, 1))
    link_card(user, linked_at=at(2025, 1, 5))
    _book(user, at(2025, 1, 6))
    _enter(b, Indicator.CARD_LINKED, False, at(2024, 12, 2), "WRONG_NUMBER")
    c = _staff(exam, 3, "Lê Văn Cường")  # a refused request
    _request(_account(c, granted_on=dt.date(2024, 5, 1)), LinkStatus.REJECTED, "PERSONAL_DATA_MISMATCH")
    d = _staff(exam, 4, "Phạm Thị Dung", department="Phòng khám Long Bình")  # a pending request
    _request(_account(d, granted_on=dt.date(2024, 5, 1)), LinkStatus.PENDING)
    e = _staff(exam, 5, "Hoàng Văn Em", department="Phòng khám Long Bình")  # level 1
    _account(e, level=1, granted_on=dt.date(2024, 5, 1))
    _enter(e, Indicator.LEVEL2, False, at(2024, 11, 1), "AWAITING_APPROVAL")
    f = _staff(exam, 6, "Võ Thị Phương", department="Phòng khám Long Bình")  # level 2 after the month
    _account(f, granted_on=dt.date(2025, 1, 3))
    g = _staff(exam, 7, "Đặng Văn Giang", smartphone=False)  # level 2, no app version reported
    _account(g, granted_on=dt.date(2024, 2, 1), app_version="")
    _enter(g, Indicator.VNEID_INSTALLED, True, at(2024, 10, 1))
    _enter(g, Indicator.BOOK_CREATED, False, at(2024, 10, 1), "TERMS_NOT_ACCEPTED")
    _staff(exam, 8, "Bùi Văn Hải", active_to=dt.date(2024, 11, 15))  # left before the month's end
    _staff(exam, 9, "Đỗ Thị Hoa", active_from=dt.date(2025, 1, 2))  # arrives after it

    # The internal medicine department: entered statuses, some changed over time.
    h = _staff(inner, 10, "Ngô Văn Hùng")
    for indicator in Indicator.values:
        _enter(h, indicator, True, at(2024, 11, 20))
    i = _staff(inner, 11, "Dương Thị Lan")
    _enter(i, Indicator.LEVEL2, False, at(2024, 11, 1), "NO_CHIP_ID")
    _enter(i, Indicator.LEVEL2, False, at(2024, 12, 5), "OTHER", "Đang đi công tác")
    _enter(i, Indicator.LEVEL2, True, at(2025, 1, 8))  # after the month: not counted
    _enter(i, Indicator.CARD_LINKED, False, at(2024, 12, 5), "OTHER", "Đang đi công tác")
    j = _staff(inner, 12, "Lý Văn Minh")
    _enter(j, Indicator.LEVEL2, True, at(2024, 12, 1))
    _enter(j, Indicator.CARD_LINKED, False, at(2024, 12, 1), "NO_CARD_OR_EXPIRED")
    _enter(j, Indicator.BOOK_CREATED, False, at(2024, 12, 1), "NO_VISIT_DATA")
    _staff(inner, 13, "Mai Thị Ngọc", smartphone=False)  # nothing entered, no smartphone
    _staff(inner, 14, "Trịnh Văn Phúc")  # nothing entered
    k = _staff(inner, 15, "Cao Thị Quỳnh")
    _enter(k, Indicator.LEVEL2, False, at(2024, 11, 1), "OTHER", "Nghỉ thai sản")

    # The commune station: a mix; it submits its report (frozen numbers).
    m = _staff(station, 16, "Tô Văn Sơn", department="Tổ tiêm chủng")  # a station is one row
    user = _account(m, granted_on=dt.date(2024, 1, 10))
    link_card(user, linked_at=at(2024, 11, 1))
    n = _staff(station, 17, "Hà Thị Thu")
    _enter(n, Indicator.LEVEL2, False, at(2024, 11, 1), "NO_SMARTPHONE")
    o = _staff(station, 18, "La Văn Út", smartphone=False)
    _enter(o, Indicator.LEVEL2, True, at(2024, 11, 1))

    # I.2–I.4 and the texts.
    for unit, actions in ((exam, 3), (inner, 2), (station, 4)):
        for index in range(actions):
            services.record_reception(
                unit=unit,
                action=ReceptionAction.values[index % 3],
                by=reporter,
                at=at(2024, 12, 3 + index),
            )
    services.record_reception(unit=exam, action=ReceptionAction.OPENED_BOOK, by=reporter, at=at(2025, 1, 3))
    services.add_training(
        unit=inner,
        by=reporter,
        held_on=dt.date(2024, 12, 12),
        topic="Khai thác Sổ sức khỏe điện tử",
        attendee_ids=[h.pk, i.pk],
        other_attendees=1,
    )
    services.add_training(
        unit=station,
        by=reporter,
        held_on=dt.date(2024, 12, 14),
        topic="Tích hợp thẻ BHYT",
        attendee_ids=[n.pk],
    )
    services.add_printing(
        unit=exam,
        by=reporter,
        recorded_on=dt.date(2024, 12, 9),
        kind=PrintKind.values[0],
        quantity=2,
        location="Khu vực tiếp đón",
    )
    services.add_printing(
        unit=station,
        by=reporter,
        recorded_on=dt.date(2024, 12, 10),
        kind=PrintKind.values[-1],
        quantity=5,
        colour=False,
        location="Nhà văn hóa ấp",
    )
    inner_report = services.start_report(unit=inner, period=DECEMBER, by=reporter)
    services.save_report_texts(report=inner_report, by=reporter, difficulties="Thiếu điện thoại thông minh.")
    station_report = services.start_report(unit=station, period=DECEMBER, by=reporter)
    services.save_report_texts(
        report=station_report,
        by=reporter,
        difficulties="Sóng điện thoại yếu.",
        proposals="Cấp thêm tài liệu.",
    )
    services.submit_report(report=station_report, by=reporter, now=at(2025, 1, 8, 15))
    return centre


def _staff_json(centre: OrgUnit) -> list[dict[str, Any]]:
    units = {u.pk: u.code for u in OrgUnit.objects.filter(parent=centre)}
    states = selectors.staff_states(sorted(units), reading_moment(DECEMBER, NOW))
    return [
        {
            "unit": units[s.unit_id],
            "name": s.full_name,
            "personal_id": s.personal_id,
            "department": s.department,
            "smartphone": s.has_smartphone,
            "matched": s.matched,
            "statuses": {
                indicator: [r.done, r.reason_code, r.reason_text, r.source, r.reason_editable]
                for indicator, r in sorted(s.statuses.items())
            },
        }
        for s in states
    ]


def current_output() -> dict[str, Any]:
    centre = build_fixed_data()
    consolidated = build_consolidated(centre, DECEMBER, now=NOW).to_json()
    # Through JSON, as the API and the exports see it (dates as text, tuples as lists).
    consolidated = json.loads(json.dumps(consolidated, ensure_ascii=False))
    for key in ADDED_KEYS:
        consolidated.pop(key, None)
    return {"consolidated": consolidated, "staff_states": _staff_json(centre)}


def test_the_consolidated_json_and_the_staff_statuses_of_a_fixed_data_set_are_unchanged():
    found = current_output()
    if os.environ.get("SOSKDT_WRITE_GOLDEN"):
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(json.dumps(found, ensure_ascii=False, indent=1, sort_keys=True) + "\n")
    expected = json.loads(GOLDEN.read_text())
    assert found["staff_states"] == expected["staff_states"]
    assert found["consolidated"] == expected["consolidated"]


def test_the_fixed_data_set_reaches_every_kind_of_row():
    data = current_output()["consolidated"]
    sources = {u["code"]: u["source"] for u in data["units"]}
    assert sources == {"GOLD-KKB": "live", "GOLD-NOI": "live", "GOLD-DUOC": "none", "GOLD-TYT": "snapshot"}
    assert [r["department"] for r in data["rows"]] == [  # departments by code, then stations
        "Khoa Dược",
        "Khoa Khám bệnh",
        "Phòng khám Long Bình",
        "Khoa Nội",
        "Trạm Y tế xã Mẫu",
    ]
    assert MonthlyReport.objects.filter(status="submitted").count() == 1
