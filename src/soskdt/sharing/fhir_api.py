"""FHIR R4 export over the API: the citizen's own book and a clinician's shared book, as a document Bundle.

``GET /api/v1/me/fhir``: the caller's book (or, with ``?citizen=<personal ID>``, the book of a person they
represent), gated like every read of the book: level-2 account, activated book, ``X-Book-Token``.
``GET /api/v1/clinician/books/{session}/fhir``: within a share the citizen gave (or an emergency
access), filtered by its scope, through ``sharing.services.clinician_access``. Both answer
``application/fhir+json`` and write one access-log row (action ``book.fhir``). Shape: docs/fhir.md.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Field, Query, Router, Schema

from soskdt.healthbook import book as book_services
from soskdt.healthbook.access import context_from
from soskdt.identity.api import ErrorRead
from soskdt.identity.auth import api_auth, require_citizen
from soskdt.sharing import fhir

PREFIX = "/"
router = Router(tags=["fhir"], auth=api_auth)

BOOK_TOKEN_HEADER = "X-Book-Token"  # noqa: S105 - a header name, not a secret
_ERRORS: dict[int, type[ErrorRead]] = {401: ErrorRead, 403: ErrorRead, 404: ErrorRead, 409: ErrorRead}
_FHIR_RESPONSE = {
    "responses": {
        200: {
            "description": "FHIR R4 Bundle (type document, International Patient Summary shape)",
            "content": {fhir.CONTENT_TYPE: {"schema": {"type": "object"}}},
        }
    }
}


class BookParams(Schema):
    citizen: str | None = Field(
        None,
        pattern=r"^[0-9]{12}$",
        description="Số định danh cá nhân của người được quản lý. Bỏ trống: sổ của chính bạn.",
    )


def _answer(bundle: dict[str, Any], filename: str) -> HttpResponse:
    answer = HttpResponse(fhir.dumps(bundle), content_type=f"{fhir.CONTENT_TYPE}; charset=utf-8")
    answer["Content-Disposition"] = f'inline; filename="{filename}"'
    answer["Cache-Control"] = "private, no-store"
    return answer


@router.get(
    "me/fhir",
    response={200: None, **_ERRORS},
    summary="Tải sổ sức khỏe dạng FHIR R4 (IPS)",
    description=(
        "Toàn bộ sổ (hoặc sổ của người bạn quản lý, ?citizen=) dưới dạng FHIR R4 Bundle kiểu document theo "
        f"khuôn International Patient Summary. Cần {BOOK_TOKEN_HEADER}; được ghi nhật ký truy cập."
    ),
    openapi_extra=_FHIR_RESPONSE,
)
def my_fhir(request: HttpRequest, params: Query[BookParams]) -> HttpResponse:
    viewer = require_citizen(request)
    token = request.headers.get(BOOK_TOKEN_HEADER)
    bundle = fhir.export_own_book(
        viewer=viewer,
        who=params.citizen if params.citizen else int(viewer.citizen_id or 0),
        gate=lambda access: book_services.book_token_valid(token, user=access.viewer, book=access.book),
        context=context_from(request, "api"),
    )
    return _answer(bundle, f"so-suc-khoe-{timezone.localdate():%Y%m%d}.fhir.json")


@router.get(
    "clinician/books/{session}/fhir",
    response={200: None, **_ERRORS},
    summary="Sổ được chia sẻ dạng FHIR R4 (IPS)",
    description=(
        "Sổ của người bệnh trong phạm vi chia sẻ (năm, nhóm thông tin, HIV chỉ khi được đồng ý rõ ràng), "
        "dạng FHIR R4 Bundle. session: mã phiên từ POST /clinician/shares/open hoặc mã truy cập khẩn cấp. "
        "Được ghi nhật ký truy cập và báo cho người bệnh."
    ),
    openapi_extra=_FHIR_RESPONSE,
)
def clinician_fhir(request: HttpRequest, session: str) -> HttpResponse:
    from soskdt.sharing import services

    context = context_from(request, "api")
    with transaction.atomic():
        access, scope = services.clinician_access(request.user, session, context=context)
        bundle = fhir.build_bundle(citizen_id=access.citizen.pk, scope=scope, generated_at=timezone.now())
        services.log_clinician_read(access=access, action=fhir.ACTION, target="bundle", context=context)
    return _answer(bundle, f"so-suc-khoe-{timezone.localdate():%Y%m%d}.fhir.json")
