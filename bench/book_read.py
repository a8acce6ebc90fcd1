"""Measure the two reads of the book a citizen makes most, on PostgreSQL at district scale.

*Visits of one citizen for one year* (``GET /api/v1/me/book/years/{year}/visits``) and *one visit with all
its items* (``GET /api/v1/me/book/visits/{id}``; its service lines and results are one tab away, so the
lab tab ``…/visits/{id}/tabs/lab`` is measured too), for random citizens among ``--citizens`` with
``--visits`` visits holding drugs, services and results (about 10 of each per visit).

1. Data: a private database (``soskdt_bench_book``) is created and migrated; citizens, facilities, visits
   and their lines are written straight into the tables with psycopg ``COPY`` (not the ORM, not the XML
   pipeline: that would take hours), then ``ANALYZE``. ``--reuse`` keeps a database already filled with
   the same sizes. ``--sample`` citizens get what a real user has: a level-2 account, an API token, an
   activated and synced book and an ``X-Book-Token`` (issued for the length of the run).
2. Server time, one request at a time: every sampled citizen calls both endpoints in-process
   (``django.test.Client``); an outermost middleware times the real handler. p50/p99 in ms and the
   number of SQL queries per call are printed (target p99 <= 15 ms).
   Before measuring, the tables are read into memory (``pg_prewarm``, see 3; ``--cold`` skips it).
3. Under load: the app runs under gunicorn (``--workers`` sync workers, default 2 per core + 1, DEBUG
   off) and ``wrk`` sends requests for ``--duration`` s on ``--connections`` connections, rotating over
   the sampled citizens' tokens and paths (a Lua script reads them from a file). Each call is measured
   ``--rounds`` times in turn with the server's minimal JSON endpoint (``/api/v1/health``); the median of
   its per-round ratios to that endpoint is printed (target >= 0.4). So is the *floor*: a bench-only
   view that does what any logged read must, one INSERT and its COMMIT, and nothing else; its ratio is
   the most a logged read can reach on the machine. And so is the year's one statement alone behind a
   bare view (no django-ninja, no answer built): the most a cheaper answer could bring the year to. Each run also prints the CPU a request cost in the app
   server's processes and in PostgreSQL's, and how idle the machine was (a run that leaves the CPU idle
   waited on something, usually the disk).
   Before measuring, the tables are read into memory: the OS cache, then PostgreSQL's ``shared_buffers``
   as far as they hold them (the bench warns when the measured reads' tables do not fit).

    .venv/bin/python bench/book_read.py [--citizens 100000] [--visits 1000000] [--sample 10000]
        [--reuse] [--duration 10] [--connections 10] [--workers 2*cores+1] [--rounds 3] [--explain]
        [--no-load] [--no-serial] [--cold]

Needs a PostgreSQL server (``PGHOST``/``PGPORT``, default 127.0.0.1:5432, user postgres, trust auth),
gunicorn (the dev extras) and wrk (``apt-get install wrk``). The full size takes some minutes to generate
and about 10 GB of disk; progress is printed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

DB_NAME = "soskdt_bench_book"
APP_VERSION = "2.1.0"
YEARS = (2021, 2022, 2023, 2024, 2025)
CHUNK = 20_000  # visits per COPY round
HEALTH = "/api/v1/health"


def _dsn(dbname: str) -> str:
    host = os.environ.get("PGHOST", "127.0.0.1")
    port = os.environ.get("PGPORT", "5432")
    user = os.environ.get("PGUSER", "postgres")
    return f"host={host} port={port} user={user} dbname={dbname}"


def _database_url() -> str:
    host = os.environ.get("PGHOST", "127.0.0.1")
    port = os.environ.get("PGPORT", "5432")
    user = os.environ.get("PGUSER", "postgres")
    from urllib.parse import quote

    return f"postgres://{user}@{quote(host, safe='')}:{port}/{DB_NAME}"


def _cols(names: str) -> list[str]:
    return names.split()


def say(text: str) -> None:
    print(text, flush=True)


# --- the database ------------------------------------------------------------------------------------


def _existing_sizes() -> tuple[int, int, int] | None:
    import psycopg

    with psycopg.connect(_dsn("postgres"), autocommit=True) as admin:
        found = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DB_NAME,)).fetchone()
    if not found:
        return None
    try:
        with psycopg.connect(_dsn(DB_NAME)) as conn:
            row = conn.execute("SELECT citizens, visits, sample FROM bench_meta").fetchone()
    except psycopg.Error:
        return None
    return (int(row[0]), int(row[1]), int(row[2])) if row else None


def _recreate_database() -> None:
    import psycopg

    with psycopg.connect(_dsn("postgres"), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}"')
        admin.execute(f'CREATE DATABASE "{DB_NAME}"')


def _setup_django() -> None:
    os.environ["DATABASE_URL"] = _database_url()
    os.environ.setdefault("SOSKDT_VAR_DIR", "/tmp/bench-book-var")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "soskdt.settings")
    os.environ.pop("SOSKDT_DEBUG", None)
    import django

    django.setup()


def _copy(conn: Any, table: str, columns: Iterable[str], lines: list[str]) -> None:
    if not lines:
        return
    column_list = ", ".join(f'"{c}"' for c in columns)
    with conn.cursor() as cursor, cursor.copy(f'COPY "{table}" ({column_list}) FROM STDIN') as copy:
        copy.write("".join(lines))


def _ts(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S+00")


# --- generated content -------------------------------------------------------------------------------


class Generator:
    """Rows of citizens, visits and their lines, consistent with each other, from the sample catalogues."""

    def __init__(self, rng: random.Random) -> None:
        from soskdt.ingestion import samples

        self.rng = rng
        self.samples = samples
        self.now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        # Pre-formatted constant parts of each catalogue line: only ids, numbers and times vary per row.
        self.drugs = [
            "\t".join((code, "4", name, unit, strength, route, form, reg, str(price), "100", "1", "K01"))
            for code, name, strength, unit, route, form, reg, price in samples.DRUGS
        ]
        self.labs = samples.LABS
        self.reports = [(entry, "imaging") for entry in samples.IMAGING] + [(samples.ECG, "functional")]
        self.diagnoses = samples.DIAGNOSES

    def citizen_rows(self, first_id: int, count: int) -> tuple[list[str], list[tuple[int, str, str, int]]]:
        s, rng, now = self.samples, self.rng, _ts(self.now)
        lines, people = [], []
        for cid in range(first_id, first_id + count):
            sex = rng.choice((1, 2))
            year = rng.randrange(1940, 2020)
            given = rng.choice(s.GIVEN_NAMES_M if sex == 1 else s.GIVEN_NAMES_F)
            middle = rng.choice(s.MIDDLE_NAMES_M if sex == 1 else s.MIDDLE_NAMES_F)
            name = f"{rng.choice(s.FAMILY_NAMES)} {middle} {given}"
            century = (year - 1900) // 100 * 2 + (0 if sex == 1 else 1)
            # Unique: the serial is the id's last 6 digits, the "province" its millions.
            pid = f"{79 + cid // 1_000_000:03d}{century}{year % 100:02d}{cid % 1_000_000:06d}"
            lines.append(
                f"{cid}\t{now}\t{now}\t{pid}\t{name}\t{year}\t{rng.randrange(1, 13)}\t{rng.randrange(1, 29)}\t"
                f"{sex}\tKinh\tViệt Nam\t\t09{rng.randrange(10**8):08d}\t"
                f"{rng.randrange(1, 300)} {rng.choice(s.STREETS)}\t79\t26734\t\n"
            )
            people.append((cid, pid, name, sex))
        return lines, people

    def visits_per_citizen(self, citizens: int, visits: int) -> list[int]:
        """A skewed count per citizen (a few chronic patients have many), summing exactly to ``visits``."""
        rng = self.rng
        weights = [rng.gammavariate(1.5, 1.0) for _ in range(citizens)]
        scale = visits / sum(weights)
        counts = [max(1, int(w * scale)) for w in weights]
        diff = visits - sum(counts)
        while diff != 0:
            i = rng.randrange(citizens)
            if diff > 0:
                counts[i] += 1
                diff -= 1
            elif counts[i] > 1:
                counts[i] -= 1
                diff += 1
        return counts


VISIT_COLUMNS = _cols(
    "id created_at updated_at facility_id facility_code ma_lk version content_hash received_at submission_ref "
    "citizen_id link_method linked_at patient_code full_name personal_id birth_year sex card_codes "
    "visit_type admitted_at discharged_at visit_year reason discharge_diagnosis main_icd secondary_icds "
    "treatment_days treatment_method outcome discharge_type total_cost warnings"
)
DRUG_COLUMNS = _cols(
    "visit_id line_no drug_code cost_group name unit strength route_code dosage_form registration_number "
    "unit_price insurance_rate scope department_code quantity amount dose ordered_at administered_at"
)
SERVICE_COLUMNS = _cols(
    "id visit_id line_no service_code cost_group category name unit quantity unit_price amount "
    "ordered_at performed_at result_at anaesthesia"
)
RESULT_COLUMNS = _cols(
    "visit_id line_no service_line_id category service_code indicator_code indicator_name value unit "
    "description conclusion result_at"
)
NOTE_COLUMNS = _cols("visit_id line_no progress noted_at")
PAPER_COLUMNS = _cols("visit_id diagnosis treatment_method admitted_at discharged_at")


def _visit_rows(
    gen: Generator,
    people: list[tuple[int, str, str, int]],
    counts: list[int],
    *,
    next_ids: dict[str, int],
    facilities: list[tuple[int, str]],
) -> Iterator[dict[str, list[str]]]:
    """Yield COPY lines per table for chunks of about CHUNK visits."""
    rng = gen.rng
    base = {t: [] for t in ("visit", "drug", "service", "result", "note", "paper")}
    out: dict[str, list[str]] = {t: [] for t in base}
    linked = _ts(gen.now - dt.timedelta(days=1))
    for (cid, pid, name, sex), n in zip(people, counts, strict=True):
        for _ in range(n):
            vid = next_ids["visit"]
            next_ids["visit"] += 1
            fid, fcode = rng.choice(facilities)
            year = rng.choice(YEARS)
            start = dt.datetime(year, 1, 1, 0, 30, tzinfo=dt.UTC) + dt.timedelta(
                days=rng.randrange(364), minutes=rng.randrange(600)
            )
            inpatient = rng.random() < 0.12
            end = start + (dt.timedelta(days=rng.randrange(2, 8)) if inpatient else dt.timedelta(hours=2))
            main = rng.choice(gen.diagnoses)
            second = rng.choice(gen.diagnoses)
            s_start, s_end = _ts(start), _ts(end)
            out["visit"].append(
                f"{vid}\t{linked}\t{linked}\t{fid}\t{fcode}\tLK{vid:010d}\t1\t{vid:064x}\t{linked}\t\t"
                f"{cid}\tpersonal_id\t{linked}\tBN{vid:08d}\t{name}\t{pid}\t\\N\t{sex}\t\\N\t"
                f"{'03' if inpatient else '01'}\t{s_start}\t{s_end}\t{year}\t"
                f"{'Sốt cao, ho' if inpatient else 'Khám bệnh'}\t{main[1]};{second[1]}\t{main[0]}\t{second[0]}\t"
                f"{(end - start).days + 1 if inpatient else 1}\tĐiều trị nội khoa\t2\t1\t{rng.randrange(50, 5000)}000\t[]\n"
            )
            # About 10 drugs, 10 services and 10 results per visit on average, more for an inpatient stay.
            n_drugs = rng.randrange(14, 40) if inpatient else rng.randrange(2, 17)
            n_services = rng.randrange(14, 40) if inpatient else rng.randrange(2, 17)
            drugs = out["drug"]
            for line in range(1, n_drugs + 1):
                quantity = rng.randrange(1, 30)
                drugs.append(
                    f"{vid}\t{line}\t{rng.choice(gen.drugs)}\t{quantity}\t{quantity * 1000}\t"
                    f"1 viên/lần * 2 lần/ngày\t{s_start}\t{s_start}\n"
                )
            services, results = out["service"], out["result"]
            result_no = 0
            for line in range(1, n_services + 1):
                sid = next_ids["service"]
                next_ids["service"] += 1
                pick = rng.random()
                if pick < 0.8:
                    code, sname, indicator, unit, (low, high), price = rng.choice(gen.labs)
                    services.append(
                        f"{sid}\t{vid}\t{line}\t{code}\t1\tlab\t{sname}\tLần\t1\t{price}\t{price}\t"
                        f"{s_start}\t{s_start}\t{s_start}\t\\N\n"
                    )
                    # A blood count or a lipid panel has several indicators: 1 or 2 results per lab line.
                    for _ in range(1 if rng.random() < 0.6 else 2):
                        result_no += 1
                        spread = (high - low) * 0.25
                        value = rng.uniform(low - spread, high + spread)
                        results.append(
                            f"{vid}\t{result_no}\t{sid}\tlab\t{code}\t{indicator}\t{sname.split(' [')[0]}\t"
                            f"{value:.2f}\t{unit}\t\\N\t\\N\t{s_start}\n"
                        )
                elif pick < 0.93:
                    entry, category = rng.choice(gen.reports)
                    code, sname, group, price, description, conclusion = entry
                    services.append(
                        f"{sid}\t{vid}\t{line}\t{code}\t{group}\t{category}\t{sname}\tLần\t1\t{price}\t{price}\t"
                        f"{s_start}\t{s_start}\t{s_start}\t\\N\n"
                    )
                    result_no += 1
                    results.append(
                        f"{vid}\t{result_no}\t{sid}\t{category}\t{code}\t\\N\t{sname}\t\\N\t\\N\t"
                        f"{description}\t{conclusion}\t{s_start}\n"
                    )
                else:
                    code, sname, group, price, anaesthesia = rng.choice(gen.samples.SURGERY)
                    services.append(
                        f"{sid}\t{vid}\t{line}\t{code}\t{group}\tsurgery\t{sname}\tLần\t1\t{price}\t{price}\t"
                        f"{s_start}\t{s_start}\t{s_end}\t{anaesthesia}\n"
                    )
            if inpatient:
                out["note"].append(f"{vid}\t1\tBệnh tỉnh, sốt 38,5 độ, ho khạc đờm.\t{s_start}\n")
                out["note"].append(f"{vid}\t2\tBệnh tỉnh, hết sốt, còn ho ít.\t{s_end}\n")
                out["paper"].append(f"{vid}\t{main[1]}\tĐiều trị nội khoa\t{s_start}\t{s_end}\n")
            if len(out["visit"]) >= CHUNK:
                yield out
                out = {t: [] for t in base}
    if out["visit"]:
        yield out


def generate(citizens: int, visits: int, seed: int = 310) -> None:
    """Fill the database: facilities, citizens, visits and their lines, then index statistics."""
    import psycopg

    rng = random.Random(seed)
    gen = Generator(rng)
    started = time.perf_counter()
    with psycopg.connect(_dsn(DB_NAME)) as conn:
        now = _ts(gen.now)
        facilities = [(i, f"79{i:03d}") for i in range(1, 61)]
        _copy(
            conn,
            "registry_facility",
            _cols("id created_at updated_at code name level province_code active_from"),
            [
                f"{i}\t{now}\t{now}\t{code}\tTrạm Y tế xã số {i}\tbasic\t79\t2000-01-01\n"
                for i, code in facilities
            ],
        )
        people: list[tuple[int, str, str, int]] = []
        citizen_columns = _cols(
            "id created_at updated_at personal_id full_name birth_year birth_month birth_day sex ethnicity "
            "nationality occupation phone address province_code commune_code representative_relation"
        )
        for first in range(1, citizens + 1, 50_000):
            lines, chunk = gen.citizen_rows(first, min(50_000, citizens + 1 - first))
            _copy(conn, "registry_citizen", citizen_columns, lines)
            people += chunk
        conn.commit()
        say(f"  {citizens:,} citizens in {time.perf_counter() - started:.0f} s")
        counts = gen.visits_per_citizen(citizens, visits)
        next_ids = {"visit": 1, "service": 1}
        tables = {
            "visit": ("healthbook_visit", VISIT_COLUMNS),
            "drug": ("healthbook_drugline", DRUG_COLUMNS),
            "service": ("healthbook_serviceline", SERVICE_COLUMNS),
            "result": ("healthbook_result", RESULT_COLUMNS),
            "note": ("healthbook_clinicalnote", NOTE_COLUMNS),
            "paper": ("healthbook_dischargepaper", PAPER_COLUMNS),
        }
        rows = 0
        with conn.cursor() as cursor:
            cursor.execute("SET synchronous_commit = off")
        for chunk in _visit_rows(gen, people, counts, next_ids=next_ids, facilities=facilities):
            for key, (table, columns) in tables.items():
                _copy(conn, table, columns, chunk[key])
                rows += len(chunk[key])
            conn.commit()
            done = next_ids["visit"] - 1
            if done % 100_000 < CHUNK:
                elapsed = time.perf_counter() - started
                say(
                    f"  {done:,}/{visits:,} visits, {rows:,} rows, {elapsed:.0f} s ({rows / elapsed:,.0f} rows/s)"
                )
        for table in ("registry_facility", "registry_citizen", "healthbook_visit", "healthbook_serviceline"):
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM \"{table}\"))"
            )
        conn.commit()
    with psycopg.connect(_dsn(DB_NAME), autocommit=True) as conn:
        say("  VACUUM ANALYZE …")
        conn.execute("VACUUM ANALYZE")
    say(f"  generated {visits:,} visits, {rows:,} rows in {time.perf_counter() - started:.0f} s")


# --- the sampled citizens: accounts, tokens, books ----------------------------------------------------


def prepare_sample(sample: int, seed: int = 2733) -> None:
    """Give ``sample`` random citizens an account, an API token, an open synced book and a book token."""
    import psycopg
    from django.conf import settings
    from django.contrib.auth.hashers import make_password

    from soskdt.healthbook import book as book_services
    from soskdt.healthbook import terms
    from soskdt.identity import services as identity_services
    from soskdt.testing import DEFAULT_PASSWORD

    rng = random.Random(seed)
    now = dt.datetime.now(dt.UTC)
    stamp, far = _ts(now), _ts(now + dt.timedelta(days=30))
    # One hash for everybody: argon2 at full cost takes ~50 ms a call.
    password = make_password(DEFAULT_PASSWORD)
    passcode = make_password("246813")
    with psycopg.connect(_dsn(DB_NAME)) as conn:
        n_citizens = conn.execute("SELECT max(id) FROM registry_citizen").fetchone()[0]
        chosen = rng.sample(range(1, n_citizens + 1), sample)
        people = dict(
            conn.execute(
                "SELECT id, personal_id FROM registry_citizen WHERE id = ANY(%s)", (chosen,)
            ).fetchall()
        )
        visits: dict[int, list[tuple[int, int]]] = {}
        for cid, year, vid in conn.execute(
            "SELECT citizen_id, visit_year, id FROM healthbook_visit WHERE citizen_id = ANY(%s)", (chosen,)
        ):
            visits.setdefault(cid, []).append((year, vid))
        users, api_tokens, books, book_tokens, plan = [], [], [], [], []
        for n, cid in enumerate(chosen, start=1):
            pid = people[cid]
            year, vid = rng.choice(visits[cid])
            users.append(
                f"{n}\t{password}\tf\t{pid}\tcitizen\tBench\t\t\t{cid}\t2\t2024-03-01\t{APP_VERSION}\t{stamp}\tt\tf\t{stamp}\n"
            )
            bearer = f"{n:012x}.{rng.getrandbits(192):048x}"
            api_tokens.append(
                f"{n}\t{bearer[:12]}\t{identity_services._token_digest(bearer)}\t{stamp}\t{far}\t{stamp}\n"
            )
            books.append(
                f"{n}\t{stamp}\t{stamp}\t{cid}\t{terms.CURRENT_VERSION}\t{stamp}\t{n}\tcitizen\t{passcode}\t"
                f"{stamp}\t{stamp}\t{stamp}\n"
            )
            book_token = f"{n + 10**10:012x}.{rng.getrandbits(192):048x}"
            book_tokens.append(
                f"{n}\t{n}\t{book_token[:12]}\t{book_services._token_digest(book_token)}\t{stamp}\t{far}\n"
            )
            plan.append(f"{n}\t{pid}\t{year}\t{vid}\t{bearer}\t{book_token}\n")
        _copy(
            conn,
            "identity_user",
            _cols(
                "id password is_superuser username kind full_name email phone citizen_id assurance_level "
                "assurance_granted_on app_version app_version_seen_at is_active is_staff date_joined"
            ),
            users,
        )
        _copy(
            conn,
            "identity_apitoken",
            _cols("user_id prefix digest created_at expires_at last_used_at"),
            api_tokens,
        )
        _copy(
            conn,
            "healthbook_book",
            _cols(
                "id created_at updated_at citizen_id terms_version terms_accepted_at terms_accepted_by_id "
                "terms_accepted_as passcode_hash passcode_set_at activated_at last_synced_at"
            ),
            books,
        )
        _copy(
            conn,
            "healthbook_booktoken",
            _cols("book_id user_id prefix digest created_at expires_at"),
            book_tokens,
        )
        conn.execute(
            "CREATE TABLE bench_sample (n int, pid text, year int, visit_id bigint, bearer text, book text)"
        )
        _copy(conn, "bench_sample", _cols("n pid year visit_id bearer book"), plan)
        for table in ("identity_user", "healthbook_book"):
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM \"{table}\"))"
            )
        conn.commit()
    with psycopg.connect(_dsn(DB_NAME), autocommit=True) as conn:
        for table in ("identity_user", "identity_apitoken", "healthbook_book", "healthbook_booktoken"):
            conn.execute(f'ANALYZE "{table}"')
    assert settings.SECRET_KEY  # the server process reads the same key (same SOSKDT_VAR_DIR)


def _write_meta(citizens: int, visits: int, sample: int) -> None:
    import psycopg

    with psycopg.connect(_dsn(DB_NAME)) as conn:
        conn.execute("CREATE TABLE bench_meta (citizens int, visits int, sample int)")
        conn.execute("INSERT INTO bench_meta VALUES (%s, %s, %s)", (citizens, visits, sample))


def _plan() -> list[tuple[str, int, int, str, str]]:
    import psycopg

    with psycopg.connect(_dsn(DB_NAME)) as conn:
        rows = conn.execute(
            "SELECT pid, year, visit_id, bearer, book FROM bench_sample ORDER BY n"
        ).fetchall()
    _tokens_just_used()
    return [(r[0], int(r[1]), int(r[2]), r[3], r[4]) for r in rows]


def _tokens_just_used() -> None:
    """A client re-uses its token all the time: its "last used" was just written (written once a minute).

    Called before each measured call: without it, a sample that rotates over 10,000 tokens would write
    every token's "last used" once a minute, which no real client population of that size does per call.
    """
    import psycopg

    with psycopg.connect(_dsn(DB_NAME)) as conn:
        conn.execute("UPDATE identity_apitoken SET last_used_at = now()")


def _paths(plan: list[tuple[str, int, int, str, str]]) -> dict[str, list[tuple[str, str, str]]]:
    return {
        "health": [(HEALTH, "", "") for _ in plan[:1]],
        "year": [(f"/api/v1/me/book/years/{y}/visits", b, k) for _pid, y, _v, b, k in plan],
        "visit": [(f"/api/v1/me/book/visits/{v}", b, k) for _pid, _y, v, b, k in plan],
        "lab tab": [(f"/api/v1/me/book/visits/{v}/tabs/lab", b, k) for _pid, _y, v, b, k in plan],
    }


LABELS = {
    "health": "minimal JSON endpoint (/api/v1/health)",
    "year": "visits of one citizen for one year",
    "visit": "one visit with all its items",
    "lab tab": "its lab tab (service lines + results)",
    "floor": "floor: one INSERT + COMMIT, nothing else",
    "year statement": "the year's statement alone, bare view",
}


# --- (a) server time, one request at a time -------------------------------------------------------------


class ServerTimer:
    """Outermost middleware: time the real handler (all other middleware, the view, serialisation)."""

    last_ms = 0.0
    last_cpu_ms = 0.0
    queries = 0

    def __init__(self, get_response: Callable[[Any], Any]) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        from django.db import connection

        counted = [0]

        def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
            counted[0] += 1
            return execute(sql, params, many, context)

        started, cpu = time.perf_counter(), time.thread_time()
        with connection.execute_wrapper(count):
            response = self.get_response(request)
        ServerTimer.last_ms = (time.perf_counter() - started) * 1000
        ServerTimer.last_cpu_ms = (time.thread_time() - cpu) * 1000
        ServerTimer.queries = counted[0]
        return response


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def measure_in_process(plan: list[tuple[str, int, int, str, str]]) -> dict[str, tuple[float, float, int]]:
    from django.conf import settings
    from django.test import Client

    settings.MIDDLEWARE = ["__main__.ServerTimer", *settings.MIDDLEWARE]
    settings.ALLOWED_HOSTS = ["*"]
    client = Client()
    figures: dict[str, tuple[float, float, int]] = {}
    for key, calls in _paths(plan).items():
        calls = calls * 2000 if key == "health" else calls
        _tokens_just_used()
        times: list[float] = []
        cpu: list[float] = []
        queries: set[int] = set()
        warm = min(200, len(calls) // 10)
        for i, (path, bearer, book) in enumerate(calls):
            headers = {"HTTP_X_APP_VERSION": APP_VERSION}
            if bearer:
                headers |= {"HTTP_AUTHORIZATION": f"Bearer {bearer}", "HTTP_X_BOOK_TOKEN": book}
            response = client.get(path, **headers)
            assert response.status_code == 200, (path, response.status_code, response.content[:300])
            if i % 2000 == 1999:
                _tokens_just_used()
            if i >= warm:
                times.append(ServerTimer.last_ms)
                cpu.append(ServerTimer.last_cpu_ms)
                queries.add(ServerTimer.queries)
        figures[key] = (statistics.median(times), _pct(times, 99), max(queries))
        say(
            f"  {LABELS[key]:<42} p50 {figures[key][0]:6.2f} ms   p99 {_pct(times, 99):6.2f} ms   "
            f"max {max(times):6.1f} ms   queries {sorted(queries)}   n={len(times):,}   "
            f"(Python CPU p50 {statistics.median(cpu):.2f} ms; load average {os.getloadavg()[0]:.1f})"
        )
    return figures


# --- (b) requests/s under load --------------------------------------------------------------------------

LUA = r"""
local lines = {}
local n = 0
init = function(args)
  for line in io.lines(args[1]) do
    local path, bearer, book = line:match("([^\t]*)\t([^\t]*)\t([^\t]*)")
    n = n + 1
    lines[n] = {path, bearer, book}
  end
  counter = math.random(n)
