"""The pipeline end to end: archive, parse, validate, load batch by batch, one outcome per HOSO.

The helpers at the top (``facility``, ``specs``, ``write_file``, ``register``) are shared by the other
pipeline test modules.
"""

from __future__ import annotations

import gzip
import hashlib
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from soskdt.healthbook.models import Visit
from soskdt.ingestion import samples, services
from soskdt.ingestion.models import Submission, SubmissionSource, SubmissionStatus, SubmissionVisit
from soskdt.registry.models import Citizen, Facility

FACILITY = "79048"


@pytest.fixture(autouse=True)
def isolated_archive(tmp_path: Path, settings: Any) -> Path:
    """Every test gets its own archive directory."""
    settings.ARCHIVE_ROOT = tmp_path / "archive"
    return settings.ARCHIVE_ROOT


def facility(code: str = FACILITY) -> Facility:
    found, _created = Facility.objects.get_or_create(
        code=code, defaults={"name": f"Bệnh viện {code}", "province_code": code[:2]}
    )
    return found


def specs(n: int, *, seed: int = 130, facility_code: str = FACILITY, **kw: Any) -> list[samples.VisitSpec]:
    """``n`` consistent visits cycling through every kind, deterministic for ``seed``."""
    rng = random.Random(seed)
    return [
        samples.random_visit(
            rng, facility_code=facility_code, kind=samples.KINDS[i % len(samples.KINDS)], **kw
        )
        for i in range(n)
    ]


