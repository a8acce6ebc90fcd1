"""``soskdt registry import KIND FILE``: load a register CSV file (docs/registry-import.md).

Exit status: 0 every row loaded, 1 some rows rejected, 2 the file could not be imported.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _

from soskdt.core.errors import Problem
from soskdt.registry.services import BATCH_SIZE, IMPORTERS, KINDS, ImportResult, import_register


def problem_json(item: Problem) -> dict[str, Any]:
    return {
        "line": item.row,
        "column": item.column,
        "code": item.code,
        "message": item.message,
        "value": item.value,
    }


class Command(BaseCommand):
    help = "Nhập sổ đăng ký (công dân, thẻ BHYT, cơ sở KCB, đơn vị) từ tệp CSV."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="import")
        importing = actions.add_parser(
            "import",
            help="Nhập một tệp CSV vào sổ đăng ký.",
            description="Nhập một tệp CSV (UTF-8, có dòng tiêu đề) vào sổ đăng ký. Xem docs/registry-import.md.",
        )
        importing.add_argument("kind", choices=KINDS, help="loại sổ: " + ", ".join(KINDS))
        importing.add_argument("file", help="đường dẫn tệp CSV")
        importing.add_argument(
            "--strict", action="store_true", help="có lỗi ở bất kỳ dòng nào thì không nạp gì"
        )
        importing.add_argument(
            "--json", action="store_true", dest="as_json", help="in kết quả dạng một đối tượng JSON"
        )
        importing.add_argument(
            "--batch-size", type=int, default=BATCH_SIZE, help=f"số dòng mỗi lô (mặc định {BATCH_SIZE})"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        result = import_register(
            kind=options["kind"],
            path=options["file"],
            strict=options["strict"],
            batch_size=max(1, options["batch_size"]),
        )
        if options["as_json"]:
            self.write_json(result)
        else:
            self.write_summary(result)
        if result.exit_status:
            raise SystemExit(result.exit_status)

    def write_json(self, result: ImportResult) -> None:
        """Print one JSON object, streamed so that a million errors are never all in memory."""
        head = {"file": result.file, "kind": result.kind, "strict": result.strict, **result.counts()}
        out = self.stdout
        out.write(json.dumps(head, ensure_ascii=False)[:-1], ending="")
        for name, problems in (("errors", result.errors), ("warnings", result.warnings)):
            out.write(f', "{name}": [', ending="")
            for index, item in enumerate(problems):
                out.write(
                    (", " if index else "") + json.dumps(problem_json(item), ensure_ascii=False), ending=""
                )
            out.write("]", ending="")
        out.write("}\n", ending="")

    def write_summary(self, result: ImportResult) -> None:
        out = self.stdout
        kind = IMPORTERS[result.kind].model._meta.verbose_name_plural
        out.write(_("Nhập {kind} từ tệp {file}").format(kind=kind, file=result.file))
        out.write(
            _(
                "  Số dòng dữ liệu: {rows} — thêm mới: {created}, cập nhật: {updated}, không đổi: {unchanged}, "
                "bị từ chối: {rejected}, cảnh báo: {warnings}."
            ).format(**result.counts(), warnings=len(result.warnings))
        )
        for title, problems in ((_("Lỗi"), result.errors), (_("Cảnh báo"), result.warnings)):
            if problems.count:
                out.write(f"{title} ({problems.count}):")
                for item in problems:
                    out.write("  " + self.describe(item))
        if result.file_rejected and not result.rows:
            out.write(self.style.ERROR(_("Không nhập được tệp: chưa nạp dòng nào.")))
        elif result.rolled_back:
            out.write(self.style.ERROR(_("Chế độ --strict: tệp có lỗi nên không nạp dòng nào.")))
        elif result.file_rejected:
            out.write(self.style.ERROR(_("Quá trình nhập bị dừng giữa chừng; các lô trước đó đã được nạp.")))
        elif result.rejected:
            out.write(
                self.style.WARNING(_("Đã nạp các dòng hợp lệ; các dòng bị từ chối được liệt kê ở trên."))
            )
        else:
            out.write(self.style.SUCCESS(_("Hoàn tất: mọi dòng đã được nạp.")))

    @staticmethod
    def describe(item: Problem) -> str:
        where = []
        if item.row is not None:
            where.append(_("Dòng {line}").format(line=item.row))
        if item.column:
            where.append(_("cột {column}").format(column=item.column))
        text = f"{', '.join(where)} — " if where else ""
        text += f"[{item.code}] {item.message}"
        if item.value:
            text += " " + _("(giá trị: “{value}”)").format(value=item.value[:100])
        return text
