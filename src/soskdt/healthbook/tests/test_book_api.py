"""The book for the mobile client under /api/v1/me/book/: first use, unlock, reads with ETags, the schema."""

import datetime as dt

import pytest

from soskdt.healthbook import terms
from soskdt.healthbook.models import Book
from soskdt.healthbook.tests.conftest import PASSCODE, add_rich_visit, add_visits, api_headers

API = "/api/v1/me/book/"


def post(client, path, body=None, **headers):
    return client.post(API + path, body or {}, content_type="application/json", **headers)


def test_first_use_through_the_api(client, citizen, bearer):
    add_visits(citizen.citizen, dt.datetime(2025, 3, 10, 8, 30))
    headers = bearer(citizen)
    state = client.get(API, **headers).json()
    assert state["next_step"] == "accept_terms" and state["activated"] is False
    assert state["current_terms_version"] == terms.CURRENT_VERSION
    text = client.get(API + "terms", **headers).json()
    assert text["version"] == terms.CURRENT_VERSION and len(text["paragraphs"]) >= 3

    refused = post(
        client,
        "activate",
        {"accept_terms": False, "terms_version": terms.CURRENT_VERSION, "passcode": PASSCODE},
        **headers,
    )
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "BOOK_TERMS_NOT_ACCEPTED"
    weak = post(
        client,
        "activate",
        {"accept_terms": True, "terms_version": terms.CURRENT_VERSION, "passcode": "123456"},
        **headers,
    )
    assert weak.status_code == 422 and weak.json()["error"]["code"] == "PASSCODE_TOO_SIMPLE"
    assert not Book.objects.exists()  # nothing half-done

    done = post(
        client,
        "activate",
        {"accept_terms": True, "terms_version": terms.CURRENT_VERSION, "passcode": PASSCODE},
        **headers,
    )
    assert done.status_code == 200
    assert done.json()["activated"] is True and done.json()["next_step"] == "unlock"
    book = Book.objects.get(citizen=citizen.citizen)
    assert book.terms_version == terms.CURRENT_VERSION and book.terms_accepted_at is not None

    token = post(client, "unlock", {"passcode": PASSCODE}, **headers).json()
    assert set(token) == {"book_token", "expires_at"}
    opened = {**headers, "HTTP_X_BOOK_TOKEN": token["book_token"]}
    assert client.get(API, **opened).json()["next_step"] == "open"
    assert post(client, "sync", **opened).json()["new_visits"] == 1
    assert client.get(API + "years", **opened).json()["years"] == [{"year": 2025, "visits": 1}]


def test_reads_without_the_book_token_are_refused(client, citizen, bearer):
    headers = bearer(citizen)
    post(
        client,
        "activate",
        {"accept_terms": True, "terms_version": terms.CURRENT_VERSION, "passcode": PASSCODE},
        **headers,
    )
    response = client.get(API + "years", **headers)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "BOOK_LOCKED"
    assert response.json()["error"]["message"] == "Sổ đang đóng. Vui lòng nhập passcode để mở sổ."


def test_reads_of_a_book_not_yet_activated_say_so(client, citizen, bearer):
    response = client.get(API + "years", **bearer(citizen))
    assert response.status_code == 409 and response.json()["error"]["code"] == "BOOK_NOT_ACTIVATED"


def test_a_level1_account_is_told_to_reach_level2(client, level1_citizen, bearer):
    response = post(
        client,
        "activate",
        {"accept_terms": True, "terms_version": terms.CURRENT_VERSION, "passcode": PASSCODE},
        **bearer(level1_citizen),
    )
    assert response.status_code == 403 and response.json()["error"]["code"] == "BOOK_LEVEL2_REQUIRED"


@pytest.fixture
def rich(family):
    return add_rich_visit(family.parent.citizen, admitted_at=dt.datetime(2025, 5, 4, 7, 45))


@pytest.fixture
def opened(client, family, rich, bearer):
    headers = api_headers(client, family.parent, bearer)
    post(client, "sync", **headers)
    return headers


def test_the_visits_of_a_year_are_paginated_newest_first(client, opened):
    first = client.get(API + "years/2025/visits?page=1&page_size=2", **opened).json()
    assert (first["page"], first["page_size"], first["total"]) == (1, 2, 3)
    dates = [item["admitted_at"][:10] for item in first["items"]]
    assert dates == sorted(dates, reverse=True)
    item = first["items"][0]
    assert item["facility"] == {"code": "79048", "name": "Bệnh viện 79048"}
    assert item["visit_type"] == {"code": "03", "label": "Điều trị nội trú"}
    assert item["main_diagnosis"] == {"code": "J15.9", "text": "Viêm phổi do vi khuẩn"}
    last = client.get(API + "years/2025/visits?page=2&page_size=2", **opened).json()
    assert len(last["items"]) == 1
    assert client.get(API + "years/2025/visits?page_size=500", **opened).status_code == 422


