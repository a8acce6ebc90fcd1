"""The JSON API (django-ninja), OpenAPI at /api/v1/openapi.json. Each app adds its router here."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from soskdt.core.errors import DomainError, message_for

api = NinjaAPI(
    title="SoSKDT API",
    version="1",
    description="Sổ sức khỏe điện tử — API cho ứng dụng công dân, cơ sở KCB và đơn vị y tế.",
    urls_namespace="api",
)


def _error(
    request: HttpRequest, status: int, code: str, message: str, details: list | None = None
) -> HttpResponse:
    return api.create_response(
        request, {"error": {"code": code, "message": message, "details": details or []}}, status=status
    )


@api.exception_handler(DomainError)
def on_domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return _error(request, exc.status, exc.code, exc.message, exc.details)


@api.exception_handler(NinjaValidationError)
def on_validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    details = [
        {"field": ".".join(str(p) for p in e.get("loc", [])), "message": e.get("msg", "")} for e in exc.errors
    ]
    return _error(request, 422, "VALIDATION_FAILED", message_for("VALIDATION_FAILED"), details)


@api.exception_handler(AuthenticationError)
def on_auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _error(request, 401, "UNAUTHENTICATED", message_for("UNAUTHENTICATED"))


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    code = {404: "NOT_FOUND", 403: "FORBIDDEN", 401: "UNAUTHENTICATED"}.get(exc.status_code, "ERROR")
    return _error(request, exc.status_code, code, message_for(code) if code != "ERROR" else str(exc))


@api.get("/health", auth=None, tags=["system"], summary="Liveness probe")
def health(request: HttpRequest) -> dict[str, str]:
    return {"status": "ok"}


def _register_routers() -> None:
    # Imported here so that an app's router can import its own services without a cycle through this module.
    # Each module exposes ``router`` and may set ``PREFIX`` (default "/<app>/").
    from importlib import import_module

    modules = (
        "identity.api",
        "wallet.api",
        "healthbook.api",
        "ingestion.api",
        "sharing.api",
        "sharing.fhir_api",
        "rollout.api",
        "registry.api",
    )
    for name in modules:
        try:
            module = import_module(f"soskdt.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"soskdt.{name}":
                raise
            continue
        router = getattr(module, "router", None)
        if router is not None:
            api.add_router(getattr(module, "PREFIX", f"/{name.split('.')[0]}/"), router)


_register_routers()
