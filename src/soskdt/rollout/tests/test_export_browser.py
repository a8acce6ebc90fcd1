"""In chromium: the centre's officer downloads the consolidated Word file from the dashboard, ready to sign."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from docx import Document
from playwright.sync_api import expect

from soskdt.rollout.tests.export_data import PERIOD, make_export_case
from soskdt.testing import DEFAULT_PASSWORD

pytestmark = pytest.mark.browser


def test_the_centre_officer_downloads_the_consolidated_word_file_and_the_poster(
    live_server, transactional_db, page, shoot, org_tree, unit_reporter, centre_admin, tmp_path
):
    make_export_case(org_tree, unit_reporter)
    page.goto(live_server.url + reverse("identity:staff_login"))
    page.fill("input[name=username]", centre_admin.username)
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    page.goto(live_server.url + reverse("rollout:dashboard") + f"?ky={PERIOD.key}")
    buttons = page.locator(".exports")
    expect(buttons.get_by_role("link", name="Tải Word")).to_be_visible()
    shoot(page, "tong-hop-nut-tai")

    with page.expect_download() as info:
        buttons.get_by_role("link", name="Tải Word").click()
    download = info.value
    assert download.suggested_filename == f"phu-luc-1-tong-hop-{org_tree.centre.code}-{PERIOD.key}.docx"
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    doc = Document(io.BytesIO(target.read_bytes()))
    text = "\n".join(cell.text for table in doc.tables for row in table.rows for cell in row.cells)
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in text and "GIÁM ĐỐC" in text

    poster = buttons.get_by_role("link", name="In áp phích")
    answer = page.request.get(live_server.url + poster.get_attribute("href"))
    assert answer.status == 200 and answer.headers["content-type"] == "application/pdf"
    assert answer.body().startswith(b"%PDF-")
