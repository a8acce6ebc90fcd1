"""Facilities' API: POST /api/v1/submissions (QĐ 130 XML) and GET /api/v1/submissions/{id}."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema, Status
from ninja.security import APIKeyHeader, HttpBearer

from soskdt.core.errors import DomainError
from soskdt.identity.auth import session_auth, token_auth
from soskdt.ingestion import selectors, services
from soskdt.ingestion.models import FacilityApiKey, SubmissionSource

PREFIX = "/submissions"
router = Router(tags=["submissions"])


class FacilityKeyHeader(APIKeyHeader):
    """``X-API-Key: skf_…`` — the facility's key (only an argon2 hash is stored)."""

    param_name = "X-API-Key"

    def authenticate(self, request: HttpRequest, key: str | None) -> FacilityApiKey | None:
        return services.authenticate_api_key(key or "")


class FacilityKeyBearer(HttpBearer):
    """``Authorization: Bearer skf_…`` — the same key as a bearer token."""

    def authenticate(self, request: HttpRequest, token: str) -> FacilityApiKey | None:
        if not token.startswith("skf_"):
            return None
        return services.authenticate_api_key(token)


facility_auth = [FacilityKeyHeader(), FacilityKeyBearer()]


class SubmissionAccepted(Schema):
    id: str
    status: str
    file: str
    size: int
    sha256: str
    url: str


class ProblemOut(Schema):
    file: str | None = None
    ma_lk: str | None = None
    table: str | None = None
    row: int | None = None
    field: str | None = None
    code: str
    message: str
    value: str | None = None


class SubmissionRead(Schema):
    id: str
    status: str
    file: str
    sha256: str
    size: int
    received_at: str
    facility_code: str | None = None
    visits_total: int
    visits_accepted: int
    visits_replaced: int
    visits_unchanged: int
    visits_rejected: int
    visits_unlinked: int
    errors: list[ProblemOut]
    warnings: list[ProblemOut]


_BODY_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "Tệp GIAMDINHHS (QĐ 130) — gửi nguyên văn (application/xml) hoặc multipart với trường `file`.",
        "content": {
            "application/xml": {"schema": {"type": "string", "format": "binary"}},
            "multipart/form-data": {
                "schema": {"type": "object", "properties": {"file": {"type": "string", "format": "binary"}}}
            },
        },
    }
}


@router.post(
    "",
    auth=facility_auth,
    response={202: SubmissionAccepted},
    summary="Gửi tệp XML QĐ 130 của cơ sở",
    openapi_extra=_BODY_DOC,
)
def create_submission(request: HttpRequest) -> Status:
    """Archive the file as received, check the envelope's facility, and queue its processing.

    The body is streamed into the archive (never read into memory whole); the answer comes before any visit
    is processed. A file whose MACSKCB is not the key's facility is refused (403) and kept as failed.
    """
    key: FacilityApiKey = request.auth  # type: ignore[attr-defined]
    if (request.content_type or "").startswith("multipart/"):
        upload = request.FILES.get("file")
        if upload is None:
            raise DomainError(
                "VALIDATION_FAILED", details=[{"field": "file", "message": "missing"}], status=422
            )
        stream: Any = upload
        name = upload.name or "upload.xml"
    else:
        stream = request
        name = request.headers.get("X-File-Name") or "upload.xml"
    submission = services.receive_file(
        stream=stream,
        file_name=name,
        source=SubmissionSource.API,
        facility=key.facility,
        api_key=key,
        sender_label=f"{key.facility.code} ({key.prefix})",
    )
    refused = services.refuse_other_facility(submission=submission, facility=key.facility)
    if refused is not None:
        detail = services.report_problem(refused.as_dict(), submission.file_name)
        detail["submission_id"] = str(submission.pk)
        raise DomainError(refused.code, refused.message, details=[detail], status=403)
    services.enqueue_processing(submission=submission)
    return Status(
        202,
        {
            "id": str(submission.pk),
            "status": submission.status,
            "file": submission.file_name,
            "size": submission.size,
            "sha256": submission.sha256,
            "url": f"/api/v1/submissions/{submission.pk}",
        },
    )


@router.get(
    "/{submission_id}",
    auth=[*facility_auth, token_auth, session_auth],
    response=SubmissionRead,
    summary="Trạng thái và báo cáo của một lượt gửi",
)
def read_submission(request: HttpRequest, submission_id: str) -> dict[str, Any]:
    viewer = request.auth if isinstance(request.auth, FacilityApiKey) else request.user  # type: ignore[attr-defined]
    submission = selectors.get_submission_for(viewer, submission_id)
    return services.submission_report(submission)
