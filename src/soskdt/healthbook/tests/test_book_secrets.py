"""Secrets are stored hashed (passcode, OTP, book tokens) and unlocks expire."""

import datetime as dt

from django.contrib.auth.hashers import identify_hasher
from django.urls import reverse
from django.utils import timezone

from soskdt.healthbook import book as services
from soskdt.healthbook.models import Book, BookToken
from soskdt.healthbook.tests.conftest import CTX, PASSCODE, activate, api_headers, unlock_page


def test_the_passcode_is_stored_as_an_argon2_hash(citizen):
    activate(citizen)
    stored = Book.objects.get(citizen=citizen.citizen).passcode_hash
    assert PASSCODE not in stored
    assert identify_hasher(stored).algorithm == "argon2"


def test_a_book_token_is_stored_only_as_a_keyed_digest(citizen):
    activate(citizen)
    unlocked = services.unlock_book(
        viewer=citizen, who=citizen.citizen_id, passcode=PASSCODE, context=CTX, issue_token=True
    )
    token = BookToken.objects.get()
    prefix, _dot, secret = unlocked.token.partition(".")
    assert token.prefix == prefix and len(token.digest) == 64
    assert secret not in token.digest and unlocked.token not in token.digest


def test_a_book_token_expires_after_fifteen_minutes(client, family, bearer):
    headers = api_headers(client, family.parent, bearer)
    assert client.get("/api/v1/me/book/years", **headers).status_code == 200
    token = BookToken.objects.get()
    assert dt.timedelta(minutes=14) < token.expires_at - token.created_at <= dt.timedelta(minutes=15)
    BookToken.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    response = client.get("/api/v1/me/book/years", **headers)
    assert response.status_code == 401 and response.json()["error"]["code"] == "BOOK_LOCKED"


def test_the_book_token_lifetime_is_configurable(citizen, settings):
    settings.SOSKDT = {**settings.SOSKDT, "BOOK_TOKEN_LIFETIME_SECONDS": 60}
    activate(citizen)
    services.unlock_book(
        viewer=citizen, who=citizen.citizen_id, passcode=PASSCODE, context=CTX, issue_token=True
    )
    token = BookToken.objects.get()
    assert token.expires_at - token.created_at == dt.timedelta(seconds=60)


def test_closing_the_book_revokes_its_token(client, family, bearer):
    headers = api_headers(client, family.parent, bearer)
    assert client.post("/api/v1/me/book/lock", **headers).status_code == 204
    assert client.get("/api/v1/me/book/years", **headers).status_code == 401


def test_a_made_up_or_tampered_token_opens_nothing(client, family, bearer):
    headers = api_headers(client, family.parent, bearer)
    real = headers["HTTP_X_BOOK_TOKEN"]
    for fake in ("", "nonsense", real[:-2] + "xx", "a" * 12 + "." + real.partition(".")[2]):
        assert (
            client.get("/api/v1/me/book/years", **{**headers, "HTTP_X_BOOK_TOKEN": fake}).status_code == 401
        )


def test_the_page_unlock_expires_after_fifteen_minutes(client, family, monkeypatch):
    unlock_page(client, family.parent)
    url = reverse("healthbook:book", args=[family.parent.username])
    assert client.get(url).status_code == 200
    import time

    later = time.time() + 15 * 60 + 1
    monkeypatch.setattr("soskdt.healthbook.views.time.time", lambda: later)
    response = client.get(url)
    assert (
        response.status_code == 302
        and reverse("healthbook:unlock", args=[family.parent.username]) in response.url
    )


def test_dong_so_closes_the_book_on_the_page(client, family):
    unlock_page(client, family.parent)
    url = reverse("healthbook:book", args=[family.parent.username])
    client.post(reverse("healthbook:lock", args=[family.parent.username]))
    assert client.get(url).status_code == 302


def test_the_session_holds_no_secret(client, family):
    unlock_page(client, family.parent)
    session = client.session
    stored = repr(dict(session.items()))
    assert PASSCODE not in stored
    assert "healthbook.unlocked" in session
