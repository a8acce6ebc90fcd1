"""The PDF of Appendix 1: rendered to PNG (pdftoppm), every page has ink; its text is extractable Vietnamese."""

from __future__ import annotations

import json
import re
import subprocess

import pytest
from PIL import Image

from soskdt.rollout.exports import letterhead_for, render
from soskdt.rollout.report import Appendix1
from soskdt.rollout.tests.export_data import (
    ExportCase,
    make_export_case,
    need_poppler,
    pdf_pages,
    pdf_text,
    pdf_to_pngs,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(org_tree, unit_reporter) -> ExportCase:
    return make_export_case(org_tree, unit_reporter)


def as_pdf(appendix: Appendix1) -> bytes:
    return render(appendix, "pdf", letterhead_for(appendix))


def ink(path) -> float:
    """The share of a page's pixels that are not (nearly) white."""
    image = Image.open(path).convert("L")
    histogram = image.histogram()
    return 1 - sum(histogram[245:]) / (image.width * image.height)


@pytest.mark.parametrize("scope", ["unit", "consolidated"])
def test_every_page_renders_with_ink_on_a4_landscape(case, tmp_path, scope):
    appendix = case.unit_report() if scope == "unit" else case.consolidated()
    data = as_pdf(appendix)
    assert data.startswith(b"%PDF-")
    pages = pdf_to_pngs(data, tmp_path)
    assert len(pages) == pdf_pages(data, tmp_path) >= 1
    assert len(pages) <= 4  # a handful of rows: the form, the sections and the signature fit in a few pages
    for page in pages:
        with Image.open(page) as image:
            assert image.width > image.height  # landscape
        assert ink(page) > 0.005, page.name


def test_text_is_extractable_vietnamese_with_the_tables_values(case, tmp_path):
    appendix = case.unit_report()
    data = json.loads(render(appendix, "json"))
    text = pdf_text(as_pdf(appendix), tmp_path)
    flat = " ".join(text.split())
    for expected in (
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "KHOA KHÁM BỆNH",
        "BÁO CÁO",
        "Kết quả triển khai thực hiện sổ sức khỏe điện tử trên ứng dụng VNeID tháng 01/2025",
        "I. Kết quả thực hiện",
        "II. Khó khăn, vướng mắc",
        "III. Đề xuất, kiến nghị",
        "THỦ TRƯỞNG ĐƠN VỊ",
        "(Ký tên và đóng dấu)",
        "Nơi nhận:",
    ):
        assert expected in flat, expected
    assert "Khoa Khám bệnh" in flat and "Long Bình" in flat
    assert "Tổng cộng" in flat
    totals = data["totals"]
    for key in ("total_staff", "level2_done", "card_linked"):
        assert f" {totals[key]} " in f" {flat} "


def test_consolidated_pdf_is_signed_by_the_director_with_dejavu_serif_embedded(case, tmp_path):
    data = as_pdf(case.consolidated())
    flat = " ".join(pdf_text(data, tmp_path).split())
    assert "GIÁM ĐỐC" in flat and "THỦ TRƯỞNG ĐƠN VỊ" not in flat
    assert "Chưa báo cáo" in flat and "Trạm Y tế xã" in flat
    tool = need_poppler("pdffonts")
    source = tmp_path / "fonts.pdf"
    source.write_bytes(data)
    fonts = subprocess.run([tool, str(source)], check=True, capture_output=True, text=True).stdout  # noqa: S603
    embedded = [line for line in fonts.splitlines() if "DejaVuSerif" in line]
    assert embedded and all(" yes " in line for line in embedded)


def test_pages_are_numbered_at_the_top_centre_from_page_two(case, tmp_path):
    data = as_pdf(case.consolidated())
    text = pdf_text(data, tmp_path)  # pdftotext separates pages with a form feed
    pages = [page for page in text.split("\f") if page.strip()]
    assert len(pages) == pdf_pages(data, tmp_path) >= 2
    first_lines = [page.strip().splitlines()[0].strip() for page in pages]
    # Nghị định 30/2020/NĐ-CP: no number on the first page; then the number is the page's first line, centred.
    assert first_lines[0] != "1" and "CỘNG HÒA" in pages[0].splitlines()[0] + pages[0]
    assert first_lines[1:] == [str(n) for n in range(2, len(pages) + 1)]
    assert not any(page.rstrip().splitlines()[-1].strip().isdigit() for page in pages)  # no footer number
    # Where the "2" sits: in the top margin (20 mm), centred between the side margins (30 and 15 mm).
    tool = need_poppler("pdftotext")
    source = tmp_path / "bbox.pdf"
    source.write_bytes(data)
    boxes = subprocess.run(  # noqa: S603
        [tool, "-f", "2", "-l", "2", "-bbox", str(source), "-"], check=True, capture_output=True, text=True
    ).stdout
    word = re.search(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">2</word>', boxes)
    assert word is not None
    x_min, y_min, x_max, y_max = (float(v) * 25.4 / 72 for v in word.groups())  # points → mm
    assert y_max < 20 and abs((x_min + x_max) / 2 - (30 + 297 - 15) / 2) < 3
