"""The wallet pages walk the letter's Appendix 2 with its labels, server-rendered, with htmx polling."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from soskdt import testing
from soskdt.registry.models import InsuranceCard
from soskdt.wallet import services
from soskdt.wallet.models import CardLinkRequest, LinkStatus


@pytest.fixture
def signed_in(client, citizen):
    client.force_login(citizen)
    return client


def post_request(client, value, *, issuer="BHXH_VN", document_type="BHYT", **headers):
    return client.post(
        reverse("wallet:new_request"),
        {"document_type": document_type, "issuer": issuer, "value": value},
        **headers,
    )


def test_the_citizen_home_menu_opens_the_wallet(signed_in):
    html = signed_in.get(reverse("identity:citizen_home")).content.decode()
    assert f'href="{reverse("wallet:home")}"' in html
    assert reverse("wallet:home") == "/vi-giay-to/"


def test_an_empty_wallet_says_so_and_offers_tich_hop_thong_tin(signed_in):
    html = signed_in.get(reverse("wallet:home")).content.decode()
    assert "Ví giấy tờ" in html
    assert "Chưa có giấy tờ nào được tích hợp." in html
    assert "Tích hợp thông tin" in html
    assert reverse("wallet:integrations") in html


def test_the_wallet_shows_the_linked_card_with_facility_and_validity(signed_in, citizen, on_commit):
    testing.make_facility(code="79048", name="Trung tâm Y tế khu vực An Phú")
    card = testing.make_card(
        citizen=citizen.citizen, group="HC", benefit_level=2, primary_care_facility_code="79048"
    )
    InsuranceCard.objects.exclude(pk=card.pk).delete()
    with on_commit():
        post_request(signed_in, card.social_insurance_number)
    html = signed_in.get(reverse("wallet:home")).content.decode()
    for text in (
        card.code,
        card.social_insurance_number,
        "Mã đối tượng",
        "HC",
        "Mức hưởng",
        "Trung tâm Y tế khu vực An Phú",
        "79048",
        f"Từ {card.valid_from:%d/%m/%Y} đến {card.valid_to:%d/%m/%Y}",
        "Còn giá trị sử dụng",
        "Thẻ bảo hiểm y tế",
    ):
        assert text in html, text
    assert "Chưa có giấy tờ nào được tích hợp." not in html


def test_tich_hop_thong_tin_lists_the_requests_with_status_badges_and_tao_moi_yeu_cau(
    signed_in, citizen, on_commit
):
    with on_commit():
        post_request(signed_in, "7999999999")
    html = signed_in.get(reverse("wallet:integrations")).content.decode()
    assert "Tạo mới yêu cầu" in html
    assert reverse("wallet:new_request") in html
    assert "7999999999" in html
    assert 'class="badge status-badge bad"' in html
    assert "Không thành công" in html


def test_the_form_has_the_letters_fields_options_and_placeholder(signed_in):
    html = signed_in.get(reverse("wallet:new_request")).content.decode()
    for text in (
        "Nhập thông tin tích hợp",
        "Loại thông tin",
        "Chọn loại thông tin",
        "Giấy phép lái xe",
        "Thẻ BHYT",
        "Cơ quan cấp",
        "BHXH Việt Nam",
        "BHXH Công an nhân dân",
        "Số thẻ BHYT",
        'placeholder="Nhập 10 kí tự cuối trên mã số thẻ BHYT"',
        "Gửi yêu cầu",
    ):
        assert text in html, text
    assert '<option value="GPLX" disabled>' in html
    assert '<option value="" selected disabled>' in html


def test_sending_a_valid_number_redirects_to_the_request_which_shows_the_linked_card(
    signed_in, citizen, citizen_card, on_commit
):
    with on_commit():
        response = post_request(signed_in, citizen_card.social_insurance_number)
    request = CardLinkRequest.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("wallet:request_detail", args=[request.pk])
    html = signed_in.get(response.url).content.decode()
    assert "Tích hợp thẻ BHYT thành công" in html
    assert citizen_card.code in html
    assert "hx-trigger" not in html


def test_a_rejected_request_shows_the_reason_and_what_to_do(signed_in, citizen, citizen_card, on_commit):
    InsuranceCard.objects.filter(pk=citizen_card.pk).update(birth_day=1)
    with on_commit():
        response = post_request(signed_in, citizen_card.social_insurance_number)
    html = signed_in.get(response.url).content.decode()
    assert "Yêu cầu không thành công" in html
    assert "Họ tên, ngày sinh hoặc giới tính trên thẻ BHYT khác với dữ liệu dân cư" in html
    assert "Thông tin ngày sinh trên thẻ BHYT khác với dữ liệu dân cư (CCCD)." in html
    assert "Liên hệ cơ quan BHXH nơi cấp thẻ để điều chỉnh thông tin cho khớp với CCCD" in html
    assert 'data-code="PERSONAL_DATA_MISMATCH"' in html


def test_a_pending_request_shows_the_spinner_and_polls_every_2_seconds(
    signed_in, citizen_card, queue_never_runs, on_commit
):
    with on_commit():
        response = post_request(signed_in, citizen_card.social_insurance_number)
    html = signed_in.get(response.url).content.decode()
    assert "Đang xác thực với cơ sở dữ liệu BHYT…" in html
    assert 'hx-trigger="every 2s"' in html
    wallet_html = signed_in.get(reverse("wallet:home")).content.decode()
    assert "đang được xác thực" in wallet_html


def test_the_htmx_poll_gets_only_the_status_and_stops_once_decided(
    signed_in, citizen_card, queue_never_runs, on_commit
):
    with on_commit():
        post_request(signed_in, citizen_card.social_insurance_number)
    request = CardLinkRequest.objects.get()
    url = reverse("wallet:request_detail", args=[request.pk])
    pending = signed_in.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert pending.lstrip().startswith('<section id="request-status"')
    assert "<html" not in pending and 'hx-trigger="every 2s"' in pending
    services.verify_link_request(request_id=request.pk)
    decided = signed_in.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "Tích hợp thẻ BHYT thành công" in decided
    assert "hx-trigger" not in decided


def test_an_app_older_than_2_0_4_is_told_to_update_before_typing(signed_in):
    response = signed_in.get(reverse("wallet:new_request"), HTTP_X_APP_VERSION="2.0.3")
    html = response.content.decode()
    assert "Vui lòng cập nhật ứng dụng lên phiên bản 2.0.4 trở lên" in html
    assert "Gửi yêu cầu" not in html


def test_an_app_older_than_2_0_4_cannot_post_either(signed_in, citizen_card):
    response = post_request(signed_in, citizen_card.social_insurance_number, HTTP_X_APP_VERSION="2.0.3")
    assert response.status_code == 400
    assert "Vui lòng cập nhật ứng dụng lên phiên bản 2.0.4 trở lên" in response.content.decode()
    assert not CardLinkRequest.objects.exists()


def test_the_app_at_2_0_4_may_post(signed_in, citizen_card, on_commit):
    with on_commit():
        response = post_request(signed_in, citizen_card.social_insurance_number, HTTP_X_APP_VERSION="2.0.4")
    assert response.status_code == 302
    assert CardLinkRequest.objects.get().app_version == "2.0.4"


def test_the_web_page_sends_the_web_client_version(signed_in, citizen_card, settings, on_commit):
    with on_commit():
        post_request(signed_in, citizen_card.social_insurance_number)
    assert CardLinkRequest.objects.get().app_version == settings.SOSKDT["WEB_CLIENT_VERSION"]


def test_a_level1_citizen_is_told_to_register_level_2_at_the_police(client, level1_citizen):
    client.force_login(level1_citizen)
    html = client.get(reverse("wallet:new_request")).content.decode()
    assert "định danh mức 2" in html and "Công an xã/phường" in html
    assert "Gửi yêu cầu" not in html
    assert post_request(client, "7900001234").status_code == 403


def test_a_wrong_number_is_shown_on_the_number_field(signed_in):
    response = post_request(signed_in, "12345")
    assert response.status_code == 422
    html = response.content.decode()
    assert "Nhập 10 kí tự cuối trên mã số thẻ BHYT" in html
    assert 'value="12345"' in html
    assert not CardLinkRequest.objects.exists()


def test_choosing_the_driving_licence_or_nothing_is_refused(signed_in):
    assert (
        "Giấy phép lái xe sắp có"
        in post_request(signed_in, "7900001234", document_type="GPLX").content.decode()
    )
    assert "Chọn loại thông tin." in post_request(signed_in, "7900001234", document_type="").content.decode()
    assert not CardLinkRequest.objects.exists()


def test_a_second_request_while_one_is_pending_points_to_the_pending_one(
    signed_in, citizen_card, queue_never_runs, on_commit
):
    with on_commit():
        post_request(signed_in, citizen_card.social_insurance_number)
    pending = CardLinkRequest.objects.get()
    html = signed_in.get(reverse("wallet:new_request")).content.decode()
    assert "đang có một yêu cầu tích hợp thẻ BHYT chờ xác thực" in html
    assert reverse("wallet:request_detail", args=[pending.pk]) in html
    assert post_request(signed_in, citizen_card.social_insurance_number).status_code == 409


def test_an_expired_linked_card_is_flagged_in_the_wallet(signed_in, citizen, citizen_card, on_commit):
    with on_commit():
        post_request(signed_in, citizen_card.social_insurance_number)
    today = timezone.localdate()
    InsuranceCard.objects.filter(pk=citizen_card.pk).update(
        valid_from=today - dt.timedelta(days=30), valid_to=today - dt.timedelta(days=1)
    )
    assert "Không có giá trị sử dụng hôm nay" in signed_in.get(reverse("wallet:home")).content.decode()


def test_the_request_list_is_paginated(signed_in, citizen):
    for n in range(23):
        CardLinkRequest.objects.create(
            account=citizen,
            citizen=citizen.citizen,
            typed_value=f"79{n:08d}",
            social_insurance_number=f"79{n:08d}",
            issuer="BHXH_VN",
            status=LinkStatus.REJECTED,
            reason_code="WRONG_NUMBER",
            rejection_code="CARD_NOT_FOUND",
            decided_at=timezone.now(),
        )
    first = signed_in.get(reverse("wallet:integrations")).content.decode()
    second = signed_in.get(reverse("wallet:integrations") + "?trang=2").content.decode()
    assert first.count('class="badge status-badge') == 20
    assert second.count('class="badge status-badge') == 3
    assert "Trang 2/2" in second
