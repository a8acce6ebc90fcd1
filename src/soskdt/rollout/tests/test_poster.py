"""The Appendix 2 poster: one A4 or A3 page with the unit's name, the letter's guide verbatim, and a QR code.

No QR decoder is a dependency, so the QR check reads the image embedded in the PDF back (pdfimages), samples
one pixel per module and compares the matrix with the one segno makes for the URL: the same modules can only
encode the same text.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import segno
from django.core.management import call_command
from PIL import Image

from soskdt.rollout.exports import unit_poster
from soskdt.rollout.exports.poster import CARD_STEPS, LEGAL, TITLE, render_poster
from soskdt.rollout.tests.export_data import need_poppler, pdf_pages, pdf_text, pdf_to_pngs

URL = "https://soskdt.angiang.gov.vn/"


def poster_size_pt(pdf: bytes, folder: Path) -> tuple[float, float]:
    tool = need_poppler("pdfinfo")
    source = folder / "size.pdf"
    source.write_bytes(pdf)
    info = subprocess.run([tool, str(source)], check=True, capture_output=True, text=True).stdout  # noqa: S603
    line = next(line for line in info.splitlines() if line.startswith("Page size:"))
    width, _x, height = line.split()[2:5]
    return float(width), float(height)


def embedded_qr_matrix(pdf: bytes, folder: Path, modules: int) -> list[list[bool]]:
    """The QR image stored in ``pdf``, sampled at each module's centre (True = dark)."""
    tool = need_poppler("pdfimages")
    source = folder / "qr.pdf"
    source.write_bytes(pdf)
    subprocess.run([tool, "-png", str(source), str(folder / "img")], check=True)  # noqa: S603
    images = sorted(folder.glob("img-*.png"))
    assert len(images) == 1, images
    image = Image.open(images[0]).convert("L")
    assert image.width == image.height
    border = 4
    step = image.width / (modules + 2 * border)
    return [
        [
            image.getpixel((int((border + x + 0.5) * step), int((border + y + 0.5) * step))) < 128
            for x in range(modules)
        ]
        for y in range(modules)
    ]


@pytest.mark.parametrize(("size", "points"), [("A4", (595.28, 841.89)), ("A3", (841.89, 1190.55))])
def test_poster_is_one_portrait_page_of_the_right_size_with_ink(tmp_path, size, points):
    data = render_poster("Khoa Khám bệnh", URL, size=size, superior="Trung tâm Y tế khu vực An Phú")
    assert pdf_pages(data, tmp_path) == 1
    width, height = poster_size_pt(data, tmp_path)
    assert (round(width), round(height)) == (round(points[0]), round(points[1]))
    (page,) = pdf_to_pngs(data, tmp_path, dpi=30)
    image = Image.open(page).convert("L")
    dark = sum(image.histogram()[:200]) / (image.width * image.height)
    assert 0.05 < dark < 0.6  # a real page of text, boxes and a QR code, not blank and not a black sheet


def test_poster_has_the_unit_name_and_the_letters_appendix_2_wording(tmp_path):
    data = render_poster("Trạm Y tế xã Khánh Bình", URL, superior="Trung tâm Y tế khu vực An Phú")
    flat = " ".join(pdf_text(data, tmp_path, mode="-raw").split())  # the three step columns one after another
    for expected in (
        "TRẠM Y TẾ XÃ KHÁNH BÌNH",
        "TRUNG TÂM Y TẾ KHU VỰC AN PHÚ",
        "ĐIỀU KIỆN CẦN THIẾT",
        "CÀI ĐẶT ỨNG DỤNG VNEID ĐÃ XÁC THỰC ĐỊNH DANH MỨC ĐỘ 2;",
        "TÍCH HỢP THÔNG TIN THẺ BHYT (NẾU CÓ)",
        "BƯỚC 1",
        "BƯỚC 2",
        "BƯỚC 3",
        "NHẬP PASSCODE",
        "Ra quyết định hỗ trợ chẩn đoán, điều trị.",
        "Hướng dẫn cách tích hợp đồng bộ thẻ Bảo hiểm y tế vào thẻ căn cước trên ứng dụng VNeID",
        "phiên bản 2.0.4 trở lên",
        "Chọn “Ví giấy tờ”. Sau đó chọn “Tích hợp thông tin”.",
        "Chọn “Tạo mới yêu cầu”.",
        '"Thẻ Bảo hiểm y tế"',
        "Nhập 10 kí tự cuối trên mã số thẻ BHYT",
        '"Gửi yêu cầu"',
        URL,
    ):
        assert expected in flat, expected
    assert " ".join(TITLE.split()) in flat
    assert "Quyết định số 2733/QĐ-BYT ngày 17/9/2024" in flat and LEGAL.startswith("(Theo Điều 6")
    for label, _text in CARD_STEPS:
        assert label in flat
    assert "✓" in flat


def test_the_qr_code_encodes_the_citizen_app_url(tmp_path):
    data = render_poster("Khoa Khám bệnh", URL)
    expected = segno.make(URL, error="m", micro=False)
    modules = expected.symbol_size(border=0)[0]
    wanted = [[bool(bit) for bit in row] for row in expected.matrix]
    assert embedded_qr_matrix(data, tmp_path, modules) == wanted
    other = segno.make("http://127.0.0.1:8000/", error="m", micro=False)
    assert [[bool(b) for b in row] for row in other.matrix] != wanted


@pytest.mark.django_db
def test_a_long_unit_name_still_fits_on_one_page(org_tree, tmp_path):
    unit = org_tree.station
    unit.name = (
        "Trạm Y tế xã Vĩnh Hậu thuộc Trung tâm Y tế khu vực An Phú, tỉnh An Giang (cơ sở 2, điểm Long Bình)"
    )
    data = unit_poster(unit, size="A4", url=URL)
    assert pdf_pages(data, tmp_path) == 1
    assert "VĨNH HẬU" in pdf_text(data, tmp_path)


@pytest.mark.django_db
def test_poster_command_uses_the_configured_public_url_and_rejects_an_unknown_unit(
    org_tree, tmp_path, settings
):
    settings.SOSKDT = {**settings.SOSKDT, "PUBLIC_URL": "https://sotay.example.vn/"}
    target = tmp_path / "ap-phich.pdf"
    call_command("poster", "--unit", org_tree.departments[0].code, "--size", "a3", "-o", str(target))
    data = target.read_bytes()
    assert poster_size_pt(data, tmp_path) == pytest.approx((841.89, 1190.55), abs=0.5)
    flat = " ".join(pdf_text(data, tmp_path).split())
    assert "https://sotay.example.vn/" in flat and "KHOA KHÁM BỆNH" in flat
    assert "Phụ lục 2 kèm theo Công văn số 310/TTYT-KHNV" in flat
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="Không tìm thấy đơn vị có mã “KHONG-CO”") as raised:
        call_command("poster", "--unit", "KHONG-CO", "-o", str(tmp_path / "x.pdf"))
    assert raised.value.returncode == 2
