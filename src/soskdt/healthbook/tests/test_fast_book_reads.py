"""On PostgreSQL the API's two hottest reads of one's own book are one statement each (``fastpath``).

These tests hold that path to the general one (``healthbook.reads``): the same JSON, the same ETag, one
access-log row that chains and verifies; and it steps aside whenever it must not answer (anything but
the owner's open book with a live book token), writing nothing, so that ``reads`` gives the exact answer.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Callable

import pytest
from django.db import connection, connections
from django.test import Client
from ninja.responses import NinjaJSONEncoder

from soskdt.healthbook import api, fastpath, reads
from soskdt.healthbook import book as book_services
from soskdt.healthbook.access import AccessContext, verify_chain
from soskdt.healthbook.models import AccessLog, Book, BookToken
from soskdt.healthbook.tests.conftest import CTX, activate, add_rich_visit, add_visits, api_headers, sync
from soskdt.identity import services as identity_services
from soskdt.identity.models import ApiToken, User

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="the one-statement reads are PostgreSQL's (reads.* elsewhere)",
    ),
]
API_CTX = AccessContext(channel="api", ip_address="127.0.0.1", user_agent="")


def as_json(data: dict) -> dict:
    return json.loads(json.dumps(data, cls=NinjaJSONEncoder))


def spoilt(token: str) -> str:
    """The token with one character of its secret changed (its prefix still finds the row)."""
    return token[:13] + ("A" if token[13] != "A" else "B") + token[14:]


def rows_of(citizen: User) -> list[AccessLog]:
    return list(AccessLog.objects.filter(owner_id=citizen.citizen_id).order_by("id"))


@pytest.fixture
def general_reads_forbidden(monkeypatch):
    """Fail the test if the API answers through ``reads`` (the general path) instead of ``fastpath``."""

    def refuse(**_kwargs):
        raise AssertionError("answered by reads.*, not by the one-statement path")

    monkeypatch.setattr(reads, "visits_for_year", refuse)
    monkeypatch.setattr(reads, "visit_detail", refuse)


@pytest.fixture
def rich(citizen):
    visit = add_rich_visit(citizen.citizen, admitted_at=dt.datetime(2025, 5, 4, 7, 45), extra_drugs=3)
    add_visits(citizen.citizen, dt.datetime(2025, 2, 1, 8, 0), dt.datetime(2025, 9, 9, 9, 9))
    activate(citizen)
    sync(citizen)
    return visit


def test_the_year_list_is_what_the_general_read_answers_with_the_same_etag(
    client, citizen, rich, bearer, monkeypatch
):
    headers = api_headers(client, citizen, bearer)
    expected = reads.visits_for_year(
        viewer=citizen,
        who=citizen.citizen_id,
        year=2025,
        page=1,
        page_size=2,
        gate=lambda _a: True,
        context=CTX,
    )
    assert expected.data is not None
    monkeypatch.setattr(reads, "visits_for_year", lambda **_kw: pytest.fail("general path used"))
    response = client.get("/api/v1/me/book/years/2025/visits?page=1&page_size=2", **headers)
    assert response.status_code == 200
    body = response.json()
    assert body == as_json(api._visit_list(expected.data))
    assert (body["total"], len(body["items"])) == (3, 2)
    assert response["ETag"] == expected.etag
    # The second page, and a page past the end, too.
    monkeypatch.undo()
    second = reads.visits_for_year(
        viewer=citizen,
        who=citizen.citizen_id,
        year=2025,
        page=2,
        page_size=2,
        gate=lambda _a: True,
        context=CTX,
    )
    assert second.data is not None and len(second.data.page.items) == 1
    monkeypatch.setattr(reads, "visits_for_year", lambda **_kw: pytest.fail("general path used"))
    page_two = client.get("/api/v1/me/book/years/2025/visits?page=2&page_size=2", **headers).json()
    assert page_two == as_json(api._visit_list(second.data))
    past = client.get("/api/v1/me/book/years/2025/visits?page=9&page_size=2", **headers).json()
    assert past == {"items": [], "page": 9, "page_size": 2, "total": 3}


def test_the_visit_detail_is_what_the_general_read_answers_with_the_same_etag(
    client, citizen, rich, bearer, monkeypatch
):
    headers = api_headers(client, citizen, bearer)
    expected = reads.visit_detail(
        viewer=citizen, who=citizen.citizen_id, visit_id=rich.pk, gate=lambda _a: True, context=CTX
    )
    assert expected.data is not None
    monkeypatch.setattr(reads, "visit_detail", lambda **_kw: pytest.fail("general path used"))
    response = client.get(f"/api/v1/me/book/visits/{rich.pk}", **headers)
    assert response.status_code == 200
    body = response.json()
    assert body == as_json(api._visit_read(expected.data))
    # What makes this visit a real test of the statement: drugs, notes, papers and named facilities.
    assert len(body["drugs"]) == 5 and body["notes"] and body["referral"] and body["follow_up"]
    assert "79001" in json.dumps(body["referral"], ensure_ascii=False)
    assert response["ETag"] == expected.etag
    api.VisitRead.model_validate(body)


def test_each_fast_read_appends_one_chained_row_that_verifies(
    client, citizen, rich, bearer, general_reads_forbidden
):
    headers = api_headers(client, citizen, bearer)
    before = rows_of(citizen)
    assert client.get("/api/v1/me/book/years/2025/visits", **headers).status_code == 200
    assert client.get(f"/api/v1/me/book/visits/{rich.pk}", **headers).status_code == 200
    new = rows_of(citizen)[len(before) :]
    assert [(r.action, r.target, r.actor_id, r.actor_kind, r.channel) for r in new] == [
        ("visits.year", "year:2025", citizen.pk, "citizen", "api"),
        ("visit.detail", f"visit:{rich.pk}", citizen.pk, "citizen", "api"),
    ]
    assert new[0].prev_hash == before[-1].hash and new[1].prev_hash == new[0].hash
    assert str(new[0].ip_address) == "127.0.0.1"
    assert verify_chain(citizen.citizen_id).ok


def test_an_unchanged_visit_answers_304_and_is_still_logged(
    client, citizen, rich, bearer, general_reads_forbidden
):
    headers = api_headers(client, citizen, bearer)
    first = client.get(f"/api/v1/me/book/visits/{rich.pk}", **headers)
    count = len(rows_of(citizen))
    again = client.get(f"/api/v1/me/book/visits/{rich.pk}", HTTP_IF_NONE_MATCH=first["ETag"], **headers)
    assert again.status_code == 304 and again.content == b""
    assert len(rows_of(citizen)) == count + 1


def _fast_year(api_token: str, token: str | None):
    return fastpath.visits_for_year(
        bearer=api_token,
        book_token=token,
        app_version=None,
        year=2025,
        page=1,
        page_size=20,
        context=API_CTX,
        if_none_match=None,
    )


def _fast_visit(api_token: str, token: str | None, visit_id: int):
    return fastpath.visit_detail(
        bearer=api_token,
        book_token=token,
        app_version=None,
        visit_id=visit_id,
        context=API_CTX,
        if_none_match=None,
    )


@pytest.fixture
def token(citizen, rich) -> str:
    plaintext, _row = book_services.issue_book_token(
        user=citizen, book=Book.objects.get(citizen=citizen.citizen)
    )
    return plaintext


@pytest.fixture
def api_token(citizen) -> str:
    plaintext, _row = identity_services.issue_api_token(user=citizen)
    return plaintext


def test_the_owner_with_a_live_token_is_answered(citizen, api_token, token, rich):
    assert _fast_year(api_token, token) is not None
    assert _fast_visit(api_token, token, rich.pk) is not None


@pytest.mark.parametrize(
    "spoil",
    [
        "no token",
        "a token of another book",
        "a wrong secret",
        "a revoked token",
        "an expired token",
        "terms of an older version",
        "a level-1 account",
        "an unknown bearer token",
        "a wrong bearer secret",
        "a revoked bearer token",
        "an expired bearer token",
        "an inactive account",
        "the bearer token of another account",
    ],
)
def test_anything_but_the_owners_open_book_steps_aside_and_writes_nothing(
    citizen, api_token, token, rich, spoil, family_book, other_citizen
):
    other_token = family_book
    if spoil == "no token":
        token = None
    elif spoil == "a token of another book":
        token = other_token
    elif spoil == "a wrong secret":
        token = spoilt(token)
    elif spoil == "a revoked token":
        BookToken.objects.filter(user=citizen).update(revoked_at=dt.datetime.now(dt.UTC))
    elif spoil == "an expired token":
        BookToken.objects.filter(user=citizen).update(
            expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
        )
    elif spoil == "terms of an older version":
        Book.objects.filter(citizen=citizen.citizen).update(terms_version="2024.0")
    elif spoil == "a level-1 account":
        User.objects.filter(pk=citizen.pk).update(assurance_level=1)
    elif spoil == "an unknown bearer token":
        api_token = "abcdefabcdef." + api_token[13:]
    elif spoil == "a wrong bearer secret":
        api_token = spoilt(api_token)
    elif spoil == "a revoked bearer token":
        ApiToken.objects.filter(user=citizen).update(revoked_at=dt.datetime.now(dt.UTC))
    elif spoil == "an expired bearer token":
        ApiToken.objects.filter(user=citizen).update(
            expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
        )
    elif spoil == "an inactive account":
        User.objects.filter(pk=citizen.pk).update(is_active=False)
    elif spoil == "the bearer token of another account":
        api_token, _row = identity_services.issue_api_token(user=other_citizen)
    count = AccessLog.objects.count()
    assert _fast_year(api_token, token) is None
    assert _fast_visit(api_token, token, rich.pk) is None
    assert AccessLog.objects.count() == count


@pytest.fixture
def family_book(citizen, child) -> str:
    """A book token of the citizen for their child's book (a real token, for the wrong book)."""
    add_visits(child, dt.datetime(2025, 4, 2, 9, 0))
    book_services.accept_terms(viewer=citizen, who=child.pk, terms_version="2025.1", context=CTX)
    book = Book.objects.get(citizen=child)
    plaintext, _row = book_services.issue_book_token(user=citizen, book=book)
    return plaintext


