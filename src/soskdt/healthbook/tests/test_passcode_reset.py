"""Quên passcode?: an OTP by SMS (hashed, 5 minutes, 5 tries) sets a new passcode and lifts a lockout."""

import datetime as dt
import logging

import pytest
from django.contrib.auth.hashers import identify_hasher
from django.urls import reverse
from django.utils import timezone

from soskdt.core.errors import DomainError
from soskdt.core.models import Throttle
from soskdt.healthbook import book as services
from soskdt.healthbook.models import AccessLog, BookToken, PasscodeReset
from soskdt.healthbook.sms import ConsoleSmsBackend, SmsMessage, mask_phone
from soskdt.healthbook.tests.conftest import CTX, PASSCODE, activate

NEW = "135790"


@pytest.fixture
def book(citizen):
    return activate(citizen)


def request_otp(user, capture):
    with capture(execute=True):
        return services.request_passcode_reset(viewer=user, context=CTX)


def test_the_otp_goes_by_sms_to_the_registered_phone_and_is_stored_hashed(
    citizen, book, outbox, django_capture_on_commit_callbacks
):
    sent = request_otp(citizen, django_capture_on_commit_callbacks)
    phone = citizen.citizen.phone
    assert sent.phone_masked == mask_phone(phone) and "*" in sent.phone_masked
    assert [m.phone for m in outbox] == [phone]
    otp = outbox[0].otp
    assert otp is not None and len(otp) == 6 and otp.isdigit()
    assert otp in outbox[0].text and "5 phút" in outbox[0].text
    reset = PasscodeReset.objects.get()
    assert otp not in reset.otp_hash
    assert identify_hasher(reset.otp_hash).algorithm == "argon2"
    assert dt.timedelta(minutes=4) < reset.expires_at - timezone.now() <= dt.timedelta(minutes=5)


def test_no_sms_leaves_before_the_transaction_commits(citizen, book, outbox):
    services.request_passcode_reset(viewer=citizen, context=CTX)
    assert outbox == []


def test_the_otp_sets_a_new_passcode_and_lifts_the_lock(
    citizen, book, outbox, django_capture_on_commit_callbacks
):
    for _ in range(5):
        with pytest.raises(DomainError):
            services.unlock_book(
                viewer=citizen, who=citizen.citizen_id, passcode="975310", context=CTX, issue_token=False
            )
    assert Throttle.objects.filter(scope="passcode", locked_until__isnull=False).exists()
    request_otp(citizen, django_capture_on_commit_callbacks)
    services.reset_passcode(viewer=citizen, otp=outbox[0].otp, passcode=NEW, confirm=NEW, context=CTX)
    assert not Throttle.objects.filter(scope="passcode").exists()
    assert services.unlock_book(
        viewer=citizen, who=citizen.citizen_id, passcode=NEW, context=CTX, issue_token=True
    ).token
    with pytest.raises(DomainError):
        services.unlock_book(
            viewer=citizen, who=citizen.citizen_id, passcode=PASSCODE, context=CTX, issue_token=False
        )
    assert PasscodeReset.objects.get().used_at is not None


def test_a_wrong_otp_counts_and_five_wrong_ones_end_the_code(
    citizen, book, outbox, django_capture_on_commit_callbacks
):
    request_otp(citizen, django_capture_on_commit_callbacks)
    otp = outbox[0].otp
    wrong = f"{(int(otp) + 1) % 10**6:06d}"
    codes = []
    for _ in range(5):
        with pytest.raises(DomainError) as refused:
            services.reset_passcode(viewer=citizen, otp=wrong, passcode=NEW, confirm=NEW, context=CTX)
        codes.append(refused.value.code)
    assert codes == ["OTP_WRONG"] * 4 + ["OTP_EXPIRED"]
    assert PasscodeReset.objects.get().attempts == 5
    with pytest.raises(DomainError) as refused:
        services.reset_passcode(viewer=citizen, otp=otp, passcode=NEW, confirm=NEW, context=CTX)
    assert refused.value.code == "OTP_EXPIRED"
    assert AccessLog.objects.filter(action="passcode.reset", outcome="denied").count() == 5


def test_an_otp_expires_after_five_minutes(citizen, book, outbox, django_capture_on_commit_callbacks):
    request_otp(citizen, django_capture_on_commit_callbacks)
    PasscodeReset.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    with pytest.raises(DomainError) as refused:
        services.reset_passcode(viewer=citizen, otp=outbox[0].otp, passcode=NEW, confirm=NEW, context=CTX)
    assert refused.value.code == "OTP_EXPIRED"


