"""Hand-written SQL for the hottest reads: several statements in one round trip, rows into model instances.

``run(statements)`` executes statements as one transaction; ``with atomic() as batch`` keeps the
transaction open across Python work (``batch.run(...)`` then code that may still fail) and commits on
exit. On PostgreSQL the statements of a batch go to the server as a single multi-statement query
(Django's psycopg cursor binds parameters on the client, so a batch is one simple-protocol message that
returns a result per statement): a read and the access-log row that records it cost one round trip,
plus the ``COMMIT``. Elsewhere (SQLite) the statements run one after another inside
``transaction.atomic()``, as they do inside a caller's transaction (a savepoint).

``Loader`` turns the columns of a raw row into a model instance the way the ORM does (the backend's
converters applied: SQLite returns datetimes and decimals as text), so that code reading ``visit.admitted_at``
neither knows nor cares how the row was read.

Use it only where a benchmark shows the ORM's per-query cost matters (docs/decisions/0005); placeholders
are ``%s`` and a literal ``%`` must be written ``%%``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, models, transaction

M = TypeVar("M", bound=models.Model)


@dataclass(frozen=True, slots=True)
class Statement:
    sql: str
    params: Sequence[Any] = ()


@dataclass(frozen=True, slots=True)
class Result:
    """One statement's rows (empty for a statement that returns none) and its row count."""

    rows: list[tuple[Any, ...]]
    rowcount: int


def vendor(using: str = DEFAULT_DB_ALIAS) -> str:
    return connections[using].vendor


def run(statements: Sequence[Statement], *, using: str = DEFAULT_DB_ALIAS) -> list[Result]:
    """Execute ``statements`` in order as one transaction; return one ``Result`` per statement."""
    with atomic(using=using) as batch:
        return batch.run(statements)


class Batch:
    """The statements of one transaction, sent a batch at a time (see ``atomic``)."""

    def __init__(self, using: str, *, begin: bool) -> None:
        self.connection = connections[using]
        self.begin = begin  # the first batch opens the transaction itself (PostgreSQL, autocommit)
        self.started = False

    def run(self, statements: Sequence[Statement]) -> list[Result]:
        if not statements:
            return []
        if self.connection.vendor != "postgresql":
            return _run_one_by_one(self.connection, statements)
        if self.begin and not self.started:
            self.started = True
            return _run_postgresql(self.connection, [Statement("BEGIN"), *statements])[1:]
        return _run_postgresql(self.connection, statements)


@contextmanager
def atomic(*, using: str = DEFAULT_DB_ALIAS) -> Iterator[Batch]:
    """A transaction for batches of statements: committed on exit, rolled back on an exception.

    On PostgreSQL outside any transaction, the first batch starts with ``BEGIN`` and ``COMMIT`` goes
    alone at the end: two round trips for a read that writes its log row, where ``transaction.atomic``
    takes three. Anywhere else this is ``transaction.atomic()`` (a savepoint inside a transaction).
    Code inside must not open ``transaction.atomic()`` blocks of its own on the PostgreSQL path.
    """
    connection = connections[using]
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        with transaction.atomic(using=using):
            yield Batch(using, begin=False)
        return
    batch = Batch(using, begin=True)
    try:
        yield batch
    except BaseException:
        if batch.started:
            with suppress(DatabaseError), connection.cursor() as cursor:
                cursor.execute("ROLLBACK")
        raise
    if batch.started:
        with connection.cursor() as cursor:
            cursor.execute("COMMIT")


def _run_one_by_one(connection: Any, statements: Sequence[Statement]) -> list[Result]:
    results = []
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement.sql, list(statement.params))
            rows = cursor.fetchall() if cursor.description else []
            results.append(Result(rows, cursor.rowcount))
    return results


def _run_postgresql(connection: Any, statements: Sequence[Statement]) -> list[Result]:
    sql = ";\n".join(statement.sql for statement in statements)
    params = [param for statement in statements for param in statement.params]
    results = []
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while True:
            # Not ``cursor.description``: it builds a Column object per column, a cost on wide rows.
            result = cursor.pgresult
            rows = cursor.fetchall() if result is not None and result.nfields else []
            results.append(Result(rows, cursor.rowcount))
            if not cursor.nextset():
                break
    if len(results) != len(statements):  # pragma: no cover - a statement with a stray ';'
        raise RuntimeError(f"{len(statements)} statements gave {len(results)} results")
    return results


Converter = Callable[[Any, Any, Any], Any]


