"""The rules checked when a citizen taps "Gửi yêu cầu" (DOMAIN.md §3; letter 310, Appendix 2, step 2)."""

import pytest

from soskdt.core.errors import DomainError
from soskdt.identity.models import User
from soskdt.registry.models import CardIssuer
from soskdt.wallet import services
from soskdt.wallet.models import CardLinkRequest, LinkStatus


def submit(user, value, *, version="2.0.4", issuer=CardIssuer.VSS):
    return services.submit_link_request(user=user, value=value, issuer=issuer, app_version=version)


def refusal(user, value, **kwargs):
    with pytest.raises(DomainError) as caught:
        submit(user, value, **kwargs)
    return caught.value


def test_a_level1_account_is_refused_and_told_to_register_level_2_at_the_police(level1_citizen):
    error = refusal(level1_citizen, "7900001234")
    assert error.code == "LEVEL2_REQUIRED"
    assert error.status == 403
    assert "định danh mức 2" in error.message
    assert "Công an xã/phường" in error.message
    assert {"reason": "NO_LEVEL2"} in error.details
    assert not CardLinkRequest.objects.exists()


def test_an_app_older_than_2_0_4_is_refused_with_the_update_message(citizen, citizen_card):
    error = refusal(citizen, citizen_card.social_insurance_number, version="2.0.3")
    assert error.code == "APP_OUTDATED"
    assert "Vui lòng cập nhật ứng dụng lên phiên bản 2.0.4 trở lên" in error.message
    assert {"reason": "APP_OUTDATED"} in error.details
    assert not CardLinkRequest.objects.exists()


@pytest.mark.parametrize("version", ["2.0.4", "2.0.10", "2.1", "3.0.0", "v2.0.4", "2.0.4-beta"])
def test_an_app_at_2_0_4_or_later_is_accepted(citizen, citizen_card, queue_never_runs, version):
    request = submit(citizen, citizen_card.social_insurance_number, version=version)
    assert request.status == LinkStatus.PENDING
    assert request.app_version == version


@pytest.mark.parametrize("version", ["", "abc", "1.9.9", "2.0", "2.0.3.9"])
def test_an_unknown_or_older_version_is_refused(citizen, version):
    assert refusal(citizen, "7900001234", version=version).code == "APP_OUTDATED"


def test_the_reported_app_version_is_recorded_on_the_account_even_when_refused(citizen):
    refusal(citizen, "7900001234", version="2.0.3")
    assert User.objects.get(pk=citizen.pk).app_version == "2.0.3"


@pytest.mark.parametrize(
    "value",
    ["", "12345", "79000012345", "790000123X", "DN479790000123", "ZZ4797900001234", "DN9797900001234"],
)
def test_a_value_that_is_neither_10_digits_nor_a_card_code_is_a_wrong_number(citizen, value):
    error = refusal(citizen, value)
    assert error.code == "WRONG_NUMBER"
    assert error.status == 422
    assert "Nhập 10 kí tự cuối trên mã số thẻ BHYT" in error.message
    assert {"reason": "WRONG_NUMBER"} in error.details
    assert {"field": "value"} in error.details


def test_the_15_character_code_is_accepted_and_split_into_code_and_number(
    citizen, citizen_card, queue_never_runs
):
    request = submit(citizen, f" {citizen_card.code.lower()} ")
    assert request.card_code == citizen_card.code
    assert request.social_insurance_number == citizen_card.social_insurance_number
    assert request.typed_value == citizen_card.code.lower()


def test_the_request_keeps_who_asked_what_they_typed_and_the_issuer(citizen, citizen_card, queue_never_runs):
    request = submit(citizen, citizen_card.social_insurance_number, issuer=CardIssuer.POLICE)
    assert (request.account, request.citizen) == (citizen, citizen.citizen)
    assert request.typed_value == citizen_card.social_insurance_number
    assert request.card_code == ""
    assert request.issuer == CardIssuer.POLICE
    assert request.decided_at is None and request.card is None


def test_a_second_request_while_one_is_pending_is_refused(citizen, citizen_card, queue_never_runs):
    submit(citizen, citizen_card.social_insurance_number)
    error = refusal(citizen, citizen_card.social_insurance_number)
    assert error.code == "REQUEST_PENDING"
    assert error.status == 409
    assert {"reason": "REQUEST_PENDING"} in error.details
    assert CardLinkRequest.objects.count() == 1


def test_the_database_refuses_two_pending_requests_for_one_person(citizen, queue_never_runs):
    from django.db import IntegrityError, transaction

    fields = {"account": citizen, "citizen": citizen.citizen, "typed_value": "1", "issuer": "BHXH_VN"}
    CardLinkRequest.objects.create(social_insurance_number="7900000001", **fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        CardLinkRequest.objects.create(social_insurance_number="7900000002", **fields)


def test_a_new_request_is_allowed_once_the_previous_one_is_decided(citizen, citizen_card, on_commit):
    with on_commit():
        first = submit(citizen, "7999999999")
    first.refresh_from_db()
    assert first.status == LinkStatus.REJECTED
    with on_commit():
        second = submit(citizen, citizen_card.social_insurance_number)
    second.refresh_from_db()
    assert second.status == LinkStatus.APPROVED


def test_an_unknown_issuer_is_refused(citizen):
    error = refusal(citizen, "7900001234", issuer="BHXH_XX")
    assert error.code == "ISSUER_INVALID"


def test_only_the_bhyt_card_can_be_linked_for_now(citizen):
    with pytest.raises(DomainError) as caught:
        services.submit_link_request(
            user=citizen, value="7900001234", issuer="BHXH_VN", app_version="2.0.4", document_type="GPLX"
        )
    assert caught.value.code == "DOCUMENT_TYPE_UNSUPPORTED"


def test_a_staff_account_cannot_submit(staff_member):
    with pytest.raises(DomainError) as caught:
        submit(staff_member, "7900001234")
    assert caught.value.status == 404


def test_the_job_is_queued_only_after_the_request_is_committed(
    citizen, citizen_card, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        request = submit(citizen, citizen_card.social_insurance_number)
    assert len(callbacks) == 1
    request.refresh_from_db()
    assert request.status == LinkStatus.PENDING
    callbacks[0]()
    request.refresh_from_db()
    assert request.status == LinkStatus.APPROVED
