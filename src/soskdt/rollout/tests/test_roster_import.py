"""The roster XLSX: the template, an import with good and bad rows (each reported), idempotence, the export."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from soskdt.rollout import services, xlsx
from soskdt.rollout.models import RosterEntry

pytestmark = pytest.mark.django_db

HEADER = [
    "Họ và tên",
    "Số định danh cá nhân",
    "Chức vụ",
    "Khoa/Phòng",
    "Có điện thoại thông minh",
    "Ngày bắt đầu",
    "Ngày kết thúc",
]


def workbook(rows: list[list[object]], header: list[str] = HEADER) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


GOOD = [
    ["Nguyễn Văn An", "079088001234", "Bác sĩ", "Khoa Khám bệnh", "Có", "01/03/2020", None],
    ["Trần Thị Bình", "079189004321", "Điều dưỡng", "Phòng khám số 2", "Không", dt.datetime(2021, 5, 4), ""],
]
BAD = [
    ["", "079088001235", "Bác sĩ", "", "Có", "01/03/2020", None],  # row 4: no name
    ["Lê Văn Cường", "07908800123", "Bác sĩ", "", "Có", "01/03/2020", None],  # row 5: 11 digits
    ["Phạm Thị Dung", 79189004322, "Hộ lý", "", "Có", "01/03/2020", None],  # row 6: a number, leading 0 lost
    ["Hoàng Văn Em", "079088001236", "", "", "Có lẽ", "01/03/2020", None],  # row 7: smartphone
    ["Vũ Thị Giang", "079189004323", "", "", "Có", "31/02/2020", None],  # row 8: no such date
    ["Đặng Văn Hải", "079088001234", "", "", "Có", "01/03/2020", None],  # row 9: same person as row 2
    [
        "Bùi Thị Khánh",
        "079189004324",
        "",
        "",
        "Không",
        "01/03/2020",
        "01/01/2020",
    ],  # row 10: ends before it starts
]


def test_the_template_has_the_documented_vietnamese_headers():
    sheet = load_workbook(io.BytesIO(xlsx.roster_template())).worksheets[0]
    assert [c.value for c in sheet[1]] == HEADER


def test_good_rows_are_loaded_and_every_bad_row_is_reported(exam_unit, unit_reporter):
    outcome = services.import_roster(
        unit=exam_unit, by=unit_reporter, stream=io.BytesIO(workbook(GOOD + BAD))
    )
    assert (outcome.rows, outcome.created, outcome.rejected) == (9, 2, 7)
    found = [(p["row"], p["column"], p["code"]) for p in outcome.problems]
    assert found == [
        (4, "Họ và tên", "ROSTER_VALUE_REQUIRED"),
        (5, "Số định danh cá nhân", "ROSTER_PERSONAL_ID_INVALID"),
        (6, "Số định danh cá nhân", "ROSTER_PERSONAL_ID_AS_NUMBER"),
        (7, "Có điện thoại thông minh", "ROSTER_SMARTPHONE_INVALID"),
        (8, "Ngày bắt đầu", "ROSTER_DATE_INVALID"),
        (9, "Số định danh cá nhân", "ROSTER_DUPLICATE_PERSON"),
        (10, "Ngày kết thúc", "ROSTER_PERIOD_INVALID"),
    ]
    assert outcome.problems[5]["message"] == "Số định danh này đã có ở dòng 2 của tệp."
    assert outcome.problems[1]["column_letter"] == "B"
    binh = RosterEntry.objects.get(personal_id="079189004321")
    assert (binh.department, binh.has_smartphone, binh.active_from) == (
        "Phòng khám số 2",
        False,
        dt.date(2021, 5, 4),
    )


def test_importing_the_same_file_again_changes_nothing_and_a_corrected_row_updates(exam_unit, unit_reporter):
    data = workbook(GOOD)
    services.import_roster(unit=exam_unit, by=unit_reporter, stream=io.BytesIO(data))
    again = services.import_roster(unit=exam_unit, by=unit_reporter, stream=io.BytesIO(data))
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    changed = [list(GOOD[0]), GOOD[1]]
    changed[0][6] = "31/12/2024"
    third = services.import_roster(unit=exam_unit, by=unit_reporter, stream=io.BytesIO(workbook(changed)))
    assert (third.created, third.updated, third.unchanged) == (0, 1, 1)
    assert RosterEntry.objects.filter(unit=exam_unit).count() == 2
    assert RosterEntry.objects.get(personal_id="079088001234").active_to == dt.date(2024, 12, 31)


@pytest.mark.parametrize(
    ("kind", "code"), [("not-xlsx", "ROSTER_FILE_UNREADABLE"), ("no-id-column", "ROSTER_COLUMN_MISSING")]
)
def test_a_file_that_cannot_be_read_is_refused_whole(exam_unit, unit_reporter, kind, code):
    content = b"not an excel file" if kind == "not-xlsx" else workbook([], header=["Họ và tên", "Chức vụ"])
    outcome = services.import_roster(unit=exam_unit, by=unit_reporter, stream=io.BytesIO(content))
    assert outcome.file_rejected and code in [p["code"] for p in outcome.problems]
    assert not RosterEntry.objects.exists()


def test_headers_are_matched_without_case_or_accents_and_extra_columns_are_ignored(exam_unit, unit_reporter):
    header = ["ho va ten", "SỐ ĐỊNH DANH CÁ NHÂN", "Ghi chú", "co dien thoai thong minh", "Ngày bắt đầu"]
    outcome = services.import_roster(
        unit=exam_unit,
        by=unit_reporter,
        stream=io.BytesIO(workbook([["Ngô Văn Lâm", "079088001299", "x", "x", "2020-01-01"]], header)),
    )
    assert outcome.created == 1 and not outcome.problems


def test_the_page_imports_and_the_export_can_be_imported_back(exam_unit, unit_reporter, org_tree):
    client = Client()
    client.force_login(unit_reporter)
    upload = SimpleUploadedFile("ds.xlsx", workbook(GOOD + BAD[:1]))
    page = client.post(reverse("rollout:roster_import", args=[exam_unit.code]), {"file": upload})
    text = page.content.decode()
    assert page.status_code == 200 and "thêm mới: 2" in text and "ROSTER_VALUE_REQUIRED" in text
    exported = client.get(reverse("rollout:roster_export", args=[exam_unit.code]))
    assert exported["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(exported.content)).worksheets[0]
    header = [c.value for c in sheet[1]]
    assert header[:7] == HEADER and "Tài khoản định danh điện tử VNeID mức 2" in header
    other = org_tree.departments[1]
    outcome = services.import_roster(unit=other, by=unit_reporter, stream=io.BytesIO(exported.content))
    assert (outcome.created, outcome.problems) == (2, [])
    template = client.get(reverse("rollout:roster_template"))
    assert (
        template.status_code == 200
        and 'filename="mau-danh-sach-can-bo.xlsx"' in template["Content-Disposition"]
    )