class Loader(Generic[M]):
    """Columns of ``model`` for a SELECT list, and the instance built from them (ORM semantics).

    ``Loader(Visit, ["id", "admitted_at"])`` selects ``"v"."id", "v"."admitted_at"`` with ``columns("v")``
    and ``load(row, offset)`` builds a ``Visit`` from ``row[offset:offset + len(loader)]`` (``None`` when
    the primary key is NULL: the missing side of an outer join). Deferred fields load on access, as usual.
    """

    def __init__(self, model: type[M], fields: Sequence[str] | None = None) -> None:
        self.model = model
        concrete = list(model._meta.concrete_fields)
        if fields is None:
            self.fields = concrete
        else:
            by_name = {f.name: f for f in concrete} | {f.attname: f for f in concrete}
            self.fields = [by_name[name] for name in fields]
        pk = model._meta.pk
        assert pk is not None
        if pk not in self.fields:
            self.fields.insert(0, pk)
        self.attnames = [f.attname for f in self.fields]
        self._pk_index = self.fields.index(pk)
        # ``Model.from_db`` takes values in the model's field order, whatever order they were selected in.
        position = {f: i for i, f in enumerate(concrete)}
        self._model_order = sorted(range(len(self.fields)), key=lambda i: position[self.fields[i]])
        self._model_attnames = [self.attnames[i] for i in self._model_order]
        self._converters: dict[str, list[tuple[int, list[Converter], Any]]] = {}

    def __len__(self) -> int:
        return len(self.fields)

    def columns(self, alias: str) -> str:
        return ", ".join(f'"{alias}"."{f.column}"' for f in self.fields)

    def _converters_for(self, using: str) -> list[tuple[int, list[Converter], Any]]:
        found = self._converters.get(using)
        if found is None:
            connection = connections[using]
            found = []
            for i, field in enumerate(self.fields):
                column = field.get_col(self.model._meta.db_table)
                chain = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
                if chain:
                    found.append((i, chain, column))
            self._converters[using] = found
        return found

    def values(self, row: Sequence[Any], offset: int = 0, *, using: str = DEFAULT_DB_ALIAS) -> list[Any]:
        values = list(row[offset : offset + len(self.fields)])
        connection = connections[using]
        for i, chain, column in self._converters_for(using):
            value = values[i]
            for convert in chain:
                value = convert(value, column, connection)
            values[i] = value
        return values

    def load(self, row: Sequence[Any], offset: int = 0, *, using: str = DEFAULT_DB_ALIAS) -> M | None:
        if row[offset + self._pk_index] is None:
            return None
        values = self.values(row, offset, using=using)
        return self.model.from_db(using, self._model_attnames, [values[i] for i in self._model_order])


def insert(
    instance: models.Model, *, where: Statement | None = None, using: str = DEFAULT_DB_ALIAS
) -> Statement:
    """An INSERT of ``instance``'s concrete fields (not its auto primary key) returning the new key.

    With ``where`` (a condition and its parameters) the row is inserted only when the condition holds:
    ``INSERT … SELECT <values> WHERE <condition>``; its ``rowcount`` says whether it was.
    """
    connection = connections[using]
    opts = instance._meta
    pk = opts.pk
    assert pk is not None
    fields = [f for f in opts.concrete_fields if f is not pk or getattr(instance, f.attname) is not None]
    values = [f.get_db_prep_save(getattr(instance, f.attname), connection) for f in fields]
    head, returning = _insert_sql(type(instance), using, tuple(f.attname for f in fields))
    if where is None:
        return Statement(f"{head} VALUES ({_placeholders(connection, fields)}){returning}", values)
    sql = f"{head} SELECT {_placeholders(connection, fields)} WHERE {where.sql}{returning}"
    return Statement(sql, [*values, *where.params])


_INSERT_SQL: dict[tuple[type[models.Model], str, tuple[str, ...]], tuple[str, str]] = {}
_PLACEHOLDERS: dict[tuple[str, tuple[Any, ...]], str] = {}


def _insert_sql(model: type[models.Model], using: str, attnames: tuple[str, ...]) -> tuple[str, str]:
    """``INSERT INTO t (columns)`` and ``RETURNING pk`` of a model, made once (the reads insert on every call)."""
    key = (model, using, attnames)
    found = _INSERT_SQL.get(key)
    if found is None:
        opts = model._meta
        assert opts.pk is not None
        by_attname = {f.attname: f for f in opts.concrete_fields}
        columns = ", ".join(f'"{by_attname[name].column}"' for name in attnames)
        found = _INSERT_SQL[key] = (
            f'INSERT INTO "{opts.db_table}" ({columns})',
            f' RETURNING "{opts.pk.column}"',
        )
    return found