end
request = function()
  counter = counter % n + 1
  local item = lines[counter]
  local headers = {["X-App-Version"] = "2.1.0"}
  if item[2] ~= "" then
    headers["Authorization"] = "Bearer " .. item[2]
    headers["X-Book-Token"] = item[3]
  end
  return wrk.format("GET", item[1], headers)
end
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_until_up(url: str, timeout: float = 30) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - local URL
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"server did not answer {url}")


def _wrk(base: str, lua: Path, items: Path, *, duration: int, connections: int) -> tuple[float, int, str]:
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency", "-s", str(lua), base, str(items)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = next(float(line.split()[1]) for line in out.splitlines() if line.startswith("Requests/sec"))
    bad = next((int(line.split()[-1]) for line in out.splitlines() if "Non-2xx" in line), 0)
    p99 = next((line.split()[1] for line in out.splitlines() if line.strip().startswith("99%")), "?")
    return rps, bad, p99


@dataclass(frozen=True)
class CpuSample:
    """CPU seconds used so far by the app server's processes and by PostgreSQL's, and the machine's total
    and idle seconds (Linux ``/proc``). A run's difference says where a request's time went, and whether
    the run waited (idle CPU) rather than computed.

    Each process counts its own time and that of the children it reaped (a database connection that
    closed during the run ends in the postmaster's count, a restarted worker in gunicorn's), so a
    difference stays exact when processes come and go."""

    app: float
    database: float
    total: float
    idle: float

    @classmethod
    def now(cls, server_group: int) -> CpuSample | None:
        try:
            fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
        except OSError:
            return None
        tick = os.sysconf("SC_CLK_TCK")
        app = database = 0.0
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue  # the process ended: its time is now its parent's
            name, rest = stat[stat.index("(") + 1 : stat.rindex(")")], stat[stat.rindex(")") + 2 :].split()
            used = sum(int(value) for value in rest[11:15]) / tick  # utime stime cutime cstime
            if int(rest[2]) == server_group:
                app += used
            elif name.startswith("postgres"):
                database += used
        ticks = [int(value) for value in fields]
        return cls(app, database, sum(ticks) / tick, (ticks[3] + ticks[4]) / tick)

    def per_request(self, before: CpuSample, requests: float) -> str:
        app, database = self.app - before.app, self.database - before.database
        idle = (self.idle - before.idle) / max(self.total - before.total, 1e-9)
        return (
            f"CPU per request: app {1000 * app / requests:.2f} ms, "
            f"PostgreSQL {1000 * database / requests:.2f} ms; idle {idle:.0%}"
        )


