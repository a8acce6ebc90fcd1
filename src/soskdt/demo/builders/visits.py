"""Visits of the demo citizens, sent as QĐ 130 XML files and loaded through the ingestion pipeline.

A few hundred residents (always the ``citizen`` persona and the ``parent`` persona's child) get several visits
over the last 2–3 years at the three demo facilities: exams at their commune's usual facility, chronic refills
at the station, imaging and ECG at the polyclinic, inpatient stays (with labs) and surgery at the centre's
hospital, referrals up to the hospital and follow-up appointments. The facilities "send" one file per day of
activity for the last two weeks (the station is silent on Sundays) and one file per month before that; the
files are written under ``VAR_DIR/demo/xml`` and go through ``ingestion.services.receive_file`` and
``process_submission`` like any facility's file (source "demo"). A couple of visits of people who are not in
the register wait in the unlinked queue, and one visit is deliberately wrong (discharge before admission) so
that the operator pages have something to show.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings

from soskdt.demo.builders.common import LOCAL_TZ, age_of, part_rng
from soskdt.demo.builders.organisation import HOSPITAL_CODE, POLYCLINIC_CODE, STATION_FACILITY_CODE
from soskdt.ingestion import samples, services
from soskdt.ingestion.models import Submission, SubmissionSource
from soskdt.registry.models import Citizen, Facility, InsuranceCard

#: Residents with visits: this share of the population, at most MAX_PATIENTS.
PATIENT_SHARE = 0.15
MAX_PATIENTS = 300
# QĐ 130 still asks for the district of residence: An Phú's code from before the 2025 reform.
FORMER_DISTRICT_CODE = "883"
HISTORY_DAYS = 900  # about two and a half years
RECENT_DAYS = 14  # one file per facility and day of activity; monthly files before that

_CHILD_DIAGNOSES = (
    ("J18.9", "Viêm phổi, không xác định"),
    ("J02.9", "Viêm họng cấp, không đặc hiệu"),
    ("A09", "Tiêu chảy và viêm dạ dày ruột do nhiễm trùng"),
    ("J45.9", "Hen phế quản, không đặc hiệu"),
)
_CHILD_DRUGS = frozenset({"Paracetamol", "Amoxicilin", "Salbutamol", "Natri clorid 0,9%"})
_FACILITY_OF_KIND = {
    "chronic_refill": STATION_FACILITY_CODE,
    "imaging": POLYCLINIC_CODE,
    "ecg": POLYCLINIC_CODE,
    "inpatient": HOSPITAL_CODE,
    "surgery": HOSPITAL_CODE,
}


@dataclass
class DemoVisits:
    files: list[Path] = field(default_factory=list)
    submissions: list[Submission] = field(default_factory=list)
    patients: int = 0

    def counts(self) -> dict[str, int]:
        total = {"visits": 0, "rejected": 0, "unlinked": 0}
        for s in self.submissions:
            total["visits"] += s.visits_total
            total["rejected"] += s.visits_rejected
            total["unlinked"] += s.visits_unlinked
        return {"files": len(self.files), "patients": self.patients, **total}


def _kinds_for(rng: random.Random, age: int, count: int) -> list[str]:
    if age < 6:
        table = [("exam", 6), ("follow_up", 2), ("inpatient", 1)]
    elif age < 40:
        table = [
            ("exam", 6),
            ("imaging", 2),
            ("follow_up", 1),
            ("surgery", 1),
            ("referral", 1),
            ("inpatient", 1),
        ]
    elif age < 60:
        table = [
            ("exam", 4),
            ("chronic_refill", 3),
            ("imaging", 2),
            ("ecg", 2),
            ("follow_up", 2),
            ("inpatient", 1),
        ]
    else:
        table = [
            ("chronic_refill", 6),
            ("exam", 3),
            ("ecg", 2),
            ("imaging", 1),
            ("follow_up", 2),
            ("inpatient", 2),
        ]
    kinds = rng.choices([k for k, _w in table], weights=[w for _k, w in table], k=count)
    return kinds


def _birth(citizen: Citizen) -> str:
    return f"{citizen.birth_year:04d}{citizen.birth_month or 0:02d}{citizen.birth_day or 0:02d}"


def _weight(rng: random.Random, age: int) -> str:
    if age < 1:
        kg = rng.uniform(4, 9)
    elif age < 6:
        kg = 9 + 2.2 * age + rng.uniform(-1, 2)
    elif age < 16:
        kg = 20 + 3 * (age - 6) + rng.uniform(-3, 5)
    else:
        kg = rng.uniform(42, 78)
    return f"{kg:.2f}"


def _patient(rng: random.Random, citizen: Citizen, card: InsuranceCard | None, age: int) -> samples.Patient:
    return samples.Patient(
        name=citizen.full_name,
        birth=_birth(citizen),
        sex=int(citizen.sex) if citizen.sex in ("1", "2") else 1,
        personal_id=citizen.personal_id,
        card_code=card.code if card else None,
        primary_facility=card.primary_care_facility_code if card else STATION_FACILITY_CODE,
        card_from=samples.qd130_date(card.valid_from) if card else "",
        card_to=samples.qd130_date(card.valid_to) if card else "",
        patient_id=f"BN{citizen.personal_id[-7:]}",
        address=citizen.address or "An Phú, An Giang",
        province=citizen.province_code or "89",
        district=FORMER_DISTRICT_CODE,
        commune=citizen.commune_code or "",
        phone=citizen.phone or "",
        weight=_weight(rng, age),
    )


def _card_on(cards: Sequence[InsuranceCard], day: dt.date) -> InsuranceCard | None:
    return next((c for c in cards if c.valid_from <= day <= c.valid_to), None)


def _visit(
    rng: random.Random,
    citizen: Citizen,
    cards: Sequence[InsuranceCard],
    kind: str,
    day: dt.date,
    usual_facility: str,
    *,
    at: str | None = None,
) -> tuple[str, samples.VisitSpec]:
    age = max(age_of(citizen, day), 0)
    facility_code = at or _FACILITY_OF_KIND.get(kind, usual_facility)
    if kind == "referral" and facility_code == HOSPITAL_CODE and at is None:
        facility_code = POLYCLINIC_CODE
    patient = _patient(rng, citizen, _card_on(cards, day), age)
    spec = samples.random_visit(rng, facility_code=facility_code, patient=patient, kind=kind, day=day)
    if kind == "referral":
        spec.referral_to = HOSPITAL_CODE
    if age < 6:
        spec.main_diagnosis = rng.choice(_CHILD_DIAGNOSES)
        spec.secondary_diagnoses = []
        spec.drugs = [d for d in spec.drugs if d.name in _CHILD_DRUGS]
    return facility_code, spec


def _usual_facility(citizen: Citizen) -> str:
    from soskdt.demo import names

    for commune in names.COMMUNES:
        if commune.code == citizen.commune_code:
            return commune.facility_code
    return STATION_FACILITY_CODE


def _received_on(spec: samples.VisitSpec, today: dt.date) -> dt.date:
    """The day the facility sends the visit: daily for the last two weeks, monthly before that."""
    done = spec.discharged.date()
    if (today - done).days < RECENT_DAYS:
        return done
    month_end = (done.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return min(month_end, today - dt.timedelta(days=RECENT_DAYS))


def _days(rng: random.Random, today: dt.date, count: int, recent: bool) -> list[dt.date]:
    days = sorted(today - dt.timedelta(days=rng.randrange(1, HISTORY_DAYS)) for _ in range(count))
    if recent:  # the personas always have something from the last fortnight
        days[-1] = today - dt.timedelta(days=rng.randrange(2, 10))
    return days


def plan_visits(
    *,
    today: dt.date,
    seed: int,
    citizens: Sequence[Citizen],
    cards: Iterable[InsuranceCard],
    always: Sequence[Citizen] = (),
    skip: Iterable[str] = (),
) -> dict[tuple[str, dt.date], list[Any]]:
    """Choose patients and their visits; return the visits of each file, keyed by (facility, day sent)."""
    rng = part_rng(seed, "visits")
    cards_of: dict[str, list[InsuranceCard]] = defaultdict(list)
    for card in cards:
        cards_of[card.holder_personal_id].append(card)
    skipped = set(skip) | {c.personal_id for c in always}
    chosen = list(always)
    pool = [c for c in citizens if c.personal_id not in skipped and c.date_of_death is None]
    wanted = min(MAX_PATIENTS, max(len(chosen) + 10, int(len(citizens) * PATIENT_SHARE)))
    chosen += rng.sample(pool, k=min(len(pool), max(wanted - len(chosen), 0)))
    files: dict[tuple[str, dt.date], list[Any]] = defaultdict(list)
    personas = {c.personal_id for c in always}
    for citizen in chosen:
        persona = citizen.personal_id in personas
        count = rng.randint(4, 7) if persona else rng.randint(2, 6)
        born = dt.date(citizen.birth_year, citizen.birth_month or 1, citizen.birth_day or 1)
        days = [d for d in _days(rng, today, count, persona) if d > born]
        kinds = _kinds_for(rng, age_of(citizen, today), len(days))
        if persona and len(days) >= 4:
            kinds[:2] = (
                ["inpatient", "imaging"] if citizen.birth_year < today.year - 6 else ["inpatient", "exam"]
            )
        for kind, day in zip(kinds, days, strict=True):
            code, spec = _visit(
                rng, citizen, cards_of.get(citizen.personal_id, []), kind, day, _usual_facility(citizen)
            )
            _send(files, code, spec, today)
    _add_daily_feed(rng, today, pool, cards_of, files)
    _add_strangers_and_a_mistake(rng, today, files)
    return files


def _send(
    files: dict[tuple[str, dt.date], list[Any]], code: str, spec: samples.VisitSpec, today: dt.date
) -> None:
    """File a visit under the day its facility sends it; visits not over before today are left out."""
    if spec.discharged.date() >= today:
        return
    sent = _received_on(spec, today)
    if code == STATION_FACILITY_CODE and sent.weekday() == 6 and (today - sent).days < RECENT_DAYS:
        sent += dt.timedelta(days=1)  # the station is closed on Sundays: Monday's file carries it
    if code == POLYCLINIC_CODE and (today - sent).days == _SILENT_DAY:
        sent += dt.timedelta(days=1)  # the polyclinic's feed failed that day: the next file carries it
    if sent < today:
        files[(code, sent)].append(spec)


#: Visits a facility sends on an ordinary recent day (low, high), and what they are.
_DAILY = {
    HOSPITAL_CODE: ((6, 12), ("exam", "exam", "imaging", "ecg", "inpatient", "surgery", "follow_up")),
    POLYCLINIC_CODE: ((3, 8), ("exam", "exam", "imaging", "ecg", "follow_up", "referral")),
    STATION_FACILITY_CODE: ((2, 5), ("chronic_refill", "chronic_refill", "exam")),
}
#: The polyclinic's feed stops for a day this many days ago: what the daily page is there to show.
_SILENT_DAY = 6


def _add_daily_feed(
    rng: random.Random,
    today: dt.date,
    pool: Sequence[Citizen],
    cards_of: dict[str, list[InsuranceCard]],
    files: dict[tuple[str, dt.date], list[Any]],
) -> None:
    """The last two weeks' ordinary traffic at each facility, so that the daily counts have a shape."""
    adults = [c for c in pool if age_of(c, today) >= 16]
    for back in range(RECENT_DAYS - 1, 0, -1):
        day = today - dt.timedelta(days=back)
        for code, ((low, high), kinds) in _DAILY.items():
            if (code == STATION_FACILITY_CODE and day.weekday() == 6) or (
                code == POLYCLINIC_CODE and back == _SILENT_DAY
            ):
                continue
            for _ in range(rng.randint(low, high)):
                citizen = rng.choice(adults)
                kind = rng.choice(kinds)
                start = (
                    day - dt.timedelta(days=rng.randint(3, 6)) if kind in ("inpatient", "surgery") else day
                )
                _code, spec = _visit(
                    rng, citizen, cards_of.get(citizen.personal_id, []), kind, start, code, at=code
                )
                if kind == "referral":
                    spec.referral_to = HOSPITAL_CODE
                _send(files, code, spec, today)


