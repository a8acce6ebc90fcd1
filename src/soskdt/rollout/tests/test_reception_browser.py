"""The reception quick form on a 360 px phone, in chromium: reception staff tap, see the count, undo."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from soskdt import testing
from soskdt.identity.models import Role
from soskdt.rollout.models import ReceptionHelp

pytestmark = pytest.mark.browser

MIN_TAP_PX = 48  # WCAG 2.5.5 asks 44 CSS px; the desk's buttons are far bigger


def staff_log_in(page: Page, base_url: str, username: str) -> None:
    page.goto(base_url + reverse("identity:staff_login"))
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", testing.DEFAULT_PASSWORD)
    with page.expect_navigation():
        page.click("main form button[type=submit]")


def test_reception_staff_record_a_patient_in_one_tap_on_a_small_phone(
    live_server, transactional_db, page, shoot
):
    tree = testing.make_org_tree()
    user = testing.make_staff(full_name="Võ Thị Mai", org_unit=tree.departments[0], roles=[Role.RECEPTION])
    staff_log_in(page, live_server.url, user.username)
    page.get_by_role("link", name="Hướng dẫn người bệnh tại khu vực tiếp đón").click()
    expect(page.get_by_role("heading", name="Hướng dẫn người bệnh tại khu vực tiếp đón")).to_be_visible()
    shoot(page, "tiep-don-360px")

    assert page.evaluate("document.documentElement.scrollWidth") <= 360  # nothing to scroll sideways
    buttons = page.locator("form.tap button")
    expect(buttons).to_have_count(3)
    for index in range(3):
        box = buttons.nth(index).bounding_box()
        assert box is not None and box["height"] >= MIN_TAP_PX and box["width"] >= 300, box

    page.get_by_role("button", name="Đã tích hợp thẻ BHYT").tap()
    expect(page.get_by_text("Đã ghi nhận: Đã tích hợp thẻ BHYT.")).to_be_visible()
    expect(page.locator("form.tap button.linked_card")).to_contain_text("Hôm nay 1")
    undo = page.get_by_role("button", name="Hoàn tác")
    expect(undo).to_be_visible()
    box = undo.bounding_box()
    assert box is not None and box["height"] >= MIN_TAP_PX
    shoot(page, "da-ghi-nhan")
    assert ReceptionHelp.objects.filter(unit=tree.departments[0], undone_at__isnull=True).count() == 1

    undo.tap()
    expect(page.locator("form.tap button.linked_card")).to_contain_text("Hôm nay 0")
    shoot(page, "da-hoan-tac")
    assert ReceptionHelp.objects.filter(undone_at__isnull=True).count() == 0
