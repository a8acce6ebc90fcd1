"""``soskdt demo``: load the deterministic demo data set and print the logins to try."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _

from soskdt.demo import builders, selectors
from soskdt.demo.builders.books import DEMO_PASSCODE, build_demo_books
from soskdt.demo.builders.sharing import build_demo_sharing
from soskdt.demo.builders.visits import build_demo_visits


class Command(BaseCommand):
    help = (
        "Tạo dữ liệu mẫu (Sở Y tế, TTYT khu vực An Phú, cán bộ, công dân, thẻ BHYT, tài khoản) và in các "
        "tài khoản dùng thử.\nBuild deterministic demo data and print the demo logins."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--seed",
            type=int,
            default=builders.DEFAULT_SEED,
            help="Hạt giống ngẫu nhiên / random seed (2024)",
        )
        parser.add_argument(
            "--citizens",
            type=int,
            default=builders.DEFAULT_CITIZENS,
            help="Số công dân, chưa kể cán bộ / number of residents, staff not counted (2000)",
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help=(
                "Không làm gì nếu đã có dữ liệu mẫu; không in bảng tài khoản (dùng --logins) / do nothing when "
                "the demo data is already loaded; no logins table (use --logins)"
            ),
        )
        parser.add_argument(
            "--logins",
            action="store_true",
            help="Chỉ in bảng tài khoản dùng thử / only print the demo logins",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        self.quiet = options["verbosity"] == 0
        if options["logins"]:
            self._print_logins()
            return
        if selectors.demo_exists():
            if options["if_empty"]:
                self._say(_("Dữ liệu mẫu đã có sẵn, bỏ qua. / Demo data already loaded, nothing to do."))
                return
            raise CommandError(
                _(
                    "Cơ sở dữ liệu đã có dữ liệu mẫu. Dùng --if-empty, hoặc `scripts/run --reset` để tạo lại. "
                    "/ The demo data is already loaded."
                )
            )
        if options["citizens"] < builders.MIN_CITIZENS:
            raise CommandError(f"--citizens >= {builders.MIN_CITIZENS}")
        started = time.perf_counter()
        result = builders.build_demo(
            today=timezone.localdate(), seed=options["seed"], citizens=options["citizens"]
        )
        visits = build_demo_visits(result).counts()  # through the QĐ 130 ingestion pipeline
        books = build_demo_books(result)  # the parent persona returns to an activated, synced book
        shared = build_demo_sharing(result)  # a live share (known code), an expired, a revoked; an emergency
        elapsed = time.perf_counter() - started
        counts = result.counts()
        self._say(
            self.style.SUCCESS(
                _(
                    "Đã tạo dữ liệu mẫu trong {seconds:.1f} giây (seed {seed}): {org_units} đơn vị, "
                    "{facilities} cơ sở KCB, {residents} công dân và {staff} cán bộ, {cards} thẻ BHYT "
                    "({cards_valid_today} còn hạn hôm nay, {cards_mismatched} lệch thông tin), "
                    "{citizen_accounts} tài khoản công dân ({level2_accounts} mức 2, {level1_accounts} mức 1)."
                ).format(seconds=elapsed, seed=result.seed, **counts)
            )
        )
        self._say(
            _(
                "Đã nạp {visits} đợt khám của {patients} người bệnh từ {files} tệp XML QĐ 130 "
                "({rejected} bị từ chối, {unlinked} chưa liên kết công dân)."
            ).format(**visits)
        )
        for book in books:
            self._say(
                _("Sổ sức khỏe điện tử của {name} đã kích hoạt; passcode {passcode}.").format(
                    name=book.citizen.full_name, passcode=DEMO_PASSCODE
                )
            )
        if shared.live is not None:
            self._say(
                _("Mã chia sẻ sổ của {name} (bác sĩ nhập ở Tra cứu sổ sức khỏe): {code}.").format(
                    name=shared.live.citizen.full_name, code=shared.code
                )
            )
        if not options["if_empty"]:
            # With --if-empty (the run script) the caller prints the table itself with --logins.
            self._print_logins()

    def _say(self, text: str) -> None:
        if not self.quiet:
            self.stdout.write(text)

    def _print_logins(self) -> None:
        rows = selectors.login_rows(timezone.localdate())
        if not rows:
            self._say(_("Chưa có dữ liệu mẫu: chạy `soskdt demo`. / No demo data yet: run `soskdt demo`."))
            return
        headings = [
            (_("Vai trò"), "Role"),
            (_("Tên đăng nhập"), "Username"),
            (_("Mật khẩu"), "Password"),
            (_("Họ và tên"), "Name"),
            (_("Thử gì"), "What to try"),
        ]
        table = [(row.role, row.username, builders.DEMO_PASSWORD, row.full_name, row.note) for row in rows]
        widths = [max(len(h[0]), len(h[1]), *(len(r[i]) for r in table)) for i, h in enumerate(headings[:-1])]

        def line(cells: tuple[str, ...] | list[str]) -> str:
            return "  ".join(
                cell.ljust(widths[i]) if i < len(widths) else cell for i, cell in enumerate(cells)
            ).rstrip()

        self._say("")
        self._say(
            _(
                "Tài khoản dùng thử — mật khẩu chung: {password} / Demo logins — shared password: {password}"
            ).format(password=builders.DEMO_PASSWORD)
        )
        self._say(
            _(
                "Công dân đăng nhập bằng số định danh cá nhân (12 số). / Citizens log in with their personal ID."
            )
        )
        self._say(line([h[0] for h in headings]))
        self._say(line([h[1] for h in headings]))
        self._say("-" * (sum(widths) + 2 * len(widths) + 40))
        for cells in table:
            self._say(line(cells))