def _add_strangers_and_a_mistake(
    rng: random.Random, today: dt.date, files: dict[tuple[str, dt.date], list[Any]]
) -> None:
    two_days_ago = today - dt.timedelta(days=2)
    # Two visitors from another province: not in An Giang's register, so their visits wait unlinked.
    for _ in range(2):
        stranger = samples.random_patient(rng, province="79", facility_code=POLYCLINIC_CODE)
        for kind in ("exam", "follow_up"):
            day = today - dt.timedelta(days=rng.randrange(2, 6))
            spec = samples.random_visit(
                rng, facility_code=POLYCLINIC_CODE, patient=stranger, kind=kind, day=day
            )
            _send(files, POLYCLINIC_CODE, spec, today)
    # One visit whose discharge time comes before its admission: the validator rejects it.
    broken = samples.random_visit(rng, facility_code=HOSPITAL_CODE, kind="exam", day=two_days_ago)
    tables = {k: [dict(r) for r in rows] for k, rows in samples.visit_tables(broken, HOSPITAL_CODE).items()}
    tables["XML1"][0]["NGAY_RA"] = samples.qd130_time(broken.admitted - dt.timedelta(hours=2))
    files[(HOSPITAL_CODE, two_days_ago)].append(tables)


def build_demo_visits(result: Any, *, folder: Path | None = None) -> DemoVisits:
    """The visits of a freshly built demo (``builders.DemoResult``): personas first, then residents."""
    personas = result.citizen_personas
    return build_visits(
        today=result.today,
        seed=result.seed,
        citizens=result.population.citizens,
        cards=result.cards.cards,
        always=[personas[key] for key in ("citizen", "child", "parent") if key in personas],
        skip=result.population.inconsistent_ids,
        folder=folder,
    )


