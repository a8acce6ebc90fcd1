"""Reading the book: years with visits, the year's visits newest first, Chi tiết đợt khám and its tabs."""

import datetime as dt

import pytest
from django.urls import reverse

from soskdt.core.errors import NotFound
from soskdt.healthbook import reads
from soskdt.healthbook.tests.conftest import (
    CTX,
    activate,
    add_rich_visit,
    add_visits,
    always,
    sync,
    unlock_page,
)


@pytest.fixture
def rich(citizen):
    visit = add_rich_visit(citizen.citizen, admitted_at=dt.datetime(2025, 5, 4, 7, 45))
    add_visits(citizen.citizen, dt.datetime(2025, 1, 6, 8, 0), dt.datetime(2023, 8, 9, 9, 0))
    activate(citizen)
    sync(citizen)
    return visit


def read(fn, user, **kwargs):
    return fn(viewer=user, who=user.citizen_id, gate=always, context=CTX, **kwargs)


def test_nam_offers_only_years_that_have_visits_newest_first(citizen, rich):
    home = read(reads.open_book, citizen)
    assert [(y.year, y.visits) for y in home.years] == [(2025, 2), (2023, 1)]


def test_the_year_lists_its_visits_newest_first_with_facility_dates_type_and_main_diagnosis(citizen, rich):
    page = read(reads.visits_for_year, citizen, year=2025).data.page
    assert [v.admitted_at.date() for v in page.items] == [dt.date(2025, 5, 4), dt.date(2025, 1, 6)]
    first = page.items[0]
    assert first.facility_name == "Bệnh viện 79048" and first.facility_code == "79048"
    assert first.discharged_at > first.admitted_at
    assert (first.visit_type, first.visit_type_label) == ("03", "Điều trị nội trú")
    assert (first.main_icd, first.main_diagnosis) == ("J15.9", "Viêm phổi do vi khuẩn")
    assert page.total == 2


def test_the_visit_list_is_paginated(citizen):
    add_visits(citizen.citizen, *[dt.datetime(2025, month, 3, 8, 0) for month in range(1, 6)])
    activate(citizen)
    sync(citizen)
    first = read(reads.visits_for_year, citizen, year=2025, page=1, page_size=2).data.page
    last = read(reads.visits_for_year, citizen, year=2025, page=3, page_size=2).data.page
    assert [v.admitted_at.month for v in first.items] == [5, 4]
    assert [v.admitted_at.month for v in last.items] == [1]
    assert (first.total, first.pages, first.has_next, last.has_next) == (5, 3, True, False)


def test_chi_tiet_dot_kham_has_every_section(citizen, rich):
    detail = read(reads.visit_detail, citizen, visit_id=rich.pk).data
    assert detail.visit.full_name == citizen.citizen.full_name  # administrative info as sent
    assert [(d.code, d.text, d.main) for d in detail.diagnoses] == [
        ("J15.9", "Viêm phổi do vi khuẩn", True),
        ("I10", "Tăng huyết áp", False),
        ("E11.9", "", False),
    ]
    assert [(d.name, d.strength, d.route_label) for d in detail.drugs] == [
        ("Amoxicilin 250mg", "250mg", "Uống"),
        ("Amoxicilin 500mg", "500mg", "Uống"),
    ]
    assert detail.drugs[0].dose == "1 viên/lần * 2 lần/ngày * 5 ngày" and detail.drugs[0].quantity == 2
    assert detail.record_summary.illness_course == "Sốt 5 ngày, ho đờm"
    assert detail.discharge_paper.archive_number == "LT-2025-0001"
    assert detail.referral.paper_number == "GCT-0042"
    assert detail.follow_up.slip_number == "HK-0001"
    assert detail.facility_name("79001") == "Bệnh viện 79001"
    assert detail.outcome_label == "Đỡ" and detail.discharge_type_label == "Ra viện"


def test_the_lab_tab_of_a_visit_has_values_units_and_flags(citizen, rich):
    content = read(reads.visit_tab, citizen, visit_id=rich.pk, tab_key="lab").data
    (group,) = content.groups
    results = {r.indicator_code: r for s in group.services for r in s.results}
    assert {code: (r.value, r.unit, r.flag) for code, r in results.items()} == {
        "WBC": ("12.5", "G/L", "high"),
        "HGB": ("118", "g/L", "low"),
        "GLU": ("5.2", "mmol/L", None),
        "CRE": ("150", "µmol/L", "high"),
    }
    assert results["GLU"].reference == "3,9 – 6,4"
    assert {s.name for s in group.services} == {
        "Tổng phân tích tế bào máu ngoại vi",
        "Định lượng Glucose [Máu]",
        "Định lượng Creatinin [Máu]",
    }


@pytest.mark.parametrize(
    ("tab", "name", "conclusion"),
    [
        ("imaging", "Chụp Xquang ngực thẳng", "Viêm phổi thùy dưới phải"),
        ("functional", "Điện tim thường", "Điện tâm đồ bình thường"),
    ],
)
def test_imaging_and_functional_tabs_show_description_and_conclusion(citizen, rich, tab, name, conclusion):
    (group,) = read(reads.visit_tab, citizen, visit_id=rich.pk, tab_key=tab).data.groups
    (service,) = group.services
    assert service.name == name
    (result,) = service.results
    assert result.description and result.conclusion == conclusion


def test_the_drugs_and_procedures_tabs(citizen, rich):
    (drugs,) = read(reads.visit_tab, citizen, visit_id=rich.pk, tab_key="drugs").data.groups
    assert [d.name for d in drugs.drugs] == ["Amoxicilin 250mg", "Amoxicilin 500mg"]
    (procedures,) = read(reads.visit_tab, citizen, visit_id=rich.pk, tab_key="procedures").data.groups
    assert [(s.name, s.category) for s in procedures.services] == [
        ("Phẫu thuật nội soi cắt ruột thừa", "surgery"),
        ("Thay băng vết mổ", "procedure"),
    ]
    assert procedures.services[0].anaesthesia_label == "Gây mê"


