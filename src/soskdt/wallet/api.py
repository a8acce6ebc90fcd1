"""The wallet for the citizen app: the linked BHYT card and card-linking requests (``/me/wallet/``)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.conf import settings
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from pydantic import ConfigDict

from soskdt.identity.api import ErrorRead
from soskdt.identity.auth import APP_VERSION_HEADER, api_auth, require_citizen
from soskdt.wallet import selectors, services
from soskdt.wallet.models import CardLinkRequest, LinkStatus
from soskdt.wallet.selectors import CardSummary

PREFIX = "/me/wallet/"
router = Router(tags=["wallet"], auth=api_auth)

_CARD_EXAMPLE: dict[str, Any] = {
    "code": "DN4797900001234",
    "social_insurance_number": "7900001234",
    "group": "DN",
    "benefit_level": 4,
    "full_name": "Nguyễn Văn An",
    "birth_date": "1985-06-15",
    "sex": "1",
    "issuer": "BHXH_VN",
    "primary_care_facility": {"code": "79048", "name": "Trung tâm Y tế khu vực An Phú"},
    "valid_from": "2025-01-01",
    "valid_to": "2025-12-31",
    "valid_today": True,
    "linked_at": "2025-03-02T09:15:00+07:00",
}


class FacilityRef(Schema):
    code: str
    name: str = Field(description="Tên cơ sở; rỗng khi mã chưa có trong danh mục cơ sở KCB.")


class LinkedCardRead(Schema):
    """A BHYT card in the wallet (or the card a request found)."""

    code: str = Field(description="Mã thẻ BHYT 15 kí tự.")
    social_insurance_number: str = Field(description="Mã số BHXH (10 kí tự cuối của mã thẻ).")
    group: str = Field(description="Mã đối tượng (2 chữ cái đầu).")
    benefit_level: int = Field(ge=1, le=5, description="Mức hưởng (1–5).")
    full_name: str
    birth_date: str = Field(description="yyyy, yyyy-mm hoặc yyyy-mm-dd.")
    sex: Literal["1", "2", "3"] = Field(description="1 nam, 2 nữ, 3 chưa xác định (GIOI_TINH, QĐ 130).")
    issuer: Literal["BHXH_VN", "BHXH_CAND"]
    primary_care_facility: FacilityRef = Field(description="Nơi đăng ký KCB ban đầu.")
    valid_from: dt.date
    valid_to: dt.date
    valid_today: bool
    linked_at: dt.datetime | None = Field(None, description="Thời điểm thẻ vào Ví giấy tờ.")

    model_config = ConfigDict(json_schema_extra={"examples": [_CARD_EXAMPLE]})


class WalletRead(Schema):
    linked_card: LinkedCardRead | None = Field(
        description="Thẻ BHYT đang có trong Ví giấy tờ (null nếu chưa có)."
    )
    pending_request_id: int | None = Field(description="Yêu cầu tích hợp đang chờ xác thực, nếu có.")

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"linked_card": _CARD_EXAMPLE, "pending_request_id": None},
                {"linked_card": None, "pending_request_id": 42},
            ]
        }
    )


class CardLinkRequestCreate(Schema):
    """*Tạo mới yêu cầu*: the app sends its version in the ``X-App-Version`` header (≥ 2.0.4)."""

    type: Literal["BHYT"] = Field("BHYT", description="Loại thông tin; hiện chỉ có Thẻ BHYT.")
    value: str = Field(
        min_length=1,
        max_length=40,
        description="10 kí tự cuối trên mã số thẻ BHYT, hoặc cả mã thẻ 15 kí tự.",
        examples=["7900001234"],
    )
    issuer: Literal["BHXH_VN", "BHXH_CAND"] = Field(
        "BHXH_VN", description="Cơ quan cấp: BHXH Việt Nam hoặc BHXH Công an nhân dân."
    )

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"type": "BHYT", "value": "7900001234", "issuer": "BHXH_VN"},
                {"type": "BHYT", "value": "CA4797900001234", "issuer": "BHXH_CAND"},
            ]
        }
    )


class RejectionRead(Schema):
    code: str = Field(description="Mã lỗi ổn định của Ví giấy tờ (docs/wallet.md).")
    reason: str = Field(description="Lý do chưa tích hợp thẻ BHYT (soskdt.core.reasons.CARD).")
    reason_label: str
    message: str
    advice: str = Field(description="Việc cần làm tiếp theo.")
    fields: list[str] = Field(description="Với PERSONAL_DATA_MISMATCH: full_name, birth_date, sex.")


class CardLinkRequestRead(Schema):
    id: int
    type: str
    value: str = Field(description="Số thẻ như đã nhập.")
    social_insurance_number: str
    card_code: str = Field(description="Mã thẻ 15 kí tự nếu đã nhập đủ, nếu không thì rỗng.")
    issuer: Literal["BHXH_VN", "BHXH_CAND"]
    status: Literal["pending", "approved", "rejected"]
    app_version: str
    created_at: dt.datetime
    decided_at: dt.datetime | None
    rejection: RejectionRead | None
    card: LinkedCardRead | None = Field(description="Thẻ đã tích hợp (chỉ khi approved).")

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 42,
                    "type": "BHYT",
                    "value": "7900001234",
                    "social_insurance_number": "7900001234",
                    "card_code": "",
                    "issuer": "BHXH_VN",
                    "status": "pending",
                    "app_version": "2.0.4",
                    "created_at": "2025-03-02T09:14:58+07:00",
                    "decided_at": None,
                    "rejection": None,
                    "card": None,
                },
                {
                    "id": 43,
                    "type": "BHYT",
                    "value": "7900005678",
                    "social_insurance_number": "7900005678",
                    "card_code": "",
                    "issuer": "BHXH_VN",
                    "status": "rejected",
                    "app_version": "2.1.0",
                    "created_at": "2025-03-02T10:00:00+07:00",
                    "decided_at": "2025-03-02T10:00:03+07:00",
                    "rejection": {
                        "code": "PERSONAL_DATA_MISMATCH",
                        "reason": "PERSONAL_DATA_MISMATCH",
                        "reason_label": "Họ tên, ngày sinh hoặc giới tính trên thẻ BHYT khác với dữ liệu dân cư",
                        "message": "Thông tin ngày sinh trên thẻ BHYT khác với dữ liệu dân cư (CCCD).",
                        "advice": "Liên hệ cơ quan BHXH nơi cấp thẻ để điều chỉnh thông tin cho khớp với CCCD.",
                        "fields": ["birth_date"],
                    },
                    "card": None,
                },
            ]
        }
    )


class CardLinkRequestList(Schema):
    items: list[CardLinkRequestRead]
    count: int
    page: int
    page_size: int


class PageParams(Schema):
    page: int = Field(1, ge=1)
    page_size: int = Field(20, ge=1, le=100)


def _card_read(summary: CardSummary) -> LinkedCardRead:
    return LinkedCardRead(
        code=summary.code,
        social_insurance_number=summary.social_insurance_number,
        group=summary.group,
        benefit_level=summary.benefit_level,
        full_name=summary.full_name,
        birth_date=summary.birth_date.isoformat(),
        sex=summary.sex,  # type: ignore[arg-type]
        issuer=summary.issuer,  # type: ignore[arg-type]
        primary_care_facility=FacilityRef(
            code=summary.primary_care_facility_code, name=summary.primary_care_facility_name
        ),
        valid_from=summary.valid_from,
        valid_to=summary.valid_to,
        valid_today=summary.valid_today,
        linked_at=summary.linked_at,
    )


def _request_read(item: CardLinkRequest, names: dict[str, str]) -> CardLinkRequestRead:
    explanation = selectors.explanation_of(item)
    card = None
    if item.status == LinkStatus.APPROVED and item.card is not None:
        card = _card_read(selectors.summarise_card(item.card, linked_at=item.decided_at, names=names))
    return CardLinkRequestRead(
        id=item.pk,
        type=item.document_type,
        value=item.typed_value,
        social_insurance_number=item.social_insurance_number,
        card_code=item.card_code,
        issuer=item.issuer,  # type: ignore[arg-type]
        status=item.status,  # type: ignore[arg-type]
        app_version=item.app_version,
        created_at=item.created_at,
        decided_at=item.decided_at,
        rejection=RejectionRead(
            code=explanation.code,
            reason=explanation.reason,
            reason_label=explanation.reason_label,
            message=explanation.message,
            advice=explanation.advice,
            fields=list(explanation.fields),
        )
        if explanation
        else None,
        card=card,
    )


def _reads(items: list[CardLinkRequest]) -> list[CardLinkRequestRead]:
    names = selectors.facility_names(
        item.card.primary_care_facility_code
        for item in items
        if item.status == LinkStatus.APPROVED and item.card is not None
    )
    return [_request_read(item, names) for item in items]


def _client_version(request: HttpRequest) -> str:
    # The app always sends its version; a signed-in web page (session, no token) is the web client.
    sent = request.headers.get(APP_VERSION_HEADER, "").strip()
    if sent or getattr(request, "api_token", None) is not None:
        return sent
    return str(settings.SOSKDT["WEB_CLIENT_VERSION"])


@router.get("", response={200: WalletRead, 401: ErrorRead, 404: ErrorRead}, summary="Ví giấy tờ")
def wallet(request: HttpRequest) -> WalletRead:
    viewer = require_citizen(request)
    summary = selectors.wallet_card_of(viewer)
    pending = selectors.pending_request_of(viewer)
    return WalletRead(
        linked_card=_card_read(summary) if summary else None,
        pending_request_id=pending.pk if pending else None,
    )


@router.get(
    "requests",
    response={200: CardLinkRequestList, 401: ErrorRead, 404: ErrorRead},
    summary="Các yêu cầu tích hợp thông tin",
)
def list_requests(request: HttpRequest, params: Query[PageParams]) -> CardLinkRequestList:
    viewer = require_citizen(request)
    requests = selectors.requests_of(viewer)
    count = requests.count()
    start = (params.page - 1) * params.page_size
    items = list(requests[start : start + params.page_size])
    return CardLinkRequestList(items=_reads(items), count=count, page=params.page, page_size=params.page_size)


@router.post(
    "requests",
    response={
        202: CardLinkRequestRead,
        400: ErrorRead,
        401: ErrorRead,
        403: ErrorRead,
        404: ErrorRead,
        409: ErrorRead,
        422: ErrorRead,
    },
    summary="Tạo mới yêu cầu tích hợp thẻ BHYT",
    description=(
        "Cần tài khoản định danh mức 2 (403 LEVEL2_REQUIRED) và ứng dụng từ phiên bản 2.0.4 "
        "(header X-App-Version; 400 APP_OUTDATED). Số thẻ sai dạng: 422 WRONG_NUMBER. Đang có yêu cầu chờ: "
        "409 REQUEST_PENDING. Trả 202 với yêu cầu ở trạng thái pending; kết quả xác thực xem tại "
        "GET /me/wallet/requests/{id}."
    ),
)
def create_request(request: HttpRequest, payload: CardLinkRequestCreate) -> Status[CardLinkRequestRead]:
    viewer = require_citizen(request)
    link_request = services.submit_link_request(
        user=viewer,
        value=payload.value,
        issuer=payload.issuer,
        app_version=_client_version(request),
        document_type=payload.type,
    )
    # The immediate task backend may already have decided it: answer with what is stored now.
    link_request.refresh_from_db()
    return Status(202, _reads([link_request])[0])


@router.get(
    "requests/{request_id}",
    response={200: CardLinkRequestRead, 401: ErrorRead, 404: ErrorRead},
    summary="Một yêu cầu tích hợp thông tin",
)
def get_request(request: HttpRequest, request_id: int) -> CardLinkRequestRead:
    viewer = require_citizen(request)
    return _reads([selectors.request_of(viewer, request_id)])[0]
