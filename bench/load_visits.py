"""Measure how fast ``healthbook.services.record_visits`` stores visits in PostgreSQL.

Builds N synthetic visits (10 drugs, 15 services, 20 results each, as the QĐ 130 validator types them),
loads them into a private database that this script creates and migrates, and prints visits/s and
rows/s, next to a ceiling measured in the same run: plain psycopg COPY of the same number of rows,
same columns, into temporary tables with no index or constraint.

    .venv/bin/python bench/load_visits.py [--visits 5000] [--batch 500] [--profile] [--prepared]

With ``--prepared`` the visits are made ready first (``prepare_visit``, as the ingestion pipeline's parse
helpers do) and the loader only adds ids and writes: the figures are then the loading process's share.

Needs a PostgreSQL server (``PGHOST``/``PGPORT``, default 127.0.0.1:5432, user postgres). The database
``soskdt_bench_healthbook`` is dropped and created again.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

DB_NAME = "soskdt_bench_healthbook"


def _setup_database() -> None:
    import psycopg

    host = os.environ.get("PGHOST", "127.0.0.1")
    port = os.environ.get("PGPORT", "5432")
    user = os.environ.get("PGUSER", "postgres")
    with psycopg.connect(f"host={host} port={port} user={user} dbname=postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}"')
        admin.execute(f'CREATE DATABASE "{DB_NAME}"')
    os.environ["DATABASE_URL"] = f"postgres://{user}@{host}:{port}/{DB_NAME}"
    os.environ.setdefault("SOSKDT_VAR_DIR", "/tmp/healthbook-var")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "soskdt.settings")

    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def _inputs(count: int, *, prefix: str) -> list:
    from soskdt.healthbook.tests.factories import make_visit_input

    return [
        make_visit_input(
            ma_lk=f"{prefix}{i:08d}",
            personal_id=f"0790{85 + i % 10:02d}{i:06d}",
            social_insurance_number=f"79{i:08d}",
            drugs=10,
            services=15,
            results=20,
            notes=0,
            documents=False,
        )
        for i in range(count)
    ]


def _rows_per_visit(visit) -> int:
    return 1 + len(visit.drugs) + len(visit.services) + len(visit.results) + len(visit.notes)


class CpuClock:
    """CPU seconds used by this process and by its PostgreSQL backend: unlike wall time, not skewed by
    other jobs sharing the machine."""

    def __init__(self) -> None:
        import psutil
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            backend_pid = cursor.fetchone()[0]
        self.python, self.postgres = psutil.Process(), psutil.Process(backend_pid)

    def read(self) -> tuple[float, float]:
        def used(process) -> float:
            times = process.cpu_times()
            return times.user + times.system

        return used(self.python), used(self.postgres)


def _load(inputs: list, batch: int, *, capture: list | None = None) -> float:
    """Load in batches; with ``capture``, also keep every batch's COPY (table, columns, lines)."""
    from soskdt.healthbook import loading
    from soskdt.healthbook.services import record_visits

    real_insert = loading.insert_rows

    def insert_and_keep(table: str, columns: object, lines: Iterable[str], **kwargs: object) -> None:
        assert capture is not None
        kept: list[str] = []
        capture[-1].append((table, columns, kept))

        def passing_through() -> Iterator[str]:
            # Keep a copy without consuming the lines early: the loader streams them while rendering.
            for line in lines:
                kept.append(line)
                yield line

        real_insert(table, columns, passing_through(), **kwargs)  # type: ignore[arg-type]

    if capture is not None:
        loading.insert_rows = insert_and_keep  # type: ignore[assignment]
    try:
        started = time.perf_counter()
        for start in range(0, len(inputs), batch):
            if capture is not None:
                capture.append([])
            record_visits(visits=inputs[start : start + batch])
        return time.perf_counter() - started
    finally:
        loading.insert_rows = real_insert


def _database_only(captured: list) -> float:
    """Replay the loader's own COPY text into indexed, WAL-logged copies of the tables (no Python work)."""
    from django.db import connection, transaction

    names = {table for batch in captured for table, _columns, lines in batch if lines}
    with connection.cursor() as cursor:
        for name in names:
            cursor.execute(f'DROP TABLE IF EXISTS "replay_{name}"')
            cursor.execute(f'CREATE TABLE "replay_{name}" (LIKE "{name}" INCLUDING ALL)')
    texts = [
        [
            (name, ", ".join(f'"{c}"' for c in columns), "\n".join(lines) + "\n")
            for name, columns, lines in batch
            if lines
        ]
        for batch in captured
    ]
    started = time.perf_counter()
    for batch in texts:
        with transaction.atomic(), connection.cursor() as cursor:
            for name, column_list, text in batch:
                with cursor.cursor.copy(f'COPY "replay_{name}" ({column_list}) FROM STDIN') as copy:
                    copy.write(text)
    elapsed = time.perf_counter() - started
    with connection.cursor() as cursor:
        for name in names:
            cursor.execute(f'DROP TABLE "replay_{name}"')
    return elapsed


