"""Sign-in for API clients (the citizen app, facility systems): bearer tokens and the caller's profile."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.contrib.auth import logout
from django.http import HttpRequest
from ninja import Field, Router, Schema, Status
from pydantic import ConfigDict

from soskdt.identity import services
from soskdt.identity.auth import APP_VERSION_HEADER, api_auth, api_user
from soskdt.identity.selectors import profile_of

PREFIX = "/auth/"
router = Router(tags=["auth"])


class ErrorBody(Schema):
    code: str = Field(examples=["INVALID_CREDENTIALS"])
    message: str = Field(examples=["Số định danh cá nhân hoặc mật khẩu không đúng."])
    details: list[dict[str, Any]] = Field(default_factory=list)


class ErrorRead(Schema):
    """The one error shape of the API."""

    error: ErrorBody


class TokenCreate(Schema):
    username: str = Field(
        min_length=1,
        max_length=150,
        description="Số định danh cá nhân (công dân) hoặc tên đăng nhập (cán bộ).",
        examples=["079085000123"],
    )
    password: str = Field(min_length=1, max_length=128, examples=["SoSKDT@2025"])

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"username": "079085000123", "password": "SoSKDT@2025"}]}
    )


class TokenRead(Schema):
    token: str = Field(description="Bearer token; shown once, keep it secret.")
    expires_at: dt.datetime
    kind: Literal["citizen", "staff"]

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "token": "3f9c2a1b7d4e.q1vX3…",
                    "expires_at": "2025-01-15T20:00:00+07:00",
                    "kind": "citizen",
                }
            ]
        }
    )


class UnitRef(Schema):
    code: str
    name: str


class MeRead(Schema):
    kind: Literal["citizen", "staff"]
    username: str
    full_name: str
    assurance_level: int | None = Field(description="Mức định danh (1 hoặc 2); chỉ có ở tài khoản công dân.")
    assurance_granted_on: dt.date | None
    roles: list[str]
    org_unit: UnitRef | None
    facility: UnitRef | None
    app_version: str = Field(description="Phiên bản ứng dụng gần nhất mà máy khách báo qua X-App-Version.")

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "kind": "citizen",
                    "username": "079085000123",
                    "full_name": "Nguyễn Văn An",
                    "assurance_level": 2,
                    "assurance_granted_on": "2024-03-01",
                    "roles": [],
                    "org_unit": None,
                    "facility": None,
                    "app_version": "2.0.4",
                },
                {
                    "kind": "staff",
                    "username": "bs.lan",
                    "full_name": "Trần Thị Lan",
                    "assurance_level": None,
                    "assurance_granted_on": None,
                    "roles": ["clinician"],
                    "org_unit": {"code": "TTYT-KHTH", "name": "Khoa Khám bệnh"},
                    "facility": {"code": "79048", "name": "Trung tâm Y tế khu vực"},
                    "app_version": "",
                },
            ]
        }
    )


@router.post(
    "/token",
    auth=None,
    response={201: TokenRead, 401: ErrorRead, 422: ErrorRead, 429: ErrorRead},
    summary="Đăng nhập, nhận mã truy cập",
    description=(
        "Công dân dùng số định danh cá nhân, cán bộ dùng tên đăng nhập. Sai 5 lần liên tiếp thì tài khoản "
        "bị khóa tạm thời (429, thông báo ghi số phút còn lại)."
    ),
)
def create_token(request: HttpRequest, payload: TokenCreate) -> Status[TokenRead]:
    user = services.check_credentials(request=request, username=payload.username, password=payload.password)
    plaintext, token = services.issue_api_token(user=user)
    version = request.headers.get(APP_VERSION_HEADER)
    if version:
        services.record_app_version(user=user, version=version)
    return Status(201, TokenRead(token=plaintext, expires_at=token.expires_at, kind=user.kind))  # type: ignore[arg-type]


@router.get("/me", auth=api_auth, response={200: MeRead, 401: ErrorRead}, summary="Tài khoản đang đăng nhập")
def me(request: HttpRequest) -> MeRead:
    profile = profile_of(api_user(request))
    return MeRead(
        kind=profile.kind,  # type: ignore[arg-type]
        username=profile.username,
        full_name=profile.full_name,
        assurance_level=profile.assurance_level,
        assurance_granted_on=profile.assurance_granted_on,
        roles=list(profile.roles),
        org_unit=UnitRef(code=profile.org_unit.code, name=profile.org_unit.name)
        if profile.org_unit
        else None,
        facility=UnitRef(code=profile.facility.code, name=profile.facility.name)
        if profile.facility
        else None,
        app_version=profile.app_version,
    )


@router.post(
    "/logout", auth=api_auth, response={204: None, 401: ErrorRead}, summary="Đăng xuất, thu hồi mã truy cập"
)
def revoke_token(request: HttpRequest) -> Status[None]:
    api_token = getattr(request, "api_token", None)
    if api_token is not None:
        services.revoke_api_token(token=api_token)
    else:
        logout(request)
    return Status(204, None)
