"""A crash between two batches loses nothing and duplicates nothing once the submission is resumed."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction

from soskdt.healthbook import services as book
from soskdt.healthbook.models import DrugLine, Result, Visit
from soskdt.ingestion import services
from soskdt.ingestion.models import Submission, SubmissionSource, SubmissionStatus, SubmissionVisit
from soskdt.ingestion.tests.test_pipeline import (  # noqa: F401 - isolated_archive is an autouse fixture
    facility,
    isolated_archive,
    specs,
    tables_with,
    write_file,
)

VISITS = 7
BATCH = 2
SRC = Path(__file__).resolve().parents[3]


class Crash(Exception):
    pass


def receive(path: Path) -> Submission:
    with path.open("rb") as handle:
        return services.receive_file(stream=handle, file_name=path.name, source=SubmissionSource.API)


def snapshot(submission: Submission) -> dict[str, Any]:
    submission.refresh_from_db()
    return {
        "status": submission.status,
        "counts": (
            submission.visits_total,
            submission.visits_accepted,
            submission.visits_replaced,
            submission.visits_unchanged,
            submission.visits_rejected,
            submission.visits_unlinked,
        ),
        "rows": list(
            SubmissionVisit.objects.filter(submission=submission)
            .order_by("index")
            .values_list("index", "ma_lk", "outcome")
        ),
    }


def a_file(tmp_path: Path) -> tuple[Path, list[Any]]:
    facility()
    visits = specs(VISITS)
    # One rejected visit in the batch after the crash, so that every kind of outcome is resumed.
    visits[5] = tables_with(visits[5], "XML1", NGAY_RA="2025")  # type: ignore[call-overload]
    return write_file(tmp_path / "x.xml", visits), visits


def assert_everything_once(submission: Submission, clean: dict[str, Any]) -> None:
    assert snapshot(submission) == {**clean, "rows": clean["rows"]}
    assert Visit.objects.count() == VISITS - 1
    assert Visit.objects.values("facility_code", "ma_lk").distinct().count() == VISITS - 1
    per_visit = set(DrugLine.objects.values_list("visit_id", "line_no"))
    assert len(per_visit) == DrugLine.objects.count()  # no line written twice
    assert Result.objects.count() == sum(v.results.count() for v in Visit.objects.all())


def clean_run(tmp_path: Path) -> dict[str, Any]:
    """The outcome of the same file processed without interruption (then rolled back)."""
    with transaction.atomic():
        path, _visits = a_file(tmp_path)
        submission = services.process_submission(submission_id=receive(path).pk, batch_size=BATCH)
        result = snapshot(submission)
        transaction.set_rollback(True)
    return result


@pytest.mark.django_db
def test_a_crash_between_two_batches_is_resumed_without_loss_or_duplicates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clean = clean_run(tmp_path)
    path, _visits = a_file(tmp_path)
    submission = receive(path)
    real = book.record_visits
    calls = {"n": 0}

    def crash_on_third_batch(**kw: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 3:
            raise Crash("worker killed")
        return real(**kw)

    monkeypatch.setattr(book, "record_visits", crash_on_third_batch)
    with pytest.raises(Crash):
        services.process_submission(submission_id=submission.pk, batch_size=BATCH)

    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.PROCESSING
    assert submission.last_index_done == 2 * BATCH  # two batches committed, the third rolled back
    assert Visit.objects.count() == 2 * BATCH
    assert SubmissionVisit.objects.filter(submission=submission).count() == 2 * BATCH

    monkeypatch.setattr(book, "record_visits", real)
    resumed = services.resume_unfinished()
    assert resumed == [str(submission.pk)]
    assert_everything_once(submission, clean)
    # Resuming again is harmless.
    assert services.resume_unfinished() == []
    assert_everything_once(submission, clean)


@pytest.mark.django_db
def test_a_crash_inside_a_batch_commits_none_of_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path, _visits = a_file(tmp_path)
    submission = receive(path)

    real = book.record_visits

    def crash_after_writing(**kw: Any) -> Any:
        real(**kw)  # the visits are written, then the process dies before the batch commits
        raise Crash("killed while writing")

    monkeypatch.setattr(book, "record_visits", crash_after_writing)
    with pytest.raises(Crash):
        services.process_submission(submission_id=submission.pk, batch_size=BATCH)
    assert not Visit.objects.exists()
    assert not SubmissionVisit.objects.exists()
    submission.refresh_from_db()
    assert submission.last_index_done == 0 and submission.visits_total == 0


# A real worker process killed between two batches (os._exit: no cleanup, no rollback handlers, no finally).
_KILLED_WORKER = textwrap.dedent(
    """
    import os, sys
    sys.path.insert(0, {src!r})
    os.environ["DJANGO_SETTINGS_MODULE"] = "soskdt.settings"
    import django
    django.setup()
    from soskdt.healthbook import services as book
    from soskdt.ingestion import services
    real = book.record_visits
    calls = [0]
    def record_visits(**kw):
        calls[0] += 1
        if calls[0] == 3:
            os._exit(137)
        return real(**kw)
    book.record_visits = record_visits
    services.process_submission(submission_id={submission_id!r}, batch_size={batch})
    os._exit(0)
    """
)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="a second process needs a shared PostgreSQL database"
)
def test_a_worker_process_killed_mid_file_is_resumed_by_ingest_resume(tmp_path: Path) -> None:
    clean = clean_run(tmp_path)
    path, _visits = a_file(tmp_path)
    submission = receive(path)
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "SOSKDT_ARCHIVE_DIR": str(settings.ARCHIVE_ROOT),
    }
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    script = _KILLED_WORKER.format(src=str(SRC), submission_id=str(submission.pk), batch=BATCH)
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, timeout=120)
    assert done.returncode == 137, done.stderr.decode()[-2000:]

    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.PROCESSING
    assert submission.claim_token is not None  # the dead worker's lease is still there
    assert submission.last_index_done == 2 * BATCH
    assert Visit.objects.count() == 2 * BATCH

    # A queued task arriving now must not run alongside a possibly live worker...
    services.process_submission(submission_id=submission.pk)
    assert snapshot(submission)["counts"][0] == 2 * BATCH
    # ...nor does a plain `soskdt ingest --resume` (safe to run from cron while workers run)...
    call_command("ingest", "--resume")
    assert snapshot(submission)["counts"][0] == 2 * BATCH
    # ...but `soskdt ingest --resume --force`, run before the worker starts, takes the file over and finishes it.
    with pytest.raises(SystemExit) as exit_status:
        call_command("ingest", "--resume", "--force", "--batch-size", str(BATCH))
    assert exit_status.value.code == 1  # the one rejected visit
    assert_everything_once(submission, clean)
