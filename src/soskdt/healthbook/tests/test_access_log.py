"""No book read escapes the access log: one row per read, in the read's transaction, chained per owner."""

import datetime as dt

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from soskdt.healthbook import access, reads
from soskdt.healthbook import book as services
from soskdt.healthbook.access import AccessContext, record_access, verify_chain
from soskdt.healthbook.models import GENESIS_HASH, AccessLog, Book
from soskdt.healthbook.tests.conftest import CTX, activate, add_visits, always, api_headers, unlock_page

YEAR = 2025

PAGE_READS = [
    ("healthbook:book", lambda pid, v: [pid], "book.open", ""),
    ("healthbook:year", lambda pid, v: [pid, YEAR], "visits.year", f"year:{YEAR}"),
    ("healthbook:year_tab", lambda pid, v: [pid, YEAR, "xet-nghiem"], "tab.lab", f"year:{YEAR}"),
    ("healthbook:visit", lambda pid, v: [pid, v], "visit.detail", "visit:{v}"),
    ("healthbook:visit_tab", lambda pid, v: [pid, v, "chan-doan-hinh-anh"], "tab.imaging", "visit:{v}"),
    ("healthbook:visit_pdf", lambda pid, v: [pid, v], "visit.pdf", "visit:{v}"),
]
API_READS = [
    ("get", "years", "book.open", ""),
    ("get", f"years/{YEAR}/visits", "visits.year", f"year:{YEAR}"),
    ("get", f"years/{YEAR}/tabs/functional", "tab.functional", f"year:{YEAR}"),
    ("get", "visits/{v}", "visit.detail", "visit:{v}"),
    ("get", "visits/{v}/tabs/procedures", "tab.procedures", "visit:{v}"),
    ("get", "visits/{v}/pdf", "visit.pdf", "visit:{v}"),
    ("post", "sync", "book.sync", "new:0"),
]


def rows_after(owner, last_id):
    return list(AccessLog.objects.filter(owner=owner, id__gt=last_id).order_by("id"))


def last_id():
    return AccessLog.objects.order_by("-id").values_list("id", flat=True).first() or 0


@pytest.mark.parametrize(("name", "args", "action", "target"), PAGE_READS)
def test_every_page_read_writes_exactly_one_row(client, family, name, args, action, target):
    user, visit_id = family.parent, family.parent_visits[0].pk
    unlock_page(client, user)
    start = last_id()
    response = client.get(
        reverse(name, args=args(user.username, visit_id)), HTTP_USER_AGENT="Mozilla/5.0 (Android 14)"
    )
    assert response.status_code == 200
    (row,) = rows_after(user.citizen, start)
    assert (row.action, row.target, row.outcome, row.channel) == (
        action,
        target.format(v=visit_id),
        "success",
        "page",
    )
    assert (row.actor, row.actor_kind, row.facility) == (user, "citizen", None)
    assert (row.ip_address, row.user_agent) == ("127.0.0.1", "Mozilla/5.0 (Android 14)")


@pytest.mark.parametrize(("method", "path", "action", "target"), API_READS)
def test_every_api_read_writes_exactly_one_row(client, family, bearer, method, path, action, target):
    user, visit_id = family.parent, family.parent_visits[0].pk
    headers = api_headers(client, user, bearer)
    start = last_id()
    url = "/api/v1/me/book/" + path.format(v=visit_id)
    response = getattr(client, method)(
        url, REMOTE_ADDR="2001:db8::7", HTTP_USER_AGENT="VNeID/2.1.0", **headers
    )
    assert response.status_code == 200
    (row,) = rows_after(user.citizen, start)
    assert (row.action, row.target, row.channel, row.ip_address) == (
        action,
        target.format(v=visit_id),
        "api",
        "2001:db8::7",
    )


def test_a_304_is_a_read_too(client, family, bearer):
    headers = api_headers(client, family.parent, bearer)
    url = f"/api/v1/me/book/visits/{family.parent_visits[0].pk}"
    etag = client.get(url, **headers)["ETag"]
    start = last_id()
    assert client.get(url, HTTP_IF_NONE_MATCH=etag, **headers).status_code == 304
    assert [r.action for r in rows_after(family.parent.citizen, start)] == ["visit.detail"]


def test_a_representative_s_reads_are_logged_in_the_child_s_book(client, family):
    unlock_page(client, family.parent, family.child.personal_id)
    start = last_id()
    client.get(reverse("healthbook:visit", args=[family.child.personal_id, family.child_visits[0].pk]))
    (row,) = rows_after(family.child, start)
    assert (row.actor, row.actor_kind) == (family.parent, "representative")


def test_a_refused_read_writes_nothing(client, family, bearer):
    headers = api_headers(client, family.parent, bearer)
    start = last_id()
    assert client.get("/api/v1/me/book/visits/999999999", **headers).status_code == 404
    assert client.get("/api/v1/me/book/years", **bearer(family.parent)).status_code == 401
    assert rows_after(family.parent.citizen, start) == []