def _ceiling(inputs: list, batch: int) -> float:
    """COPY the same rows (same tables' columns) with write_row into bare temporary tables."""
    from django.db import connection, transaction

    from soskdt.healthbook import fieldmap as fm
    from soskdt.healthbook.models import DrugLine, Result, ServiceLine, Visit
    from soskdt.healthbook.services import _prepare

    tables = [
        (Visit, None),
        (DrugLine, "drugs"),
        (ServiceLine, "services"),
        (Result, "results"),
    ]
    # Pre-built tuples: the ceiling measures PostgreSQL and psycopg, not building the values.
    batches = []
    for start in range(0, len(inputs), batch):
        prepared = [_prepare(i, v) for i, v in enumerate(inputs[start : start + batch])]
        per_table = []
        for model, attr in tables:
            if attr is None:
                columns = list(fm.VISIT.columns)
                rows = [tuple(None if p == fm.NULL else p for p in v.summary.split("\t")) for v in prepared]
            else:
                table = dict(fm.LINE_TABLES)[attr]
                columns = list(table.columns)
                rows = [
                    tuple(None if p == fm.NULL else fm.unescape_copy(p) for p in line.split("\t"))
                    for v in prepared
                    for line in v.rendered[attr]
                ]
            per_table.append((model._meta.db_table, columns, rows))
        batches.append(per_table)

    with connection.cursor() as cursor:
        for model, _attr in tables:
            name = model._meta.db_table
            cursor.execute(f'DROP TABLE IF EXISTS "ceiling_{name}"')
            cursor.execute(f'CREATE TEMP TABLE "ceiling_{name}" AS SELECT * FROM "{name}" WITH NO DATA')
    started = time.perf_counter()
    for per_table in batches:
        with transaction.atomic(), connection.cursor() as cursor:
            raw = cursor.cursor
            for name, columns, rows in per_table:
                column_list = ", ".join(f'"{c}"' for c in columns)
                with raw.copy(f'COPY "ceiling_{name}" ({column_list}) FROM STDIN') as copy:
                    for row in rows:
                        copy.write_row(row)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--visits", type=int, default=5000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument(
        "--repeat", type=int, default=3, help="rounds, each with new visits (best and median shown)"
    )
    parser.add_argument(
        "--profile", action="store_true", help="print the top of a cProfile of the first round"
    )
    parser.add_argument(
        "--prepared", action="store_true", help="hand the loader prepared visits (rendered beforehand)"
    )
    args = parser.parse_args()

    _setup_database()
    from soskdt.healthbook.models import DrugLine, Result, ServiceLine, Visit
    from soskdt.healthbook.tests.factories import make_facility

    make_facility()
    rounds: list[tuple[float, float, float, float]] = []
    cpus: list[tuple[float, float]] = []
    rows = 0
    for n in range(args.repeat):
        inputs = _inputs(args.visits, prefix=f"R{n}-")
        rows = sum(_rows_per_visit(v) for v in inputs)
        if args.prepared:
            from soskdt.healthbook.services import prepare_visit

            started = time.process_time()
            inputs = [prepare_visit(v) for v in inputs]
            print(
                f"prepare_visit (done beforehand): {(time.process_time() - started) / args.visits * 1e6:4.0f} µs "
                "CPU per visit",
                flush=True,
            )
        profiler = cProfile.Profile() if args.profile and n == 0 else None
        if profiler:
            profiler.enable()
        captured: list = []
        clock = CpuClock()
        cpu_before = clock.read()
        first = _load(inputs, args.batch, capture=captured)
        cpu_after = clock.read()
        cpu = (cpu_after[0] - cpu_before[0], cpu_after[1] - cpu_before[1])
        if profiler:
            profiler.disable()
        again = _load(inputs, args.batch)
        ceiling = _ceiling(inputs, args.batch)
        database = _database_only(captured)
        rounds.append((first, again, ceiling, database))
        cpus.append(cpu)
        print(
            f"round {n + 1}: loader {args.visits / first:6.0f} visits/s {rows / first:8.0f} rows/s | "
            f"same again {args.visits / again:6.0f} visits/s | ceiling {rows / ceiling:8.0f} rows/s | "
            f"database only {rows / database:8.0f} rows/s | CPU per visit: Python "
            f"{cpu[0] / args.visits * 1e6:4.0f} µs, PostgreSQL {cpu[1] / args.visits * 1e6:4.0f} µs",
            flush=True,
        )
        if profiler:
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)

    stored = sum(m.objects.count() for m in (Visit, DrugLine, ServiceLine, Result))
    assert stored == rows * args.repeat, (stored, rows * args.repeat)
    firsts = sorted(r[0] for r in rounds)
    best, median = firsts[0], firsts[len(firsts) // 2]
    ratios = sorted(r[2] / r[0] for r in rounds)
    print(
        f"\n{args.visits} visits x {args.repeat} rounds, {rows // args.visits} rows per visit, batches of {args.batch}"
    )
    print(
        f"loader, new visits:      best {args.visits / best:6.0f} visits/s ({rows / best:7.0f} rows/s), median {args.visits / median:6.0f} visits/s"
    )
    print(
        f"loader, same file again: best {args.visits / min(r[1] for r in rounds):6.0f} visits/s (unchanged, nothing written)"
    )
    print(
        f"ceiling, bare COPY:      best {rows / min(r[2] for r in rounds):7.0f} rows/s into temporary tables"
    )
    print(f"loader / ceiling:        median {ratios[len(ratios) // 2]:.0%}")
    python_cpu = sorted(c[0] for c in cpus)[len(cpus) // 2] / args.visits
    postgres_cpu = sorted(c[1] for c in cpus)[len(cpus) // 2] / args.visits
    print(
        f"CPU per new visit:       median Python {python_cpu * 1e6:4.0f} µs + PostgreSQL {postgres_cpu * 1e6:4.0f} µs; "
        f"on two free cores at most {1 / max(python_cpu, postgres_cpu):5.0f} visits/s, "
        f"on one {1 / (python_cpu + postgres_cpu):5.0f} visits/s"
    )
    database = sorted(r[3] for r in rounds)[len(rounds) // 2]
    print(
        f"database only:           median {rows / database:7.0f} rows/s ({args.visits / database:5.0f} visits/s): "
        f"the loader's COPY text replayed into indexed copies of the tables = {database / median:.0%} of its time"
    )


if __name__ == "__main__":
    main()
