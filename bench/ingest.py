"""Benchmark the whole QĐ 130 ingestion path into PostgreSQL against a ceiling measured in the same run.

    .venv/bin/python bench/ingest.py                 # 2,000 visits, ~10 drugs / 15 services / 20 results each
    .venv/bin/python bench/ingest.py --visits 5000 --profile
    .venv/bin/python bench/ingest.py --rounds 5 --stages   # medians over 5 new files; CPU of each step alone

One file of N visits is generated; then, in this order:

* ingest: ``receive_file`` (gzip archive + SHA-256) and ``process_submission`` with full validation, linking
  (a tenth of the patients are in the register), per-HOSO outcomes and the health book's COPY loader — the
  figure `soskdt ingest FILE` would show;
* ceiling: the least any ingester must do with the same file — lxml ``iterparse`` of the envelope,
  base64-decode each NOIDUNGFILE, parse it and turn every record into ``{field: text}``, then COPY the same
  rows (same tables, same number of text columns) into unindexed temporary tables.

Prints visits/s, line items/s (drugs + services + results), the peak RSS of this process during the ingest, and
the ratio of the ingest's throughput to the ceiling's. The machine may be shared, so each round also prints the
CPU each visit cost in every process involved (this one, the parse helpers, the PostgreSQL backend): that
figure does not depend on the neighbours. Needs a PostgreSQL server (``PGHOST``/``PGPORT``, default
127.0.0.1:5432, user postgres); the database ``soskdt_bench_ingest`` is dropped and created again.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import cProfile
import io
import os
import pstats
import random
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

DB_NAME = "soskdt_bench_ingest"
FACILITY = "79048"
SINGLE = ("XML1", "XML7", "XML8", "XML13", "XML14")
POOL = 250


def setup_database() -> None:
    import psycopg

    host = os.environ.get("PGHOST", "127.0.0.1")
    port = os.environ.get("PGPORT", "5432")
    user = os.environ.get("PGUSER", "postgres")
    with psycopg.connect(f"host={host} port={port} user={user} dbname=postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}"')
        admin.execute(f'CREATE DATABASE "{DB_NAME}"')
    os.environ["DATABASE_URL"] = f"postgres://{user}@{host}:{port}/{DB_NAME}"
    os.environ.setdefault("SOSKDT_VAR_DIR", tempfile.mkdtemp(prefix="soskdt-bench-ingest-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "soskdt.settings")
    os.environ["SOSKDT_LOG_LEVEL"] = "WARNING"

    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def generate(
    path: Path, *, visits: int, drugs: int, services: int, results: int, seed: int, prefix: str = "BENCH"
) -> dict[str, float]:
    """Write ``visits`` distinct visits (own MA_LK) built from a pool of consistent visits; register some patients."""
    from soskdt.ingestion import samples
    from soskdt.registry.models import Citizen, Facility

    Facility.objects.get_or_create(code=FACILITY, defaults={"name": "Bệnh viện bench", "province_code": "79"})
    rng = random.Random(seed)
    pool = [
        samples.random_visit(
            rng, kind=samples.KINDS[i % len(samples.KINDS)], drugs=drugs, services=services, results=results
        )
        for i in range(min(visits, POOL))
    ]
    tables = [samples.visit_tables(v, FACILITY) for v in pool]
    citizens = []
    for spec in pool[::10]:
        p = spec.patient
        if p.personal_id:
            citizens.append(
                Citizen(
                    personal_id=p.personal_id,
                    full_name=p.name,
                    birth_year=int(p.birth[:4]),
                    birth_month=int(p.birth[4:6]),
                    birth_day=int(p.birth[6:8]),
                    sex=str(p.sex),
                )
            )
    Citizen.objects.bulk_create(citizens, ignore_conflicts=True)

    def visit(i: int) -> dict[str, list[dict[str, str]]]:
        base = tables[i % len(tables)]
        lk = f"{prefix}{i:010d}"
        return {name: [{**row, "MA_LK": lk} for row in rows] for name, rows in base.items()}

    started = time.perf_counter()
    with path.open("wb") as handle:
        samples.write_envelope(handle, FACILITY, (visit(i) for i in range(visits)), count=visits)
    items = sum(len(t.get(n, ())) for t in tables for n in ("XML2", "XML3", "XML4")) / len(tables)
    rows = sum(len(r) for t in tables for r in t.values()) / len(tables)
    return {"seconds": time.perf_counter() - started, "items_per_visit": items, "rows_per_visit": rows}


class PeakRss:
    """Sample the RSS of this process (and of its parse helpers) every 20 ms while running."""

    def __init__(self) -> None:
        import psutil

        self.process = psutil.Process()
        self.peak = self.process.memory_info().rss
        self.start = self.peak
        self.peak_total = self.peak
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import psutil

        children: list[Any] = []
        ticks = 0
        while not self._stop.wait(0.02):
            own = self.process.memory_info().rss
            if ticks % 25 == 0:  # finding children scans /proc: twice a second is enough
                children = self.process.children()
            ticks += 1
            helpers = 0
            for child in children:
                with contextlib.suppress(psutil.Error):
                    helpers += child.memory_info().rss
            self.peak = max(self.peak, own)
            self.peak_total = max(self.peak_total, own + helpers)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.process.memory_info().rss)


class CpuClock:
    """CPU seconds used so far by this process, its finished children (the parse helpers) and its
    PostgreSQL backend: wall-clock rates depend on the neighbours, CPU per visit does not."""

    def __init__(self) -> None:
        import psutil
        from django.db import connection

        connection.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            self.backend = psutil.Process(cursor.fetchone()[0])

    def read(self) -> dict[str, float]:
        import psutil

        times = os.times()
        try:
            backend = sum(self.backend.cpu_times()[:2])
        except psutil.Error:  # pragma: no cover - the backend went away
            backend = 0.0
        return {
            "wall": time.perf_counter(),
            "main": times.user + times.system,
            "helpers": times.children_user + times.children_system,
            "postgres": backend,
        }


def run_ingest(path: Path, *, batch: int, profile: bool, helpers: int | None) -> dict[str, float]:
    from soskdt.ingestion import services
    from soskdt.ingestion.models import SubmissionSource

    profiler = cProfile.Profile() if profile else None
    if profiler:
        # Forked parse helpers would inherit an enabled profiler and run twice as slowly: this profiles the
        # main process only (py-spy record --subprocesses sees the helpers).
        os.register_at_fork(after_in_child=profiler.disable)
    clock = CpuClock()
    with PeakRss() as rss:
        before = clock.read()
        if profiler:
            profiler.enable()
        with path.open("rb") as handle:
            received = services.receive_file(stream=handle, file_name=path.name, source=SubmissionSource.CLI)
        archived = clock.read()
        submission = services.process_submission(submission_id=received.pk, batch_size=batch, helpers=helpers)
        if profiler:
            profiler.disable()
        after = clock.read()
    if profiler:
        report_profile(profiler)
    stages = {
        f"{stage}_{key}": end[key] - start[key]
        for stage, start, end in (("archive", before, archived), ("process", archived, after))
        for key in before
    }
    return {
        **stages,
        "seconds": after["wall"] - before["wall"],
        "cpu": after["main"] - before["main"],
        "visits": submission.visits_total,
        "accepted": submission.visits_accepted,
        "rejected": submission.visits_rejected,
        "linked": submission.visits_accepted - submission.visits_unlinked,
        "peak_rss_mb": rss.peak / 2**20,
        "peak_total_rss_mb": rss.peak_total / 2**20,
        "start_rss_mb": rss.start / 2**20,
    }


def run_stages(path: Path, visits: int) -> dict[str, float]:
    """CPU per visit of each step of the pipeline, one after the other in this process (no helpers)."""
    import datetime as dt
    import gc
    import pickle

    from soskdt.healthbook import services as book
    from soskdt.ingestion import archive, services
    from soskdt.ingestion.parser import iter_visits
    from soskdt.ingestion.records import ParsedVisit
    from soskdt.ingestion.validation import validate_visit

    data = path.read_bytes()
    today = dt.date.today()
    received = dt.datetime.now(dt.UTC)
    out: dict[str, float] = {}

    def step(name: str, work: Any) -> Any:
        gc.collect()
        started = time.process_time()
        result = work()
        out[name] = (time.process_time() - started) * 1000 / visits
        return result

    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        from django.test import override_settings

        stack.enter_context(override_settings(ARCHIVE_ROOT=tmp))
        step("archive (gzip + SHA-256)", lambda: archive.store(io.BytesIO(data)))
    frozen = gc.get_threshold()
    gc.set_threshold(50_000, *frozen[1:])  # as the pipeline runs (services._relaxed_gc)
    try:
        step(
            "envelope only (every HOSO skipped)",
            lambda: sum(1 for _ in iter_visits(data, only=lambda i: False)),
        )
        parsed = step("parse", lambda: [v for v in iter_visits(data) if isinstance(v, ParsedVisit)])
        checked = step("validate", lambda: [validate_visit(v, today=today) for v in parsed])
        inputs = step(
            "map + render for the loader",
            lambda: [
                book.prepare_visit(services.to_visit_input(v, submission_ref="bench", received_at=received))
                for v in checked
            ],
        )
        chunks = [inputs[i : i + 16] for i in range(0, len(inputs), 16)]
        blobs = step(
            "send to the loader (pickle)", lambda: [pickle.dumps(c, pickle.HIGHEST_PROTOCOL) for c in chunks]
        )
        step("receive (unpickle)", lambda: [pickle.loads(b) for b in blobs])
    finally:
        gc.set_threshold(*frozen)
    return out


def report_profile(profiler: cProfile.Profile) -> None:
    stats = pstats.Stats(profiler)
    total = sum(v[2] for v in stats.stats.values())  # type: ignore[attr-defined]
    areas = {
        "parser (ingestion/parser.py)": "ingestion/parser.py",
        "validator (ingestion/validation.py)": "ingestion/validation.py",
        "loader (healthbook/services.py, loading.py, fieldmap.py)": "healthbook/",
        "pipeline (ingestion/services.py)": "ingestion/services.py",
        "archive (gzip, sha256)": "ingestion/archive.py",
        "lxml": "lxml",
        "database driver (psycopg)": "psycopg",
        "django ORM": "django/db",
    }
    own: dict[str, float] = dict.fromkeys(areas, 0.0)
    own["other"] = 0.0
    for (filename, _line, _name), (_cc, _nc, tt, _ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        for label, needle in areas.items():
            if needle in filename:
                own[label] += tt
                break
        else:
            own["other"] += tt
    print("\nprofile: own time by area (cProfile inflates Python-heavy code)")
    for label, seconds in sorted(own.items(), key=lambda kv: -kv[1]):
        print(f"  {label:<58} {seconds:7.2f} s  {100 * seconds / total:5.1f} %")
    print("\nprofile: top 25 functions by own time")
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(25)
    print("\n".join(line for line in out.getvalue().splitlines()[6:] if line.strip()))


def run_ceiling(path: Path) -> dict[str, float]:
    """Plain lxml reading of the same file to {field: text} rows, then COPY of those rows into temp tables."""
    from django.db import connection
    from lxml import etree

    clock = CpuClock()
    before = clock.read()
    started = time.perf_counter()
    visits = items = 0
    by_table: dict[str, list[list[str]]] = {}
    columns: dict[str, list[str]] = {}
    for _event, hoso in etree.iterparse(str(path), events=("end",), tag="HOSO"):
        for filehoso in hoso:
            kind = filehoso.findtext("LOAIHOSO") or ""
            content = filehoso.find("NOIDUNGFILE")
            if content is None:
                continue
            root = content[0] if len(content) else etree.fromstring(base64.b64decode(content.text or ""))
            records = (
                [root]
                if kind in SINGLE
                else list(root.iter(root[0][0].tag if len(root) and len(root[0]) else "*"))
            )
            rows = [{c.tag: (c.text or "").strip() for c in record} for record in records]
            if rows:
                columns.setdefault(kind, list(rows[0]))
                by_table.setdefault(kind, []).extend([row.get(c, "") for c in columns[kind]] for row in rows)
            if kind in ("XML2", "XML3", "XML4"):
                items += len(rows)
        visits += 1
        hoso.clear()
        while hoso.getprevious() is not None:
            del hoso.getparent()[0]
    parsed = time.perf_counter() - started

    copy_started = time.perf_counter()
    rows_copied = 0
    with connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg 3
        for kind, table_rows in by_table.items():
            name = f"ceiling_{kind.lower()}"
            cols = columns[kind]
            raw.execute(f"DROP TABLE IF EXISTS {name}")
            raw.execute(f"CREATE TEMP TABLE {name} ({', '.join(f'c{i} text' for i in range(len(cols)))})")
            with raw.copy(f"COPY {name} FROM STDIN") as copy:
                for values in table_rows:
                    copy.write_row(values)
            rows_copied += len(table_rows)
    copied = time.perf_counter() - copy_started
    after = clock.read()
    return {
        "cpu_main": after["main"] - before["main"],
        "cpu_postgres": after["postgres"] - before["postgres"],
        "seconds": parsed + copied,
        "parse_seconds": parsed,
        "copy_seconds": copied,
        "visits": visits,
        "items": items,
        "rows": rows_copied,
    }


def median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def report_round(n: int, ingest: dict[str, float], ceiling: dict[str, float], items_per_visit: float) -> None:
    visits = ingest["visits"] or 1
    ours_vps = ingest["visits"] / ingest["seconds"]
    ceiling_vps = ceiling["visits"] / ceiling["seconds"]

    def ms(seconds: float) -> str:
        return f"{1000 * seconds / visits:5.2f}"

    archive_cpu = ingest["archive_main"]
    process_cpu = ingest["process_main"] + ingest["process_helpers"] + ingest["process_postgres"]
    print(
        f"\nround {n}: ingest (archive + parse + validate + link + load) {ingest['seconds']:.2f} s: "
        f"{ingest['accepted']:.0f} accepted, {ingest['rejected']:.0f} rejected, {ingest['linked']:.0f} linked"
    )
    print(
        f"  archive  {ingest['archive_wall']:5.2f} s wall, CPU ms/visit {ms(archive_cpu)} (gzip thread + SHA-256)"
    )
    print(
        f"  process  {ingest['process_wall']:5.2f} s wall, CPU ms/visit: main {ms(ingest['process_main'])}, "
        f"parse helpers {ms(ingest['process_helpers'])}, PostgreSQL {ms(ingest['process_postgres'])}; "
        f"total {ms(process_cpu)} (+ archive = {ms(process_cpu + archive_cpu)})"
    )
    print(
        f"  ceiling  {ceiling['seconds']:5.2f} s wall (lxml parse {ceiling['parse_seconds']:.2f} s + COPY of "
        f"{ceiling['rows']:.0f} rows {ceiling['copy_seconds']:.2f} s), CPU ms/visit "
        f"{ms(ceiling['cpu_main'] + ceiling['cpu_postgres'])}"
    )
    print(f"  visits/s          {ours_vps:8.0f}   (ceiling {ceiling_vps:.0f}; target >= 600)")
    print(
        f"  line items/s      {visits * items_per_visit / ingest['seconds']:8.0f}   "
        f"(ceiling {ceiling['items'] / ceiling['seconds']:.0f})"
    )
    print(
        f"  peak RSS          {ingest['peak_rss_mb']:8.0f} MB (at start {ingest['start_rss_mb']:.0f} MB; with the "
        f"parse helpers {ingest['peak_total_rss_mb']:.0f} MB, shared pages counted twice)"
    )
    print(f"  ratio to ceiling  {ours_vps / ceiling_vps:8.2f}   (target >= 0.6)")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--visits", type=int, default=2000)
    parser.add_argument("--drugs", type=int, default=10)
    parser.add_argument("--services", type=int, default=15)
    parser.add_argument("--results", type=int, default=20)
    parser.add_argument("--batch", type=int, default=None, help="HOSO per batch (default: the pipeline's)")
    parser.add_argument("--seed", type=int, default=130)
    parser.add_argument(
        "--helpers", type=int, default=None, help="forked parse processes (default: the pipeline's choice)"
    )
    parser.add_argument(
        "--profile", action="store_true", help="cProfile the ingest and print where time goes"
    )
    parser.add_argument("--rounds", type=int, default=1, help="repeat with a new file; report medians")
    parser.add_argument(
        "--stages", action="store_true", help="also time each step alone in this process (CPU per visit)"
    )
    args = parser.parse_args()

    setup_database()
    from soskdt.ingestion import services

    batch = args.batch or services.BATCH_SIZE
    results: list[tuple[dict[str, float], dict[str, float]]] = []
    with tempfile.TemporaryDirectory(prefix="soskdt-bench-ingest-") as tmp:
        for n in range(1, args.rounds + 1):
            path = Path(tmp) / f"bench-{n}.xml"
            generated = generate(
                path,
                visits=args.visits,
                drugs=args.drugs,
                services=args.services,
                results=args.results,
                seed=args.seed,
                prefix=f"BENCH{n:02d}",  # new visits every round
            )
            if n == 1:
                size_mb = path.stat().st_size / 2**20
                print(
                    f"file: {args.visits} visits, {size_mb:.1f} MB, {generated['items_per_visit']:.0f} line items "
                    f"and {generated['rows_per_visit']:.0f} rows per visit; generated in "
                    f"{generated['seconds']:.1f} s; batches of {batch}; {os.cpu_count()} CPUs; "
                    f"load average {os.getloadavg()[0]:.1f}"
                )
            # Ingest and ceiling one after the other in each round, so both see the same neighbours.
            ingest = run_ingest(path, batch=batch, profile=args.profile and n == 1, helpers=args.helpers)
            ceiling = run_ceiling(path)
            results.append((ingest, ceiling))
            report_round(n, ingest, ceiling, generated["items_per_visit"])
            if args.stages and n == args.rounds:
                print("\nstages one after the other in one process, CPU ms per visit:")
                for name, value in run_stages(path, args.visits).items():
                    print(f"  {name:<40} {value:6.3f}")
            path.unlink()
    if len(results) > 1:
        rates = [i["visits"] / i["seconds"] for i, _c in results]
        ratios = [(i["visits"] / i["seconds"]) / (c["visits"] / c["seconds"]) for i, c in results]
        cpu = [
            1000
            * sum(i[f"{s}_{k}"] for s in ("archive", "process") for k in ("main", "helpers", "postgres"))
            / i["visits"]
            for i, _c in results
        ]
        print(
            f"\n{len(results)} rounds: visits/s median {median(rates):.0f} (best {max(rates):.0f}); "
            f"ratio to ceiling median {median(ratios):.2f} (best {max(ratios):.2f}); "
            f"CPU ms/visit, all processes, median {median(cpu):.2f}; load average now {os.getloadavg()[0]:.1f}"
        )


if __name__ == "__main__":
    main()