def _placeholders(connection: Any, fields: Sequence[Any]) -> str:
    key = (connection.alias, tuple(fields))
    found = _PLACEHOLDERS.get(key)
    if found is None:
        if connection.vendor == "postgresql":
            # INSERT … SELECT gives literals no column type: cast each to its column's type.
            found = ", ".join(f"CAST(%s AS {f.db_type(connection)})" for f in fields)
        else:
            found = ", ".join("%s" for _ in fields)
        _PLACEHOLDERS[key] = found
    return found


class Numbered:
    """A PostgreSQL statement written with ``%(name)s`` placeholders, turned once into ``$1, $2…``.

    psycopg converts a statement's placeholders on every execution, and caches the conversion only for
    statements under 4 KB; a statement that reads a whole visit is longer. This does it once: run
    ``text`` on ``prepared_cursor(numbered=True)`` with ``values(params)``.
    """

    _NAMED = re.compile(r"%\((\w+)\)s")

    def __init__(self, sql: str) -> None:
        names: list[str] = []

        def number(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in names:
                names.append(name)
            return f"${names.index(name) + 1}"

        if "%" in self._NAMED.sub("", sql):
            raise ValueError("a Numbered statement takes only %(name)s placeholders")
        self.text = self._NAMED.sub(number, sql)
        self.names = tuple(names)

    def values(self, params: dict[str, Any]) -> list[Any]:
        return [params[name] for name in self.names]


@contextmanager
def prepared_cursor(*, using: str = DEFAULT_DB_ALIAS, numbered: bool = False) -> Iterator[Any]:
    """A cursor whose statements PostgreSQL plans once per connection and then reuses.

    Django's psycopg cursors bind parameters on the client, so the server parses and plans every
    statement anew: for a join of five tables that is several times the cost of running it. This cursor
    binds on the server, and psycopg prepares a statement from its fifth run on a connection (connections
    live for ``CONN_MAX_AGE``). It is wrapped like any Django cursor (query logging, execute wrappers).
    One statement per ``execute``. ``numbered``: its statements are ``Numbered`` ones (``$n``
    placeholders, PostgreSQL only) and their rows come back in binary, which psycopg loads in C (a
    timestamp in text goes through a regular expression), with the same Python values as Django's
    text rows (``_binary_rows_as_text``). Elsewhere it is the ordinary cursor.
    """
    connection = connections[using]
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            yield cursor
        return
    import psycopg

    connection.ensure_connection()
    raw: psycopg.Cursor[Any]
    if numbered:
        raw = psycopg.RawCursor(connection.connection)
        raw.format = psycopg.pq.Format.BINARY
        _binary_rows_as_text(connection.connection)
    else:
        raw = psycopg.Cursor(connection.connection)
    with connection._prepare_cursor(raw) as cursor:  # type: ignore[attr-defined]  # Django's own wrapping
        yield cursor


def _binary_rows_as_text(conn: Any) -> None:
    """Make binary rows of ``conn`` load as Django's text rows do (registered once per connection).

    Django loads ``jsonb`` and ``inet`` as text and parses them itself (``JSONField.from_db_value``);
    psycopg's binary loaders would give a dict and an address object. Timestamps already agree (aware, in
    the connection's time zone, UTC).
    """
    jsonb, binary, jsonb_as_text, inet_as_text = _text_loaders()
    if conn.adapters.get_loader(jsonb, binary) is jsonb_as_text:
        return
    conn.adapters.register_loader("jsonb", jsonb_as_text)
    for name in ("inet", "cidr"):
        conn.adapters.register_loader(name, inet_as_text)


@functools.cache
def _text_loaders() -> tuple[int, Any, type, type]:
    """The jsonb type's oid, the binary format, and the two loaders (made once: the check is per call)."""
    from psycopg import adapt, postgres, pq
    from psycopg.types.net import InetBinaryLoader

    class JsonbAsText(adapt.Loader):
        format = pq.Format.BINARY

        def load(self, data: Any) -> str:
            return bytes(data[1:]).decode()  # a version byte, then the text

    class InetAsText(InetBinaryLoader):
        def load(self, data: Any) -> str:  # type: ignore[override]  # Django's text value
            return str(super().load(data))

    return postgres.types["jsonb"].oid, pq.Format.BINARY, JsonbAsText, InetAsText
