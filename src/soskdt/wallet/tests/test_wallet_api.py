"""The wallet API for the citizen app: /api/v1/me/wallet/."""

import pytest
from django.utils import timezone

from soskdt import testing
from soskdt.registry.models import InsuranceCard
from soskdt.wallet import services
from soskdt.wallet.models import CardLinkRequest, LinkStatus

API = "/api/v1/me/wallet/"


def post(client, headers, value, issuer="BHXH_VN", **extra):
    return client.post(
        f"{API}requests",
        {"type": "BHYT", "value": value, "issuer": issuer, **extra},
        content_type="application/json",
        **headers,
    )


def test_an_empty_wallet_has_no_card(client, citizen, bearer):
    response = client.get(API, **bearer(citizen))
    assert response.status_code == 200
    assert response.json() == {"linked_card": None, "pending_request_id": None}


def test_posting_a_request_answers_202_with_the_pending_request(
    client, citizen, citizen_card, bearer, queue_never_runs, on_commit
):
    with on_commit():
        response = post(client, bearer(citizen, "2.0.4"), citizen_card.social_insurance_number)
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "pending"
    assert body["type"] == "BHYT"
    assert body["value"] == citizen_card.social_insurance_number
    assert body["app_version"] == "2.0.4"
    assert body["rejection"] is None and body["card"] is None and body["decided_at"] is None
    assert client.get(API, **bearer(citizen)).json()["pending_request_id"] == body["id"]


def test_once_verified_the_request_and_the_wallet_show_the_card(
    client, citizen, citizen_card, bearer, on_commit
):
    testing.make_facility(code=citizen_card.primary_care_facility_code, name="Trạm Y tế xã An Phú")
    with on_commit():
        created = post(client, bearer(citizen), citizen_card.social_insurance_number).json()
    body = client.get(f"{API}requests/{created['id']}", **bearer(citizen)).json()
    assert body["status"] == "approved"
    assert body["card"]["code"] == citizen_card.code
    wallet = client.get(API, **bearer(citizen)).json()
    card = wallet["linked_card"]
    assert card["code"] == citizen_card.code
    assert card["group"] == citizen_card.group
    assert card["benefit_level"] == citizen_card.benefit_level
    assert card["primary_care_facility"] == {
        "code": citizen_card.primary_care_facility_code,
        "name": "Trạm Y tế xã An Phú",
    }
    assert card["valid_from"] == citizen_card.valid_from.isoformat()
    assert card["valid_to"] == citizen_card.valid_to.isoformat()
    assert card["valid_today"] is True
    assert card["birth_date"] == citizen.citizen.birth_date.isoformat()
    assert wallet["pending_request_id"] is None


def test_a_rejection_carries_code_reason_message_and_advice(client, citizen, citizen_card, bearer, on_commit):
    InsuranceCard.objects.filter(pk=citizen_card.pk).update(full_name="Trần Thị Mai", birth_year=1990)
    with on_commit():
        created = post(client, bearer(citizen), citizen_card.social_insurance_number).json()
    rejection = client.get(f"{API}requests/{created['id']}", **bearer(citizen)).json()["rejection"]
    assert rejection["code"] == "PERSONAL_DATA_MISMATCH"
    assert rejection["reason"] == "PERSONAL_DATA_MISMATCH"
    assert rejection["fields"] == ["full_name", "birth_date"]
    assert "họ và tên, ngày sinh" in rejection["message"]
    assert (
        rejection["advice"] == "Liên hệ cơ quan BHXH nơi cấp thẻ để điều chỉnh thông tin cho khớp với CCCD."
    )
    assert rejection["reason_label"].startswith("Họ tên, ngày sinh hoặc giới tính")


def test_an_old_app_gets_app_outdated_in_the_error_shape(client, citizen, citizen_card, bearer):
    response = post(client, bearer(citizen, "2.0.3"), citizen_card.social_insurance_number)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "APP_OUTDATED"
    assert error["message"].startswith("Vui lòng cập nhật ứng dụng lên phiên bản 2.0.4 trở lên")
    assert {"reason": "APP_OUTDATED"} in error["details"]
    assert not CardLinkRequest.objects.exists()


def test_an_app_that_does_not_send_its_version_is_treated_as_outdated(client, citizen, bearer):
    assert post(client, bearer(citizen, None), "7900001234").json()["error"]["code"] == "APP_OUTDATED"


def test_a_level1_account_gets_403_level2_required(client, level1_citizen, bearer):
    response = post(client, bearer(level1_citizen), "7900001234")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "LEVEL2_REQUIRED"
    assert "Công an xã/phường" in response.json()["error"]["message"]


def test_a_wrong_number_gets_422_wrong_number(client, citizen, bearer):
    response = post(client, bearer(citizen), "79-0000-12")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "WRONG_NUMBER"


