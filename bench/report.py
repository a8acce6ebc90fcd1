"""Benchmark the consolidated Appendix 1 of a whole province: JSON (target ≤ 2 s) and the Word file (≤ 10 s).

    .venv/bin/python bench/report.py                  # 500 units, 50,000 staff
    .venv/bin/python bench/report.py --profile        # also: where build_consolidated spends its time

A province is generated with bulk inserts into a private PostgreSQL database (``soskdt_bench_report``, dropped
and created again): 10 health centres, each with 10 departments (3 *Khoa/Phòng* each) and 40 commune stations —
500 reporting units, 100 staff each. 40% of the staff have a citizen account (85% of those level 2, most with an
app version), 60% of the accounts a linked BHYT card, half of them an activated health book, some a refused
card request; the others' statuses are entered (four indicators, reasons, a tenth with an earlier value kept as
history). Every unit has reception records, a training session with attendees and printing records.

Two cases are timed (best of ``--rounds``):

* **all live** — no unit has submitted: every unit's numbers are counted now (the worst case);
* **mixed** — 60% of the units submitted (their numbers frozen in the report's snapshot), the rest live.

For each: ``build_consolidated`` + ``to_json`` + ``json.dumps`` (target 2 s), then the DOCX render (target 10 s)
and, for information, XLSX and PDF. Prints each figure with its ratio to the target (≤ 1.00 is within target).
Needs a PostgreSQL server (``PGHOST``/``PGPORT``, default 127.0.0.1:5432, user postgres).
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import json
import os
import pstats
import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

DB_NAME = "soskdt_bench_report"
CENTRES = 10
DEPARTMENTS = 10  # per centre, each with 3 Khoa/Phòng
STATIONS = 40  # per centre
STAFF_PER_UNIT = 100
JSON_TARGET_S = 2.0
DOCX_TARGET_S = 10.0
BATCH = 5000


def setup_database(*, reuse: bool = False) -> None:
    import psycopg

    host = os.environ.get("PGHOST", "127.0.0.1")
    port = os.environ.get("PGPORT", "5432")
    user = os.environ.get("PGUSER", "postgres")
    if not reuse:
        with psycopg.connect(
            f"host={host} port={port} user={user} dbname=postgres", autocommit=True
        ) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}"')
            admin.execute(f'CREATE DATABASE "{DB_NAME}"')
    os.environ["DATABASE_URL"] = f"postgres://{user}@{host}:{port}/{DB_NAME}"
    os.environ.setdefault("SOSKDT_VAR_DIR", tempfile.mkdtemp(prefix="soskdt-bench-report-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "soskdt.settings")
    os.environ["SOSKDT_LOG_LEVEL"] = "WARNING"

    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def personal_id(n: int) -> str:
    # 089 (An Giang) + sex/century digit + birth year + serial: 12 digits, unique per n.
    return f"089{1 + n % 2}{80 + n % 20:02d}{n:06d}"


def generate(seed: int) -> dict[str, Any]:
    """Build the province; return what the timing needs (the province, the month, the counts)."""
    from django.contrib.auth.hashers import make_password
    from django.db import connection
    from django.utils import timezone

    from soskdt.healthbook.models import Book
    from soskdt.identity.models import AccountKind, User
    from soskdt.registry.models import Citizen, InsuranceCard, OrgUnit, OrgUnitKind
    from soskdt.rollout.models import (
        Indicator,
        PrintingRecord,
        PrintKind,
        ReceptionAction,
        ReceptionHelp,
        RosterEntry,
        StatusChange,
        TrainingSession,
    )
    from soskdt.rollout.periods import Period, local_zone
    from soskdt.wallet.models import CardLinkRequest, LinkedCard, LinkStatus

    rng = random.Random(seed)
    zone = local_zone()
    today = timezone.localdate()
    period = Period.of(today).previous()
    month_start = dt.datetime.combine(period.start, dt.time(8), tzinfo=zone)
    before = month_start - dt.timedelta(days=60)

    province = OrgUnit.objects.create(
        code="SYT-89", name="Sở Y tế tỉnh An Giang", kind=OrgUnitKind.PROVINCE_DEPARTMENT, province_code="89"
    )
    centres = OrgUnit.objects.bulk_create(
        OrgUnit(
            code=f"TTYT-{c:02d}",
            name=f"Trung tâm Y tế khu vực Số {c:02d}",
            kind=OrgUnitKind.HEALTH_CENTRE,
            parent=province,
            province_code="89",
        )
        for c in range(1, CENTRES + 1)
    )
    units: list[OrgUnit] = []
    for c, centre in enumerate(centres, start=1):
        units += [
            OrgUnit(
                code=f"K-{c:02d}-{d:02d}",
                name=f"Khoa Lâm sàng số {d:02d} ({centre.name})",
                kind=OrgUnitKind.DEPARTMENT,
                parent=centre,
                province_code="89",
            )
            for d in range(1, DEPARTMENTS + 1)
        ]
        units += [
            OrgUnit(
                code=f"TYT-{c:02d}-{s:02d}",
                name=f"Trạm Y tế xã Số {c:02d}-{s:02d}",
                kind=OrgUnitKind.COMMUNE_STATION,
                parent=centre,
                province_code="89",
            )
            for s in range(1, STATIONS + 1)
        ]
    units = OrgUnit.objects.bulk_create(units)

    entries: list[RosterEntry] = []
    n = 0
    for unit in units:
        for i in range(STAFF_PER_UNIT):
            n += 1
            department = "" if unit.kind == OrgUnitKind.COMMUNE_STATION else f"Khoa/Phòng {1 + i % 3}"
            entries.append(
                RosterEntry(
                    unit=unit,
                    full_name=f"Cán bộ {n:05d}",
                    personal_id=personal_id(n),
                    position="Điều dưỡng",
                    department=department,
                    has_smartphone=rng.random() < 0.9,
                    active_from=dt.date(2023, 1, 1),
                )
            )
    entries = RosterEntry.objects.bulk_create(entries, batch_size=BATCH)

    with_account = [e for e in entries if rng.random() < 0.4]
    citizens = Citizen.objects.bulk_create(
        (
            Citizen(
                personal_id=e.personal_id, full_name=e.full_name, birth_year=1985, sex="2", province_code="89"
            )
            for e in with_account
        ),
        batch_size=BATCH,
    )
    unusable = make_password(None)
    users = User.objects.bulk_create(
        (
            User(
                username=citizen.personal_id,
                kind=AccountKind.CITIZEN,
                full_name=citizen.full_name,
                citizen=citizen,
                assurance_level=2 if rng.random() < 0.85 else 1,
                assurance_granted_on=dt.date(2024, 6, 1),
                app_version="2.1.0" if rng.random() < 0.8 else "",
                password=unusable,
            )
            for citizen in citizens
        ),
        batch_size=BATCH,
    )
    level2 = [(u, c) for u, c in zip(users, citizens, strict=True) if u.assurance_level == 2]
    linked = [(u, c) for u, c in level2 if rng.random() < 0.6]
    cards = InsuranceCard.objects.bulk_create(
        (
            InsuranceCard(
                code=f"GD4{c.personal_id[-10:]}89",
                social_insurance_number=c.personal_id[-10:],
                holder_personal_id=c.personal_id,
                full_name=c.full_name,
                birth_year=1985,
                sex="2",
                primary_care_facility_code="89010",
                valid_from=dt.date(2024, 1, 1),
                valid_to=dt.date(2030, 12, 31),
            )
            for _u, c in linked
        ),
        batch_size=BATCH,
    )
    requests = CardLinkRequest.objects.bulk_create(
        (
            CardLinkRequest(
                account=u,
                citizen=c,
                typed_value=card.social_insurance_number,
                social_insurance_number=card.social_insurance_number,
                issuer=card.issuer,
                status=LinkStatus.APPROVED,
                decided_at=before,
                card=card,
            )
            for (u, c), card in zip(linked, cards, strict=True)
        ),
        batch_size=BATCH,
    )
    LinkedCard.objects.bulk_create(
        (
            LinkedCard(
                citizen=c,
                card=card,
                request=request,
                linked_at=month_start + dt.timedelta(days=rng.randrange(-90, 25)),
            )
            for (_u, c), card, request in zip(linked, cards, requests, strict=True)
        ),
        batch_size=BATCH,
    )
    linked_ids = {c.pk for _u, c in linked}
    refused = [(u, c) for u, c in level2 if c.pk not in linked_ids and rng.random() < 0.5]
    CardLinkRequest.objects.bulk_create(
        (
            CardLinkRequest(
                account=u,
                citizen=c,
                typed_value="0000000000",
                social_insurance_number="0000000000",
                issuer="VSS",
                status=LinkStatus.REJECTED,
                reason_code=rng.choice(["WRONG_NUMBER", "PERSONAL_DATA_MISMATCH", "INSURANCE_NOT_MATCHED"]),
                decided_at=before,
            )
            for u, c in refused
        ),
        batch_size=BATCH,
    )
    Book.objects.bulk_create(
        (
            Book(citizen=c, activated_at=month_start + dt.timedelta(days=rng.randrange(-60, 25)))
            for _u, c in linked
            if rng.random() < 0.5
        ),
        batch_size=BATCH,
    )

    account_pids = {c.personal_id for c in citizens}
    level2_reasons = [
        "NO_CHIP_ID",
        "NOT_REGISTERED_POLICE",
        "AWAITING_APPROVAL",
        "LOW_DIGITAL_SKILLS",
        "OTHER",
    ]
    card_reasons = ["NO_CARD_OR_EXPIRED", "WRONG_NUMBER", "ARMED_FORCES_CARD", "OTHER"]
    changes: list[StatusChange] = []
    for entry in entries:
        if entry.personal_id in account_pids:
            continue
        for indicator, share, why in (
            (Indicator.LEVEL2, 0.6, level2_reasons),
            (Indicator.VNEID_INSTALLED, 0.5, level2_reasons),
            (Indicator.CARD_LINKED, 0.4, card_reasons),
            (Indicator.BOOK_CREATED, 0.3, ["TERMS_NOT_ACCEPTED", "NO_VISIT_DATA"]),
        ):
            done = rng.random() < share
            reason = "" if done else rng.choice(why)
            text = "Đang đi công tác" if reason == "OTHER" else ""
            if rng.random() < 0.1:  # an earlier value, replaced during the month: kept as history
                changes.append(
                    StatusChange(
                        entry=entry,
                        indicator=indicator,
                        done=False,
                        reason_code=rng.choice(why),
                        effective_from=before,
                        effective_to=month_start,
                        changed_at=before,
                    )
                )
            changes.append(
                StatusChange(
                    entry=entry,
                    indicator=indicator,
                    done=done,
                    reason_code=reason,
                    reason_text=text,
                    effective_from=month_start,
                    changed_at=month_start,
                )
            )
    StatusChange.objects.bulk_create(changes, batch_size=BATCH)

    actions = list(ReceptionAction.values)
    ReceptionHelp.objects.bulk_create(
        (
            ReceptionHelp(
                unit=unit,
                action=rng.choice(actions),
                helped_at=month_start + dt.timedelta(days=rng.randrange(0, 25), hours=rng.randrange(0, 8)),
            )
            for unit in units
            for _ in range(20)
        ),
        batch_size=BATCH,
    )
    sessions = TrainingSession.objects.bulk_create(
        TrainingSession(
            unit=unit,
            held_on=period.start + dt.timedelta(days=rng.randrange(0, 25)),
            topic="Khai thác thông tin Sổ sức khỏe điện tử trên VNeID",
            other_attendees=rng.randrange(0, 3),
        )
        for unit in units
    )
    by_unit: dict[int, list[RosterEntry]] = {}
    for entry in entries:
        by_unit.setdefault(entry.unit_id, []).append(entry)
    through = TrainingSession.attendees.through
    through.objects.bulk_create(
        (
            through(trainingsession_id=session.pk, rosterentry_id=entry.pk)
            for session in sessions
            for entry in rng.sample(by_unit[session.unit_id], 20)
        ),
        batch_size=BATCH,
    )
    kinds = list(PrintKind.values)
    PrintingRecord.objects.bulk_create(
        PrintingRecord(
            unit=unit,
            recorded_on=period.start + dt.timedelta(days=rng.randrange(0, 25)),
            kind=rng.choice(kinds),
            quantity=rng.randrange(1, 10),
            colour=rng.random() < 0.5,
            location="Khu vực tiếp đón",
        )
        for unit in units
        for _ in range(2)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {
        "province": province,
        "period": period,
        "units": units,
        "staff": len(entries),
        "accounts": len(users),
        "cards": len(linked),
        "status_rows": len(changes),
    }


def submit_some(units: list[Any], period: Any, share: float, seed: int) -> int:
    """Submit ``share`` of the units' reports (numbers frozen in their snapshot), as units would."""
    from soskdt.rollout import services

    rng = random.Random(seed)
    chosen = [u for u in units if rng.random() < share]
    for unit in chosen:
        report = services.start_report(unit=unit, period=period, by=None)
        services.submit_report(report=report, by=None)  # type: ignore[arg-type]
    return len(chosen)