def build_visits(
    *,
    today: dt.date,
    seed: int,
    citizens: Sequence[Citizen],
    cards: Iterable[InsuranceCard],
    always: Sequence[Citizen] = (),
    skip: Iterable[str] = (),
    folder: Path | None = None,
) -> DemoVisits:
    """Write the demo files and load them through the ingestion pipeline, oldest file first."""
    files = plan_visits(today=today, seed=seed, citizens=citizens, cards=cards, always=always, skip=skip)
    folder = folder or Path(settings.VAR_DIR) / "demo" / "xml"
    folder.mkdir(parents=True, exist_ok=True)
    facilities = {f.code: f for f in Facility.objects.filter(code__in={code for code, _day in files})}
    result = DemoVisits(
        patients=len({v.patient.personal_id for vs in files.values() for v in vs if hasattr(v, "patient")})
    )
    for (code, day), visits in sorted(files.items(), key=lambda item: (item[0][1], item[0][0])):
        path = folder / f"{code}_{day:%Y%m%d}.xml"
        with path.open("wb") as handle:
            samples.write_envelope(handle, code, visits, count=len(visits), created_on=f"{day:%Y%m%d}")
        sent_at = dt.datetime.combine(day, dt.time(17, 30), tzinfo=LOCAL_TZ)
        with path.open("rb") as handle:
            received = services.receive_file(
                stream=handle,
                file_name=path.name,
                source=SubmissionSource.DEMO,
                facility=facilities.get(code),
                sender_label=f"demo:{code}",
                received_at=sent_at,
            )
        result.files.append(path)
        result.submissions.append(
            services.process_submission(submission_id=received.pk, batch_size=500, today=today)
        )
    return result
