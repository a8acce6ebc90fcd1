"""``soskdt ingest``: files and folders, --dry-run, --json, exit codes, --reprocess, --resume, progress."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from soskdt.healthbook.models import Visit
from soskdt.ingestion import archive, services
from soskdt.ingestion.models import Submission, SubmissionSource, SubmissionStatus, SubmissionVisit
from soskdt.ingestion.tests.test_pipeline import (  # noqa: F401 - isolated_archive is an autouse fixture
    facility,
    isolated_archive,
    specs,
    tables_with,
    write_file,
)

REPORT_KEYS = {"file", "ma_lk", "table", "row", "field", "code", "message"}
TOP_KEYS = {
    "files",
    "visits_accepted",
    "visits_replaced",
    "visits_unchanged",
    "visits_rejected",
    "visits_unlinked",
    "errors",
    "warnings",
}

pytestmark = pytest.mark.django_db


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def run(*args: str, stderr: Any = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), stderr if stderr is not None else io.StringIO()
    try:
        call_command("ingest", *args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


def run_json(*args: str) -> tuple[int, dict[str, Any]]:
    code, out, _err = run(*args, "--json")
    return code, json.loads(out)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    facility()
    visits = specs(6)
    write_file(tmp_path / "in" / "a.xml", visits[:2])
    write_file(tmp_path / "in" / "sub" / "b.XML", visits[2:5])
    (tmp_path / "in" / "ghi-chu.txt").write_text("not a file to ingest")
    write_file(tmp_path / "c.xml", visits[5:])
    return tmp_path


def test_files_and_folders_are_ingested_and_the_json_has_the_documented_shape(folder: Path) -> None:
    code, result = run_json(str(folder / "in"), str(folder / "c.xml"))
    assert code == 0
    assert result.keys() >= TOP_KEYS
    assert result["files"] == 3
    assert (result["visits_accepted"], result["visits_rejected"], result["visits_unlinked"]) == (6, 0, 6)
    assert result["errors"] == [] and result["warnings"] == []
    assert len(result["submissions"]) == 3
    assert Visit.objects.count() == 6
    assert set(Submission.objects.values_list("source", flat=True)) == {SubmissionSource.CLI}


def test_a_rejected_visit_exits_1_and_lists_each_error_with_its_location(tmp_path: Path) -> None:
    facility()
    visits = specs(3)
    bad = tables_with(visits[1], "XML1", NGAY_RA="20250")
    path = write_file(tmp_path / "x.xml", [visits[0], bad, visits[2]])
    code, result = run_json(str(path))
    assert code == 1
    assert (result["visits_accepted"], result["visits_rejected"]) == (2, 1)
    assert result["errors"]
    for problem in result["errors"]:
        assert problem.keys() >= REPORT_KEYS
    first = result["errors"][0]
    assert (first["file"], first["ma_lk"], first["table"]) == ("x.xml", visits[1].ma_lk, "XML1")


@pytest.mark.parametrize("content", [None, b"", b"plain text, not XML", b"<html><body>no</body></html>"])
def test_a_missing_or_unreadable_file_exits_2(tmp_path: Path, content: bytes | None) -> None:
    facility()
    good = write_file(tmp_path / "good.xml", specs(1))
    bad = tmp_path / "bad.xml"
    if content is not None:
        bad.write_bytes(content)
    code, result = run_json(str(good), str(bad))
    assert code == 2
    assert result["visits_accepted"] == 1
    assert result["errors"] and all(e.keys() >= REPORT_KEYS for e in result["errors"])


def test_dry_run_writes_nothing_at_all(folder: Path) -> None:
    code, result = run_json(str(folder / "in"), "--dry-run")
    assert code == 0
    assert result["visits_accepted"] == 5 and result["submissions"] == []
    assert not Submission.objects.exists()
    assert not SubmissionVisit.objects.exists()
    assert not Visit.objects.exists()
    assert not list(Path(settings.ARCHIVE_ROOT).rglob("*")) if Path(settings.ARCHIVE_ROOT).exists() else True


def test_dry_run_reports_the_same_errors_and_exit_code_as_a_real_run(tmp_path: Path) -> None:
    facility()
    visits = specs(2)
    path = write_file(tmp_path / "x.xml", [visits[0], tables_with(visits[1], "XML1", NGAY_RA="2025")])
    dry_code, dry = run_json(str(path), "--dry-run")
    real_code, real = run_json(str(path))
    assert dry_code == real_code == 1
    assert dry["errors"] == real["errors"]
    assert dry["visits_rejected"] == real["visits_rejected"] == 1


def test_reprocess_runs_the_archived_file_again_as_a_new_submission_with_the_same_outcome(
    tmp_path: Path,
) -> None:
    facility()
    path = write_file(tmp_path / "x.xml", specs(3))
    _code, first = run_json(str(path))
    path.unlink()  # the archive, not the original file, is what gets re-processed

    code, again = run_json("--reprocess", first["submissions"][0])
    assert code == 0
    assert (again["visits_unchanged"], again["visits_accepted"], again["files"]) == (3, 0, 0)
    copy = Submission.objects.get(pk=again["submissions"][0])
    assert copy.source == SubmissionSource.REPROCESS and str(copy.reprocess_of_id) == first["submissions"][0]
    assert copy.sha256 == Submission.objects.get(pk=first["submissions"][0]).sha256
    assert Visit.objects.count() == 3


def test_reprocess_of_an_unknown_submission_is_an_error() -> None:
    from soskdt.core.errors import NotFound

    with pytest.raises(NotFound):
        run("--reprocess", "00000000-0000-0000-0000-000000000000")


def test_resume_finishes_submissions_left_received_or_processing(tmp_path: Path) -> None:
    facility()
    with write_file(tmp_path / "x.xml", specs(3)).open("rb") as handle:
        left = services.receive_file(stream=handle, file_name="x.xml", source=SubmissionSource.API)
    services._claim(left.pk, force=False)  # a worker took it and died: its lease is still fresh
    code, result = run_json("--resume")  # a live lease is left alone...
    assert code == 0 and result["submissions"] == []
    left.refresh_from_db()
    assert left.status == SubmissionStatus.PROCESSING
    code, result = run_json("--resume", "--force")  # ...unless no worker runs (start-up)
    assert code == 0 and result["visits_accepted"] == 3
    left.refresh_from_db()
    assert left.status == SubmissionStatus.DONE
    code, result = run_json("--resume")
    assert code == 0 and result["submissions"] == []


def test_resume_without_force_finishes_a_submission_whose_lease_has_expired(tmp_path: Path) -> None:
    import datetime as dt

    facility()
    with write_file(tmp_path / "x.xml", specs(2)).open("rb") as handle:
        left = services.receive_file(stream=handle, file_name="x.xml", source=SubmissionSource.API)
    services._claim(left.pk, force=False)
    Submission.objects.filter(pk=left.pk).update(
        heartbeat_at=timezone.now() - services.LEASE - dt.timedelta(seconds=1)
    )
    code, result = run_json("--resume")
    assert code == 0 and result["visits_accepted"] == 2


def test_progress_is_shown_only_on_a_terminal(folder: Path) -> None:
    _code, out, err = run(str(folder / "c.xml"))
    assert "hồ sơ/giây" not in err and "Kết quả tiếp nhận" in out

    terminal = Tty()
    _code, out, err = run(str(folder / "in"), "--batch-size", "1", stderr=terminal)
    assert "hồ sơ/giây" in err and "/3" in err  # b.XML declares 3 HOSO
    assert "\r" in err

    terminal = Tty()
    _code, out, err = run(str(folder / "in"), "--json", stderr=terminal)
    assert err == "" and json.loads(out)["files"] == 2


def test_human_output_lists_counts_and_errors_in_vietnamese(tmp_path: Path) -> None:
    facility()
    visits = specs(2)
    path = write_file(tmp_path / "x.xml", [visits[0], tables_with(visits[1], "XML1", NGAY_RA="2025")])
    code, out, _err = run(str(path))
    assert code == 1
    assert "Nhận mới: 1" in out and "Từ chối: 1" in out and "Lỗi (" in out
    assert visits[1].ma_lk in out


def test_the_archive_keeps_each_file_once_whatever_the_number_of_submissions(tmp_path: Path) -> None:
    facility()
    path = write_file(tmp_path / "x.xml", specs(1))
    run(str(path))
    run(str(path))
    assert len(list(Path(settings.ARCHIVE_ROOT).rglob("*.xml.gz"))) == 1
    first, second = Submission.objects.order_by("received_at")
    assert first.archive_path == second.archive_path
    with archive.open_archived(first.archive_path) as handle:
        assert handle.read() == path.read_bytes()
