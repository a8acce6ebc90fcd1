"""Reads of sharing for a viewer: the access log (*Ai đã xem sổ của tôi*), notices, the auditor's queue.

Missing and forbidden answer the same ``NotFound``. Reading the access log is not itself logged (it is
not a read of the book's content, and logging it would fill the log with its own reads).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from soskdt.healthbook.models import AccessChannel, AccessLog, AccessOutcome, ActorKind, Visit
from soskdt.healthbook.selectors import book_access
from soskdt.identity.models import User
from soskdt.registry.selectors import unit_descendants
from soskdt.sharing.models import EmergencyAccess, Notice, ShareGrant

MAX_PAGE_SIZE = 100

#: What each logged action means, as the citizen reads it.
ACTION_LABELS: dict[str, Any] = {
    "book.open": _("Mở sổ, xem danh sách năm"),
    "visits.year": _("Xem danh sách đợt khám"),
    "visit.detail": _("Xem chi tiết đợt khám"),
    "visit.pdf": _("Tải PDF đợt khám"),
    "tab.lab": _("Xem kết quả xét nghiệm"),
    "tab.imaging": _("Xem chẩn đoán hình ảnh"),
    "tab.functional": _("Xem thăm dò chức năng"),
    "tab.drugs": _("Xem thuốc đã điều trị"),
    "tab.procedures": _("Xem phẫu thuật, thủ thuật"),
    "book.sync": _("Cập nhật dữ liệu"),
    "book.unlock": _("Nhập passcode mở sổ"),
    "book.terms": _("Đồng ý điều khoản sử dụng"),
    "passcode.set": _("Đặt passcode"),
    "passcode.reset_request": _("Yêu cầu đặt lại passcode"),
    "passcode.reset": _("Đặt lại passcode"),
    "share.create": _("Tạo chia sẻ sổ"),
    "share.revoke": _("Thu hồi chia sẻ"),
    "share.open": _("Mở sổ bằng mã chia sẻ"),
    "emergency.start": _("Bắt đầu truy cập khẩn cấp"),
    "summary.read": _("Xem tóm tắt lâm sàng"),
    "fhir.export": _("Xuất dữ liệu (FHIR)"),
}
#: Actions that read the book's content (the others change it or are about access).
READ_ACTIONS = frozenset(
    {"book.open", "visits.year", "visit.detail", "visit.pdf", "summary.read", "fhir.export", "share.open"}
    | {a for a in ACTION_LABELS if a.startswith("tab.")}
)


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One row of *Ai đã xem sổ của tôi*."""

    id: int
    at: dt.datetime
    who: str
    role: str
    actor_kind: str
    facility: str
    action: str
    what: str
    channel: str
    outcome: str

    @property
    def is_emergency(self) -> bool:
        return self.actor_kind == ActorKind.EMERGENCY

    @property
    def is_clinician(self) -> bool:
        return self.actor_kind in (ActorKind.CLINICIAN, ActorKind.EMERGENCY)

    @property
    def denied(self) -> bool:
        return self.outcome == AccessOutcome.DENIED


@dataclass(frozen=True, slots=True)
class LogPage:
    entries: list[LogEntry]
    page: int
    page_size: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def has_previous(self) -> bool:
        return self.page > 1


def _what(row: AccessLog, visits: dict[int, Visit]) -> str:
    label = str(ACTION_LABELS.get(row.action, row.action))
    kind, _sep, value = row.target.partition(":")
    if kind == "visit" and value.isdigit() and int(value) in visits:
        visit = visits[int(value)]
        when = visit.admitted_at.strftime("%d/%m/%Y") if visit.admitted_at else ""
        return f"{label}: {when} · {visit.facility.name}".strip()
    if kind == "year" and value:
        return f"{label}: {_('năm')} {value}"
    return label


