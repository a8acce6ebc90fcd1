"""Who is calling: ninja auth for the API (bearer token or page session) and guards for the pages.

Other apps use ``auth=api_auth`` on their routers, ``citizen_required`` / ``staff_required`` /
``role_required(role)`` / ``permission_required(perm)`` on their views, and ``require_citizen`` /
``require_permission`` inside API operations. Wrong kind or missing role answers 404, the same as a
missing object, so that nobody learns what exists.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar, cast

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from ninja.errors import AuthenticationError
from ninja.security import HttpBearer
from ninja.security import SessionAuth as NinjaSessionAuth

from soskdt.core.errors import NotFound
from soskdt.identity import services
from soskdt.identity.models import AccountKind, User
from soskdt.identity.permissions import has_permission, roles_with
from soskdt.identity.selectors import role_set

APP_VERSION_HEADER = "X-App-Version"


@dataclass(frozen=True, slots=True)
class UncheckedBearer:
    """A bearer token of the right shape that nothing has checked yet (``TokenAuth(deferred=True)``)."""

    plaintext: str


class TokenAuth(HttpBearer):
    """``Authorization: Bearer <token>`` from ``POST /auth/token``; records the client's ``X-App-Version``.

    ``deferred``: for operations that check the token inside their own SQL statement (the book's
    one-statement reads, docs/decisions/0005); a well-shaped token passes as an ``UncheckedBearer`` and the
    operation either checks it in its statement or calls ``settle``, which checks it as usual.
    """

    def __init__(self, *, deferred: bool = False) -> None:
        super().__init__()
        self.deferred = deferred

    def authenticate(self, request: HttpRequest, token: str) -> User | UncheckedBearer | None:
        if self.deferred:
            return UncheckedBearer(token.strip()) if services.token_prefix(token) else None
        api_token = services.use_api_token(token)
        if api_token is None:
            return None
        user = api_token.user
        request.user = user
        request.api_token = api_token  # type: ignore[attr-defined]
        version = request.headers.get(APP_VERSION_HEADER)
        if version:
            services.record_app_version(user=user, version=version)
        return user


class SessionAuth(NinjaSessionAuth):
    """The pages' session, with Django's CSRF check on unsafe methods.

    Without a signed-in session it answers "not me" before the CSRF check, so that a bad bearer token
    gets 401, not a CSRF 403.
    """

    def __call__(self, request: HttpRequest) -> Any:
        if not request.user.is_authenticated:
            return None
        return super().__call__(request)


token_auth = TokenAuth()
session_auth = SessionAuth()
# The bearer token first: mobile clients never carry a session cookie.
api_auth = [token_auth, session_auth]
# The same, for operations that check a bearer token in their own statement before calling ``settle``.
deferred_api_auth = [TokenAuth(deferred=True), session_auth]


def unchecked_bearer(request: HttpRequest) -> str | None:
    """The plaintext of a bearer token ``deferred_api_auth`` let through unchecked (None: none such)."""
    auth = getattr(request, "auth", None)
    return auth.plaintext if isinstance(auth, UncheckedBearer) else None


def settle(request: HttpRequest) -> None:
    """Finish ``deferred_api_auth``: check an unchecked bearer token as ``api_auth`` would have.

    A token that fails leaves the session to answer, as in ``api_auth``; without either, 401.
    """
    plaintext = unchecked_bearer(request)
    if plaintext is None:
        return
    user = token_auth.authenticate(request, plaintext) or session_auth(request)
    if not user:
        raise AuthenticationError()
    request.auth = user  # type: ignore[attr-defined]


def api_user(request: HttpRequest) -> User:
    """Return the authenticated account of an API request (after ``api_auth``)."""
    return cast(User, request.user)


def require_citizen(request: HttpRequest) -> User:
    """Return the citizen account calling the API; any other caller gets the plain 404."""
    user = request.user
    if not isinstance(user, User) or not user.is_authenticated or user.kind != AccountKind.CITIZEN:
        raise NotFound()
    return user


def require_permission(request: HttpRequest, perm: str) -> User:
    """Return the staff account calling the API if it holds ``perm``; otherwise the plain 404."""
    user = request.user
    if not isinstance(user, User) or not has_permission(user, perm):
        raise NotFound()
    return user


# --- page guards --------------------------------------------------------------------------------------

View = TypeVar("View", bound=Callable[..., HttpResponse])


def _guard(check: Callable[[User], bool], login_url_name: str) -> Callable[[View], View]:
    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path(), reverse(login_url_name))
            if not isinstance(user, User) or not check(user):
                raise Http404
            return view(request, *args, **kwargs)

        return cast(View, wrapper)

    return decorator


def _is_citizen(user: User) -> bool:
    return user.kind == AccountKind.CITIZEN and user.citizen_id is not None


def _is_staff(user: User) -> bool:
    return user.kind == AccountKind.STAFF


def citizen_required(view: View) -> View:
    """Let citizen accounts through; send the anonymous to the citizen login; 404 for everyone else."""
    return _guard(_is_citizen, "identity:login")(view)


def staff_required(view: View) -> View:
    """Let staff accounts through; send the anonymous to the staff login; 404 for everyone else."""
    return _guard(_is_staff, "identity:staff_login")(view)


def role_required(role: str) -> Callable[[View], View]:
    """Let staff holding ``role`` through; send the anonymous to the staff login; 404 for everyone else."""
    return _guard(lambda user: _is_staff(user) and role in role_set(user), "identity:staff_login")


def permission_required(perm: str) -> Callable[[View], View]:
    """Let staff holding ``perm`` (see permissions.PERMISSIONS) through; 404 for everyone else."""
    roles_with(perm)  # an unknown permission fails at import time, not on the first request
    return _guard(lambda user: has_permission(user, perm), "identity:staff_login")
