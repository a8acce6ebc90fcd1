"""Browser walk (Playwright + chromium, phone-sized): share → clinician types the code → reads → the citizen
sees the read in *Ai đã xem sổ của tôi* → revokes → the clinician's next request fails.

Screenshots: test-artifacts/screenshots/test_share_code_walk/.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import reverse

from soskdt import testing
from soskdt.browser_testing import DEFAULT_TIMEOUT_MS, PHONE_VIEWPORT, log_in
from soskdt.identity.models import User
from soskdt.sharing.tests.conftest import SharedBook

pytestmark = pytest.mark.browser


def _staff_log_in(page: Any, base: str, user: User) -> None:
    page.goto(base + reverse("identity:staff_login"))
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", testing.DEFAULT_PASSWORD)
    with page.expect_navigation():
        page.click("main form button[type=submit]")


def test_share_code_walk(
    live_server: Any,
    transactional_db: None,
    book: SharedBook,
    clinician: User,
    browser: Any,
    page: Any,
    shoot: Any,
) -> None:
    from playwright.sync_api import expect

    base = live_server.url
    # The citizen creates a share: chosen year 2025, visits + labs + drugs, 4 hours.
    log_in(page, base, book.owner.username)
    page.goto(base + reverse("identity:citizen_home"))
    expect(page.get_by_role("link", name=re.compile("Chia sẻ sổ"))).to_be_visible()
    shoot(page, "citizen-menu")
    page.get_by_role("link", name=re.compile("Chia sẻ sổ")).first.click()
    page.get_by_role("link", name="Tạo chia sẻ mới").click()
    expect(page.get_by_role("heading", name="Tạo chia sẻ mới")).to_be_visible()
    expect(page.locator("input[name=include_hiv]")).not_to_be_checked()
    page.get_by_label("Chọn năm và nhóm thông tin").check()
    page.locator("input[name=years][value='2025']").check()
    for category in ("imaging", "functional", "procedures"):
        page.locator(f"input[name=categories][value='{category}']").uncheck()
    shoot(page, "citizen-share-form")
    page.get_by_role("button", name="Tạo mã chia sẻ").click()
    expect(page.get_by_role("heading", name="Đưa mã này cho nhân viên y tế")).to_be_visible()
    expect(page.locator("svg.qr")).to_be_visible()
    code = page.locator("#share-code").inner_text().strip()
    assert re.fullmatch(r"[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}", code), code
    shoot(page, "citizen-share-code-qr")

    # The clinician, in another browser context, types the code.
    other = browser.new_context(
        viewport=PHONE_VIEWPORT,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="vi-VN",
        timezone_id="Asia/Ho_Chi_Minh",
    )
    other.set_default_timeout(DEFAULT_TIMEOUT_MS)
    doctor = other.new_page()
    try:
        _staff_log_in(doctor, base, clinician)
        doctor.goto(base + reverse("sharing:home"))
        expect(doctor.get_by_role("heading", name="Tra cứu sổ sức khỏe")).to_be_visible()
        doctor.fill("#code", code.lower().replace("-", " "))
        shoot(doctor, "clinician-enter-code")
        doctor.get_by_role("button", name="Mở sổ").click()
        expect(doctor.get_by_role("heading", name="Sổ sức khỏe của người bệnh")).to_be_visible()
        expect(doctor.locator(".patient-banner")).to_contain_text(book.citizen.full_name)
        expect(doctor.locator(".patient-banner")).to_contain_text("không gồm thông tin HIV")
        shoot(doctor, "clinician-patient-summary")
        book_url = doctor.url
        doctor.get_by_role("link", name=re.compile("^2025")).click()
        expect(doctor.get_by_role("heading", name="Năm 2025")).to_be_visible()
        expect(doctor.locator("ul.visits li")).to_have_count(1)  # the HIV visit is not shared
        shoot(doctor, "clinician-year")
        doctor.locator("a.visit-card").first.click()
        expect(doctor.get_by_role("heading", name="Chi tiết đợt khám")).to_be_visible()
        expect(doctor.locator("#prescription")).not_to_contain_text("Tenofovir")
        shoot(doctor, "clinician-visit-detail")

        # The citizen sees the read in Ai đã xem sổ của tôi.
        page.goto(base + reverse("identity:citizen_home"))
        page.get_by_role("link", name=re.compile("Ai đã xem sổ của tôi")).click()
        expect(page.get_by_role("heading", name="Ai đã xem sổ của tôi")).to_be_visible()
        expect(page.locator("#access-log")).to_contain_text(clinician.full_name)
        expect(page.locator("#access-log")).to_contain_text(clinician.facility.name)
        shoot(page, "citizen-access-log")
        page.goto(base + reverse("sharing:notices"))
        expect(page.locator(".notice").first).to_contain_text(clinician.full_name)
        shoot(page, "citizen-notices")

        # The citizen revokes (htmx, in place).
        page.goto(base + reverse("sharing:shares"))
        page.once("dialog", lambda dialog: dialog.accept())
        page.get_by_role("button", name="Thu hồi").click()
        expect(page.locator("#share-list")).to_contain_text("Đã thu hồi")
        shoot(page, "citizen-revoked")

        # The clinician's next request fails.
        response = doctor.goto(book_url)
        assert response is not None and response.status == 404
        shoot(doctor, "clinician-after-revoke-404")
    finally:
        other.close()


def test_emergency_access_walk(
    live_server: Any,
    transactional_db: None,
    book: SharedBook,
    clinician: User,
    auditor: User,
    browser: Any,
    page: Any,
    shoot: Any,
) -> None:
    from playwright.sync_api import expect

    base = live_server.url
    _staff_log_in(page, base, clinician)
    page.goto(base + reverse("sharing:home"))
    shoot(page, "clinician-home")
    page.get_by_role("link", name=re.compile("Truy cập khẩn cấp")).click()
    expect(page.get_by_role("heading", name="Truy cập khẩn cấp")).to_be_visible()
    page.fill("#personal_id", book.citizen.personal_id)
    page.get_by_label("Người bệnh bất tỉnh/không thể đồng ý").check()
    page.fill("#text", "Hôn mê sau tai nạn giao thông, không có người nhà")
    shoot(page, "clinician-emergency-form")
    page.get_by_role("button", name="Mở sổ khẩn cấp").click()
    expect(page.locator(".patient-banner.emergency")).to_be_visible()
    shoot(page, "clinician-emergency-book")
    page.context.clear_cookies()
    _staff_log_in(page, base, auditor)
    page.goto(base + reverse("sharing:emergency_review"))
    expect(page.get_by_text("Chưa rà soát")).to_be_visible()
    shoot(page, "auditor-review-queue")
    page.get_by_label("Hợp lý", exact=True).check()
    page.get_by_label("Nhận xét").fill("Đúng quy trình cấp cứu")
    page.get_by_role("button", name="Đã rà soát").click()
    expect(page.get_by_text("Đã ghi nhận kết quả rà soát.")).to_be_visible()
    shoot(page, "auditor-reviewed")
    page.context.clear_cookies()
    log_in(page, base, book.owner.username)
    page.goto(base + reverse("sharing:access_log"))
    expect(page.locator("#access-log tr.emergency").first).to_be_visible()
    shoot(page, "citizen-access-log-emergency")
