"""Who may open which book: one's own and those one represents; everything else is 404 and changes nothing.

The matrix: own book, a represented child, another citizen's book, staff accounts, the anonymous — for
every page and every API endpoint of the book.
"""

import datetime as dt

import pytest
from django.urls import reverse

from soskdt import testing
from soskdt.healthbook import book as services
from soskdt.healthbook.models import AccessLog, Book
from soskdt.healthbook.tests.conftest import CTX, activate, add_visits, api_headers, sync, unlock_page

YEAR = 2025

# (url name, how to build its args from (pid, visit id)); all GET and all reads of the book.
PAGE_READS = [
    ("healthbook:book", lambda pid, v: [pid]),
    ("healthbook:year", lambda pid, v: [pid, YEAR]),
    ("healthbook:year_tab", lambda pid, v: [pid, YEAR, "xet-nghiem"]),
    ("healthbook:visit", lambda pid, v: [pid, v]),
    ("healthbook:visit_tab", lambda pid, v: [pid, v, "thuoc-da-dieu-tri"]),
    ("healthbook:visit_pdf", lambda pid, v: [pid, v]),
]
PAGE_STEPS = [
    ("get", "healthbook:terms", lambda pid, v: [pid]),
    ("get", "healthbook:unlock", lambda pid, v: [pid]),
    ("post", "healthbook:sync", lambda pid, v: [pid]),
    ("post", "healthbook:lock", lambda pid, v: [pid]),
]
ACCOUNT_PAGES = [
    "healthbook:home",
    "healthbook:profile",
    "healthbook:forgot_passcode",
    "healthbook:reset_passcode",
]
API_READS = [
    ("get", "years"),
    ("get", f"years/{YEAR}/visits"),
    ("get", f"years/{YEAR}/tabs/lab"),
    ("get", "visits/{v}"),
    ("get", "visits/{v}/tabs/drugs"),
    ("get", "visits/{v}/pdf"),
    ("post", "sync"),
]
API_BOOK_STEPS = [("get", ""), ("post", "unlock"), ("post", "activate")]
API_ACCOUNT = [("get", "terms"), ("get", "people"), ("post", "passcode/reset-request"), ("post", "lock")]
STAFF = ["clinician", "centre_admin", "unit_reporter", "staff_member"]


def page_url(name, args, pid, visit_id):
    return reverse(name, args=args(pid, visit_id))


def api_url(path, visit_id, who=None):
    url = "/api/v1/me/book/" + path.format(v=visit_id)
    return f"{url}?citizen={who}" if who else url


def call(client, method, url, **headers):
    body = {"passcode": "246813", "accept_terms": True, "terms_version": "2025.1"}
    if method == "post":
        return client.post(url, body, content_type="application/json", **headers)
    return client.get(url, **headers)


def owner_log_count(citizen):
    return AccessLog.objects.filter(owner=citizen).count()


# --- own book and a represented child's book ---------------------------------------------------------------


@pytest.mark.parametrize(("name", "args"), PAGE_READS)
def test_a_citizen_reads_their_own_book_on_every_page(client, family, name, args):
    unlock_page(client, family.parent)
    pid, visit_id = family.parent.username, family.parent_visits[0].pk
    assert client.get(page_url(name, args, pid, visit_id)).status_code == 200


@pytest.mark.parametrize(("name", "args"), PAGE_READS)
def test_a_parent_reads_their_child_s_book_on_every_page(client, family, name, args):
    unlock_page(client, family.parent, family.child.personal_id)
    pid, visit_id = family.child.personal_id, family.child_visits[0].pk
    before = owner_log_count(family.child)
    assert client.get(page_url(name, args, pid, visit_id)).status_code == 200
    row = AccessLog.objects.filter(owner=family.child).latest("id")
    assert (row.actor, row.actor_kind, owner_log_count(family.child)) == (
        family.parent,
        "representative",
        before + 1,
    )