def test_a_new_otp_replaces_the_previous_one(citizen, book, outbox, django_capture_on_commit_callbacks):
    request_otp(citizen, django_capture_on_commit_callbacks)
    request_otp(citizen, django_capture_on_commit_callbacks)
    first, second = outbox[0].otp, outbox[1].otp
    if first != second:
        with pytest.raises(DomainError):
            services.reset_passcode(viewer=citizen, otp=first, passcode=NEW, confirm=NEW, context=CTX)
    services.reset_passcode(viewer=citizen, otp=second, passcode=NEW, confirm=NEW, context=CTX)


def test_three_otp_requests_in_fifteen_minutes_is_the_most(citizen, book, django_capture_on_commit_callbacks):
    for _ in range(3):
        request_otp(citizen, django_capture_on_commit_callbacks)
    with pytest.raises(DomainError) as refused:
        request_otp(citizen, django_capture_on_commit_callbacks)
    assert refused.value.code == "OTP_RATE_LIMITED" and refused.value.status == 429


def test_the_new_passcode_follows_the_rules(citizen, book, outbox, django_capture_on_commit_callbacks):
    request_otp(citizen, django_capture_on_commit_callbacks)
    with pytest.raises(DomainError) as refused:
        services.reset_passcode(
            viewer=citizen, otp=outbox[0].otp, passcode="000000", confirm="000000", context=CTX
        )
    assert refused.value.code == "PASSCODE_TOO_SIMPLE"
    assert PasscodeReset.objects.get().attempts == 0


def test_a_reset_ends_the_book_tokens_of_the_old_passcode(
    citizen, book, outbox, django_capture_on_commit_callbacks
):
    services.unlock_book(
        viewer=citizen, who=citizen.citizen_id, passcode=PASSCODE, context=CTX, issue_token=True
    )
    request_otp(citizen, django_capture_on_commit_callbacks)
    services.reset_passcode(viewer=citizen, otp=outbox[0].otp, passcode=NEW, confirm=NEW, context=CTX)
    assert not BookToken.objects.filter(revoked_at__isnull=True).exists()


def test_without_a_registered_phone_there_is_no_otp(citizen, book):
    citizen.phone = ""
    citizen.save(update_fields=["phone"])
    citizen.citizen.phone = ""
    citizen.citizen.save(update_fields=["phone"])
    with pytest.raises(DomainError) as refused:
        services.request_passcode_reset(viewer=citizen, context=CTX)
    assert refused.value.code == "BOOK_PHONE_MISSING"


def test_the_console_backend_prints_the_code_to_the_server_log(caplog):
    with caplog.at_level(logging.INFO, logger="soskdt"):
        ConsoleSmsBackend().send(SmsMessage(phone="0901234567", text="…", otp="381945"))
    assert "OTP 381945 for phone 0901234567" in caplog.text
    assert caplog.records[0].name.startswith("soskdt.")


# --- API and pages ---------------------------------------------------------------------------------------


def test_the_api_resets_the_passcode_with_the_otp(
    client, citizen, book, bearer, outbox, django_capture_on_commit_callbacks
):
    headers = bearer(citizen)
    with django_capture_on_commit_callbacks(execute=True):
        sent = client.post("/api/v1/me/book/passcode/reset-request", **headers)
    assert sent.status_code == 202
    assert sent.json()["sent_to"] == mask_phone(citizen.citizen.phone)
    wrong = client.post(
        "/api/v1/me/book/passcode/reset",
        {"otp": "000000" if outbox[0].otp != "000000" else "111111", "new_passcode": NEW},
        content_type="application/json",
        **headers,
    )
    assert wrong.status_code == 400 and wrong.json()["error"]["code"] == "OTP_WRONG"
    done = client.post(
        "/api/v1/me/book/passcode/reset",
        {"otp": outbox[0].otp, "new_passcode": NEW},
        content_type="application/json",
        **headers,
    )
    assert done.status_code == 204
    unlock = client.post(
        "/api/v1/me/book/unlock", {"passcode": NEW}, content_type="application/json", **headers
    )
    assert unlock.status_code == 200


def test_the_pages_walk_quen_passcode(client, citizen, book, outbox, django_capture_on_commit_callbacks):
    client.force_login(citizen)
    html = client.get(reverse("healthbook:forgot_passcode")).content.decode()
    assert mask_phone(citizen.citizen.phone) in html and "Gửi mã OTP" in html
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("healthbook:forgot_passcode"))
    assert response.url == reverse("healthbook:reset_passcode")
    html = client.get(response.url).content.decode()
    assert 'autocomplete="one-time-code"' in html and 'inputmode="numeric"' in html
    response = client.post(
        reverse("healthbook:reset_passcode"), {"otp": outbox[0].otp, "passcode": NEW, "passcode_confirm": NEW}
    )
    assert response.url == reverse("healthbook:unlock", args=[citizen.username])
    response = client.post(response.url, {"passcode": NEW})
    assert response.url == reverse("healthbook:book", args=[citizen.username])