def access_log(viewer: Any, who: Any, *, page: int = 1, page_size: int = 20) -> LogPage:
    """The access log of ``who``'s book (own or a managed person's), newest first; three queries."""
    access = book_access(viewer, who)
    page = max(1, int(page))
    page_size = min(max(1, int(page_size)), MAX_PAGE_SIZE)
    rows_qs = AccessLog.objects.filter(owner_id=access.citizen.pk)
    total = rows_qs.count()
    start = (page - 1) * page_size
    rows = list(rows_qs.select_related("actor", "facility").order_by("-id")[start : start + page_size])
    visit_ids = {
        int(r.target.split(":", 1)[1])
        for r in rows
        if r.target.startswith("visit:") and r.target[6:].isdigit()
    }
    visits = (
        {
            v.pk: v
            for v in Visit.objects.filter(pk__in=visit_ids, citizen_id=access.citizen.pk).select_related(
                "facility"
            )
        }
        if visit_ids
        else {}
    )
    entries = []
    for row in rows:
        actor = row.actor
        name = (actor.full_name or actor.username) if actor is not None else ""
        if (
            actor is not None
            and actor.citizen_id == viewer.citizen_id
            and row.actor_kind == ActorKind.CITIZEN
        ):
            name = str(_("Bạn"))
        entries.append(
            LogEntry(
                id=row.pk,
                at=row.at,
                who=name,
                role=str(ActorKind(row.actor_kind).label)
                if row.actor_kind in ActorKind.values
                else row.actor_kind,
                actor_kind=row.actor_kind,
                facility=(f"{row.facility.name} ({row.facility.code})" if row.facility is not None else ""),
                action=row.action,
                what=_what(row, visits),
                channel=str(AccessChannel(row.channel).label)
                if row.channel in AccessChannel.values
                else row.channel,
                outcome=row.outcome,
            )
        )
    return LogPage(entries, page, page_size, total)


def notices_of(viewer: Any, *, limit: int = 50) -> list[Notice]:
    """The latest notices of the viewer's own book (clinician and emergency reads)."""
    from soskdt.healthbook.selectors import viewer_citizen_id

    return list(
        Notice.objects.filter(citizen_id=viewer_citizen_id(viewer))
        .select_related("access_log", "access_log__actor", "access_log__facility", "emergency")
        .order_by("-id")[:limit]
    )


def unread_notices(viewer: Any) -> int:
    from soskdt.healthbook.selectors import viewer_citizen_id

    return Notice.objects.filter(citizen_id=viewer_citizen_id(viewer), read_at__isnull=True).count()


def share_by_public_id(public_id: str) -> ShareGrant | None:
    return ShareGrant.objects.filter(public_id=public_id).first()


def emergencies_for_auditor(viewer: Any) -> QuerySet[EmergencyAccess]:
    """The emergency accesses of the auditor's facilities: their own facility and those of their units."""
    from soskdt.identity.permissions import has_permission

    if not isinstance(viewer, User) or not has_permission(viewer, "sharing.review_emergency"):
        return EmergencyAccess.objects.none()
    where = Q(pk__in=[])
    if viewer.facility_id is not None:
        where |= Q(facility_id=viewer.facility_id)
    if viewer.org_unit is not None:
        units = [viewer.org_unit.pk, *unit_descendants(viewer.org_unit).values_list("pk", flat=True)]
        where |= Q(facility__org_unit_id__in=units)
    return EmergencyAccess.objects.filter(where)


def clinician_sessions(viewer: Any) -> list[Any]:
    """The clinician's share sessions still open, newest first (for *Tra cứu sổ sức khỏe*)."""
    from django.utils import timezone

    from soskdt.sharing.models import ShareSession

    now = timezone.now()
    return list(
        ShareSession.objects.filter(
            clinician_id=viewer.pk,
            facility_id=viewer.facility_id,
            ended_at__isnull=True,
            share__revoked_at__isnull=True,
            share__disabled_at__isnull=True,
            share__expires_at__gt=now,
        )
        .select_related("share", "share__citizen")
        .order_by("-opened_at")[:20]
    )


def clinician_emergencies(viewer: Any) -> list[EmergencyAccess]:
    from django.utils import timezone

    return list(
        EmergencyAccess.objects.filter(
            clinician_id=viewer.pk, facility_id=viewer.facility_id, expires_at__gt=timezone.now()
        )
        .select_related("citizen")
        .order_by("-started_at")[:20]
    )
