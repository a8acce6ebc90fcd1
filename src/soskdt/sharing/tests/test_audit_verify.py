"""``soskdt audit verify`` finds an edited, a deleted and a reordered access-log row; the log is append-only."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from soskdt.healthbook.models import AccessLog
from soskdt.identity.models import User
from soskdt.sharing.management.commands.audit import verify_all
from soskdt.sharing.models import Notice
from soskdt.sharing.tests.conftest import SharedBook, open_session, share

pytestmark = pytest.mark.django_db


@pytest.fixture
def log(book: SharedBook, clinician: User) -> list[AccessLog]:
    open_session(clinician, share(book.owner))
    rows = list(AccessLog.objects.filter(owner=book.citizen).order_by("id"))
    assert len(rows) >= 4
    return rows


def _run() -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command("audit", "verify", stdout=out, stderr=io.StringIO())
    except SystemExit as exc:
        return int(exc.code or 0), out.getvalue()
    return 0, out.getvalue()


def test_an_intact_log_verifies(log: list[AccessLog]) -> None:
    status, out = _run()
    assert status == 0 and out.startswith("OK")


def test_an_edited_row_is_found(log: list[AccessLog], book: SharedBook) -> None:
    AccessLog.objects.filter(pk=log[1].pk).update(action="visit.detail")  # bypasses the model
    status, out = _run()
    assert status == 1
    assert f"owner={book.citizen.personal_id} row={log[1].pk} hash:" in out


def test_a_deleted_row_is_found(log: list[AccessLog]) -> None:
    AccessLog.objects.filter(pk=log[1].pk)._raw_delete(AccessLog.objects.db)  # type: ignore[attr-defined]
    status, out = _run()
    assert status == 1
    assert f"row={log[2].pk} prev_hash:" in out


def test_two_swapped_rows_are_found(log: list[AccessLog]) -> None:
    a, b = log[1], log[2]
    fields = [
        "actor_id",
        "actor_kind",
        "facility_id",
        "action",
        "target",
        "outcome",
        "at",
        "prev_hash",
        "hash",
    ]
    values_a = {f: getattr(a, f) for f in fields}
    values_b = {f: getattr(b, f) for f in fields}
    # prev_hash is unique per owner: move one row aside first.
    AccessLog.objects.filter(pk=a.pk).update(prev_hash="x" * 64)
    AccessLog.objects.filter(pk=b.pk).update(**values_a)
    AccessLog.objects.filter(pk=a.pk).update(**values_b)
    result = verify_all()
    assert not result.ok
    assert result.broken is not None and result.broken[0].row_id == a.pk


def test_only_the_first_broken_link_of_each_book_is_reported(
    log: list[AccessLog], other_book: object
) -> None:
    AccessLog.objects.filter(pk=log[1].pk).update(target="x")
    AccessLog.objects.filter(pk=log[3].pk).update(target="y")
    result = verify_all()
    assert result.broken is not None and [b.row_id for b in result.broken] == [log[1].pk]
    assert result.books == 2


def test_the_model_refuses_updates_and_deletes(log: list[AccessLog]) -> None:
    row = log[0]
    row.action = "changed"
    with pytest.raises(ValueError, match="append-only"):
        row.save()
    with pytest.raises(ValueError, match="append-only"):
        row.delete()


def test_published_heads_catch_removed_newest_rows(log: list[AccessLog], tmp_path: object) -> None:
    from pathlib import Path

    heads = Path(str(tmp_path)) / "heads.json"
    call_command("audit", "verify", "--write-heads", str(heads), stdout=io.StringIO())
    Notice.objects.filter(access_log=log[-1])._raw_delete(Notice.objects.db)  # type: ignore[attr-defined]
    AccessLog.objects.filter(pk=log[-1].pk)._raw_delete(AccessLog.objects.db)  # type: ignore[attr-defined]
    assert _run()[0] == 0  # the shorter chain alone looks fine
    out = io.StringIO()
    with pytest.raises(SystemExit):
        call_command("audit", "verify", "--heads", str(heads), stdout=out, stderr=io.StringIO())
    assert "no longer in the chain" in out.getvalue()
