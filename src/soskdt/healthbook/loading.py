"""The SQL that writes visits fast: PostgreSQL COPY, or plain ``executemany`` on SQLite.

Rows arrive as COPY text lines (``fieldmap``): tab-separated, ``\\N`` for NULL, local times without
an offset. Every function runs inside the caller's transaction and does not grow its number of
statements with the number of rows.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from django.db import connection, models

from soskdt.healthbook.fieldmap import LOCAL_TZ, NULL, unescape_copy

# Small enough that PostgreSQL starts on the first rows while the next ones are being rendered.
_COPY_CHUNK = 1 << 17


def _is_postgres() -> bool:
    return connection.vendor == "postgresql"


def _log(sql: str, started: float) -> None:
    # COPY bypasses Django's cursor wrapper; log it so query counts and debug tools see it.
    if connection.queries_logged:
        connection.queries_log.append({"sql": sql, "time": f"{time.monotonic() - started:.3f}"})


def lock_visit_keys(keys: Sequence[tuple[str, str]]) -> None:
    """Serialise concurrent loads of the same visits until the end of the transaction.

    PostgreSQL takes one transaction-level advisory lock per (facility, MA_LK), in a fixed order so
    that two batches never deadlock. SQLite needs nothing: its transactions start IMMEDIATE.
    """
    if not _is_postgres() or not keys:
        return
    texts = sorted({f"healthbook.visit:{facility}:{ma_lk}" for facility, ma_lk in keys})
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(k, 0)) FROM unnest(%s::text[]) AS k", [texts]
        )


_SEQUENCES: dict[str, str] = {}


def _sequence_of(table: str) -> str:
    # Looked up once per process: pg_get_serial_sequence per generated row costs ten times the nextval.
    if table not in _SEQUENCES:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
            _SEQUENCES[table] = cursor.fetchone()[0]
    return _SEQUENCES[table]


def allocate_ids(model: type[models.Model], count: int) -> list[int]:
    """Reserve ``count`` primary keys of ``model`` in one statement, in increasing order."""
    if count <= 0:
        return []
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if _is_postgres():
            cursor.execute(
                "SELECT nextval(%s::regclass) FROM generate_series(1, %s)", [_sequence_of(table), count]
            )
            return sorted(row[0] for row in cursor.fetchall())
        # Django's SQLite tables are AUTOINCREMENT: moving sqlite_sequence reserves the range, and the
        # write lock taken by the UPDATE keeps it ours until commit.
        cursor.execute("UPDATE sqlite_sequence SET seq = seq + %s WHERE name = %s", [count, table])
        if cursor.rowcount == 0:
            cursor.execute(f'SELECT coalesce(max(id), 0) FROM "{table}"')  # noqa: S608 - table name from _meta
            start = cursor.fetchone()[0]
            cursor.execute("INSERT INTO sqlite_sequence (name, seq) VALUES (%s, %s)", [table, start + count])
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        last = cursor.fetchone()[0]
        return list(range(last - count + 1, last + 1))


@contextlib.contextmanager
def local_time_writes() -> Iterator[None]:
    """Let the writes inside read naive times as Asia/Ho_Chi_Minh wall time (PostgreSQL converts each to UTC)."""
    if not _is_postgres():
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('TimeZone'), set_config('TimeZone', %s, true)", [LOCAL_TZ.key])
        previous = cursor.fetchone()[0]
    yield
    # Only on success: after an error the caller's transaction or savepoint is rolled back, which undoes
    # set_config(..., true) too, and a statement now would fail in an aborted transaction.
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('TimeZone', %s, true)", [previous])


def insert_rows(
    table: str, columns: Sequence[str], lines: Iterable[str], *, time_columns: Sequence[str]
) -> None:
    """Insert rows given as COPY text lines; ``time_columns`` hold datetimes (naive = local).

    ``lines`` may be a generator: PostgreSQL starts storing the first chunk while later ones are made.
    """
    if isinstance(lines, Sequence) and not lines:
        return
    if _is_postgres():
        _copy_postgres(table, columns, lines)
    else:
        _insert_sqlite(table, columns, lines, time_columns)


def _copy_postgres(table: str, columns: Sequence[str], lines: Iterable[str]) -> None:
    sql = f'COPY "{table}" ({", ".join(_quoted(columns))}) FROM STDIN'
    started = time.monotonic()
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:  # type: ignore[attr-defined]
        chunk: list[str] = []
        size = 0
        for line in lines:
            chunk.append(line)
            size += len(line)
            if size >= _COPY_CHUNK:
                chunk.append("")
                copy.write("\n".join(chunk))
                chunk, size = [], 0
        if chunk:
            chunk.append("")
            copy.write("\n".join(chunk))
    _log(sql, started)


def _quoted(columns: Sequence[str]) -> list[str]:
    return [f'"{column}"' for column in columns]


def _sqlite_values(
    columns: Sequence[str], lines: Iterable[str], time_columns: Sequence[str]
) -> list[list[Any]]:
    positions = [columns.index(name) for name in time_columns if name in columns]
    rows: list[list[Any]] = []
    for line in lines:
        values: list[Any] = [None if part == NULL else unescape_copy(part) for part in line.split("\t")]
        for i in positions:
            text = values[i]
            if text is not None:
                moment = dt.datetime.fromisoformat(str(text))
                if moment.tzinfo is None:
                    moment = moment.replace(tzinfo=LOCAL_TZ)
                # Django keeps SQLite datetimes as naive UTC text.
                values[i] = str(moment.astimezone(dt.UTC).replace(tzinfo=None))
        rows.append(values)
    return rows


def _insert_sqlite(
    table: str, columns: Sequence[str], lines: Iterable[str], time_columns: Sequence[str]
) -> None:
    placeholders = ", ".join(["%s"] * len(columns))
    sql = f'INSERT INTO "{table}" ({", ".join(_quoted(columns))}) VALUES ({placeholders})'  # noqa: S608
    with connection.cursor() as cursor:
        cursor.executemany(sql, _sqlite_values(columns, lines, time_columns))


def update_rows(
    table: str, columns: Sequence[str], lines: Sequence[str], *, time_columns: Sequence[str]
) -> None:
    """Overwrite existing rows, matched on the first column (``id``), with the other columns of each line."""
    if not lines:
        return
    key, rest = columns[0], list(columns[1:])
    if _is_postgres():
        scratch = f"{table}_replace"
        column_list = ", ".join(_quoted(columns))
        with connection.cursor() as cursor:
            cursor.execute(
                f'CREATE TEMP TABLE IF NOT EXISTS "{scratch}" ON COMMIT DROP AS '  # noqa: S608
                f'SELECT {column_list} FROM "{table}" WITH NO DATA'
            )
        _copy_postgres(scratch, columns, lines)
        assignments = ", ".join(f'"{c}" = s."{c}"' for c in rest)
        with connection.cursor() as cursor:
            cursor.execute(
                f'UPDATE "{table}" AS t SET {assignments} FROM "{scratch}" AS s WHERE t."{key}" = s."{key}"'  # noqa: S608
            )
            cursor.execute(f'DELETE FROM "{scratch}"')  # noqa: S608 - a second batch in the same transaction
        return
    assignments = ", ".join(f'"{c}" = %s' for c in rest)
    sql = f'UPDATE "{table}" SET {assignments} WHERE "{key}" = %s'  # noqa: S608
    with connection.cursor() as cursor:
        cursor.executemany(
            sql, [values[1:] + values[:1] for values in _sqlite_values(columns, lines, time_columns)]
        )


def link_visits(links: Sequence[tuple[int, int, str]], *, now: dt.datetime) -> int:
    """Set the citizen of still-unlinked visits: ``(visit_id, citizen_id, method)``. Return how many changed."""
    if not links:
        return 0
    from soskdt.healthbook.models import Visit

    table = Visit._meta.db_table
    sql = (
        f'UPDATE "{table}" SET citizen_id = %s, link_method = %s, linked_at = %s, updated_at = %s '  # noqa: S608
        "WHERE id = %s AND citizen_id IS NULL"
    )
    with connection.cursor() as cursor:
        cursor.executemany(
            sql, [(citizen_id, method, now, now, visit_id) for visit_id, citizen_id, method in links]
        )
        changed = cursor.rowcount
    return changed if changed is not None and changed >= 0 else len(links)
