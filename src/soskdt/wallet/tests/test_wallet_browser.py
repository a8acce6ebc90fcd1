"""The letter's Appendix 2 walked in a phone-sized chromium: link the BHYT card, and a refusal explained."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from soskdt import testing
from soskdt.browser_testing import log_in, log_out
from soskdt.registry.models import InsuranceCard
from soskdt.wallet import services
from soskdt.wallet.models import CardLinkRequest, LinkStatus
from soskdt.wallet.tests.conftest import NEVER_RUN

pytestmark = pytest.mark.browser


def test_a_level2_citizen_links_their_card_and_a_mismatched_card_is_refused_with_its_reason(
    live_server, transactional_db, page, shoot, settings
):
    testing.make_facility(code="79048", name="Trung tâm Y tế khu vực An Phú")
    an = testing.make_citizen_account(full_name="Nguyễn Văn An", birth_year=1964, birth_month=3, birth_day=8)
    card = testing.make_card(
        citizen=an.citizen, group="HT", benefit_level=2, primary_care_facility_code="79048"
    )

    # Bước 1: Đăng nhập.
    log_in(page, live_server.url, an.username)
    page.goto(live_server.url + reverse("identity:citizen_home"))
    expect(page.get_by_role("heading", name="Nguyễn Văn An")).to_be_visible()
    shoot(page, "trang-chu")

    # Bước 3: "Ví giấy tờ", then "Tích hợp thông tin".
    page.get_by_role("link", name="Ví giấy tờ").click()
    expect(page.get_by_role("heading", name="Ví giấy tờ")).to_be_visible()
    expect(page.get_by_text("Chưa có giấy tờ nào được tích hợp.")).to_be_visible()
    shoot(page, "vi-giay-to-trong")
    page.get_by_role("link", name="Tích hợp thông tin").click()
    expect(page.get_by_role("heading", name="Tích hợp thông tin")).to_be_visible()
    shoot(page, "tich-hop-thong-tin")

    # Bước 4: "Tạo mới yêu cầu".
    page.get_by_role("link", name="Tạo mới yêu cầu").click()
    expect(page.get_by_role("heading", name="Nhập thông tin tích hợp")).to_be_visible()
    number = page.get_by_label("Số thẻ BHYT")
    expect(number).to_be_hidden()
    shoot(page, "nhap-thong-tin-tich-hop")

    # Bước 5: choose "Thẻ BHYT"; the card fields appear.
    page.get_by_label("Loại thông tin").select_option("BHYT")
    expect(number).to_be_visible()
    expect(number).to_have_attribute("placeholder", "Nhập 10 kí tự cuối trên mã số thẻ BHYT")
    expect(page.get_by_label("BHXH Việt Nam", exact=True)).to_be_checked()
    shoot(page, "chon-the-bhyt")

    # Bước 6: type the 10 digits, "Gửi yêu cầu".
    number.fill(card.social_insurance_number)
    shoot(page, "nhap-so-the")
    page.get_by_role("button", name="Gửi yêu cầu").click()
    expect(page.get_by_text("Tích hợp thẻ BHYT thành công")).to_be_visible()
    expect(page.get_by_text(card.code)).to_be_visible()
    shoot(page, "tich-hop-thanh-cong")

    page.get_by_role("link", name="Về Ví giấy tờ").click()
    wallet_card = page.locator(".bhyt-card")
    expect(wallet_card).to_contain_text(card.code)
    expect(wallet_card).to_contain_text("Trung tâm Y tế khu vực An Phú")
    expect(wallet_card).to_contain_text("79048")
    expect(wallet_card).to_contain_text(f"Từ {card.valid_from:%d/%m/%Y} đến {card.valid_to:%d/%m/%Y}")
    expect(wallet_card).to_contain_text("Còn giá trị sử dụng")
    shoot(page, "vi-giay-to-co-the")

    # A second citizen whose card has another birth date than the population register.
    log_out(page)
    binh = testing.make_citizen_account(full_name="Trần Thị Bình", sex="2", birth_year=1970)
    theirs = testing.make_card(citizen=binh.citizen, primary_care_facility_code="79048")
    InsuranceCard.objects.filter(pk=theirs.pk).update(birth_day=1)
    # The job stays queued so that the page shows the wait; the test then plays the worker.
    settings.TASKS = NEVER_RUN

    log_in(page, live_server.url, binh.username)
    page.goto(live_server.url + reverse("identity:citizen_home"))
    page.get_by_role("link", name="Ví giấy tờ").click()
    page.get_by_role("link", name="Tích hợp thông tin").click()
    page.get_by_role("link", name="Tạo mới yêu cầu").click()
    page.get_by_label("Loại thông tin").select_option("BHYT")
    page.get_by_label("Số thẻ BHYT").fill(theirs.social_insurance_number)
    page.get_by_role("button", name="Gửi yêu cầu").click()
    expect(page.get_by_text("Đang xác thực với cơ sở dữ liệu BHYT…")).to_be_visible()
    shoot(page, "dang-xac-thuc")

    request = CardLinkRequest.objects.get(account=binh)
    services.verify_link_request(request_id=request.pk)
    # htmx polls every 2 s and swaps the result in without a reload.
    expect(page.get_by_text("Yêu cầu không thành công")).to_be_visible()
    result = page.locator("#request-status")
    expect(result).to_contain_text("Họ tên, ngày sinh hoặc giới tính trên thẻ BHYT khác với dữ liệu dân cư")
    expect(result).to_contain_text("Thông tin ngày sinh trên thẻ BHYT khác với dữ liệu dân cư (CCCD).")
    expect(result).to_contain_text(
        "Liên hệ cơ quan BHXH nơi cấp thẻ để điều chỉnh thông tin cho khớp với CCCD."
    )
    shoot(page, "khong-thanh-cong")

    page.get_by_role("link", name="Về Ví giấy tờ").click()
    page.get_by_role("link", name="Tích hợp thông tin").click()
    expect(page.locator(".requests")).to_contain_text("Không thành công")
    shoot(page, "danh-sach-yeu-cau")
    assert CardLinkRequest.objects.get(account=binh).status == LinkStatus.REJECTED
