"""``soskdt report appendix1``: write a unit's (or a centre's consolidated) Appendix 1 as JSON, XLSX, DOCX or PDF.

    soskdt report appendix1 --unit ANPHU-KKB --period 2024-12 --format docx -o bao-cao.docx
    soskdt report appendix1 --unit TTYTKV-ANPHU --consolidated --period 2024-12 --format pdf -o tong-hop.pdf

Exit status 0 when written, 2 for a wrong argument (unknown unit, bad month, unknown format).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from soskdt.registry.models import OrgUnit
from soskdt.rollout.exports import FORMATS, filename_for, letterhead_for, render
from soskdt.rollout.periods import Period
from soskdt.rollout.report import build_consolidated, build_unit_report
from soskdt.rollout.selectors import REPORTING_KINDS

USAGE_ERROR = 2


class Command(BaseCommand):
    help = (
        "Xuất báo cáo Phụ lục 1 (JSON, Excel, Word, PDF) của một đơn vị hoặc tổng hợp của Trung tâm.\n"
        "Export Appendix 1 of a unit, or a centre's consolidation, as json, xlsx, docx or pdf."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        reports = parser.add_subparsers(dest="report", required=True, metavar="appendix1")
        appendix = reports.add_parser(
            "appendix1",
            help="Phụ lục 1 — thống kê kết quả triển khai Sổ SKĐT / Appendix 1",
            description="Phụ lục 1 của công văn 310/TTYT-KHNV (docs/exports.md).",
        )
        appendix.add_argument("--unit", required=True, help="Mã đơn vị / unit code (e.g. ANPHU-KKB)")
        appendix.add_argument("--period", required=True, help="Tháng báo cáo / month, YYYY-MM")
        appendix.add_argument(
            "--format",
            choices=sorted(FORMATS),
            help="Định dạng / format (mặc định: theo phần mở rộng của -o)",
        )
        appendix.add_argument(
            "-o",
            "--output",
            help="Tệp ghi ra / output file ('-' = stdout; default: phu-luc-1-<unit>-<month>.<ext>)",
        )
        appendix.add_argument(
            "--consolidated",
            action="store_true",
            help="Báo cáo tổng hợp các đơn vị trực thuộc (Trung tâm Y tế) / the centre's consolidation",
        )
        appendix.add_argument(
            "--only-submitted",
            action="store_true",
            help="Chỉ tính đơn vị đã nộp (với --consolidated) / only units that submitted",
        )
        appendix.add_argument("--place", help="Địa danh ở dòng ngày tháng / place name of the date line")

    def handle(self, *args: Any, **options: Any) -> None:
        fmt = _format(options.get("format"), options.get("output"))
        try:
            period = Period.parse(options["period"])
        except ValueError as exc:
            raise CommandError(
                f"Tháng báo cáo “{options['period']}” không hợp lệ: dùng dạng YYYY-MM (ví dụ 2024-12).",
                returncode=USAGE_ERROR,
            ) from exc
        code = options["unit"].strip()
        unit = OrgUnit.objects.select_related("parent").filter(code=code).first()
        if unit is None:
            raise CommandError(f"Không tìm thấy đơn vị có mã “{code}”.", returncode=USAGE_ERROR)
        if options["consolidated"]:
            appendix = build_consolidated(unit, period, only_submitted=options["only_submitted"])
        elif unit.kind not in REPORTING_KINDS:
            raise CommandError(
                f"“{unit.name}” ({code}) không phải đơn vị báo cáo: thêm --consolidated để lập báo cáo tổng hợp.",
                returncode=USAGE_ERROR,
            )
        else:
            appendix = build_unit_report(unit, period)
        data = render(appendix, fmt, letterhead_for(appendix, place=options.get("place")))
        target = options.get("output") or filename_for(appendix, fmt)
        if target == "-":
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()
            return
        Path(target).write_bytes(data)
        self.stdout.write(f"Đã ghi {target} ({len(data):,} byte).".replace(",", "."))


def _format(given: str | None, output: str | None) -> str:
    if given:
        return given
    suffix = Path(output).suffix.lower().lstrip(".") if output and output != "-" else ""
    if suffix in FORMATS:
        return suffix
    raise CommandError(
        f"Chọn định dạng bằng --format ({', '.join(sorted(FORMATS))}) hoặc đặt tên tệp -o có phần mở rộng đó.",
        returncode=USAGE_ERROR,
    )
