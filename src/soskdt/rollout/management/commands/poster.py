"""``soskdt poster``: the printable Appendix 2 guide for a unit's reception area and wards, with a QR code.

    soskdt poster --unit ANPHU-KKB --size A3 -o ap-phich.pdf --url https://soskdt.example.vn/

Exit status 0 when written, 2 for an unknown unit.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from soskdt.registry.models import OrgUnit
from soskdt.rollout.exports import public_url, unit_poster
from soskdt.rollout.exports.poster import SIZES_MM

USAGE_ERROR = 2


class Command(BaseCommand):
    help = (
        "In áp phích hướng dẫn sử dụng Sổ sức khỏe điện tử trên VNeID (Phụ lục 2) có mã QR, khổ A4 hoặc A3.\n"
        "Print the Appendix 2 poster (how to use the book and link the BHYT card) with a QR code, A4 or A3."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--unit", required=True, help="Mã đơn vị / unit code")
        parser.add_argument("--size", choices=sorted(SIZES_MM), default="A4", type=str.upper, help="A4 | A3")
        parser.add_argument(
            "-o", "--output", help="Tệp PDF ghi ra / output file (default: ap-phich-<unit>-<size>.pdf)"
        )
        parser.add_argument(
            "--url",
            help="Địa chỉ ứng dụng web cho người dân trong mã QR / the citizen web app URL "
            '(default: SOSKDT["PUBLIC_URL"])',
        )

    def handle(self, *args: Any, **options: Any) -> None:
        code = options["unit"].strip()
        unit = OrgUnit.objects.select_related("parent").filter(code=code).first()
        if unit is None:
            raise CommandError(f"Không tìm thấy đơn vị có mã “{code}”.", returncode=USAGE_ERROR)
        url = options.get("url") or public_url()
        data = unit_poster(unit, size=options["size"], url=url)
        target = options.get("output") or f"ap-phich-{unit.code}-{options['size']}.pdf"
        Path(target).write_bytes(data)
        self.stdout.write(f"Đã ghi {target} ({options['size']}, mã QR: {url}).")
