"""Authentication backend: Django's model backend behind per-account and per-address throttles."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from soskdt.core import throttle
from soskdt.core.errors import RateLimited


def _int(value: object) -> int:
    return int(str(value))


def account_limit() -> throttle.Limit:
    cfg = settings.SOSKDT
    return throttle.Limit(
        "login-account", _int(cfg["LOGIN_MAX_FAILURES_PER_ACCOUNT"]), _int(cfg["LOGIN_LOCK_SECONDS"])
    )


def address_limit() -> throttle.Limit:
    cfg = settings.SOSKDT
    return throttle.Limit(
        "login-address", _int(cfg["LOGIN_MAX_FAILURES_PER_ADDRESS"]), _int(cfg["LOGIN_LOCK_SECONDS"])
    )


def client_address(request: HttpRequest | None) -> str:
    if request is None:
        return "unknown"
    return str(request.META.get("REMOTE_ADDR") or "unknown")


class ThrottledModelBackend(ModelBackend):
    """Refuse a login while the account or the address is locked; count every failure on both."""

    def authenticate(  # type: ignore[override]
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> Any:
        if not username or password is None:
            return None
        username = username.strip()
        address = client_address(request)
        minutes = max(
            throttle.locked_for(account_limit(), username), throttle.locked_for(address_limit(), address)
        )
        if minutes:
            raise RateLimited("RATE_LIMITED", minutes=minutes)
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            throttle.record_failure(account_limit(), username)
            throttle.record_failure(address_limit(), address)
            return None
        throttle.clear(account_limit(), username)
        return user