def test_a_pending_request_gets_409_request_pending(client, citizen, citizen_card, bearer, queue_never_runs):
    headers = bearer(citizen)
    post(client, headers, citizen_card.social_insurance_number)
    response = post(client, headers, citizen_card.social_insurance_number)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "REQUEST_PENDING"


@pytest.mark.parametrize("body", [{"type": "GPLX"}, {"issuer": "BHXH_XX"}, {"value": ""}])
def test_a_malformed_body_gets_422_validation_failed(client, citizen, bearer, body):
    payload = {"type": "BHYT", "value": "7900001234", "issuer": "BHXH_VN", **body}
    response = client.post(f"{API}requests", payload, content_type="application/json", **bearer(citizen))
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "VALIDATION_FAILED"


def test_a_signed_in_web_page_may_call_the_api_with_its_session(
    client, citizen, citizen_card, settings, on_commit
):
    client.force_login(citizen)
    with on_commit():
        response = post(client, {}, citizen_card.social_insurance_number)
    assert response.status_code == 202
    assert response.json()["app_version"] == settings.SOSKDT["WEB_CLIENT_VERSION"]


def _make_requests(user, count):
    card = InsuranceCard.objects.filter(holder_personal_id=user.citizen.personal_id).first()
    for n in range(count):
        CardLinkRequest.objects.create(
            account=user,
            citizen=user.citizen,
            typed_value=card.social_insurance_number,
            social_insurance_number=card.social_insurance_number,
            issuer="BHXH_VN",
            status=LinkStatus.APPROVED if n % 2 else LinkStatus.REJECTED,
            card=card,
            reason_code="" if n % 2 else "WRONG_ISSUER",
            rejection_code="" if n % 2 else "WRONG_ISSUER",
            rejection_params={} if n % 2 else {"issuer": "BHXH_VN", "chosen": "BHXH_CAND"},
            decided_at=timezone.now(),
        )


def test_the_list_is_paginated_newest_first(client, citizen, bearer):
    _make_requests(citizen, 25)
    headers = bearer(citizen)
    first = client.get(f"{API}requests", **headers).json()
    last = client.get(f"{API}requests?page=2&page_size=20", **headers).json()
    assert (first["count"], len(first["items"]), len(last["items"])) == (25, 20, 5)
    ids = [item["id"] for item in first["items"] + last["items"]]
    assert ids == sorted(ids, reverse=True)
    assert client.get(f"{API}requests?page_size=500", **headers).status_code == 422


@pytest.mark.parametrize("count", [1, 40])
def test_the_list_takes_the_same_few_queries_however_many_requests(
    client, citizen, bearer, django_assert_max_num_queries, count
):
    _make_requests(citizen, count)
    headers = bearer(citizen)
    client.get(API, **headers)  # the first call records the token's use and the app version
    # token + count + page + facility names
    with django_assert_max_num_queries(4):
        response = client.get(f"{API}requests?page_size=50", **headers)
    assert len(response.json()["items"]) == count


def test_the_wallet_page_and_list_page_take_few_queries(client, citizen, django_assert_max_num_queries):
    _make_requests(citizen, 30)
    client.force_login(citizen)
    # session + user + linked card + facility + pending
    with django_assert_max_num_queries(6):
        client.get("/vi-giay-to/")
    # session + user + count + page
    with django_assert_max_num_queries(5):
        client.get("/vi-giay-to/tich-hop-thong-tin/")


def test_the_openapi_schema_documents_the_wallet_with_examples(client, db):
    schema = client.get("/api/v1/openapi.json").json()
    paths = schema["paths"]
    assert {
        "/api/v1/me/wallet/",
        "/api/v1/me/wallet/requests",
        "/api/v1/me/wallet/requests/{request_id}",
    } <= set(paths)
    assert "202" in paths["/api/v1/me/wallet/requests"]["post"]["responses"]
    schemas = schema["components"]["schemas"]
    for name in ("CardLinkRequestCreate", "CardLinkRequestRead", "LinkedCardRead"):
        assert schemas[name].get("examples"), name


def test_a_request_decided_as_approved_reads_like_the_service_said(
    client, citizen, citizen_card, bearer, queue_never_runs
):
    request = services.submit_link_request(
        user=citizen, value=citizen_card.code, issuer="BHXH_VN", app_version="2.0.4"
    )
    services.verify_link_request(request_id=request.pk)
    body = client.get(f"{API}requests/{request.pk}", **bearer(citizen)).json()
    assert body["card_code"] == citizen_card.code
    assert body["social_insurance_number"] == citizen_card.social_insurance_number
    assert body["status"] == "approved" and body["decided_at"]