@pytest.mark.parametrize(("method", "path"), API_READS)
def test_the_api_gives_a_citizen_their_own_book(client, family, bearer, method, path):
    headers = api_headers(client, family.parent, bearer)
    response = call(client, method, api_url(path, family.parent_visits[0].pk), **headers)
    assert response.status_code == 200


@pytest.mark.parametrize(("method", "path"), API_READS)
def test_the_api_gives_a_parent_their_child_s_book(client, family, bearer, method, path):
    pid = family.child.personal_id
    headers = api_headers(client, family.parent, bearer, who=pid)
    response = call(client, method, api_url(path, family.child_visits[0].pk, pid), **headers)
    assert response.status_code == 200


def test_each_book_has_its_own_unlock(client, family, bearer):
    # Unlocking one's own book does not open the child's (and the other way round).
    pid = family.child.personal_id
    own = api_headers(client, family.parent, bearer)
    response = client.get(api_url("years", 0, pid), **own)
    assert response.status_code == 401 and response.json()["error"]["code"] == "BOOK_LOCKED"
    unlock_page(client, family.parent)
    response = client.get(reverse("healthbook:book", args=[pid]))
    assert response.status_code == 302 and response.url.startswith(reverse("healthbook:unlock", args=[pid]))


def test_a_child_s_visit_is_not_found_in_the_parent_s_own_book(client, family, bearer):
    headers = api_headers(client, family.parent, bearer)
    assert client.get(api_url("visits/{v}", family.child_visits[0].pk), **headers).status_code == 404


def test_the_people_managed_are_listed_for_the_parent(client, family, bearer):
    body = client.get("/api/v1/me/book/people", **bearer(family.parent)).json()
    assert [(p["personal_id"], p["relation"], p["book_activated"]) for p in body] == [
        (family.child.personal_id, "Con", True)
    ]
    client.force_login(family.parent)
    html = client.get(reverse("healthbook:home")).content.decode()
    assert "Người được quản lý" in html and family.child.full_name in html
    assert reverse("healthbook:book", args=[family.child.personal_id]) in html


def test_a_represented_adult_s_book_opens_too_but_not_a_represented_teenager_s(client, citizen, bearer):
    activate(citizen)
    this_year = dt.date.today().year
    adult = testing.make_citizen(birth_year=this_year - 80, representative=citizen.citizen)
    teenager = testing.make_citizen(birth_year=this_year - 15, representative=citizen.citizen)
    services.accept_terms(viewer=citizen, who=adult.pk, terms_version="2025.1", context=CTX)
    headers = bearer(citizen)
    assert client.get(f"/api/v1/me/book/?citizen={adult.personal_id}", **headers).status_code == 200
    assert client.get(f"/api/v1/me/book/?citizen={teenager.personal_id}", **headers).status_code == 404
    people = [p["personal_id"] for p in client.get("/api/v1/me/book/people", **headers).json()]
    assert people == [adult.personal_id]


# --- another citizen ---------------------------------------------------------------------------------------


@pytest.fixture
def stranger(client, other_citizen):
    """Another citizen with an activated, unlocked book of their own."""
    add_visits(other_citizen.citizen, dt.datetime(2025, 2, 2, 8, 0))
    activate(other_citizen)
    sync(other_citizen)
    return other_citizen


@pytest.mark.parametrize(("name", "args"), PAGE_READS)
def test_another_citizen_s_book_is_404_on_every_page(client, family, stranger, name, args):
    unlock_page(client, stranger)
    before = owner_log_count(family.parent.citizen)
    for pid, visit_id in (
        (family.parent.username, family.parent_visits[0].pk),
        (family.child.personal_id, family.child_visits[0].pk),
        (stranger.username, family.parent_visits[0].pk),  # their own book, someone else's visit
        ("079999999999", 10**9),  # nobody
    ):
        if name in ("healthbook:book", "healthbook:year", "healthbook:year_tab") and pid == stranger.username:
            continue
        assert client.get(page_url(name, args, pid, visit_id)).status_code == 404, (pid, visit_id)
    assert owner_log_count(family.parent.citizen) == before