def best_of(rounds: int, work: Callable[[], Any]) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(rounds):
        start = time.perf_counter()
        result = work()
        best = min(best, time.perf_counter() - start)
    return best, result


def line(label: str, seconds: float, target: float | None = None) -> str:
    ratio = f"   ratio {seconds / target:.2f} of the {target:.0f} s target" if target else ""
    return f"  {label:<38} {seconds:7.2f} s{ratio}"


def measure(case: str, province: Any, period: Any, rounds: int, profile: bool) -> dict[str, float]:
    from django.db import connection, reset_queries

    from soskdt.rollout.exports import letterhead_for, render
    from soskdt.rollout.report import build_consolidated

    def as_json() -> tuple[Any, bytes]:
        appendix = build_consolidated(province, period)
        return appendix, json.dumps(appendix.to_json(), ensure_ascii=False).encode("utf-8")

    json_s, (appendix, payload) = best_of(rounds, as_json)
    reset_queries()
    connection.force_debug_cursor = True
    as_json()
    queries = len(connection.queries)
    connection.force_debug_cursor = False
    build_s, _ = best_of(rounds, lambda: build_consolidated(province, period))
    head = letterhead_for(appendix)
    docx_s, docx = best_of(rounds, lambda: render(appendix, "docx", head))
    xlsx_s, xlsx = best_of(1, lambda: render(appendix, "xlsx", head))
    pdf_s, pdf = best_of(1, lambda: render(appendix, "pdf", head))
    print(f"\n{case}: {len(appendix.rows)} rows of table I.1, {len(appendix.units)} units, {queries} queries")
    print(line("build_consolidated", build_s))
    print(line("build_consolidated + to_json + dumps", json_s, JSON_TARGET_S))
    print(line("DOCX render (from the Appendix1)", docx_s, DOCX_TARGET_S))
    print(line("JSON + DOCX (what a download costs)", json_s + docx_s, DOCX_TARGET_S))
    print(line("XLSX render", xlsx_s))
    print(line("PDF render", pdf_s))
    print(
        f"  sizes: JSON {len(payload) / 2**20:.1f} MB, DOCX {len(docx) / 2**10:.0f} kB, "
        f"XLSX {len(xlsx) / 2**10:.0f} kB, PDF {len(pdf) / 2**10:.0f} kB"
    )
    if profile:
        profiler = cProfile.Profile()
        profiler.enable()
        build_consolidated(province, period)
        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(25)
        print(out.getvalue())
        profiler = cProfile.Profile()
        profiler.enable()
        render(appendix, "docx", head)
        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(12)
        print(out.getvalue())
    return {"json": json_s, "docx": docx_s}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3, help="time each step this many times; keep the best")
    parser.add_argument("--seed", type=int, default=310)
    parser.add_argument(
        "--submitted", type=float, default=0.6, help="share of units submitted in the mixed case"
    )
    parser.add_argument(
        "--profile", action="store_true", help="cProfile build_consolidated and the DOCX render"
    )
    parser.add_argument(
        "--reuse", action="store_true", help="time the province left by the previous run (mixed case only)"
    )
    args = parser.parse_args()

    setup_database(reuse=args.reuse)
    if args.reuse:
        from soskdt.registry.models import OrgUnit
        from soskdt.rollout.periods import Period

        province = OrgUnit.objects.get(code="SYT-89")
        period = Period.of(dt.date.today()).previous()
        measure("Previous run's province", province, period, args.rounds, args.profile)
        return
    start = time.perf_counter()
    built = generate(args.seed)
    print(
        f"Province generated in {time.perf_counter() - start:.1f} s: {len(built['units'])} reporting units "
        f"under {CENTRES} centres, {built['staff']:,} staff, {built['accounts']:,} citizen accounts, "
        f"{built['cards']:,} linked cards, {built['status_rows']:,} entered status rows; "
        f"month {built['period'].label}"
    )
    province, period = built["province"], built["period"]
    live = measure("All live (no unit submitted)", province, period, args.rounds, args.profile)
    start = time.perf_counter()
    submitted = submit_some(built["units"], period, args.submitted, args.seed)
    print(f"\n{submitted} units submitted in {time.perf_counter() - start:.1f} s (snapshots frozen)")
    mixed = measure(
        f"Mixed ({submitted} submitted, the rest live)", province, period, args.rounds, args.profile
    )
    worst_json = max(live["json"], mixed["json"])
    worst_docx = max(live["docx"], mixed["docx"])
    print(
        f"\nWorst case: JSON {worst_json:.2f} s ({worst_json / JSON_TARGET_S:.2f} × target), "
        f"DOCX {worst_docx:.2f} s ({worst_docx / DOCX_TARGET_S:.2f} × target)"
    )


if __name__ == "__main__":
    main()
