"""Authorisation matrix of the clinician's pages and API: only the right clinician, within scope, while live.

Every refusal is the same 404, writes a ``denied`` row on the book and no ``success`` row.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from soskdt.identity.models import User
from soskdt.sharing import services
from soskdt.sharing.models import ShareGrant
from soskdt.sharing.tests.conftest import CTX, SharedBook, denials, open_session, share, successes

pytestmark = pytest.mark.django_db


def _book_url(session: Any, name: str = "book", *args: Any) -> str:
    return reverse(f"sharing:shared_book:{name}", args=[session.public_id, *args])


def test_the_clinician_who_opened_the_share_reads_the_book_within_scope(
    client: Any, book: SharedBook, clinician: User
) -> None:
    session = open_session(clinician, share(book.owner, years=[2025], categories=["visits", "lab"]))
    client.force_login(clinician)
    home = client.get(_book_url(session))
    assert home.status_code == 200
    assert book.citizen.full_name in home.content.decode()
    year = client.get(_book_url(session, "year", 2025))
    assert year.status_code == 200
    assert f"/dot-kham/{book.v2025.pk}/" in year.content.decode()
    detail = client.get(_book_url(session, "visit", book.v2025.pk))
    assert detail.status_code == 200
    assert "Chẩn đoán xác định khi ra viện" in detail.content.decode()
    assert client.get(_book_url(session, "visit_tab", book.v2025.pk, "xet-nghiem")).status_code == 200
    actions = [r.action for r in successes(book.citizen, clinician)]
    assert actions == ["share.open", "book.open", "visits.year", "visit.detail", "tab.lab"]
    assert all(r.facility_id == clinician.facility_id for r in successes(book.citizen, clinician))
    assert all(r.actor_kind == "clinician" for r in successes(book.citizen, clinician))
    assert denials(book.citizen, clinician) == []


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("year", lambda b: [2024]),  # year outside the share
        ("visit", lambda b: [b.v2024.pk]),  # visit of a year outside the share
        ("visit_tab", lambda b: [b.v2025.pk, "thuoc-da-dieu-tri"]),  # category not shared
        ("year_tab", lambda b: [2025, "chan-doan-hinh-anh"]),  # category not shared
        ("visit", lambda b: [b.hiv.pk]),  # HIV visit without HIV consent
    ],
)
def test_reads_outside_the_scope_are_404_and_logged_as_denied(
    client: Any, book: SharedBook, clinician: User, name: str, args: Any
) -> None:
    session = open_session(clinician, share(book.owner, years=[2025], categories=["visits", "lab"]))
    client.force_login(clinician)
    before = len(successes(book.citizen, clinician))
    response = client.get(_book_url(session, name, *args(book)))
    assert response.status_code == 404
    assert len(successes(book.citizen, clinician)) == before
    assert len(denials(book.citizen, clinician)) == 1


def _expire(share_id: int) -> None:
    ShareGrant.objects.filter(pk=share_id).update(expires_at=timezone.now() - dt.timedelta(seconds=1))


def _revoke(share_id: int, owner: User) -> None:
    services.revoke_share(viewer=owner, share_id=share_id, context=CTX)


@pytest.mark.parametrize("end", ["expired", "revoked", "disabled"])
def test_a_session_ends_with_its_share(client: Any, book: SharedBook, clinician: User, end: str) -> None:
    created = share(book.owner)
    session = open_session(clinician, created)
    client.force_login(clinician)
    assert client.get(_book_url(session)).status_code == 200
    if end == "expired":
        _expire(created.share.pk)
    elif end == "revoked":
        _revoke(created.share.pk, book.owner)
    else:
        ShareGrant.objects.filter(pk=created.share.pk).update(disabled_at=timezone.now())
    before = len(successes(book.citizen, clinician))
    for url in (_book_url(session), _book_url(session, "visit", book.v2025.pk)):
        assert client.get(url).status_code == 404
    assert len(successes(book.citizen, clinician)) == before
    assert len(denials(book.citizen, clinician)) == 2
    # and the code no longer opens it
    with pytest.raises(services.NotFound):
        open_session(clinician, created)


def test_another_clinician_with_the_same_session_id_gets_404(
    client: Any, book: SharedBook, clinician: User, colleague: User
) -> None:
    session = open_session(clinician, share(book.owner))
    client.force_login(colleague)
    assert client.get(_book_url(session)).status_code == 404
    assert client.get(_book_url(session, "visit", book.v2025.pk)).status_code == 404
    assert successes(book.citizen, colleague) == []
    assert len(denials(book.citizen, colleague)) == 2


def test_the_session_is_bound_to_the_facility_that_opened_it(
    client: Any, book: SharedBook, clinician: User, elsewhere_clinician: User
) -> None:
    session = open_session(clinician, share(book.owner))
    clinician.facility = elsewhere_clinician.facility  # the clinician moves to another facility
    clinician.save(update_fields=["facility"])
    client.force_login(clinician)
    assert client.get(_book_url(session)).status_code == 404
    assert denials(book.citizen, clinician)[-1].facility_id == elsewhere_clinician.facility_id


def test_a_share_bound_to_a_facility_does_not_open_elsewhere(
    book: SharedBook, clinician: User, elsewhere_clinician: User
) -> None:
    created = share(book.owner, facility_code=clinician.facility.code)
    with pytest.raises(services.NotFound):
        open_session(elsewhere_clinician, created)
    assert successes(book.citizen, elsewhere_clinician) == []
    assert len(denials(book.citizen, elsewhere_clinician)) == 1
    assert open_session(clinician, created).facility_id == clinician.facility_id


def test_a_wrong_code_opens_nothing(client: Any, book: SharedBook, clinician: User) -> None:
    share(book.owner)
    client.force_login(clinician)
    response = client.post(reverse("sharing:home"), {"code": "ZZZZ-ZZZZ"})
    assert response.status_code == 404
    assert successes(book.citizen, clinician) == []


def test_the_typed_code_is_forgiving_about_case_spaces_and_dashes(book: SharedBook, clinician: User) -> None:
    created = share(book.owner)
    typed = f" {created.code[:4].lower()} - {created.code[4:]} "
    session = services.open_share(viewer=clinician, code=typed, context=CTX)
    assert session.share_id == created.share.pk


def test_other_citizens_and_staff_without_the_role_get_404(
    client: Any, book: SharedBook, clinician: User, other_citizen: User, unit_reporter: User
) -> None:
    session = open_session(clinician, share(book.owner))
    for user in (book.owner, other_citizen, unit_reporter):
        client.force_login(user)
        assert client.get(_book_url(session)).status_code == 404
        assert client.get(reverse("sharing:home")).status_code == 404
    assert successes(book.citizen, clinician)[-1].action == "share.open"


def test_a_citizen_cannot_see_or_revoke_someone_elses_share(
    client: Any, book: SharedBook, other_citizen: User
) -> None:
    created = share(book.owner)
    client.force_login(other_citizen)
    assert client.get(reverse("sharing:share_detail", args=[created.share.pk])).status_code == 404
    assert client.post(reverse("sharing:share_revoke", args=[created.share.pk])).status_code == 404
    created.share.refresh_from_db()
    assert created.share.revoked_at is None


# --- the API ---------------------------------------------------------------------------------------------


@pytest.fixture
def api(client: Any, bearer: Any) -> Any:
    def call(user: User, method: str, path: str, data: Any = None) -> Any:
        headers = bearer(user)
        if method == "get":
            return client.get(f"/api/v1/{path}", **headers)
        return client.post(f"/api/v1/{path}", data or {}, content_type="application/json", **headers)

    return call


@pytest.fixture
def bearer() -> Any:
    from soskdt.identity import services as identity_services

    def make(user: User) -> dict[str, str]:
        plaintext, _token = identity_services.issue_api_token(user=user)
        return {"HTTP_AUTHORIZATION": f"Bearer {plaintext}", "HTTP_X_APP_VERSION": "2.1.0"}

    return make


def test_api_walk_share_open_read_revoke(
    api: Any, book: SharedBook, clinician: User, colleague: User
) -> None:
    created = api(book.owner, "post", "me/shares", {"years": [2025], "categories": ["visits", "lab"]})
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["status"] == "active" and len(body["code"]) == 9 and "#ma=" in body["qr_url"]
    opened = api(clinician, "post", "clinician/shares/open", {"code": body["code"]})
    assert opened.status_code == 200, opened.content
    session = opened.json()["session"]
    assert opened.json()["patient"]["personal_id"] == book.citizen.personal_id
    years = api(clinician, "get", f"clinician/books/{session}/years")
    assert years.status_code == 200
    assert [y["year"] for y in years.json()["years"]] == [2025]
    visits = api(clinician, "get", f"clinician/books/{session}/years/2025/visits")
    assert [v["id"] for v in visits.json()["items"]] == [book.v2025.pk]  # the HIV visit is hidden
    assert api(clinician, "get", f"clinician/books/{session}/visits/{book.v2025.pk}").status_code == 200
    lab = api(clinician, "get", f"clinician/books/{session}/visits/{book.v2025.pk}/tabs/lab")
    assert lab.status_code == 200
    assert "HIV" not in lab.content.decode()
    # out of scope, other clinician
    assert api(clinician, "get", f"clinician/books/{session}/visits/{book.v2024.pk}").status_code == 404
    assert (
        api(clinician, "get", f"clinician/books/{session}/visits/{book.v2025.pk}/tabs/drugs").status_code
        == 404
    )
    assert api(colleague, "get", f"clinician/books/{session}/years").status_code == 404
    assert api(book.owner, "get", f"clinician/books/{session}/years").status_code == 404
    # the citizen sees the reads, then revokes
    log = api(book.owner, "get", "me/access-log").json()
    assert any(
        e["actor_kind"] == "clinician" and clinician.facility.name in e["facility"] for e in log["items"]
    )
    notices = api(book.owner, "get", "me/notices").json()
    assert len(notices) == len(successes(book.citizen, clinician))
    listed = api(book.owner, "get", "me/shares").json()
    assert [s["id"] for s in listed] == [body["id"]]
    revoked = api(book.owner, "post", f"me/shares/{body['id']}/revoke")
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    assert api(clinician, "get", f"clinician/books/{session}/years").status_code == 404
    assert api(clinician, "post", "clinician/shares/open", {"code": body["code"]}).status_code == 404


def test_api_refuses_wrong_callers(api: Any, book: SharedBook, clinician: User, other_citizen: User) -> None:
    assert api(clinician, "post", "me/shares", {}).status_code == 404
    assert api(other_citizen, "post", "clinician/shares/open", {"code": "ABCD-EFGH"}).status_code == 404
    created = api(book.owner, "post", "me/shares", {}).json()
    assert api(other_citizen, "post", f"me/shares/{created['id']}/revoke").status_code == 404
    wrong = api(clinician, "post", "clinician/shares/open", {"code": "ZZZZ-ZZZZ"})
    assert wrong.status_code == 404 and wrong.json()["error"]["code"] == "NOT_FOUND"
