"""``soskdt rollout-remind``: e-mail the units that have not submitted last month's report (run daily)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from soskdt.rollout.services import send_reminders


class Command(BaseCommand):
    help = (
        "Gửi thư nhắc các đơn vị chưa nộp báo cáo tháng trước (từ 3 ngày trước hạn; mỗi đơn vị một lần).\n"
        "E-mail the reporters of units without last month's report, from 3 days before the deadline, once each."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", help="Ngày chạy / run as if today were YYYY-MM-DD")
        parser.add_argument(
            "--base-url", default="", help="Địa chỉ trang web cho liên kết trong thư / site URL for links"
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Gửi cả ngoài khung 3 ngày trước hạn / ignore the reminder window",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        today = None
        if options["date"]:
            try:
                today = dt.date.fromisoformat(options["date"])
            except ValueError as exc:
                raise CommandError("--date YYYY-MM-DD") from exc
        runs = send_reminders(today=today, force=options["force"], base_url=options["base_url"])
        sent = sum(len(run.sent) for run in runs)
        for run in runs:
            for reminder in run.sent:
                self.stdout.write(f"{run.period.label} {reminder.unit.code}: {reminder.recipients}")
            for code in run.skipped_no_recipient:
                self.stderr.write(
                    _("{period} {unit}: chưa có địa chỉ thư điện tử của cán bộ báo cáo.").format(
                        period=run.period.label, unit=code
                    )
                )
        self.stdout.write(_("Đã gửi {n} thư nhắc.").format(n=sent))
