import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from soskdt.identity import services
from soskdt.identity.models import ApiToken, User
from soskdt.testing import DEFAULT_PASSWORD

TOKEN_URL = "/api/v1/auth/token"
ME_URL = "/api/v1/auth/me"
LOGOUT_URL = "/api/v1/auth/logout"


def _issue(client, username, password=DEFAULT_PASSWORD, **headers):
    return client.post(
        TOKEN_URL, {"username": username, "password": password}, content_type="application/json", **headers
    )


def _bearer(token):
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def test_a_citizen_gets_a_token_with_personal_id_and_password(client, citizen):
    response = _issue(client, citizen.username)
    assert response.status_code == 201
    body = response.json()
    assert body["kind"] == "citizen"
    assert len(body["token"]) > 40
    expires = dt.datetime.fromisoformat(body["expires_at"])
    assert timezone.now() + dt.timedelta(hours=11) < expires <= timezone.now() + dt.timedelta(hours=12)


def test_a_wrong_password_gets_401_in_the_error_shape(client, citizen):
    response = _issue(client, citizen.username, "Sai@mat1khau")
    assert response.status_code == 401
    assert response.json() == {
        "error": {
            "code": "INVALID_CREDENTIALS",
            "message": "Số định danh cá nhân hoặc mật khẩu không đúng.",
            "details": [],
        }
    }


def test_an_inactive_account_gets_the_same_401(client, citizen):
    User.objects.filter(pk=citizen.pk).update(is_active=False)
    assert _issue(client, citizen.username).json()["error"]["code"] == "INVALID_CREDENTIALS"


def test_a_missing_field_gets_422_listing_the_field(client, db):
    response = client.post(TOKEN_URL, {"username": "079085000001"}, content_type="application/json")
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_FAILED"
    assert any("password" in detail["field"] for detail in error["details"])


def test_the_token_opens_me_with_the_citizen_profile(client, citizen):
    token = _issue(client, citizen.username).json()["token"]
    response = Client().get(ME_URL, **_bearer(token))
    assert response.status_code == 200
    me = response.json()
    assert me["kind"] == "citizen"
    assert me["username"] == citizen.username
    assert me["full_name"] == citizen.citizen.full_name
    assert me["assurance_level"] == 2
    assert me["roles"] == []
    assert me["org_unit"] is None


def test_staff_get_a_token_and_me_shows_roles_unit_and_facility(client, clinician):
    token = _issue(client, clinician.username).json()["token"]
    me = Client().get(ME_URL, **_bearer(token)).json()
    assert me["kind"] == "staff"
    assert me["roles"] == ["clinician"]
    assert me["org_unit"]["code"] == clinician.org_unit.code
    assert me["facility"] == {"code": clinician.facility.code, "name": clinician.facility.name}


def test_me_without_credentials_is_401(client, db):
    response = client.get(ME_URL)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "UNAUTHENTICATED"


@pytest.mark.parametrize(
    "header", ["Bearer nonsense", "Bearer 0123456789ab.wrong-secret", "Token abc", "Bearer "]
)
def test_a_malformed_or_unknown_token_is_401(client, citizen, header):
    assert client.get(ME_URL, HTTP_AUTHORIZATION=header).status_code == 401


def test_a_token_with_a_known_prefix_but_wrong_secret_is_401(client, citizen):
    plaintext, _token = services.issue_api_token(user=citizen)
    forged = plaintext.split(".")[0] + ".x" + plaintext.split(".")[1][1:]
    assert client.get(ME_URL, **_bearer(forged)).status_code == 401


def test_an_expired_token_is_refused(client, citizen):
    plaintext, token = services.issue_api_token(user=citizen)
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert client.get(ME_URL, **_bearer(plaintext)).status_code == 401
    assert services.authenticate_token(plaintext) is None


def test_logout_revokes_the_token(client, citizen):
    plaintext, token = services.issue_api_token(user=citizen)
    assert client.post(LOGOUT_URL, **_bearer(plaintext)).status_code == 204
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert client.get(ME_URL, **_bearer(plaintext)).status_code == 401


def test_revoking_one_token_leaves_the_others_working(client, citizen):
    first, first_token = services.issue_api_token(user=citizen)
    second, _ = services.issue_api_token(user=citizen)
    services.revoke_api_token(token=first_token)
    assert client.get(ME_URL, **_bearer(first)).status_code == 401
    assert client.get(ME_URL, **_bearer(second)).status_code == 200


def test_a_deactivated_account_cannot_use_its_token(client, citizen):
    plaintext, _ = services.issue_api_token(user=citizen)
    User.objects.filter(pk=citizen.pk).update(is_active=False)
    assert client.get(ME_URL, **_bearer(plaintext)).status_code == 401