# Bench-only views served beside the product (their own URLconf in the run's temporary folder):
# - the floor: the least that any logged read must do, one INSERT and its COMMIT, with no authentication
#   and no content. Its ratio to the minimal endpoint is the most a logged read can reach on this machine;
# - the year's statement alone: the one statement of *visits of one year* (token, book, content, log row)
#   behind a bare Django view that answers {"status": "ok"}: no django-ninja, no answer built. Its ratio
#   is the most that making the year's answer cheaper could reach.
FLOOR = "/bench/logged-write"
FLOOR_MODULES = {
    "bench_floor_urls.py": """
from django.db import connection
from django.http import JsonResponse
from django.urls import path

from soskdt.healthbook import fastpath
from soskdt.healthbook.access import context_from
from soskdt.urls import urlpatterns as product


def logged_write(request):
    with connection.cursor() as cursor:  # autocommit: the INSERT commits on its own
        cursor.execute("INSERT INTO bench_logged_write (at) VALUES (now())")
    return JsonResponse({"status": "ok"})


def year_statement(request, year):
    found = fastpath._run(
        fastpath._YEAR_SQL,
        bearer=request.headers["Authorization"].removeprefix("Bearer "),
        book_token=request.headers["X-Book-Token"],
        app_version=request.headers.get("X-App-Version"),
        context=context_from(request, "api"),
        action="visits.year",
        target=f"year:{year}",
        extra={"year": year, "limit": 20, "offset": 0},
    )
    assert found is not None
    return JsonResponse({"status": "ok"})


urlpatterns = [
    path("bench/logged-write", logged_write),
    path("bench/year-statement/<int:year>", year_statement),
    *product,
]
""",
    "bench_floor_settings.py": """
from soskdt.settings import *  # noqa: F403

ROOT_URLCONF = "bench_floor_urls"
""",
}
LOAD_KEYS = ("health", "year", "visit", "lab tab", "floor", "year statement")


