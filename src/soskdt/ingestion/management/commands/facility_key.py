"""soskdt facility-key create|list|revoke — API keys for facilities' QĐ 130 submissions."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from soskdt.ingestion import services
from soskdt.ingestion.models import FacilityApiKey
from soskdt.registry.models import Facility


class Command(BaseCommand):
    help = "Quản lý khóa API của cơ sở KCB để gửi dữ liệu XML (create CODE | list [CODE] | revoke PREFIX)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["create", "list", "revoke"])
        parser.add_argument(
            "target", nargs="?", help="Mã cơ sở KCB (create, list) hoặc tiền tố khóa (revoke)"
        )
        parser.add_argument("--label", default="")

    def handle(self, *args: Any, **opts: Any) -> None:
        action, target = opts["action"], opts["target"]
        if action == "create":
            facility = Facility.objects.filter(code=target or "").first()
            if facility is None:
                raise CommandError(f"Không có cơ sở KCB mã {target!r}.")
            plaintext, key = services.create_api_key(facility=facility, label=opts["label"])
            self.stdout.write(f"Khóa API của {facility.code} (chỉ hiện một lần): {plaintext}")
        elif action == "list":
            keys = FacilityApiKey.objects.select_related("facility").order_by("facility__code", "created_at")
            if target:
                keys = keys.filter(facility__code=target)
            for key in keys:
                state = "đã thu hồi" if key.revoked_at else "đang dùng"
                self.stdout.write(f"{key.facility.code}  {key.prefix}  {key.label or '-'}  {state}")
        else:
            found = FacilityApiKey.objects.filter(prefix=target or "").first()
            if found is None:
                raise CommandError(f"Không có khóa với tiền tố {target!r}.")
            services.revoke_api_key(key=found)
            self.stdout.write(f"Đã thu hồi khóa {found.prefix}.")