def test_tokens_are_stored_as_a_keyed_digest_only(client, citizen):
    plaintext = _issue(client, citizen.username).json()["token"]
    token = ApiToken.objects.get(user=citizen)
    prefix, secret = plaintext.split(".")
    assert token.prefix == prefix
    assert len(token.digest) == 64
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM identity_apitoken WHERE id = %s", [token.pk])
        row = " ".join(str(value) for value in cursor.fetchone())
    assert plaintext not in row
    assert secret not in row


def test_the_digest_depends_on_the_secret_key(citizen, settings):
    plaintext, _ = services.issue_api_token(user=citizen)
    settings.SECRET_KEY = "another-secret-key-" + "x" * 40
    assert services.authenticate_token(plaintext) is None


def test_a_token_survives_a_key_rotation_while_the_old_key_is_a_fallback(citizen, settings):
    old_key = settings.SECRET_KEY
    plaintext, _ = services.issue_api_token(user=citizen)
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "rotated-" + "y" * 50, [old_key]
    assert services.authenticate_token(plaintext) == citizen


def test_last_used_is_written_at_most_once_a_minute(citizen):
    plaintext, token = services.issue_api_token(user=citizen)
    services.authenticate_token(plaintext)
    token.refresh_from_db()
    first_use = token.last_used_at
    assert first_use is not None
    services.authenticate_token(plaintext)
    token.refresh_from_db()
    assert token.last_used_at == first_use
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=first_use - dt.timedelta(minutes=2))
    services.authenticate_token(plaintext)
    token.refresh_from_db()
    assert token.last_used_at > first_use - dt.timedelta(minutes=2)


def test_the_app_version_header_is_recorded(client, citizen):
    plaintext, _ = services.issue_api_token(user=citizen)
    client.get(ME_URL, HTTP_X_APP_VERSION="2.0.4", **_bearer(plaintext))
    citizen.refresh_from_db()
    assert citizen.app_version == "2.0.4"
    assert citizen.app_version_seen_at is not None
    assert client.get(ME_URL, **_bearer(plaintext)).json()["app_version"] == "2.0.4"


def test_the_app_version_is_written_only_when_it_changes(citizen, django_assert_num_queries):
    assert services.record_app_version(user=citizen, version="2.0.4") is True
    with django_assert_num_queries(0):
        assert services.record_app_version(user=citizen, version="2.0.4") is False
    assert services.record_app_version(user=citizen, version="2.1.0") is True
    citizen.refresh_from_db()
    assert citizen.app_version == "2.1.0"


@pytest.mark.parametrize("version", ["", "   ", "x" * 21, "2.0.4; DROP TABLE"])
def test_a_malformed_app_version_is_ignored(citizen, version):
    assert services.record_app_version(user=citizen, version=version) is False
    citizen.refresh_from_db()
    assert citizen.app_version == ""


def test_the_version_sent_with_the_login_is_recorded(client, citizen):
    _issue(client, citizen.username, HTTP_X_APP_VERSION="2.0.3")
    citizen.refresh_from_db()
    assert citizen.app_version == "2.0.3"


def test_a_page_session_can_call_the_api(client, citizen):
    client.force_login(citizen)
    assert client.get(ME_URL).json()["username"] == citizen.username


def test_a_page_session_needs_the_csrf_token_for_unsafe_calls(citizen):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(citizen)
    assert strict.get(ME_URL).status_code == 200
    response = strict.post(LOGOUT_URL)
    assert response.status_code == 403
    strict.get("/cong-dan/")  # a page with a form sets the CSRF cookie
    csrf = strict.cookies["csrftoken"].value
    assert strict.post(LOGOUT_URL, HTTP_X_CSRFTOKEN=csrf).status_code == 204
    assert strict.get(ME_URL).status_code == 401


def test_a_bearer_call_needs_no_csrf_token(citizen):
    plaintext, _ = services.issue_api_token(user=citizen)
    strict = Client(enforce_csrf_checks=True)
    assert strict.post(LOGOUT_URL, **_bearer(plaintext)).status_code == 204


def test_a_bad_token_on_an_unsafe_call_is_401_not_a_csrf_error(citizen):
    strict = Client(enforce_csrf_checks=True)
    assert strict.post(LOGOUT_URL, **_bearer("0123456789ab.nope")).status_code == 401


def test_checking_a_recently_used_token_costs_one_query(client, citizen, django_assert_max_num_queries):
    plaintext, _ = services.issue_api_token(user=citizen)
    services.authenticate_token(plaintext)
    with django_assert_max_num_queries(1):
        assert services.authenticate_token(plaintext) == citizen


def test_the_openapi_schema_documents_the_auth_endpoints(client, db):
    schema = client.get("/api/v1/openapi.json").json()
    assert {"/api/v1/auth/token", "/api/v1/auth/me", "/api/v1/auth/logout"} <= set(schema["paths"])
    components = schema["components"]["schemas"]
    assert {"TokenCreate", "TokenRead", "MeRead"} <= set(components)
    assert components["TokenCreate"].get("examples")