def write_file(path: Path, visits: Sequence[Any], *, facility_code: str = FACILITY, **kw: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(samples.build_envelope(facility_code, visits, **kw))
    return path


def register(patient: samples.Patient) -> Citizen:
    """Put a sample patient into the population register (same ID, name, birth, sex)."""
    birth = patient.birth
    return Citizen.objects.create(
        personal_id=patient.personal_id,
        full_name=patient.name,
        birth_year=int(birth[:4]),
        birth_month=int(birth[4:6]) or None,
        birth_day=int(birth[6:8]) or None,
        sex=str(patient.sex),
    )


def ingest(path: Path, **kw: Any) -> Submission:
    with path.open("rb") as handle:
        received = services.receive_file(stream=handle, file_name=path.name, source=SubmissionSource.CLI)
    return services.process_submission(submission_id=received.pk, **kw)


def tables_with(spec: samples.VisitSpec, table: str, **changes: str) -> dict[str, Any]:
    """The tables of ``spec`` with fields of the first row of ``table`` changed."""
    tables = samples.visit_tables(spec, FACILITY)
    rows = [dict(r) for r in tables[table]]
    rows[0].update(changes)
    return {**tables, table: rows}


# --- tests --------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_clean_file_is_archived_compressed_and_every_visit_is_accepted(tmp_path: Path) -> None:
    facility()
    path = write_file(tmp_path / "in" / "thang3.xml", specs(9))

    submission = ingest(path)

    assert submission.status == SubmissionStatus.DONE
    assert (submission.visits_total, submission.visits_accepted, submission.visits_rejected) == (9, 9, 0)
    assert submission.visits_unlinked == 9  # nobody is in the register
    assert submission.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert submission.size == path.stat().st_size
    stored = Path(settings.ARCHIVE_ROOT) / submission.archive_path
    assert gzip.decompress(stored.read_bytes()) == path.read_bytes()
    assert stored.stat().st_size < submission.size
    assert submission.facility is not None and submission.facility.code == FACILITY
    assert submission.envelope_facility_code == FACILITY
    assert Visit.objects.count() == 9
    rows = list(SubmissionVisit.objects.filter(submission=submission).order_by("index"))
    assert [r.index for r in rows] == list(range(1, 10))
    assert all(r.outcome == "accepted" and r.visit_id for r in rows)
    assert submission.claim_token is None and submission.finished_at is not None


@pytest.mark.django_db
def test_the_same_file_again_is_unchanged_and_a_corrected_visit_replaces_the_earlier_one(
    tmp_path: Path,
) -> None:
    facility()
    visits = specs(4)
    ingest(write_file(tmp_path / "a.xml", visits))

    again = ingest(write_file(tmp_path / "b.xml", visits, crlf=True))
    assert (again.visits_unchanged, again.visits_accepted) == (4, 0)

    corrected = tables_with(visits[0], "XML1", CHAN_DOAN_RV="Tăng huyết áp vô căn, đã ổn định")
    third = ingest(write_file(tmp_path / "c.xml", [corrected, *visits[1:]]))
    assert (third.visits_replaced, third.visits_unchanged) == (1, 3)
    assert Visit.objects.count() == 4
    assert Visit.objects.get(ma_lk=visits[0].ma_lk).version == 2


@pytest.mark.django_db
def test_a_visit_whose_table_names_another_facility_is_rejected_and_the_others_load(tmp_path: Path) -> None:
    facility()
    facility("79001")
    visits = specs(3)
    other = tables_with(visits[1], "XML1", MA_CSKCB="79001")
    submission = ingest(write_file(tmp_path / "x.xml", [visits[0], other, visits[2]]))

    assert (submission.visits_accepted, submission.visits_rejected) == (2, 1)
    rejected = SubmissionVisit.objects.get(submission=submission, outcome="rejected")
    assert rejected.index == 2 and rejected.ma_lk == visits[1].ma_lk
    assert "FACILITY_MISMATCH" in {e["code"] for e in rejected.errors}
    assert not Visit.objects.filter(ma_lk=visits[1].ma_lk).exists()
    report = services.submission_report(submission)
    codes = {(e["ma_lk"], e["code"]) for e in report["errors"]}
    assert (visits[1].ma_lk, "FACILITY_MISMATCH") in codes


@pytest.mark.django_db
def test_a_facility_missing_from_the_register_rejects_its_visits(tmp_path: Path) -> None:
    path = write_file(tmp_path / "x.xml", specs(2, facility_code="79999"), facility_code="79999")
    submission = ingest(path)
    assert submission.visits_rejected == 2
    assert submission.facility is None and submission.envelope_facility_code == "79999"
    errors = services.submission_report(submission)["errors"]
    assert {e["code"] for e in errors} >= {"FACILITY_UNKNOWN"}
    assert not Visit.objects.exists()


@pytest.mark.django_db
def test_a_file_that_is_not_xml_fails_as_a_whole(tmp_path: Path) -> None:
    path = tmp_path / "ghi-chu.xml"
    path.write_bytes(b"day khong phai XML")
    submission = ingest(path)
    assert submission.status == SubmissionStatus.FAILED
    assert submission.visits_total == 0
    assert [e["code"] for e in services.submission_report(submission)["errors"]] == ["XML_NOT_XML"]


@pytest.mark.django_db
def test_a_truncated_file_keeps_the_visits_before_the_cut(tmp_path: Path) -> None:
    facility()
    whole = samples.build_envelope(FACILITY, specs(4))
    cut = whole[: whole.index(b"<HOSO>", whole.index(b"<HOSO>", whole.index(b"<HOSO>") + 1) + 1) + 200]
    path = tmp_path / "cut.xml"
    path.write_bytes(cut)
    submission = ingest(path)
    assert submission.status == SubmissionStatus.DONE
    assert submission.visits_accepted == 2
    assert "XML_TRUNCATED" in {e["code"] for e in services.submission_report(submission)["errors"]}


@pytest.mark.django_db
def test_processing_a_finished_submission_again_changes_nothing(tmp_path: Path) -> None:
    facility()
    submission = ingest(write_file(tmp_path / "a.xml", specs(3)))
    again = services.process_submission(submission_id=submission.pk)
    assert again.visits_total == 3
    assert SubmissionVisit.objects.filter(submission=submission).count() == 3


@pytest.mark.django_db
def test_an_unknown_or_malformed_submission_id_is_not_found() -> None:
    from soskdt.core.errors import NotFound

    for bad in ("not-a-uuid", "00000000-0000-0000-0000-000000000000"):
        with pytest.raises(NotFound):
            services.process_submission(submission_id=bad)


@pytest.mark.django_db
def test_a_run_holding_a_live_lease_is_left_alone_and_a_forced_takeover_stops_it(tmp_path: Path) -> None:
    facility()
    with write_file(tmp_path / "a.xml", specs(4)).open("rb") as handle:
        received = services.receive_file(stream=handle, file_name="a.xml", source=SubmissionSource.CLI)
    first, first_token = services._claim(received.pk, force=False)
    assert first_token is not None

    # A second, ordinary run (a duplicate task) sees the live lease and leaves the submission alone.
    untouched = services.process_submission(submission_id=received.pk)
    assert untouched.status == SubmissionStatus.PROCESSING and untouched.visits_total == 0

    # The first run is presumed dead; --resume forces a takeover and finishes the file.
    done = services.process_submission(submission_id=received.pk, force=True, batch_size=2)
    assert done.visits_accepted == 4

    # The old run wakes up: its next batch is refused, nothing is written twice.
    stale = services._Processor(first, write=True, claim=first_token, batch_size=2, progress=None)
    with pytest.raises(services._LostClaim):
        stale.run(services._read_items(services._archived_source(first, today=None)))
    assert SubmissionVisit.objects.filter(submission=received).count() == 4
    assert Visit.objects.count() == 4


@pytest.mark.django_db
def test_progress_is_reported_after_every_batch_with_the_declared_count(tmp_path: Path) -> None:
    facility()
    seen: list[tuple[int, int | None]] = []
    ingest(write_file(tmp_path / "a.xml", specs(5)), batch_size=2, progress=lambda d, t: seen.append((d, t)))
    assert seen == [(2, 5), (4, 5), (5, 5)]


@pytest.mark.django_db
def test_check_file_validates_without_writing_anything(tmp_path: Path) -> None:
    facility()
    visits = specs(3)
    bad = tables_with(visits[2], "XML1", NGAY_RA="202501")
    checked, rows = services.check_file(path=write_file(tmp_path / "a.xml", [*visits[:2], bad]))
    assert (checked.visits_accepted, checked.visits_rejected, checked.visits_total) == (2, 1, 3)
    assert [r.outcome for r in rows] == ["accepted", "accepted", "rejected"]
    assert not Submission.objects.exists() and not Visit.objects.exists()
    assert not (Path(settings.ARCHIVE_ROOT)).exists() or not any(Path(settings.ARCHIVE_ROOT).rglob("*.gz"))
