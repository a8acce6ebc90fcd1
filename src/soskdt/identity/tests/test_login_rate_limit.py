import datetime as dt

import pytest
from django.urls import reverse

from soskdt.core.models import Throttle
from soskdt.testing import DEFAULT_PASSWORD, make_citizen_account

LOCKED = "Bạn đã thử quá nhiều lần. Vui lòng thử lại sau {} phút."


@pytest.fixture
def lock_rules(settings):
    settings.SOSKDT = {
        **settings.SOSKDT,
        "LOGIN_MAX_FAILURES_PER_ACCOUNT": 5,
        "LOGIN_MAX_FAILURES_PER_ADDRESS": 20,
        "LOGIN_LOCK_SECONDS": 900,
    }


def _login(client, username, password, address="10.0.0.1"):
    return client.post(
        reverse("identity:login"), {"username": username, "password": password}, REMOTE_ADDR=address
    )


def _token(client, username, password, address="10.0.0.1"):
    return client.post(
        "/api/v1/auth/token",
        {"username": username, "password": password},
        content_type="application/json",
        REMOTE_ADDR=address,
    )


def test_five_wrong_passwords_lock_the_account_even_for_the_right_password(client, citizen, lock_rules):
    for _ in range(5):
        assert _login(client, citizen.username, "Sai@mat1khau").status_code == 200
    response = _login(client, citizen.username, DEFAULT_PASSWORD)
    assert response.status_code == 429
    assert LOCKED.format(15) in response.content.decode()
    assert client.session.get("_auth_user_id") is None


def test_the_lock_is_per_account_and_other_accounts_still_log_in(client, citizen, other_citizen, lock_rules):
    for _ in range(5):
        _login(client, citizen.username, "Sai@mat1khau")
    assert _login(client, other_citizen.username, DEFAULT_PASSWORD).status_code == 302


def test_the_lock_ends_after_the_configured_time(client, citizen, lock_rules):
    for _ in range(5):
        _login(client, citizen.username, "Sai@mat1khau")
    Throttle.objects.update(locked_until=dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
    assert _login(client, citizen.username, DEFAULT_PASSWORD).status_code == 302


def test_the_configured_lock_time_is_shown_in_whole_minutes(client, citizen, settings):
    settings.SOSKDT = {**settings.SOSKDT, "LOGIN_MAX_FAILURES_PER_ACCOUNT": 3, "LOGIN_LOCK_SECONDS": 300}
    for _ in range(3):
        _login(client, citizen.username, "Sai@mat1khau")
    assert LOCKED.format(5) in _login(client, citizen.username, DEFAULT_PASSWORD).content.decode()


def test_a_success_clears_the_failure_count(client, citizen, lock_rules):
    for _ in range(4):
        _login(client, citizen.username, "Sai@mat1khau")
    assert _login(client, citizen.username, DEFAULT_PASSWORD).status_code == 302
    client.logout()
    for _ in range(4):
        _login(client, citizen.username, "Sai@mat1khau")
    assert _login(client, citizen.username, DEFAULT_PASSWORD).status_code == 302


def test_one_address_trying_many_accounts_is_locked_out(client, citizen, lock_rules):
    for n in range(20):
        _login(client, f"0790850{n:05d}", "Sai@mat1khau", address="203.0.113.7")
    response = _login(client, citizen.username, DEFAULT_PASSWORD, address="203.0.113.7")
    assert response.status_code == 429
    assert LOCKED.format(15) in response.content.decode()
    # The same account from another address is not affected.
    assert _login(client, citizen.username, DEFAULT_PASSWORD, address="198.51.100.2").status_code == 302


def test_the_staff_page_shows_the_same_lock_message(client, clinician, lock_rules):
    for _ in range(5):
        client.post(
            reverse("identity:staff_login"), {"username": clinician.username, "password": "Sai@mat1khau"}
        )
    response = client.post(
        reverse("identity:staff_login"), {"username": clinician.username, "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 429
    assert LOCKED.format(15) in response.content.decode()


def test_the_api_counts_the_same_failures_and_answers_429_with_the_minutes(client, citizen, lock_rules):
    for _ in range(5):
        assert _token(client, citizen.username, "Sai@mat1khau").status_code == 401
    response = _token(client, citizen.username, DEFAULT_PASSWORD)
    assert response.status_code == 429
    assert response.json() == {"error": {"code": "RATE_LIMITED", "message": LOCKED.format(15), "details": []}}


def test_failures_on_the_page_and_the_api_add_up(client, lock_rules, db):
    account = make_citizen_account()
    for _ in range(3):
        _login(client, account.username, "Sai@mat1khau")
    for _ in range(2):
        _token(client, account.username, "Sai@mat1khau")
    assert _token(client, account.username, DEFAULT_PASSWORD).status_code == 429
