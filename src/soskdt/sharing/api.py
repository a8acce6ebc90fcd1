"""Sharing for the citizen app (``/me/shares``, ``/me/access-log``, ``/me/notices``) and for clinicians
(``/clinician/...``): open a share by code, read the shared book, emergency access.

Mounted at the API root (``PREFIX = "/"``): each path below is the full path under ``/api/v1/``.
Every refusal a clinician meets (wrong code, expired, revoked, another facility, another clinician's
session, outside the share's scope) answers the same 404 ``NOT_FOUND``; wrong codes also count towards
the clinician's lock (``SHARE_CODE_LOCKED``, 429). Rules: docs/sharing.md.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Path, Query, Router, Schema, Status
from pydantic import ConfigDict

from soskdt.core.errors import DomainError, NotFound
from soskdt.healthbook import reads
from soskdt.healthbook.access import AccessContext, context_from
from soskdt.healthbook.api import (
    TabKey,
    TabRead,
    VisitList,
    VisitRead,
    YearList,
    YearRead,
    _tab_read,
    _visit_list,
    _visit_read,
)
from soskdt.healthbook.scope import CATEGORIES
from soskdt.identity.api import ErrorRead
from soskdt.identity.auth import api_auth, require_citizen
from soskdt.identity.models import User
from soskdt.sharing import selectors, services
from soskdt.sharing.models import EmergencyReason, Notice, ShareGrant

PREFIX = "/"
router = Router(tags=["sharing"], auth=api_auth)

_ERRORS: dict[int, type[ErrorRead]] = {
    401: ErrorRead,
    403: ErrorRead,
    404: ErrorRead,
    409: ErrorRead,
    422: ErrorRead,
}
Category = Literal["visits", "lab", "imaging", "functional", "drugs", "procedures"]


def _all_categories() -> list[Category]:
    return ["visits", "lab", "imaging", "functional", "drugs", "procedures"]


def _context(request: HttpRequest) -> AccessContext:
    return context_from(request, "api")


# --- schemas ---------------------------------------------------------------------------------------------


class ShareCreate(Schema):
    """A new share. ``years`` null or missing: every year. HIV-related items only with ``include_hiv``."""

    citizen: str | None = Field(
        None, pattern=r"^[0-9]{12}$", description="Số định danh của người được quản lý; bỏ trống: sổ của bạn."
    )
    years: list[int] | None = Field(None, description="Các năm được chia sẻ; null: toàn bộ sổ.")
    categories: list[Category] = Field(
        default_factory=_all_categories,
        description="Nhóm thông tin; mặc định: tất cả.",
    )
    include_hiv: bool = Field(
        False, description="Chia sẻ cả thông tin liên quan HIV (XML6, thuốc ARV, xét nghiệm HIV)."
    )
    lifetime_minutes: int = Field(
        240, ge=15, le=43200, description="Thời hạn, phút: mặc định 4 giờ, tối đa 30 ngày."
    )
    facility: str | None = Field(None, pattern=r"^[0-9]{5}$", description="Chỉ cho một cơ sở KCB (mã 5 số).")

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "years": [2025],
                    "categories": ["visits", "lab", "drugs"],
                    "include_hiv": False,
                    "lifetime_minutes": 240,
                }
            ]
        }
    )


class FacilityRef(Schema):
    code: str
    name: str


class ShareRead(Schema):
    id: int
    citizen: str = Field(description="Số định danh của chủ sổ.")
    status: Literal["active", "expired", "revoked", "disabled"]
    years: list[int] | None
    categories: list[str]
    include_hiv: bool
    facility: FacilityRef | None
    created_at: dt.datetime
    expires_at: dt.datetime
    revoked_at: dt.datetime | None
    wrong_tries: int

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 12,
                    "citizen": "079085000123",
                    "status": "active",
                    "years": None,
                    "categories": ["visits", "lab", "imaging", "functional", "drugs", "procedures"],
                    "include_hiv": False,
                    "facility": None,
                    "created_at": "2025-03-20T08:00:00+07:00",
                    "expires_at": "2025-03-20T12:00:00+07:00",
                    "revoked_at": None,
                    "wrong_tries": 0,
                }
            ]
        }
    )


class ShareCreatedRead(ShareRead):
    code: str = Field(description="Mã chia sẻ (8 ký tự), chỉ trả về một lần.")
    qr_url: str = Field(
        description="Đường dẫn trong mã QR (mã chia sẻ nằm sau dấu #, không gửi lên máy chủ)."
    )


class AccessLogEntryRead(Schema):
    at: dt.datetime
    who: str
    role: str
    actor_kind: str
    facility: str
    action: str
    what: str
    channel: str
    outcome: Literal["success", "denied"]


class AccessLogRead(Schema):
    items: list[AccessLogEntryRead]
    page: int
    page_size: int
    total: int

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {
                            "at": "2025-03-20T09:12:00+07:00",
                            "who": "Trần Thị Lan",
                            "role": "Người hành nghề khám chữa bệnh",
                            "actor_kind": "clinician",
                            "facility": "Bệnh viện Đa khoa khu vực An Phú (89012)",
                            "action": "visit.detail",
                            "what": "Xem chi tiết đợt khám: 10/03/2025 · Bệnh viện 79048",
                            "channel": "Trang web",
                            "outcome": "success",
                        }
                    ],
                    "page": 1,
                    "page_size": 20,
                    "total": 1,
                }
            ]
        }
    )


class NoticeRead(Schema):
    id: int
    kind: Literal["clinician_read", "emergency_read"]
    at: dt.datetime
    who: str
    facility: str
    what: str
    read: bool


class LogParams(Schema):
    citizen: str | None = Field(None, pattern=r"^[0-9]{12}$")
    page: int = Field(1, ge=1)
    page_size: int = Field(20, ge=1, le=100)


class ShareOpen(Schema):
    code: str = Field(min_length=1, max_length=20, description="Mã chia sẻ người bệnh đưa (8 ký tự).")
    share: str | None = Field(
        None,
        max_length=43,
        description="Mã công khai trong đường dẫn QR; khi có, nhập sai mã sẽ tính vào chia sẻ này.",
    )

    model_config = ConfigDict(json_schema_extra={"examples": [{"code": "K7QM-3XPA"}]})


class EmergencyCreate(Schema):
    personal_id: str = Field(pattern=r"^[0-9]{12}$")
    reason: Literal["unconscious", "life_threatening", "no_representative", "other"] = Field(
        description="; ".join(f"{v}: {label}" for v, label in EmergencyReason.choices)
    )
    text: str = Field(min_length=1, max_length=2000, description="Mô tả tình huống (ít nhất 10 ký tự).")

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "personal_id": "079085000123",
                    "reason": "unconscious",
                    "text": "Chấn thương sọ não, hôn mê, không có người nhà",
                }
            ]
        }
    )


class PatientRef(Schema):
    personal_id: str
    full_name: str
    birth_date: str
    sex: str


class SessionRead(Schema):
    session: str = Field(description="Mã phiên: dùng trong /clinician/books/{session}/...")
    kind: Literal["clinician", "emergency"]
    patient: PatientRef
    expires_at: dt.datetime
    years: list[int] | None
    categories: list[str]
    include_hiv: bool


# --- helpers ---------------------------------------------------------------------------------------------------


def _share_read(share: ShareGrant) -> ShareRead:
    return ShareRead(
        id=share.pk,
        citizen=share.citizen.personal_id,
        status=share.status(),  # type: ignore[arg-type]
        years=share.years,
        categories=list(share.categories),
        include_hiv=share.include_hiv,
        facility=FacilityRef(code=share.facility.code, name=share.facility.name) if share.facility else None,
        created_at=share.created_at,
        expires_at=share.expires_at,
        revoked_at=share.revoked_at,
        wrong_tries=share.wrong_tries,
    )


def _session_read(grant: services.Grant) -> SessionRead:
    if isinstance(grant, services.SessionGrant):
        citizen = grant.session.share.citizen
    else:
        citizen = grant.emergency.citizen
    scope = grant.scope
    return SessionRead(
        session=grant.public_id,
        kind=grant.actor_kind,  # type: ignore[arg-type]
        patient=PatientRef(
            personal_id=citizen.personal_id,
            full_name=citizen.full_name,
            birth_date=citizen.birth_date.isoformat(),
            sex=citizen.sex,
        ),
        expires_at=grant.expires_at,
        years=sorted(scope.years) if scope.years is not None else None,
        categories=[c for c in CATEGORIES if c in scope.categories],
        include_hiv=scope.include_hiv,
    )


def _clinician(request: HttpRequest) -> User:
    return services.require_clinician(request.user)


def _grant(request: HttpRequest, session: str, *, action: str, target: str) -> services.Grant:
    return services.grant_for(
        _clinician(request), session, context=_context(request), action=action, target=target
    )


def _denied(request: HttpRequest, grant: services.Grant, *, action: str, target: str) -> NotFound:
    services.log_denied_read(
        grant, _clinician(request), action=action, target=target, context=_context(request)
    )
    return NotFound()


# --- citizen -----------------------------------------------------------------------------------------------------


@router.post("me/shares", response={201: ShareCreatedRead, **_ERRORS}, summary="Tạo chia sẻ sổ (mã và QR)")
def create_share(request: HttpRequest, payload: ShareCreate) -> Status[ShareCreatedRead]:
    viewer = require_citizen(request)
    created = services.create_share(
        viewer=viewer,
        who=payload.citizen or viewer.username,
        categories=list(payload.categories),
        years=payload.years,
        include_hiv=payload.include_hiv,
        lifetime=dt.timedelta(minutes=payload.lifetime_minutes),
        facility_code=payload.facility,
        context=_context(request),
    )
    share = ShareGrant.objects.select_related("citizen", "facility").get(pk=created.share.pk)
    from django.urls import reverse

    url = (
        request.build_absolute_uri(reverse("sharing:open_qr", args=[share.public_id])) + f"#ma={created.code}"
    )
    return Status(
        201, ShareCreatedRead(**_share_read(share).model_dump(), code=created.display_code, qr_url=url)
    )


@router.get(
    "me/shares", response={200: list[ShareRead], 401: ErrorRead, 404: ErrorRead}, summary="Các lần chia sẻ sổ"
)
def list_shares(request: HttpRequest) -> list[ShareRead]:
    viewer = require_citizen(request)
    return [_share_read(share) for share in services.shares_of(viewer)]


@router.post("me/shares/{share_id}/revoke", response={200: ShareRead, **_ERRORS}, summary="Thu hồi chia sẻ")
def revoke_share(request: HttpRequest, share_id: int) -> ShareRead:
    viewer = require_citizen(request)
    share = services.revoke_share(viewer=viewer, share_id=share_id, context=_context(request))
    return _share_read(ShareGrant.objects.select_related("citizen", "facility").get(pk=share.pk))


@router.get("me/access-log", response={200: AccessLogRead, **_ERRORS}, summary="Ai đã xem sổ của tôi")
def access_log(request: HttpRequest, params: Query[LogParams]) -> AccessLogRead:
    viewer = require_citizen(request)
    log = selectors.access_log(
        viewer, params.citizen or viewer.username, page=params.page, page_size=params.page_size
    )
    return AccessLogRead(
        items=[
            AccessLogEntryRead(
                at=e.at,
                who=e.who,
                role=e.role,
                actor_kind=e.actor_kind,
                facility=e.facility,
                action=e.action,
                what=e.what,
                channel=e.channel,
                outcome=e.outcome,  # type: ignore[arg-type]
            )
            for e in log.entries
        ],
        page=log.page,
        page_size=log.page_size,
        total=log.total,
    )


def _notice_read(n: Notice) -> NoticeRead:
    row = n.access_log
    return NoticeRead(
        id=n.pk,
        kind=n.kind,  # type: ignore[arg-type]
        at=n.created_at,
        who=(row.actor.full_name or row.actor.username) if row.actor else "",
        facility=row.facility.name if row.facility else "",
        what=str(selectors.ACTION_LABELS.get(row.action, row.action)),
        read=n.read_at is not None,
    )


@router.get(
    "me/notices", response={200: list[NoticeRead], 401: ErrorRead, 404: ErrorRead}, summary="Thông báo"
)
def notices(request: HttpRequest) -> list[NoticeRead]:
    viewer = require_citizen(request)
    return [_notice_read(n) for n in selectors.notices_of(viewer)]


@router.post(
    "me/notices/read", response={204: None, 401: ErrorRead, 404: ErrorRead}, summary="Đánh dấu đã đọc"
)
def notices_read(request: HttpRequest) -> Status[None]:
    services.mark_notices_read(viewer=require_citizen(request))
    return Status(204, None)


# --- clinician -------------------------------------------------------------------------------------------------


@router.post(
    "clinician/shares/open",
    response={200: SessionRead, 429: ErrorRead, **_ERRORS},
    summary="Mở sổ bằng mã chia sẻ",
    description="Trả về mã phiên, gắn với bạn và cơ sở của bạn, hết hiệu lực cùng chia sẻ.",
)
def open_share(request: HttpRequest, payload: ShareOpen) -> SessionRead:
    session = services.open_share(
        viewer=_clinician(request), code=payload.code, context=_context(request), public_id=payload.share
    )
    return _session_read(services.SessionGrant(session))


@router.post(
    "clinician/emergency",
    response={201: SessionRead, **_ERRORS},
    summary="Truy cập khẩn cấp",
    description="Mở sổ không cần chia sẻ trong 3 giờ; người bệnh được thông báo, kiểm soát viên rà soát.",
)
def emergency(request: HttpRequest, payload: EmergencyCreate) -> Status[SessionRead]:
    started = services.start_emergency(
        viewer=_clinician(request),
        personal_id=payload.personal_id,
        reason=payload.reason,
        reason_text=payload.text,
        context=_context(request),
    )
    return Status(201, _session_read(services.EmergencyGrant(started)))


@router.get(
    "clinician/books/{session}/years",
    response={200: YearList, **_ERRORS},
    summary="Năm có đợt khám (trong phạm vi)",
)
def book_years(request: HttpRequest, session: str) -> YearList:
    grant = _grant(request, session, action="book.open", target="")
    viewer = _clinician(request)
    try:
        read = reads.years(
            viewer=viewer,
            who=grant.citizen_id,
            gate=services.grant_gate(grant, viewer),
            context=_context(request),
            grant=grant,
        )
    except DomainError as exc:
        raise _denied(request, grant, action="book.open", target="") from exc
    assert read.data is not None
    return YearList(
        years=[YearRead(year=y.year, visits=y.visits) for y in read.data.years],
        last_synced_at=read.data.last_synced_at,
    )


class ClinicianPage(Schema):
    page: int = Field(1, ge=1)
    page_size: int = Field(20, ge=1, le=100)


@router.get(
    "clinician/books/{session}/years/{year}/visits",
    response={200: VisitList, **_ERRORS},
    summary="Các đợt khám của một năm",
)
def book_year(
    request: HttpRequest, session: str, params: Query[ClinicianPage], year: int = Path(..., ge=1900, le=2200)
) -> Any:
    target = f"year:{year}"
    grant = _grant(request, session, action="visits.year", target=target)
    viewer = _clinician(request)
    try:
        read = reads.visits_for_year(
            viewer=viewer,
            who=grant.citizen_id,
            year=year,
            page=params.page,
            page_size=params.page_size,
            gate=services.grant_gate(grant, viewer),
            context=_context(request),
            grant=grant,
        )
    except DomainError as exc:
        raise _denied(request, grant, action="visits.year", target=target) from exc
    assert read.data is not None
    return _visit_list(read.data)


@router.get(
    "clinician/books/{session}/visits/{visit_id}",
    response={200: VisitRead, **_ERRORS},
    summary="Chi tiết đợt khám",
)
def book_visit(request: HttpRequest, session: str, visit_id: int) -> Any:
    target = f"visit:{visit_id}"
    grant = _grant(request, session, action="visit.detail", target=target)
    viewer = _clinician(request)
    try:
        read = reads.visit_detail(
            viewer=viewer,
            who=grant.citizen_id,
            visit_id=visit_id,
            gate=services.grant_gate(grant, viewer),
            context=_context(request),
            grant=grant,
        )
    except DomainError as exc:
        raise _denied(request, grant, action="visit.detail", target=target) from exc
    assert read.data is not None
    return _visit_read(read.data)


@router.get(
    "clinician/books/{session}/visits/{visit_id}/tabs/{tab}",
    response={200: TabRead, **_ERRORS},
    summary="Một tab của đợt khám",
)
def book_visit_tab(request: HttpRequest, session: str, visit_id: int, tab: TabKey) -> Any:
    spec = reads.tab(tab)
    target = f"visit:{visit_id}"
    grant = _grant(request, session, action=spec.action, target=target)
    viewer = _clinician(request)
    try:
        read = reads.visit_tab(
            viewer=viewer,
            who=grant.citizen_id,
            visit_id=visit_id,
            tab_key=tab,
            gate=services.grant_gate(grant, viewer),
            context=_context(request),
            grant=grant,
        )
    except DomainError as exc:
        raise _denied(request, grant, action=spec.action, target=target) from exc
    assert read.data is not None
    return _tab_read(read.data)