@pytest.mark.parametrize(("method", "name", "args"), PAGE_STEPS)
def test_another_citizen_cannot_reach_the_gates_of_a_book(client, family, stranger, method, name, args):
    unlock_page(client, stranger)
    before = Book.objects.get(citizen=family.parent.citizen).last_synced_at
    response = getattr(client, method)(page_url(name, args, family.parent.username, 0))
    assert response.status_code == 404
    assert Book.objects.get(citizen=family.parent.citizen).last_synced_at == before


@pytest.mark.parametrize(("method", "path"), API_READS + API_BOOK_STEPS)
def test_the_api_answers_404_for_another_citizen_s_book(client, family, stranger, bearer, method, path):
    headers = api_headers(client, stranger, bearer)
    before = owner_log_count(family.parent.citizen)
    response = call(
        client, method, api_url(path, family.parent_visits[0].pk, family.parent.username), **headers
    )
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "NOT_FOUND", "message": "Không tìm thấy.", "details": []}}
    assert owner_log_count(family.parent.citizen) == before


def test_a_book_token_works_only_for_the_account_and_book_it_was_issued_for(client, family, stranger, bearer):
    parent = api_headers(client, family.parent, bearer)
    theirs = {**bearer(stranger), "HTTP_X_BOOK_TOKEN": parent["HTTP_X_BOOK_TOKEN"]}
    response = client.get("/api/v1/me/book/years", **theirs)
    assert response.status_code == 401 and response.json()["error"]["code"] == "BOOK_LOCKED"


# --- staff and the anonymous -------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", STAFF)
def test_staff_accounts_get_404_on_every_page(client, request, family, persona):
    client.force_login(request.getfixturevalue(persona))
    pid, visit_id = family.parent.username, family.parent_visits[0].pk
    for name, args in PAGE_READS:
        assert client.get(page_url(name, args, pid, visit_id)).status_code == 404, name
    for method, name, args in PAGE_STEPS:
        assert getattr(client, method)(page_url(name, args, pid, visit_id)).status_code == 404, name
    for name in ACCOUNT_PAGES:
        assert client.get(reverse(name)).status_code == 404, name


@pytest.mark.parametrize("persona", STAFF)
def test_the_api_answers_404_to_staff(client, request, family, bearer, persona):
    headers = bearer(request.getfixturevalue(persona))
    before = owner_log_count(family.parent.citizen)
    for method, path in API_READS + API_BOOK_STEPS + API_ACCOUNT:
        response = call(
            client, method, api_url(path, family.parent_visits[0].pk, family.parent.username), **headers
        )
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == "NOT_FOUND"
    assert owner_log_count(family.parent.citizen) == before


def test_a_superuser_is_no_exception(client, family, bearer):
    admin = testing.make_staff(is_staff=True, is_superuser=True)
    client.force_login(admin)
    assert (
        client.get(
            reverse("healthbook:visit", args=[family.parent.username, family.parent_visits[0].pk])
        ).status_code
        == 404
    )
    assert client.get(api_url("years", 0, family.parent.username), **bearer(admin)).status_code == 404


def test_the_anonymous_are_sent_to_the_citizen_login(client, family):
    pid, visit_id = family.parent.username, family.parent_visits[0].pk
    urls = [page_url(name, args, pid, visit_id) for name, args in PAGE_READS]
    urls += [page_url(name, args, pid, visit_id) for method, name, args in PAGE_STEPS if method == "get"]
    urls += [reverse(name) for name in ACCOUNT_PAGES]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith(reverse("identity:login")), url


@pytest.mark.parametrize(("method", "path"), API_READS + API_BOOK_STEPS + API_ACCOUNT)
def test_the_api_answers_401_without_credentials(client, family, method, path):
    before = owner_log_count(family.parent.citizen)
    response = call(client, method, api_url(path, family.parent_visits[0].pk))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "UNAUTHENTICATED"
    assert owner_log_count(family.parent.citizen) == before
