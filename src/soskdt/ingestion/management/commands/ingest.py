"""soskdt ingest PATH... — load QĐ 130 XML files or folders into the health book.

Exit status: 0 every visit accepted (new, replaced or unchanged), 1 some visit rejected or a file-level error,
2 a file could not be read at all (missing, not XML, no HOSO readable). See docs/ingestion.md.
"""

from __future__ import annotations

import getpass
import json
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from soskdt.core.errors import message_for
from soskdt.ingestion import services
from soskdt.ingestion.models import SubmissionSource, SubmissionStatus, SubmissionVisit

EXIT_OK, EXIT_REJECTED, EXIT_UNREADABLE = 0, 1, 2


def xml_files(paths: list[str]) -> list[Path]:
    """Expand folders into their *.xml files (recursively, sorted); keep files as given."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() == ".xml"))
        else:
            found.append(path)
    return found


def _sender_label() -> str:
    try:
        return f"cli:{getpass.getuser()}"[:150]
    except (KeyError, OSError):
        return "cli"


class Command(BaseCommand):
    help = "Tiếp nhận tệp XML theo QĐ 130 (tệp hoặc thư mục) vào Sổ sức khỏe điện tử."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="*", help="Tệp .xml hoặc thư mục chứa tệp .xml")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Chỉ đọc và kiểm tra, không ghi gì (không lưu trữ, không nạp)",
        )
        parser.add_argument("--json", action="store_true", help="In một đối tượng JSON kết quả")
        parser.add_argument(
            "--reprocess",
            metavar="SUBMISSION_ID",
            help="Xử lý lại một lượt gửi từ bản lưu trữ (lượt gửi mới)",
        )
        parser.add_argument(
            "--resume",
            action="store_true",
            help="Tiếp tục các lượt gửi bị gián đoạn (bỏ qua lượt đang được một tiến trình khác xử lý)",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Với --resume: nhận cả lượt còn giữ bởi tiến trình khác (chỉ dùng khi không có tiến trình nền nào chạy)",
        )
        parser.add_argument("--batch-size", type=int, default=services.BATCH_SIZE, help="Số hồ sơ mỗi lô")

    def handle(self, *args: Any, **opts: Any) -> None:
        as_json: bool = opts["json"]
        self.show_progress = not as_json and self.stderr.isatty()
        started = time.monotonic()
        aggregate = _Aggregate()
        files = xml_files(opts["paths"])
        if not files and not opts["reprocess"] and not opts["resume"]:
            raise CommandError("Cần ít nhất một tệp hoặc thư mục (hoặc --reprocess / --resume).")
        if opts["resume"]:
            for submission_id in services.unfinished():
                progress = self._progress(f"#{submission_id[:8]}")
                submission = services.process_submission(
                    submission_id=submission_id,
                    force=opts["force"],
                    batch_size=opts["batch_size"],
                    progress=progress,
                )
                self._done(progress)
                if submission.status in (SubmissionStatus.RECEIVED, SubmissionStatus.PROCESSING):
                    self.stderr.write(
                        f"{submission_id}: đang được một tiến trình khác xử lý, bỏ qua (--force để nhận)."
                    )
                    continue
                aggregate.add(services.submission_report(submission), submission.status)
        if opts["reprocess"]:
            submission = services.reprocess(submission_id=opts["reprocess"], sender_label=_sender_label())
            aggregate.add(services.submission_report(submission), submission.status)
        for path in files:
            if not path.is_file():
                aggregate.unreadable(path)
                continue
            progress = self._progress(path.name)
            if opts["dry_run"]:
                try:
                    checked, rows = services.check_file(
                        path=path, batch_size=opts["batch_size"], progress=progress
                    )
                except OSError:
                    aggregate.unreadable(path)
                    continue
                report = services.submission_report(checked, rows=_with_problems(rows))
                report["id"] = None
                aggregate.add(report, checked.status)
            else:
                aggregate.add(*self._ingest(path, opts["batch_size"], progress))
            self._done(progress)
        result = aggregate.as_dict(files=len(files))
        if as_json:
            self.stdout.write(json.dumps(result, ensure_ascii=False, default=str))
        else:
            self._print_human(result, time.monotonic() - started, dry_run=opts["dry_run"])
        code = EXIT_OK
        if result["visits_rejected"] or result["errors"]:
            code = EXIT_REJECTED
        if aggregate.unreadable_files:
            code = EXIT_UNREADABLE
        if code:
            raise SystemExit(code)

    def _ingest(self, path: Path, batch_size: int, progress: _Progress | None) -> tuple[dict[str, Any], str]:
        try:
            with path.open("rb") as handle:
                received = services.receive_file(
                    stream=handle,
                    file_name=path.name,
                    source=SubmissionSource.CLI,
                    sender_label=_sender_label(),
                )
        except OSError:
            return _unreadable_report(path), SubmissionStatus.FAILED
        submission = services.process_submission(
            submission_id=received.pk, batch_size=batch_size, progress=progress
        )
        return services.submission_report(submission), submission.status

    def _progress(self, name: str) -> _Progress | None:
        return _Progress(name, self.stderr) if self.show_progress else None

    def _done(self, progress: _Progress | None) -> None:
        if progress is not None:
            progress.done()

    def _print_human(self, result: dict[str, Any], elapsed: float, *, dry_run: bool) -> None:
        out = self.stdout
        title = "Kiểm tra (không ghi gì)" if dry_run else "Kết quả tiếp nhận"
        out.write(f"{title}: {result['files']} tệp trong {elapsed:.1f} giây")
        if dry_run:
            out.write(f"  Hợp lệ: {result['visits_accepted']}  Từ chối: {result['visits_rejected']}")
        else:
            out.write(
                f"  Nhận mới: {result['visits_accepted']}  Thay thế: {result['visits_replaced']}  "
                f"Không đổi: {result['visits_unchanged']}  Từ chối: {result['visits_rejected']}  "
                f"Chưa liên kết công dân: {result['visits_unlinked']}"
            )
        for submission_id in result["submissions"]:
            out.write(f"  Mã lượt gửi: {submission_id}")
        for label, problems in (("Lỗi", result["errors"]), ("Cảnh báo", result["warnings"])):
            if not problems:
                continue
            out.write(f"{label} ({len(problems)}):")
            for p in problems[:200]:
                where = " ".join(
                    f"{k}={p[k]}"
                    for k in ("file", "ma_lk", "table", "row", "field")
                    if p.get(k) not in (None, "")
                )
                out.write(f"  [{p['code']}] {where}: {p['message']}")
            if len(problems) > 200:
                out.write(f"  … và {len(problems) - 200} mục khác (dùng --json để xem tất cả)")


def _with_problems(rows: list[SubmissionVisit]) -> list[SubmissionVisit]:
    return [row for row in rows if row.errors or row.warnings]


def _unreadable_report(path: Path) -> dict[str, Any]:
    return {
        "id": None,
        **dict.fromkeys(("visits_accepted", "visits_replaced", "visits_unchanged"), 0),
        **dict.fromkeys(("visits_rejected", "visits_unlinked"), 0),
        "errors": [
            {
                "file": str(path),
                "ma_lk": None,
                "table": None,
                "row": None,
                "field": None,
                "code": services.FILE_UNREADABLE,
                "message": message_for(services.FILE_UNREADABLE),
            }
        ],
        "warnings": [],
    }


class _Aggregate:
    def __init__(self) -> None:
        self.counts = dict.fromkeys(("accepted", "replaced", "unchanged", "rejected", "unlinked"), 0)
        self.errors: list[dict[str, Any]] = []
        self.warnings: list[dict[str, Any]] = []
        self.submissions: list[str] = []
        self.unreadable_files = 0

    def add(self, report: dict[str, Any], status: str) -> None:
        for key in self.counts:
            self.counts[key] += report[f"visits_{key}"]
        self.errors.extend(report["errors"])
        self.warnings.extend(report["warnings"])
        if report.get("id"):
            self.submissions.append(report["id"])
        if status == SubmissionStatus.FAILED:
            self.unreadable_files += 1

    def unreadable(self, path: Path) -> None:
        self.add(_unreadable_report(path), SubmissionStatus.FAILED)

    def as_dict(self, *, files: int) -> dict[str, Any]:
        return {
            "files": files,
            **{f"visits_{k}": v for k, v in self.counts.items()},
            "errors": self.errors,
            "warnings": self.warnings,
            "submissions": self.submissions,
        }


class _Progress:
    """A one-line progress display on a terminal: visits done (of those declared) and visits per second."""

    def __init__(self, name: str, stream: Any) -> None:
        self.name = name
        self.stream = stream
        self.started = time.monotonic()
        self.shown = False

    def __call__(self, done: int, declared: int | None) -> None:
        elapsed = max(time.monotonic() - self.started, 1e-6)
        of = f"/{declared:,}" if declared and declared > 0 else ""
        bar = ""
        if declared and declared > 0:
            filled = min(20, int(20 * done / declared))
            bar = "[" + "#" * filled + "." * (20 - filled) + "] "
        self.stream.write(
            f"\r{self.name}: {bar}{done:,}{of} hồ sơ · {done / elapsed:,.0f} hồ sơ/giây ", ending=""
        )
        self.stream.flush()
        self.shown = True

    def done(self) -> None:
        if self.shown:
            self.stream.write("", ending="\n")