def measure_under_load(
    plan: list[tuple[str, int, int, str, str]], *, workers: int, duration: int, connections: int, rounds: int
) -> dict[str, float]:
    """Requests/s of each call, ``rounds`` times in turn; return each call's median ratio to the minimal
    endpoint of the same round (this machine's throughput drifts by a quarter within minutes)."""
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: apt-get install wrk")
    gunicorn = Path(sys.executable).with_name("gunicorn")
    if not gunicorn.exists():
        raise SystemExit("gunicorn is missing: pip install -e '.[dev]' -c constraints.txt")
    import psycopg

    with psycopg.connect(_dsn(DB_NAME), autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS bench_logged_write (id bigserial PRIMARY KEY, at timestamptz)"
        )
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    ratios: dict[str, list[float]] = {key: [] for key in LOAD_KEYS}
    with tempfile.TemporaryDirectory() as folder:
        for name, text in FLOOR_MODULES.items():
            (Path(folder) / name).write_text(text)
        env = {
            **os.environ,
            "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{folder}",
            "DJANGO_SETTINGS_MODULE": "bench_floor_settings",
            "ALLOWED_HOSTS": "127.0.0.1",
        }
        server = subprocess.Popen(
            [
                str(gunicorn),
                "soskdt.wsgi:application",
                "-w",
                str(workers),
                "-b",
                f"127.0.0.1:{port}",
                "--log-level",
                "warning",
                "--backlog",
                "256",
            ],
            env=env,
            cwd=ROOT,
            start_new_session=True,
        )
        try:
            _wait_until_up(base + HEALTH)
            lua = Path(folder) / "rotate.lua"
            lua.write_text(LUA)
            paths = _paths(plan) | {
                "floor": [(FLOOR, "", "")],
                "year statement": [(f"/bench/year-statement/{y}", b, k) for _pid, y, _v, b, k in plan],
            }
            for turn in range(1, rounds + 1):
                rps: dict[str, float] = {}
                for key in LOAD_KEYS:
                    items = Path(folder) / "items.tsv"
                    items.write_text("".join(f"{p}\t{b}\t{k}\n" for p, b, k in paths[key]))
                    _tokens_just_used()
                    _wrk(base, lua, items, duration=2, connections=connections)  # warm up the workers
                    before = CpuSample.now(server.pid)
                    rps[key], bad, p99 = _wrk(base, lua, items, duration=duration, connections=connections)
                    after = CpuSample.now(server.pid)
                    if bad:
                        raise RuntimeError(f"{key}: {bad} non-2xx answers")
                    say(
                        f"  round {turn}  {LABELS[key]:<46} {rps[key]:8,.0f} requests/s   (latency p99 {p99})"
                    )
                    if before and after:
                        say(f"{'':11}{after.per_request(before, rps[key] * duration)}")
                for key in LOAD_KEYS:
                    ratios[key].append(rps[key] / rps["health"])
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
    return {key: statistics.median(values) for key, values in ratios.items()}


