"""GET /api/v1/me/fhir and the clinician's GET /api/v1/clinician/books/{session}/fhir: who gets what, logged."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from soskdt.healthbook.models import AccessLog, ActorKind
from soskdt.identity import services as identity_services
from soskdt.identity.models import User
from soskdt.sharing import fhir
from soskdt.sharing.tests.test_summary_support import (
    CTX,
    PASSCODE,
    citizen_of,
    drug,
    lab,
    local,
    open_book,
    record,
)

pytestmark = pytest.mark.django_db

URL = "/api/v1/me/fhir"


def bearer(user: User) -> dict[str, str]:
    plaintext, _token = identity_services.issue_api_token(user=user)
    return {"HTTP_AUTHORIZATION": f"Bearer {plaintext}"}


def unlocked(client: Client, user: User) -> dict[str, str]:
    headers = bearer(user)
    response = client.post(
        "/api/v1/me/book/unlock", {"passcode": PASSCODE}, content_type="application/json", **headers
    )
    assert response.status_code == 200, response.content
    return {**headers, "HTTP_X_BOOK_TOKEN": response.json()["book_token"]}


def fhir_rows(owner: User) -> list[AccessLog]:
    return list(AccessLog.objects.filter(owner_id=owner.citizen_id, action=fhir.ACTION).order_by("id"))


@pytest.fixture
def book(citizen: User) -> User:
    person = citizen_of(citizen)
    record(
        person,
        admitted_at=local(2025, 5, 1),
        icds=("B20",),
        drugs=[drug("Tenofovir + Lamivudin + Dolutegravir", dose="* 30 ngày")],
    )
    record(
        person,
        admitted_at=local(2025, 5, 20),
        icds=("I10",),
        drugs=[drug("Amlodipin 5mg")],
        results=[lab("GLU", "Glucose", "7.1", "mmol/L")],
    )
    record(person, admitted_at=local(2024, 3, 1), icds=("J45.9",))
    open_book(citizen)
    return citizen


def test_the_citizen_downloads_their_own_book_as_fhir_and_the_read_is_logged(
    client: Client, book: User
) -> None:
    response = client.get(URL, **unlocked(client, book))

    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("application/fhir+json")
    bundle = response.json()
    fhir.validate(bundle)
    patient = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient")
    assert patient["identifier"][0]["value"] == citizen_of(book).personal_id
    assert "B20" in response.content.decode()  # the owner sees everything
    (row,) = fhir_rows(book)
    assert row.actor_id == book.pk and row.actor_kind == ActorKind.CITIZEN and row.channel == "api"


def test_without_the_book_token_the_book_stays_locked(client: Client, book: User) -> None:
    response = client.get(URL, **bearer(book))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "BOOK_LOCKED"
    assert fhir_rows(book) == []


def test_another_citizens_book_is_not_found(client: Client, book: User, other_citizen: User) -> None:
    response = client.get(f"{URL}?citizen={citizen_of(book).personal_id}", **bearer(other_citizen))
    assert response.status_code == 404
    assert fhir_rows(book) == []


def test_staff_and_anonymous_callers_get_nothing(client: Client, book: User, clinician: User) -> None:
    assert client.get(URL, **bearer(clinician)).status_code == 404
    assert client.get(URL).status_code == 401
    assert fhir_rows(book) == []


def _session(book: User, clinician: User, **scope: Any) -> str:
    from soskdt.sharing import services

    created = services.create_share(viewer=book, who=book.citizen_id or 0, context=CTX, **scope)
    return services.open_share(viewer=clinician, code=created.code, context=CTX).public_id


def test_a_clinician_within_a_share_gets_the_scoped_bundle_and_the_citizen_is_told(
    client: Client, book: User, clinician: User
) -> None:
    from soskdt.sharing.models import Notice

    session = _session(book, clinician, categories=["visits", "drugs", "lab"], years=[2025])

    response = client.get(f"/api/v1/clinician/books/{session}/fhir", **bearer(clinician))

    assert response.status_code == 200, response.content
    bundle = response.json()
    fhir.validate(bundle)
    text = response.content.decode()
    assert "B20" not in text and "Tenofovir" not in text  # no HIV consent in this share
    assert "J45.9" not in text  # 2024 is outside the share
    assert "Amlodipin" in text and "I10" in text
    (row,) = fhir_rows(book)
    assert row.actor_id == clinician.pk and row.actor_kind == ActorKind.CLINICIAN
    assert row.facility_id == clinician.facility_id
    assert Notice.objects.filter(access_log=row, citizen_id=book.citizen_id).exists()


def test_a_clinician_without_that_session_gets_404(
    client: Client, book: User, clinician: User, org_tree: Any
) -> None:
    from soskdt import testing
    from soskdt.identity.models import Role

    session = _session(book, clinician, categories=["visits"])
    colleague = testing.make_staff(
        full_name="Lê Thị Mai",
        org_unit=org_tree.departments[0],
        facility=org_tree.centre_facility,
        roles=[Role.CLINICIAN],
    )

    assert client.get(f"/api/v1/clinician/books/{session}/fhir", **bearer(colleague)).status_code == 404
    assert client.get("/api/v1/clinician/books/nope/fhir", **bearer(clinician)).status_code == 404
    assert client.get(f"/api/v1/clinician/books/{session}/fhir", **bearer(book)).status_code == 404
    assert fhir_rows(book) == []
