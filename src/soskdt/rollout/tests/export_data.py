"""A month of the roll-out on the persona org tree, to export: every part of Appendix 1 has something in it.

January 2025, on the centre of ``testing.make_org_tree``:

- the examination department (the unit reporter's): five staff in two *Khoa/Phòng* rows (the unit itself and
  its Long Bình polyclinic), statuses from the system (an account and a linked card) and entered (level 2, a
  card "not yet" with a free-text reason), patients helped at reception, a training session, a printing
  record, and a draft report with difficulties and proposals;
- the planning department: two staff and a report submitted on time (its numbers frozen);
- the commune station: no roster at all ("Chưa báo cáo" in a consolidation).
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from soskdt import testing
from soskdt.identity.models import User
from soskdt.rollout import services
from soskdt.rollout.models import Indicator, PrintKind, ReceptionAction
from soskdt.rollout.periods import Period
from soskdt.rollout.report import Appendix1, build_consolidated, build_unit_report
from soskdt.rollout.tests.conftest import add_staff, at, give_account, link_card

PERIOD = Period(2025, 1)
LONG_BINH = "Phòng khám đa khoa khu vực Long Bình"
DIFFICULTIES = (
    "Một số thẻ BHYT do BHXH Công an nhân dân cấp chưa tích hợp được.\nThiếu điện thoại hỗ trợ NFC."
)
PROPOSALS = "Đề nghị Trung tâm cấp thêm banner hướng dẫn cho khu vực tiếp đón."


@dataclass
class ExportCase:
    tree: testing.OrgTree
    period: Period

    def unit_report(self) -> Appendix1:
        return build_unit_report(self.tree.departments[0], self.period)

    def consolidated(self) -> Appendix1:
        return build_consolidated(self.tree.centre, self.period)


def make_export_case(tree: testing.OrgTree, reporter: User) -> ExportCase:
    exam, planning = tree.departments
    first = add_staff(exam, name="Nguyễn Văn An", position="Bác sĩ")
    link_card(give_account(first, granted_on=dt.date(2024, 10, 1)), linked_at=at(2025, 1, 10))
    add_staff(exam, name="Trần Thị Bình", smartphone=False)
    third = add_staff(exam, name="Lê Văn Cường")
    services.record_status(
        entry=third, indicator=Indicator.LEVEL2, done=True, by=reporter, effective_at=at(2025, 1, 5)
    )
    services.record_status(
        entry=third,
        indicator=Indicator.CARD_LINKED,
        done=False,
        reason_code="OTHER",
        reason_text="Đang đi công tác",
        by=reporter,
        effective_at=at(2025, 1, 5),
    )
    add_staff(exam, name="Phạm Thị Dung", department=LONG_BINH)
    add_staff(exam, name="Võ Văn Em", department=LONG_BINH, smartphone=False)
    for action in (ReceptionAction.INSTALLED_APP, ReceptionAction.INSTALLED_APP, ReceptionAction.LINKED_CARD):
        services.record_reception(unit=exam, action=action, by=reporter, at=at(2025, 1, 15))
    services.add_training(
        unit=exam,
        by=reporter,
        held_on=dt.date(2025, 1, 20),
        topic="Khai thác thông tin Sổ sức khỏe điện tử trên VNeID",
        attendee_ids=[first.pk, third.pk],
        other_attendees=1,
    )
    services.add_printing(
        unit=exam,
        by=reporter,
        recorded_on=dt.date(2025, 1, 12),
        kind=PrintKind.BANNER,
        quantity=2,
        location="Khu vực tiếp đón",
    )
    report = services.start_report(unit=exam, period=PERIOD, by=reporter)
    services.save_report_texts(report=report, by=reporter, difficulties=DIFFICULTIES, proposals=PROPOSALS)

    add_staff(planning, name="Đặng Văn Giang", position="Trưởng phòng")
    add_staff(planning, name="Hồ Thị Hạnh", smartphone=False)
    submitted = services.start_report(unit=planning, period=PERIOD, by=reporter)
    services.submit_report(report=submitted, by=reporter, now=at(2025, 2, 5))
    return ExportCase(tree, PERIOD)


def expected_sum(appendix: Appendix1, key: str) -> int:
    """The sum a totals formula must give: the rows with data (a "not reported" row has no numbers)."""
    return sum(getattr(row, key) for row in appendix.rows if row.has_data)


def need_poppler(tool: str) -> str:
    """The path of a poppler-utils tool, or skip the test saying how to get it."""
    found = shutil.which(tool)
    if found is None:
        pytest.skip(f"{tool} not installed: apt-get install poppler-utils (scripts/system-deps does it)")
    return found


def pdf_to_pngs(pdf: bytes, folder: Path, *, dpi: int = 40) -> list[Path]:
    """Render every page of ``pdf`` to PNG with pdftoppm; return the files in page order."""
    tool = need_poppler("pdftoppm")
    source = folder / "doc.pdf"
    source.write_bytes(pdf)
    subprocess.run([tool, "-r", str(dpi), "-png", str(source), str(folder / "page")], check=True)  # noqa: S603
    return sorted(folder.glob("page-*.png"))


def pdf_text(pdf: bytes, folder: Path, *, mode: str = "-layout") -> str:
    """The text of ``pdf`` by pdftotext (``-layout`` keeps lines; ``-raw`` follows the drawing order)."""
    tool = need_poppler("pdftotext")
    source = folder / "text.pdf"
    source.write_bytes(pdf)
    result = subprocess.run([tool, mode, str(source), "-"], check=True, capture_output=True)  # noqa: S603
    return result.stdout.decode("utf-8")


def pdf_pages(pdf: bytes, folder: Path) -> int:
    tool = need_poppler("pdfinfo")
    source = folder / "info.pdf"
    source.write_bytes(pdf)
    result = subprocess.run([tool, str(source)], check=True, capture_output=True)  # noqa: S603
    for line in result.stdout.decode().splitlines():
        if line.startswith("Pages:"):
            return int(line.split()[1])
    raise AssertionError("pdfinfo gave no page count")
