"""Tải PDF: a real A4 PDF of the visit with Vietnamese fonts embedded, made on request and logged as a read."""

import datetime as dt
import re

import pytest
from django.urls import reverse

from soskdt.healthbook import reads
from soskdt.healthbook.models import AccessLog
from soskdt.healthbook.tests import pdftext
from soskdt.healthbook.tests.conftest import (
    CTX,
    activate,
    add_rich_visit,
    always,
    api_headers,
    sync,
    unlock_page,
)


@pytest.fixture
def visit(citizen):
    found = add_rich_visit(citizen.citizen, admitted_at=dt.datetime(2025, 5, 4, 7, 45))
    activate(citizen)
    sync(citizen)
    return found


@pytest.fixture
def pdf(citizen, visit):
    return reads.visit_pdf(
        viewer=citizen, who=citizen.citizen_id, visit_id=visit.pk, gate=always, context=CTX
    )


def test_the_pdf_is_a4_with_dejavu_sans_embedded(pdf):
    data = pdf.content
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    assert re.search(rb"/MediaBox\s*\[0 0 595\.28 841\.89\]", data)  # A4 in points
    fonts = set(re.findall(rb"/BaseFont\s*/[A-Z]{6}\+(DejaVuSans[-\w]*)", data))
    assert fonts == {b"DejaVuSansBook", b"DejaVuSansBold"}
    parsed = pdftext.parse(data)
    descriptors = [
        body for body in parsed.objects.values() if b"/FontDescriptor" in body and b"/FontName" in body
    ]
    assert descriptors and all(b"/FontFile2" in body for body in descriptors)
    assert all(b"/ToUnicode" in body for body in parsed.objects.values() if b"/Type0" in body)


def test_the_pdf_text_is_extractable_vietnamese_with_every_part(citizen, pdf):
    pages = pdftext.page_texts(pdf.content)
    text = "\n".join(pages)
    for expected in (
        "CHI TIẾT ĐỢT KHÁM CHỮA BỆNH",
        "Bệnh viện 79048 (79048)",
        "THÔNG TIN HÀNH CHÍNH",
        citizen.citizen.full_name,
        citizen.citizen.personal_id,
        "CHẨN ĐOÁN XÁC ĐỊNH KHI RA VIỆN",
        "J15.9",
        "Viêm phổi do vi khuẩn",
        "Bệnh chính",
        "Amoxicilin 250mg",
        "Uống",
        "XÉT NGHIỆM",
        "Số lượng bạch cầu",
        "12.5",
        "Cao",
        "Thấp",
        "Viêm phổi thùy dưới phải",
        "Phẫu thuật nội soi cắt ruột thừa",
        "TÓM TẮT HỒ SƠ BỆNH ÁN",
        "Sốt 5 ngày, ho đờm",
        "GIẤY RA VIỆN",
        "GIẤY CHUYỂN TUYẾN",
        "GIẤY HẸN KHÁM LẠI",
    ):
        assert expected in text, expected
    # Every page has the footer with the generation time and "page n of N".
    for number, page in enumerate(pages, 1):
        # fpdf2 writes the total page count ("{nb}") as a string of its own.
        assert f"Trang {number}/{len(pages)}" in page.replace("\n", "")
        assert re.search(r"Tạo lúc \d\d/\d\d/\d{4} \d\d:\d\d", page)


def test_the_pdf_has_a_name_for_the_download(visit, pdf):
    assert pdf.filename == f"so-suc-khoe-20250504-79048-{visit.pk}.pdf"


def test_each_download_is_made_now_and_logged_as_a_read(citizen, visit, pdf):
    rows = AccessLog.objects.filter(owner=citizen.citizen, action="visit.pdf")
    assert [(r.target, r.outcome) for r in rows] == [(f"visit:{visit.pk}", "success")]


def test_the_page_downloads_the_pdf(client, citizen, visit):
    unlock_page(client, citizen)
    response = client.get(reverse("healthbook:visit_pdf", args=[citizen.username, visit.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment; filename=")
    assert response.content.startswith(b"%PDF-")


def test_the_api_downloads_the_pdf(client, citizen, visit, bearer):
    headers = api_headers(client, citizen, bearer)
    response = client.get(f"/api/v1/me/book/visits/{visit.pk}/pdf", **headers)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert "Số lượng bạch cầu" in "\n".join(pdftext.page_texts(response.content))
