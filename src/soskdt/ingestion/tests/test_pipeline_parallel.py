"""Large files are parsed by forked helper processes: the outcome is exactly the serial one, in file order."""

from __future__ import annotations

import multiprocessing
from pathlib import Path
from typing import Any

import pytest

from soskdt.healthbook import services as book
from soskdt.healthbook.models import Visit
from soskdt.ingestion import services
from soskdt.ingestion.models import SubmissionSource, SubmissionVisit
from soskdt.ingestion.tests.test_pipeline import (  # noqa: F401 - isolated_archive is an autouse fixture
    facility,
    isolated_archive,
    specs,
    tables_with,
    write_file,
)

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="needs fork"),
]


def mixed_file(tmp_path: Path) -> Path:
    facility()
    visits: list[Any] = specs(11)
    visits[4] = tables_with(visits[4], "XML1", NGAY_RA="2025")
    visits[9] = visits[2]  # the same visit twice in one file: applied in order, the second is unchanged
    return write_file(tmp_path / "big.xml", visits)


def outcome(path: Path, **kw: Any) -> tuple[Any, list[Any]]:
    with path.open("rb") as handle:
        received = services.receive_file(stream=handle, file_name=path.name, source=SubmissionSource.CLI)
    done = services.process_submission(submission_id=received.pk, batch_size=3, **kw)
    rows = list(
        SubmissionVisit.objects.filter(submission=done)
        .order_by("index")
        .values_list("index", "ma_lk", "outcome", "errors", "warnings")
    )
    counts = (done.visits_total, done.visits_accepted, done.visits_unchanged, done.visits_rejected)
    return counts, rows


def test_helpers_give_the_same_outcome_as_a_serial_run(tmp_path: Path) -> None:
    path = mixed_file(tmp_path)
    serial = outcome(path, helpers=0)
    Visit.objects.all().delete()
    parallel = outcome(path, helpers=2)
    assert parallel == serial
    assert serial[0] == (11, 9, 1, 1)


def test_a_dry_run_with_helpers_matches_the_serial_one(tmp_path: Path) -> None:
    path = mixed_file(tmp_path)
    serial, serial_rows = services.check_file(path=path, helpers=0)
    parallel, parallel_rows = services.check_file(path=path, helpers=3)
    assert [(r.index, r.outcome, r.errors) for r in parallel_rows] == [
        (r.index, r.outcome, r.errors) for r in serial_rows
    ]
    assert parallel.visits_rejected == serial.visits_rejected == 1


def test_a_crash_with_helpers_resumes_without_duplicates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = mixed_file(tmp_path)
    with path.open("rb") as handle:
        received = services.receive_file(stream=handle, file_name=path.name, source=SubmissionSource.CLI)
    real = book.record_visits
    calls = {"n": 0}

    def crash(**kw: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("killed")
        return real(**kw)

    monkeypatch.setattr(book, "record_visits", crash)
    with pytest.raises(RuntimeError):
        services.process_submission(submission_id=received.pk, batch_size=3, helpers=2)
    monkeypatch.setattr(book, "record_visits", real)
    done = services.process_submission(submission_id=received.pk, batch_size=3, helpers=2)
    assert done.visits_total == 11
    assert list(
        SubmissionVisit.objects.filter(submission=done).values_list("index", flat=True).order_by("index")
    ) == list(range(1, 12))
    assert Visit.objects.count() == 9


def test_a_failing_helper_fails_the_run_and_leaves_it_resumable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = mixed_file(tmp_path)
    with path.open("rb") as handle:
        received = services.receive_file(stream=handle, file_name=path.name, source=SubmissionSource.CLI)

    def broken(*args: Any, **kw: Any) -> Any:
        raise ValueError("validator bug")

    monkeypatch.setattr(services, "validate_visit", broken)
    with pytest.raises(RuntimeError, match="validator bug"):
        services.process_submission(submission_id=received.pk, helpers=2)
    monkeypatch.undo()
    received.refresh_from_db()
    assert received.status == "processing" and received.claim_token is None
    assert services.process_submission(submission_id=received.pk, helpers=2).visits_total == 11


def test_small_files_are_parsed_in_process_and_large_ones_by_one_helper_per_cpu(settings: Any) -> None:
    assert services.parse_helpers(1024) == 0
    large = services.PARALLEL_MIN_BYTES
    assert services.parse_helpers(large) in (0, *range(2, 5))
    settings.SOSKDT = {**settings.SOSKDT, "INGEST_PARSE_HELPERS": 3}
    assert services.parse_helpers(10) == 3
    settings.SOSKDT = {**settings.SOSKDT, "INGEST_PARSE_HELPERS": 0}
    assert services.parse_helpers(large) == 0