def test_a_visit_the_book_does_not_show_steps_aside(citizen, api_token, token, rich, child):
    (childs,) = add_visits(child, dt.datetime(2025, 4, 2, 9, 0))
    (unsynced,) = add_visits(citizen.citizen, dt.datetime(2025, 10, 1, 8, 0))  # arrived after the last sync
    count = AccessLog.objects.count()
    assert _fast_visit(api_token, token, childs.pk) is None
    assert _fast_visit(api_token, token, unsynced.pk) is None
    assert _fast_visit(api_token, token, 10**9) is None
    assert AccessLog.objects.count() == count


def _in_threads(reader: Callable[[], None], count: int = 4) -> None:
    """Run ``reader`` in ``count`` threads at once and wait for them all."""
    threads = [threading.Thread(target=reader) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


@pytest.mark.django_db(transaction=True)
def test_reads_of_one_book_racing_each_other_all_succeed_on_one_unbroken_chain(citizen, bearer):
    add_visits(citizen.citizen, dt.datetime(2025, 2, 1, 8, 0))
    activate(citizen)
    sync(citizen)
    client = Client()
    headers = api_headers(client, citizen, bearer)
    before = AccessLog.objects.filter(owner_id=citizen.citizen_id).count()
    statuses: list[int] = []
    lock = threading.Lock()

    def reader() -> None:
        mine = Client()
        try:
            for _ in range(15):
                status = mine.get("/api/v1/me/book/years/2025/visits", **headers).status_code
                with lock:
                    statuses.append(status)
        finally:
            connections.close_all()

    _in_threads(reader)
    assert statuses == [200] * 60
    assert AccessLog.objects.filter(owner_id=citizen.citizen_id).count() == before + 60
    assert verify_chain(citizen.citizen_id).ok


@pytest.mark.django_db(transaction=True)
def test_general_reads_racing_on_one_book_all_succeed_on_one_unbroken_chain(citizen):
    """The general path (pages, representatives, clinicians) appends without a lock, like the fast one."""
    add_visits(citizen.citizen, dt.datetime(2025, 2, 1, 8, 0))
    activate(citizen)
    sync(citizen)
    before = AccessLog.objects.filter(owner_id=citizen.citizen_id).count()
    done: list[int] = []
    lock = threading.Lock()

    def reader() -> None:
        try:
            for _ in range(10):
                read = reads.visits_for_year(
                    viewer=citizen, who=citizen.citizen_id, year=2025, gate=lambda _a: True, context=CTX
                )
                with lock:
                    done.append(read.data.page.total if read.data else -1)
        finally:
            connections.close_all()

    _in_threads(reader)
    assert done == [1] * 40
    assert AccessLog.objects.filter(owner_id=citizen.citizen_id).count() == before + 40
    assert verify_chain(citizen.citizen_id).ok


def test_each_hot_read_costs_one_query_that_checks_both_tokens(client, citizen, rich, bearer):
    from django.test.utils import CaptureQueriesContext

    headers = api_headers(client, citizen, bearer)
    for url in ("/api/v1/me/book/years/2025/visits", f"/api/v1/me/book/visits/{rich.pk}"):
        assert client.get(url, **headers).status_code == 200  # the token's "last used" is written once
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url, **headers).status_code == 200
        # Inside the test's transaction a savepoint wraps the statement (to retry a refused row).
        sql = [q["sql"] for q in captured.captured_queries if "SAVEPOINT" not in q["sql"]]
        assert len(sql) == 1, sql
        assert (
            '"identity_apitoken"' in sql[0] and '"healthbook_booktoken"' in sql[0] and "INSERT INTO" in sql[0]
        )