def test_a_tab_across_the_year_groups_lines_by_visit_newest_first(citizen, rich):
    content = read(reads.year_tab, citizen, year=2025, tab_key="drugs").data
    assert [g.visit.admitted_at.date() for g in content.groups] == [dt.date(2025, 5, 4), dt.date(2025, 1, 6)]
    assert [len(g.drugs) for g in content.groups] == [2, 3]
    imaging = read(reads.year_tab, citizen, year=2025, tab_key="imaging").data
    assert [g.visit.id for g in imaging.groups] == [rich.pk, content.groups[1].visit.id]
    procedures = read(reads.year_tab, citizen, year=2025, tab_key="procedures").data
    # Only visits with such lines are listed.
    assert [g.visit.id for g in procedures.groups] == [rich.pk]
    assert procedures.page.total == 1


def test_a_visit_not_yet_synced_or_of_someone_else_is_not_found(citizen, other_citizen, rich):
    (later,) = add_visits(citizen.citizen, dt.datetime(2025, 9, 9, 9, 0))
    (theirs,) = add_visits(other_citizen.citizen, dt.datetime(2025, 9, 9, 9, 0))
    for visit_id in (later.pk, theirs.pk, 10**9):
        with pytest.raises(NotFound):
            read(reads.visit_detail, citizen, visit_id=visit_id)
        with pytest.raises(NotFound):
            read(reads.visit_tab, citizen, visit_id=visit_id, tab_key="lab")


def test_an_unknown_tab_is_not_found(citizen, rich):
    with pytest.raises(NotFound):
        read(reads.visit_tab, citizen, visit_id=rich.pk, tab_key="billing")


# --- the pages ----------------------------------------------------------------------------------------------


@pytest.fixture
def signed_in(client, citizen, rich):
    unlock_page(client, citizen)
    return client


def test_the_book_page_offers_cap_nhat_du_lieu_and_the_years(signed_in, citizen):
    html = signed_in.get(reverse("healthbook:book", args=[citizen.username])).content.decode()
    assert "Cập nhật dữ liệu" in html and "Năm" in html
    assert reverse("healthbook:year", args=[citizen.username, 2025]) in html
    assert reverse("healthbook:year", args=[citizen.username, 2023]) in html
    assert reverse("healthbook:year", args=[citizen.username, 2024]) not in html


def test_the_year_page_lists_visits_with_their_details(signed_in, citizen, rich):
    html = signed_in.get(reverse("healthbook:year", args=[citizen.username, 2025])).content.decode()
    assert html.index("04/05/2025") < html.index("06/01/2025")
    for text in ("Bệnh viện 79048", "Điều trị nội trú", "J15.9", "Viêm phổi do vi khuẩn"):
        assert text in html
    assert reverse("healthbook:visit", args=[citizen.username, rich.pk]) in html
    for label in (
        "Xét nghiệm",
        "Chẩn đoán hình ảnh",
        "Thăm dò chức năng",
        "Thuốc đã điều trị",
        "Phẫu thuật, thủ thuật",
    ):
        assert label in html


def test_the_visit_page_shows_every_section_and_tai_pdf(signed_in, citizen, rich):
    html = signed_in.get(reverse("healthbook:visit", args=[citizen.username, rich.pk])).content.decode()
    for text in (
        "Chi tiết đợt khám",
        "Thông tin hành chính",
        "Đợt khám, chữa bệnh",
        "Chẩn đoán xác định khi ra viện",
        "Đơn thuốc",
        "Tóm tắt hồ sơ bệnh án",
        "Giấy ra viện",
        "Giấy chuyển tuyến",
        "Giấy hẹn khám lại",
        "Tải PDF",
        "J15.9",
        "Tăng huyết áp",
        "Amoxicilin 250mg",
        "1 viên/lần * 2 lần/ngày * 5 ngày",
        "Uống",
        "Sốt 5 ngày, ho đờm",
        "LT-2025-0001",
        "GCT-0042",
        "Bệnh viện 79001 (79001)",
        "Vượt quá khả năng đáp ứng của cơ sở",
        "HK-0001",
        citizen.citizen.full_name,
    ):
        assert text in html, text
    assert reverse("healthbook:visit_pdf", args=[citizen.username, rich.pk]) in html


def test_the_lab_tab_page_flags_out_of_range_values(signed_in, citizen, rich):
    html = signed_in.get(
        reverse("healthbook:visit_tab", args=[citizen.username, rich.pk, "xet-nghiem"])
    ).content.decode()
    assert "12.5" in html and "G/L" in html
    assert html.count("flag-high") == 2 and html.count("flag-low") == 1
    assert "↑ Cao" in html and "↓ Thấp" in html
    assert "Tham chiếu: 3,9 – 6,4" in html


def test_the_year_tab_pages_show_each_tab(signed_in, citizen, rich):
    for slug, text in (
        ("xet-nghiem", "Số lượng bạch cầu"),
        ("chan-doan-hinh-anh", "Viêm phổi thùy dưới phải"),
        ("tham-do-chuc-nang", "Điện tâm đồ bình thường"),
        ("thuoc-da-dieu-tri", "Amoxicilin 750mg"),
        ("phau-thuat-thu-thuat", "Phẫu thuật nội soi cắt ruột thừa"),
    ):
        response = signed_in.get(reverse("healthbook:year_tab", args=[citizen.username, 2025, slug]))
        assert response.status_code == 200
        assert text in response.content.decode(), slug