# --- the cache ----------------------------------------------------------------------------------------


# The line tables the two measured reads do not touch (the lab tab does) come last when the database's
# own cache cannot hold everything; primary keys of line tables are never used (lines are read by visit).
_LAB_TABLES = ("healthbook_serviceline", "healthbook_result")
_UNUSED = ("healthbook_drugline_pkey", "healthbook_serviceline_pkey", "healthbook_result_pkey")


def _gb(pages: int) -> str:
    return f"{pages * 8192 / 2**30:.1f} GB"


def prewarm() -> None:
    """Read the book's tables and indexes into memory: the OS cache (``pg_prewarm``, mode read), then
    PostgreSQL's own cache (mode buffer) as far as ``shared_buffers`` holds them.

    A database server keeps its working set in memory. This 24 GB machine's page cache is reclaimed in the
    background, so what sits only there is read from the disk again within minutes: with the default
    128 MB of ``shared_buffers`` the runs under load left the CPU 20–60 % idle, waiting on the disk.
    Sized as for production (a quarter of the memory), PostgreSQL holds the reads' tables itself.
    """
    import psycopg

    started = time.perf_counter()
    try:
        with psycopg.connect(_dsn(DB_NAME), autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
            relations = conn.execute(
                "SELECT c.oid, c.relname, "
                "CASE WHEN c.relkind = 'r' THEN c.relname ELSE i.indrelid::regclass::text END, "
                "pg_relation_size(c.oid) / 8192 FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace LEFT JOIN pg_index i ON i.indexrelid = c.oid "
                "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'i') "
                "AND c.relname ~ '^(healthbook|registry|identity|hb_)'"
            ).fetchall()
            pages = sum(
                conn.execute("SELECT pg_prewarm(%s, 'read')", (oid,)).fetchone()[0] for oid, *_ in relations
            )
            budget = int(
                conn.execute(
                    "SELECT setting::bigint FROM pg_settings WHERE name = 'shared_buffers'"
                ).fetchone()[0]
            )
            wanted = sorted(
                (r for r in relations if r[1] not in _UNUSED),
                key=lambda r: (r[2] in _LAB_TABLES, r[2] == "healthbook_drugline", r[3]),
            )
            held, left_out = 0, []
            for oid, _name, table, size in wanted:
                if held + size > budget * 0.9:
                    left_out.append(table)
                    continue
                held += conn.execute("SELECT pg_prewarm(%s, 'buffer')", (oid,)).fetchone()[0]
    except psycopg.Error as error:
        say(f"prewarm skipped: {error}")
        return
    say(f"prewarmed {_gb(pages)} into the OS cache in {time.perf_counter() - started:.0f} s")
    missing = sorted(set(left_out))
    say(
        f"shared_buffers {_gb(budget)}: PostgreSQL holds {_gb(held)} of the reads' tables and indexes"
        + (f" (not all of {', '.join(missing)})" if missing else " (all of them)")
    )
    if {"healthbook_visit", "healthbook_drugline", "healthbook_accesslog"} & set(missing):
        say(
            "  WARNING: the measured reads' tables do not fit: under load they will wait on the disk once the "
            "OS drops its cache. Size the server as for production and restart it, e.g.\n"
            "  psql -c \"ALTER SYSTEM SET shared_buffers = '6GB'\" && pg_ctlcluster 15 main restart"
        )


# --- profile ---------------------------------------------------------------------------------------------


def explain(plan: list[tuple[str, int, int, str, str]]) -> None:
    """Print each SQL statement of one call of each read with EXPLAIN (ANALYZE, BUFFERS)."""
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    settings.ALLOWED_HOSTS = ["*"]
    client = Client()
    _pid, year, vid, bearer, book = plan[len(plan) // 2]
    headers = {
        "HTTP_AUTHORIZATION": f"Bearer {bearer}",
        "HTTP_X_BOOK_TOKEN": book,
        "HTTP_X_APP_VERSION": APP_VERSION,
    }
    for path in (f"/api/v1/me/book/years/{year}/visits", f"/api/v1/me/book/visits/{vid}"):
        with CaptureQueriesContext(connection) as captured:
            client.get(path, **headers)
        say(f"\n{path}: {len(captured)} queries")
        for query in captured.captured_queries:
            sql = query["sql"]
            say(f"  [{query['time']} s] {sql[:160]}")
            if sql.lstrip().upper().startswith("SELECT"):
                with connection.cursor() as cursor:
                    cursor.execute("EXPLAIN (ANALYZE, BUFFERS, TIMING) " + sql)
                    for (line,) in cursor.fetchall():
                        say(f"      {line}")


# --- main ------------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--citizens", type=int, default=100_000)
    parser.add_argument("--visits", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=10_000)
    parser.add_argument("--reuse", action="store_true", help="keep a database already filled at these sizes")
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per call")
    parser.add_argument("--connections", type=int, default=10)
    # gunicorn's advice for sync workers: two per core, plus one (a worker waits on each commit).
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1)
    parser.add_argument("--rounds", type=int, default=3, help="measure each call this many times in turn")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE the queries of each read")
    parser.add_argument("--no-load", action="store_true", help="skip the measurement under load")
    parser.add_argument("--no-serial", action="store_true", help="skip the one-at-a-time measurement")
    parser.add_argument("--cold", action="store_true", help="do not read the tables into the OS cache first")
    args = parser.parse_args()
    if args.sample > args.citizens:
        parser.error("--sample must not exceed --citizens")

    sizes = (args.citizens, args.visits, args.sample)
    if args.reuse and _existing_sizes() == sizes:
        say(f"reusing {DB_NAME}: {args.citizens:,} citizens, {args.visits:,} visits")
        _setup_django()
    else:
        say(f"creating {DB_NAME}: {args.citizens:,} citizens, {args.visits:,} visits …")
        _recreate_database()
        _setup_django()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        generate(args.citizens, args.visits)
        prepare_sample(args.sample)
        _write_meta(*sizes)

    import psycopg

    with psycopg.connect(_dsn(DB_NAME)) as conn:
        counts = {
            t: conn.execute(f"SELECT reltuples::bigint FROM pg_class WHERE relname = '{t}'").fetchone()[0]
            for t in (
                "healthbook_visit",
                "healthbook_drugline",
                "healthbook_serviceline",
                "healthbook_result",
            )
        }
        size = conn.execute("SELECT pg_size_pretty(pg_database_size(current_database()))").fetchone()[0]
    listed = ", ".join(f"{t.split('_')[1]} {n:,}" for t, n in counts.items())
    say(f"data: {listed} ({size})")
    if not args.cold:
        prewarm()
    plan = _plan()
    if not args.no_serial:
        say(f"\n(a) server time, one request at a time, {len(plan):,} random citizens (target p99 <= 15 ms)")
    figures = {} if args.no_serial else measure_in_process(plan)
    if args.explain:
        explain(plan)
    if not args.no_load:
        say(
            f"\n(b) under load: gunicorn {args.workers} sync workers, wrk {args.connections} connections, "
            f"{args.duration} s per call, {args.rounds} rounds (target >= 0.4 of the minimal endpoint)"
        )
        ratio = measure_under_load(
            _plan(),
            workers=args.workers,
            duration=args.duration,
            connections=args.connections,
            rounds=args.rounds,
        )
        say("  median ratio to the minimal endpoint of the same round:")
        for key in LOAD_KEYS[1:]:
            say(f"  ratio {LABELS[key]:<46} {ratio[key]:.2f}")
    else:
        ratio = {}
    summary = {
        k: {"p50_ms": round(v[0], 2), "p99_ms": round(v[1], 2), "queries": v[2]} for k, v in figures.items()
    }
    say(
        "\n"
        + json.dumps(
            {
                "sizes": dict(zip(("citizens", "visits", "sample"), sizes, strict=True)),
                "server_time": summary,
                "ratio_under_load": {k: round(v, 3) for k, v in ratio.items() if k != "health"},
            }
        )
    )


if __name__ == "__main__":
    main()
