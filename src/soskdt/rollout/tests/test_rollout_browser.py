"""The December campaign walked in chromium on the demo data: a unit reporter, then the centre's officer."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from soskdt.browser_testing import log_out
from soskdt.demo import selectors as demo
from soskdt.demo.builders import build_demo
from soskdt.testing import DEFAULT_PASSWORD

pytestmark = pytest.mark.browser

DEMO_PASSWORD = "Demo@2024"  # noqa: S105 - the published demo password


def staff_log_in(page: Page, base_url: str, username: str, password: str = DEFAULT_PASSWORD) -> None:
    page.goto(base_url + reverse("identity:staff_login"))
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.click("main form button[type=submit]")


def test_a_reporter_updates_statuses_and_submits_and_the_centre_follows_up(
    live_server, transactional_db, page, shoot
):
    build_demo(today=timezone.localdate(), citizens=150)
    staff_log_in(page, live_server.url, demo.persona("unit_reporter"), DEMO_PASSWORD)
    page.goto(live_server.url + reverse("rollout:home"))
    expect(page.get_by_role("heading", name="Khoa Nội tổng hợp")).to_be_visible()
    shoot(page, "danh-sach-can-bo")

    page.get_by_role("link", name="Chưa tích hợp BHYT").click()
    expect(page.get_by_role("link", name="Chưa tích hợp BHYT")).to_have_attribute("aria-current", "true")
    edit = page.locator("button.edit[aria-label^='Cập nhật Thẻ BHYT']").first
    if edit.count():
        edit.click()
        expect(page.locator("form.quick")).to_be_visible()
        shoot(page, "sua-nhanh-trang-thai")
        page.locator("form.quick select[name=reason_code]").select_option("WRONG_ISSUER")
        page.locator("form.quick input[name=done][value='0']").check()
        page.locator("form.quick button[type=submit]").first.click()
        expect(page.locator("form.quick")).to_have_count(0)
        shoot(page, "da-luu-trang-thai")

    page.goto(
        live_server.url
        + reverse("rollout:report", args=["ANPHU-NOI", timezone.localdate().strftime("%Y-%m")])
    )
    expect(page.get_by_text("Khoa/phòng tại đơn vị")).to_be_visible()
    shoot(page, "bao-cao-thang")

    page.goto(live_server.url + reverse("rollout:reception"))
    page.get_by_role("button", name="Đã tích hợp thẻ BHYT").click()
    expect(page.get_by_role("button", name="Hoàn tác")).to_be_visible()
    shoot(page, "tiep-don-3-cham")

    log_out(page)
    staff_log_in(page, live_server.url, demo.persona("centre_admin"), DEMO_PASSWORD)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(live_server.url + reverse("rollout:dashboard"))
    expect(page.get_by_text("Tính đầy đủ và đúng hạn của báo cáo")).to_be_visible()
    expect(page.locator("figure.chart svg")).to_have_count(2)
    shoot(page, "tong-hop-trung-tam")
    page.goto(
        live_server.url + reverse("rollout:consolidated", args=[timezone.localdate().strftime("%Y-%m")])
    )
    expect(page.get_by_text("THỦ TRƯỞNG ĐƠN VỊ")).to_be_visible()
    shoot(page, "phu-luc-1-tong-hop")
