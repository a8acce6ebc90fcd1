"""``soskdt export-book``: a citizen's whole book as FHIR or plain JSON, for a data-access request.

    soskdt export-book 079085001234 --format fhir -o so-suc-khoe.fhir.json --operator nguyenvana
    soskdt export-book 079085001234 --format json -o so-suc-khoe.json

Exports every visit linked to the person (also those their book has not synced yet: a data-access
request covers all data held), HIV-related items included (it is the person's own data). The export is
a read of the book and is logged as one (``actor_kind`` operator, action ``book.export``, target the
format). Exit status 0 when written, 2 for an unknown personal ID, operator or format.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import models, transaction
from django.utils import timezone

from soskdt.healthbook import labels
from soskdt.healthbook.access import AccessContext, record_access
from soskdt.healthbook.models import (
    ActorKind,
    Book,
    ClinicalNote,
    DischargePaper,
    DrugLine,
    FollowUp,
    RecordSummary,
    Referral,
    Result,
    ServiceLine,
    Visit,
)
from soskdt.healthbook.scope import Scope
from soskdt.identity.models import AccountKind, User
from soskdt.registry.models import Citizen
from soskdt.sharing import fhir
from soskdt.sharing.summary import book_visits

USAGE_ERROR = 2
ACTION = "book.export"
FORMATS = ("fhir", "json")
JSON_FORMAT_NAME = "soskdt-book-export"
JSON_FORMAT_VERSION = 1

# Columns that are bookkeeping of the pipeline, not the person's data.
_SKIPPED = {"visit", "extra", "raw_extras", "content_hash", "created_at", "updated_at", "citizen", "facility"}


class Command(BaseCommand):
    help = (
        "Xuất toàn bộ Sổ sức khỏe của một người (FHIR R4 hoặc JSON) để trả lời yêu cầu truy cập dữ liệu; "
        "được ghi nhật ký truy cập.\nExport a citizen's whole book (FHIR R4 or JSON); the export is logged."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("personal_id", help="Số định danh cá nhân (12 chữ số) / personal ID")
        parser.add_argument("--format", choices=FORMATS, default="fhir", help="fhir (mặc định) hoặc json")
        parser.add_argument("-o", "--output", required=True, help="Tệp ghi ra / output file ('-' = stdout)")
        parser.add_argument(
            "--operator",
            default="system",
            help="Tên đăng nhập của cán bộ thực hiện (mặc định: system) / operator's staff username",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        personal_id = str(options["personal_id"]).strip()
        citizen = Citizen.objects.filter(personal_id=personal_id).first()
        if citizen is None:
            raise CommandError(
                f"Không tìm thấy công dân có số định danh cá nhân “{personal_id}”.", returncode=USAGE_ERROR
            )
        operator = _operator(options["operator"])
        now = timezone.now()
        target = options["output"]
        with transaction.atomic():
            # The log needs the book row; a person who never opened their book gets an inactive one.
            book, _created = Book.objects.select_for_update().get_or_create(citizen=citizen)
            if options["format"] == "fhir":
                data = fhir.build_bundle(
                    citizen_id=citizen.pk, scope=Scope.full(), generated_at=now, synced_only=False
                )
            else:
                data = book_as_json(citizen, generated_at=now)
            text = json.dumps(data, ensure_ascii=False, indent=2, default=_default)
            record_access(
                book=book,
                actor_id=operator.pk if operator else None,
                actor_kind=ActorKind.OPERATOR,
                action=ACTION,
                target=options["format"],
                context=AccessContext(
                    channel="api",
                    user_agent=f"soskdt export-book (operator: {operator.username if operator else 'system'})",
                ),
                lock=False,
            )
            if target == "-":
                self.stdout.write(text)
            else:
                Path(target).write_text(text, encoding="utf-8")
        if target != "-":
            self.stdout.write(f"Đã ghi {target} ({len(text.encode()):,} byte).".replace(",", "."))


def _operator(username: str) -> User | None:
    if username == "system":
        return None
    user = User.objects.filter(username=username, kind=AccountKind.STAFF, is_active=True).first()
    if user is None:
        raise CommandError(f"Không tìm thấy tài khoản cán bộ “{username}”.", returncode=USAGE_ERROR)
    return user


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).isoformat() if timezone.is_aware(value) else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _columns(model: type[models.Model]) -> list[str]:
    return [f.attname for f in model._meta.concrete_fields if f.name not in _SKIPPED]


def _rows(model: type[models.Model], ids: Any) -> dict[int, list[dict[str, Any]]]:
    found: dict[int, list[dict[str, Any]]] = {}
    columns = _columns(model)
    for row in (
        model._default_manager.filter(visit_id__in=ids)
        .order_by("visit_id", "pk")
        .values("visit_id", *columns)
    ):
        found.setdefault(row.pop("visit_id"), []).append(row)
    return found


def book_as_json(citizen: Citizen, *, generated_at: dt.datetime) -> dict[str, Any]:
    """Every linked visit of ``citizen`` with all its items and papers, as plain JSON-ready data.

    One query per table, whatever the number of visits. Fields keep the book's English column names
    (docs/fhir.md maps them to QĐ 130); coded fields carry their Vietnamese label beside them.
    """
    visit_query = book_visits(citizen.pk, synced_only=False)
    ids = visit_query.values("id")
    visit_columns = _columns(Visit)
    visits = list(visit_query.order_by("admitted_at", "id").values(*visit_columns, "facility__name"))
    tables = {
        "drugs": _rows(DrugLine, ids),
        "services": _rows(ServiceLine, ids),
        "results": _rows(Result, ids),
        "notes": _rows(ClinicalNote, ids),
    }
    papers = {
        "discharge_paper": _rows(DischargePaper, ids),
        "record_summary": _rows(RecordSummary, ids),
        "referral": _rows(Referral, ids),
        "follow_up": _rows(FollowUp, ids),
    }
    out = []
    for visit in visits:
        visit_id = visit["id"]
        visit["facility_name"] = visit.pop("facility__name")
        visit["visit_type_label"] = labels.visit_type(visit.get("visit_type"))
        visit["outcome_label"] = labels.outcome(visit.get("outcome"))
        visit["discharge_type_label"] = labels.discharge_type(visit.get("discharge_type"))
        for name, rows in tables.items():
            items = rows.get(visit_id, [])
            if name in ("services", "results"):
                for item in items:
                    item["category_label"] = labels.category(item.get("category"))
            visit[name] = items
        for name, rows in papers.items():
            found = rows.get(visit_id)
            visit[name] = found[0] if found else None
        out.append(visit)
    return {
        "format": JSON_FORMAT_NAME,
        "version": JSON_FORMAT_VERSION,
        "generated_at": generated_at,
        "citizen": {
            "personal_id": citizen.personal_id,
            "full_name": citizen.full_name,
            "birth_date": citizen.birth_date.isoformat(),
            "sex": citizen.sex,
            "sex_label": labels.sex(citizen.sex),
            "phone": citizen.phone,
            "address": citizen.address,
        },
        "visits": out,
    }