def test_a_read_that_fails_after_logging_leaves_no_row(citizen, family, monkeypatch):
    start = last_id()

    def broken(*args, **kwargs):
        raise RuntimeError("renderer failed")

    monkeypatch.setattr("soskdt.healthbook.pdf.render_visit_pdf", broken)
    with pytest.raises(RuntimeError):
        reads.visit_pdf(
            viewer=citizen,
            who=citizen.citizen_id,
            visit_id=family.parent_visits[0].pk,
            gate=always,
            context=CTX,
        )
    assert rows_after(citizen.citizen, start) == []


def test_a_log_that_cannot_be_written_fails_the_read_and_rolls_back_the_sync(citizen, family, monkeypatch):
    book_before = Book.objects.get(citizen=citizen.citizen).last_synced_at
    start = last_id()

    def broken(**kwargs):
        raise IntegrityError("log unavailable")

    monkeypatch.setattr(services, "record_access", broken)
    # The reads' row always claims the start of the chain: the database refuses it (a fork), every retry.
    real_new_row = access.new_row
    monkeypatch.setattr(reads, "new_row", lambda **kw: real_new_row(**{**kw, "prev_hash": GENESIS_HASH}))
    with pytest.raises(IntegrityError):
        services.sync_book(viewer=citizen, who=citizen.citizen_id, gate=always, context=CTX)
    with pytest.raises(IntegrityError):
        reads.visit_detail(
            viewer=citizen,
            who=citizen.citizen_id,
            visit_id=family.parent_visits[0].pk,
            gate=always,
            context=CTX,
        )
    assert Book.objects.get(citizen=citizen.citizen).last_synced_at == book_before
    assert rows_after(citizen.citizen, start) == []


def test_the_rows_of_a_book_form_a_hash_chain(citizen, family):
    rows = list(AccessLog.objects.filter(owner=citizen.citizen).order_by("id"))
    assert len(rows) >= 3
    assert rows[0].prev_hash == GENESIS_HASH
    for previous, row in zip(rows, rows[1:], strict=False):
        assert row.prev_hash == previous.hash
        assert row.hash == access.chain_hash(row.prev_hash, row)
    assert verify_chain(citizen.citizen_id).ok
    # Each owner has a chain of their own.
    child_rows = AccessLog.objects.filter(owner=family.child).order_by("id")
    assert child_rows[0].prev_hash == GENESIS_HASH
    assert verify_chain(family.child.pk).rows == child_rows.count()


def test_an_edited_or_removed_row_breaks_the_chain(citizen, family):
    rows = list(AccessLog.objects.filter(owner=citizen.citizen).order_by("id"))
    AccessLog.objects.filter(pk=rows[1].pk).update(target="visit:1")
    report = verify_chain(citizen.citizen_id)
    assert not report.ok and report.broken_at == rows[1].pk
    AccessLog.objects.filter(pk=rows[1].pk).update(target=rows[1].target)
    assert verify_chain(citizen.citizen_id).ok
    AccessLog.objects.filter(pk=rows[1].pk)._raw_delete(AccessLog.objects.db)
    assert verify_chain(citizen.citizen_id).broken_at == rows[2].pk


def test_rows_are_append_only(citizen, family):
    row = AccessLog.objects.filter(owner=citizen.citizen).first()
    row.target = "changed"
    with pytest.raises(ValueError):
        row.save()
    with pytest.raises(ValueError):
        row.delete()


def test_the_chain_refuses_a_fork(citizen, family):
    book = Book.objects.get(citizen=citizen.citizen)
    first = AccessLog.objects.filter(owner=citizen.citizen).order_by("id").first()
    fork = AccessLog(
        owner=citizen.citizen,
        actor=citizen,
        actor_kind="citizen",
        action="book.open",
        outcome="success",
        at=first.at,
        channel="page",
        prev_hash=first.prev_hash,
        hash="f" * 64,
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        fork.save()
    assert record_access(
        book=book, actor_id=citizen.pk, actor_kind="citizen", action="book.open", context=CTX
    ).pk


def test_addresses_are_stored_canonically_so_the_hash_survives_the_database(citizen, family):
    book = Book.objects.get(citizen=citizen.citizen)
    for address in ("::ffff:192.0.2.1", "2001:0DB8:0000::0001", "not an address"):
        row = record_access(
            book=book,
            actor_id=citizen.pk,
            actor_kind="citizen",
            action="book.open",
            context=AccessContext(
                channel="api", ip_address=access.normalise_ip(address), user_agent="x" * 500
            ),
        )
        stored = AccessLog.objects.get(pk=row.pk)
        assert stored.hash == access.chain_hash(stored.prev_hash, stored)
    assert list(
        AccessLog.objects.filter(owner=citizen.citizen)
        .order_by("-id")
        .values_list("ip_address", flat=True)[:3]
    ) == [
        None,
        "2001:db8::1",
        "192.0.2.1",
    ]
    assert verify_chain(citizen.citizen_id).ok


def test_consent_passcode_and_sync_are_logged_too(citizen):
    add_visits(citizen.citizen, dt.datetime(2025, 3, 10, 8, 30))
    activate(citizen)
    services.sync_book(viewer=citizen, who=citizen.citizen_id, gate=always, context=CTX)
    actions = list(
        AccessLog.objects.filter(owner=citizen.citizen).order_by("id").values_list("action", "target")
    )
    assert actions == [("book.terms", "terms:2025.1"), ("passcode.set", ""), ("book.sync", "new:1")]
