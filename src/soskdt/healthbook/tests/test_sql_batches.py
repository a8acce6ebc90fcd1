"""``core.sqlbatch``: the hand-written SQL of the book's reads runs as one transaction and loads rows right.

The book's models are the test subjects (core has none of its own with enough fields).
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection

from soskdt.core import sqlbatch
from soskdt.core.sqlbatch import Loader, Statement
from soskdt.healthbook.access import AccessContext, chain_head, new_row
from soskdt.healthbook.models import AccessLog, ClinicalNote
from soskdt.healthbook.tests.conftest import add_visits

pytestmark = pytest.mark.django_db


@pytest.fixture
def note(citizen) -> ClinicalNote:
    (visit,) = add_visits(citizen.citizen, dt.datetime(2025, 3, 1, 8, 0))
    return ClinicalNote.objects.create(
        visit=visit,
        line_no=7,
        progress="Tỉnh, sốt nhẹ",
        noted_at=dt.datetime(2025, 3, 1, 9, 30, tzinfo=dt.UTC),
    )


def test_a_loader_fills_each_field_from_its_own_column_whatever_the_selected_order(note):
    # visit_id before line_no: the model declares them the other way round (the bug this guards against).
    loader = Loader(ClinicalNote, ["id", "noted_at", "visit_id", "progress", "line_no"])
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT 1, {loader.columns("n")} FROM "healthbook_clinicalnote" "n" WHERE "n"."id" = %s',
            [note.pk],
        )
        row = cursor.fetchone()
    loaded = loader.load(row, 1)
    assert (loaded.pk, loaded.visit_id, loaded.line_no, loaded.progress) == (
        note.pk,
        note.visit_id,
        7,
        "Tỉnh, sốt nhẹ",
    )
    assert loaded.noted_at == note.noted_at  # a datetime on both databases (SQLite sends text)
    assert loader.values(row, 1)[1] == note.noted_at


def test_a_loader_gives_none_for_the_missing_side_of_an_outer_join():
    loader = Loader(ClinicalNote, ["id", "line_no"])
    assert loader.load((None, None)) is None


def _row(citizen) -> AccessLog:
    return new_row(
        owner_id=citizen.citizen_id,
        actor_id=citizen.pk,
        actor_kind="citizen",
        action="test.batch",
        context=AccessContext("api", "127.0.0.1", "pytest"),
        prev_hash=chain_head(citizen.citizen_id),
    )


def test_a_batch_answers_each_statement_and_a_guarded_insert_inserts_only_when_its_condition_holds(citizen):
    kept, refused = _row(citizen), _row(citizen)
    refused.action = "test.refused"
    results = sqlbatch.run(
        [
            sqlbatch.insert(refused, where=Statement("1 = %s", [2])),
            sqlbatch.insert(kept, where=Statement("1 = %s", [1])),
            Statement('SELECT COUNT(*) FROM "healthbook_accesslog" WHERE "action" = %s', ["test.batch"]),
        ]
    )
    assert results[0].rows == [] and len(results[1].rows) == 1
    assert results[2].rows == [(1,)]
    stored = AccessLog.objects.get(action="test.batch")
    assert stored.pk == results[1].rows[0][0] and stored.hash == kept.hash
    assert not AccessLog.objects.filter(action="test.refused").exists()


def test_a_failure_after_the_batch_rolls_it_back(citizen):
    with pytest.raises(RuntimeError), sqlbatch.atomic() as batch:
        batch.run([sqlbatch.insert(_row(citizen))])
        assert AccessLog.objects.filter(action="test.batch").count() == 1
        raise RuntimeError("the answer could not be made")
    assert not AccessLog.objects.filter(action="test.batch").exists()


@pytest.mark.django_db(transaction=True)
def test_outside_any_transaction_a_batch_commits_and_a_failed_one_leaves_nothing(citizen):
    sqlbatch.run([sqlbatch.insert(_row(citizen))])
    assert AccessLog.objects.filter(action="test.batch").count() == 1
    with pytest.raises(RuntimeError), sqlbatch.atomic() as batch:
        batch.run([sqlbatch.insert(_row(citizen))])
        raise RuntimeError("the answer could not be made")
    assert AccessLog.objects.filter(action="test.batch").count() == 1
    assert connection.get_autocommit() and not connection.in_atomic_block


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's")
def test_a_prepared_cursor_has_postgresql_plan_its_statement_once_per_connection(citizen):
    sql = 'SELECT "id" FROM "identity_user" WHERE "id" = %s'
    for _ in range(6):
        with sqlbatch.prepared_cursor() as cursor:
            cursor.execute(sql, [citizen.pk])
            assert cursor.fetchone() == (citizen.pk,)
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [row[0] for row in cursor.fetchall()]
    assert any('FROM "identity_user" WHERE "id" = $1' in statement for statement in prepared)


def test_a_numbered_statement_numbers_each_name_once_in_order_of_first_use():
    statement = sqlbatch.Numbered("SELECT %(b)s, %(a)s, %(b)s::text || %(c)s")
    assert statement.text == "SELECT $1, $2, $1::text || $3"
    assert statement.names == ("b", "a", "c")
    assert statement.values({"a": 1, "b": 2, "c": "x", "unused": 0}) == [2, 1, "x"]
    with pytest.raises(ValueError):
        sqlbatch.Numbered("SELECT 1 WHERE name LIKE 'a%' AND id = %(id)s")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="numbered statements are PostgreSQL's")
def test_a_numbered_statement_runs_prepared_with_its_values(note):
    statement = sqlbatch.Numbered(
        'SELECT "n"."progress", %(tag)s FROM "healthbook_clinicalnote" "n" WHERE "n"."id" = %(id)s AND %(id)s > 0'
    )
    for _ in range(7):  # past the prepare threshold: the server plans it once
        with sqlbatch.prepared_cursor(numbered=True) as cursor:
            cursor.execute(statement.text, statement.values({"id": note.pk, "tag": "đã đọc"}))
            assert cursor.fetchall() == [("Tỉnh, sốt nhẹ", "đã đọc")]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="numbered statements are PostgreSQL's")
@pytest.mark.django_db
def test_a_numbered_statement_gives_the_values_a_django_cursor_gives():
    # Its rows come back in binary; code reading them must not tell the difference.
    sql = (
        "SELECT TIMESTAMPTZ '2025-03-01 08:30:00.123456+07', DATE '2025-03-01', NUMERIC '12.50', "
        "CAST(%(json)s AS jsonb), CAST(%(ip)s AS inet), CAST('10.0.0.0/8' AS cidr), %(text)s, 7::bigint, TRUE, "
        "NULL::timestamptz"
    )
    values = {"json": '{"mã": [1, 2]}', "ip": "192.0.2.7", "text": "Sổ sức khỏe"}
    statement = sqlbatch.Numbered(sql)
    with sqlbatch.prepared_cursor(numbered=True) as cursor:
        cursor.execute(statement.text, statement.values(values))
        (numbered,) = cursor.fetchall()
    with connection.cursor() as cursor:
        cursor.execute(
            sql.replace("%(json)s", "%s").replace("%(ip)s", "%s").replace("%(text)s", "%s"),
            [values["json"], values["ip"], values["text"]],
        )
        (ordinary,) = cursor.fetchall()
    assert numbered == ordinary
    assert [type(value) for value in numbered] == [type(value) for value in ordinary]
    assert numbered[0].tzinfo == dt.UTC and numbered[0] == dt.datetime(
        2025, 3, 1, 1, 30, 0, 123456, tzinfo=dt.UTC
    )
    assert numbered[3] == '{"mã": [1, 2]}' and numbered[4] == "192.0.2.7"