def test_the_visit_detail_has_every_section(client, opened, rich):
    visit_id = rich.pk
    body = client.get(API + f"visits/{visit_id}", **opened).json()
    assert body["diagnoses"][0] == {"code": "J15.9", "text": "Viêm phổi do vi khuẩn", "main": True}
    assert body["drugs"][0]["route"] == {"code": "1.01", "label": "Uống"}
    for key in ("record_summary", "discharge_paper", "referral", "follow_up"):
        assert body[key]["rows"], key
    assert {row["label"] for row in body["administrative"]["rows"]} >= {
        "Họ và tên",
        "Ngày sinh",
        "Số định danh cá nhân",
    }
    assert [tab["code"] for tab in body["tabs"]] == ["lab", "imaging", "functional", "drugs", "procedures"]
    lab = client.get(API + f"visits/{visit_id}/tabs/lab", **opened).json()
    results = {r["indicator_code"]: r for s in lab["visits"][0]["services"] for r in s["results"]}
    assert (results["WBC"]["flag"], results["WBC"]["reference_range"]) == ("high", "4 – 10")
    assert results["GLU"]["flag"] is None


def test_a_tab_across_the_year_is_paginated_by_visit(client, opened):
    body = client.get(API + "years/2025/tabs/drugs?page_size=1", **opened).json()
    assert (body["tab"], body["label"], body["year"], body["total"], len(body["visits"])) == (
        "drugs",
        "Thuốc đã điều trị",
        2025,
        3,
        1,
    )
    assert client.get(API + "years/2025/tabs/billing", **opened).status_code == 422


@pytest.mark.parametrize(
    "path", ["years", "years/2025/visits", "years/2025/tabs/lab", "visits/{v}", "visits/{v}/tabs/imaging"]
)
def test_an_unchanged_book_answers_304_to_if_none_match(client, opened, family, path):
    url = API + path.format(v=family.parent_visits[0].pk)
    first = client.get(url, **opened)
    etag = first["ETag"]
    assert etag.startswith('W/"') and first["Cache-Control"] == "private, no-cache"
    again = client.get(url, HTTP_IF_NONE_MATCH=etag, **opened)
    assert again.status_code == 304 and again.content == b"" and again["ETag"] == etag
    assert client.get(url, HTTP_IF_NONE_MATCH='W/"other"', **opened).status_code == 200


def test_the_etag_changes_when_the_book_changes(client, opened, family):
    url = API + "years/2025/visits"
    etag = client.get(url, **opened)["ETag"]
    add_visits(family.parent.citizen, dt.datetime(2025, 12, 1, 8, 0))
    assert client.get(url, HTTP_IF_NONE_MATCH=etag, **opened).status_code == 304  # not synced yet
    post(client, "sync", **opened)
    assert client.get(url, HTTP_IF_NONE_MATCH=etag, **opened).status_code == 200


def test_a_malformed_citizen_parameter_is_a_validation_error(client, opened):
    response = client.get(API + "years?citizen=12", **opened)
    assert response.status_code == 422 and response.json()["error"]["code"] == "VALIDATION_FAILED"


def test_the_openapi_schema_documents_the_book_with_examples(client):
    schema = client.get("/api/v1/openapi.json").json()
    paths = schema["paths"]
    for path in (
        "/api/v1/me/book/",
        "/api/v1/me/book/activate",
        "/api/v1/me/book/unlock",
        "/api/v1/me/book/passcode/reset-request",
        "/api/v1/me/book/passcode/reset",
        "/api/v1/me/book/sync",
        "/api/v1/me/book/years",
        "/api/v1/me/book/years/{year}/visits",
        "/api/v1/me/book/years/{year}/tabs/{tab}",
        "/api/v1/me/book/visits/{visit_id}",
        "/api/v1/me/book/visits/{visit_id}/tabs/{tab}",
        "/api/v1/me/book/visits/{visit_id}/pdf",
    ):
        assert path in paths, path
    components = schema["components"]["schemas"]
    for name in (
        "BookState",
        "BookActivate",
        "BookTokenRead",
        "SyncRead",
        "YearList",
        "VisitList",
        "VisitRead",
        "TabRead",
    ):
        assert name in components, name
    for name in ("BookState", "VisitList", "VisitRead", "SyncRead", "BookTokenRead"):
        assert components[name].get("examples"), name
    pdf = paths["/api/v1/me/book/visits/{visit_id}/pdf"]["get"]["responses"]["200"]
    assert "application/pdf" in pdf["content"]
    unlock = paths["/api/v1/me/book/unlock"]["post"]["responses"]
    assert {"200", "401", "429"} <= set(unlock)
    years = paths["/api/v1/me/book/years"]["get"]
    assert "304" in years["responses"]
    assert any(p["name"] == "citizen" for p in years["parameters"])