def test_a_bad_bearer_token_is_401_and_a_book_token_alone_opens_nothing(
    client, citizen, rich, bearer, general_reads_forbidden
):
    headers = api_headers(client, citizen, bearer)
    count = AccessLog.objects.count()
    wrong_secret = spoilt(headers["HTTP_AUTHORIZATION"].removeprefix("Bearer "))
    for url in ("/api/v1/me/book/years/2025/visits", f"/api/v1/me/book/visits/{rich.pk}"):
        for authorization in (f"Bearer {wrong_secret}", "Bearer short", None):
            wrong = (
                {**headers, "HTTP_AUTHORIZATION": authorization}
                if authorization
                else {k: v for k, v in headers.items() if k != "HTTP_AUTHORIZATION"}
            )
            response = client.get(url, **wrong)
            assert response.status_code == 401, (url, authorization)
    assert AccessLog.objects.count() == count


def test_the_hot_reads_keep_the_tokens_bookkeeping(client, citizen, rich, bearer):
    """What a checked bearer token writes: "last used" at most once a minute, a changed app version."""
    headers = api_headers(client, citizen, bearer)
    token = ApiToken.objects.get(user=citizen)
    stale = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=stale)
    url = f"/api/v1/me/book/visits/{rich.pk}"
    assert client.get(url, **{**headers, "HTTP_X_APP_VERSION": "2.3.1"}).status_code == 200
    token.refresh_from_db()
    citizen.refresh_from_db()
    assert token.last_used_at > stale and citizen.app_version == "2.3.1"
    used = token.last_used_at
    assert client.get("/api/v1/me/book/years/2025/visits", **headers).status_code == 200
    token.refresh_from_db()
    citizen.refresh_from_db()
    assert token.last_used_at == used  # within the minute: not written again
    assert citizen.app_version == "2.1.0"


def test_a_staff_bearer_token_gets_the_plain_404(client, clinician, citizen, rich, bearer):
    headers = api_headers(client, citizen, bearer)
    staff = bearer(clinician)
    for url in ("/api/v1/me/book/years/2025/visits", f"/api/v1/me/book/visits/{rich.pk}"):
        response = client.get(url, **{**headers, **staff})
        assert response.status_code == 404, url


def test_a_bad_bearer_token_beside_a_signed_in_session_answers_as_the_session(client, citizen, rich, bearer):
    """As everywhere in the API (``api_auth``): the bearer token first, then the page's session."""
    headers = api_headers(client, citizen, bearer)
    wrong_secret = spoilt(headers["HTTP_AUTHORIZATION"].removeprefix("Bearer "))
    client.force_login(citizen)
    response = client.get(
        "/api/v1/me/book/years/2025/visits", **{**headers, "HTTP_AUTHORIZATION": f"Bearer {wrong_secret}"}
    )
    assert response.status_code == 200 and response.json()["total"] == 3
