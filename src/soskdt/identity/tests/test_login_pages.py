import pytest
from django.urls import reverse

from soskdt.identity.models import User
from soskdt.testing import DEFAULT_PASSWORD, make_citizen_account

WRONG = "Số định danh cá nhân hoặc mật khẩu không đúng."
STAFF_WRONG = "Tên đăng nhập hoặc mật khẩu không đúng."


def _session_user_id(client):
    return client.session.get("_auth_user_id")


def test_the_citizen_login_page_shows_the_vneid_labels(client, db):
    response = client.get(reverse("identity:login"))
    assert response.status_code == 200
    html = response.content.decode()
    for label in ("Số định danh cá nhân", "Mật khẩu", "Đăng nhập"):
        assert label in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert 'inputmode="numeric"' in html


def test_a_citizen_logs_in_with_personal_id_and_password(client, citizen):
    response = client.post(
        reverse("identity:login"), {"username": citizen.username, "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 302
    assert response.url == "/"
    assert _session_user_id(client) == str(citizen.pk)
    assert client.get("/").url == reverse("identity:citizen_home")


def test_a_citizen_login_follows_a_safe_next_and_ignores_an_outside_one(client, citizen):
    data = {"username": citizen.username, "password": DEFAULT_PASSWORD, "next": "/cong-dan/ca-nhan/"}
    assert client.post(reverse("identity:login"), data).url == "/cong-dan/ca-nhan/"
    client.logout()
    data["next"] = "https://evil.example/"
    assert client.post(reverse("identity:login"), data).url == "/"


def test_a_wrong_password_on_the_citizen_page_shows_the_one_message(client, citizen):
    response = client.post(
        reverse("identity:login"), {"username": citizen.username, "password": "Sai@mat1khau"}
    )
    assert response.status_code == 200
    assert WRONG in response.content.decode()
    assert _session_user_id(client) is None


def test_an_unknown_personal_id_gets_the_same_message_as_a_wrong_password(client, db):
    response = client.post(
        reverse("identity:login"), {"username": "079085999999", "password": DEFAULT_PASSWORD}
    )
    assert WRONG in response.content.decode()


def test_an_inactive_account_gets_the_same_message_as_a_wrong_password(client, citizen):
    User.objects.filter(pk=citizen.pk).update(is_active=False)
    response = client.post(
        reverse("identity:login"), {"username": citizen.username, "password": DEFAULT_PASSWORD}
    )
    assert WRONG in response.content.decode()
    assert _session_user_id(client) is None


def test_staff_cannot_log_in_on_the_citizen_page(client, clinician):
    response = client.post(
        reverse("identity:login"), {"username": clinician.username, "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 200
    assert WRONG in response.content.decode()
    assert _session_user_id(client) is None


def test_the_staff_login_page_asks_for_a_username(client, db):
    html = client.get(reverse("identity:staff_login")).content.decode()
    assert "Tên đăng nhập" in html
    assert "Mật khẩu" in html


def test_staff_log_in_on_the_staff_page_and_land_on_the_staff_home(client, clinician):
    response = client.post(
        reverse("identity:staff_login"), {"username": clinician.username, "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 302
    assert _session_user_id(client) == str(clinician.pk)
    assert client.get("/").url == reverse("identity:staff_home")


def test_a_wrong_password_on_the_staff_page_is_refused(client, clinician):
    response = client.post(
        reverse("identity:staff_login"), {"username": clinician.username, "password": "Sai@mat1khau"}
    )
    assert STAFF_WRONG in response.content.decode()
    assert _session_user_id(client) is None


def test_a_citizen_cannot_log_in_on_the_staff_page(client, citizen):
    response = client.post(
        reverse("identity:staff_login"), {"username": citizen.username, "password": DEFAULT_PASSWORD}
    )
    assert STAFF_WRONG in response.content.decode()
    assert _session_user_id(client) is None


def test_the_login_form_needs_a_csrf_token(db):
    from django.test import Client

    account = make_citizen_account()
    strict = Client(enforce_csrf_checks=True)
    response = strict.post(
        reverse("identity:login"), {"username": account.username, "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 403


def test_logging_out_needs_a_post_and_ends_the_session(client, citizen):
    client.force_login(citizen)
    assert client.get(reverse("identity:logout")).status_code == 405
    response = client.post(reverse("identity:logout"))
    assert response.status_code == 302
    assert _session_user_id(client) is None


@pytest.mark.parametrize("name", ["identity:login", "identity:staff_login"])
def test_the_login_pages_are_not_cached(client, db, name):
    assert "no-cache" in client.get(reverse(name))["Cache-Control"]
