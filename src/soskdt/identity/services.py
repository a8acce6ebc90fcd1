"""Every write of the identity app: accounts, assurance levels, passwords, API tokens, logins."""

from __future__ import annotations

import datetime as dt
import hmac
import re
import secrets
from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

from soskdt.core import sqlbatch
from soskdt.core.errors import DomainError, define
from soskdt.identity.models import AccountKind, ApiToken, Role, RoleAssignment, User
from soskdt.registry.models import Citizen, Facility, OrgUnit

INVALID_CREDENTIALS = define("INVALID_CREDENTIALS", _("Số định danh cá nhân hoặc mật khẩu không đúng."))
STAFF_INVALID_CREDENTIALS = define("STAFF_INVALID_CREDENTIALS", _("Tên đăng nhập hoặc mật khẩu không đúng."))
PASSWORD_REJECTED = define("PASSWORD_REJECTED", _("Mật khẩu chưa đạt yêu cầu."))
ACCOUNT_EXISTS = define("ACCOUNT_EXISTS", _("Công dân này đã có tài khoản."))
USERNAME_TAKEN = define("USERNAME_TAKEN", _("Tên đăng nhập đã được sử dụng."))
USERNAME_INVALID = define(
    "USERNAME_INVALID",
    _("Tên đăng nhập của cán bộ gồm 3–150 ký tự chữ, số, dấu chấm, gạch ngang, gạch dưới."),
)
USERNAME_LOOKS_LIKE_PERSONAL_ID = define(
    "USERNAME_LOOKS_LIKE_PERSONAL_ID", _("Tên đăng nhập của cán bộ không được là một số định danh cá nhân.")
)
ROLE_UNKNOWN = define("ROLE_UNKNOWN", _("Vai trò không có trong danh mục."))
ROLE_NEEDS_FACILITY = define("ROLE_NEEDS_FACILITY", _("Vai trò này cần gắn với một cơ sở khám chữa bệnh."))
ASSURANCE_LEVEL_INVALID = define("ASSURANCE_LEVEL_INVALID", _("Mức định danh phải là 1 hoặc 2."))
NOT_A_CITIZEN_ACCOUNT = define("NOT_A_CITIZEN_ACCOUNT", _("Tài khoản này không phải tài khoản công dân."))

# A clinician opens books at a facility, a submitter sends that facility's files: both act for one facility.
FACILITY_ROLES: frozenset[str] = frozenset({Role.CLINICIAN, Role.SUBMITTER})

_STAFF_USERNAME_RE = re.compile(r"^[A-Za-z0-9._-]{3,150}$")
_PERSONAL_ID_RE = re.compile(r"^[0-9]{12}$")
_APP_VERSION_RE = re.compile(r"^[0-9A-Za-z.+-]{1,20}$")
_TOKEN_KEY_SALT = "soskdt.identity.api-token"  # noqa: S105 - an HMAC salt, not a secret
_LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


# --- logins -------------------------------------------------------------------------------------------


def check_credentials(
    *, request: HttpRequest | None, username: str, password: str, kind: str | None = None
) -> User:
    """Return the account for ``username``/``password`` or raise the one wrong-credentials error.

    Unknown account, wrong password, inactive account and (when ``kind`` is given) an account of the other
    kind all get the same answer, so that nobody can learn who has an account. A lock raises RateLimited
    (429, with the minutes left) from the backend.
    """
    code = STAFF_INVALID_CREDENTIALS if kind == AccountKind.STAFF else INVALID_CREDENTIALS
    user = authenticate(request, username=username, password=password)
    if not isinstance(user, User) or (kind is not None and user.kind != kind):
        raise DomainError(code, status=401)
    return user


# --- accounts -----------------------------------------------------------------------------------------


def _check_password(password: str, user: User) -> None:
    try:
        validate_password(password, user)
    except ValidationError as exc:
        details = [
            {
                "field": "password",
                "code": error.code or "PASSWORD_INVALID",
                "message": " ".join(error.messages),
            }
            for error in exc.error_list
        ]
        raise DomainError(PASSWORD_REJECTED, details=details) from exc


@transaction.atomic
def create_citizen_account(
    *,
    citizen: Citizen,
    password: str,
    phone: str = "",
    assurance_level: int = 1,
    granted_on: dt.date | None = None,
) -> User:
    """Open the account of a person of the population register; the personal ID is the username."""
    if assurance_level not in (1, 2):
        raise DomainError(ASSURANCE_LEVEL_INVALID)
    if User.objects.filter(Q(citizen=citizen) | Q(username=citizen.personal_id)).exists():
        raise DomainError(ACCOUNT_EXISTS, status=409)
    user = User(
        username=citizen.personal_id,
        kind=AccountKind.CITIZEN,
        full_name=citizen.full_name,
        phone=phone or citizen.phone,
        citizen=citizen,
        assurance_level=assurance_level,
        assurance_granted_on=granted_on or timezone.localdate(),
    )
    _check_password(password, user)
    user.set_password(password)
    user.save()
    return user


@transaction.atomic
def create_staff_account(
    *,
    username: str,
    full_name: str,
    password: str,
    org_unit: OrgUnit,
    facility: Facility | None = None,
    roles: Iterable[str] = (),
) -> User:
    """Open a staff account in ``org_unit`` with ``roles``; clinicians and submitters need a facility."""
    username = username.strip()
    if _PERSONAL_ID_RE.match(username):
        # Citizens log in with their personal ID: a staff username of that shape could shadow one.
        raise DomainError(USERNAME_LOOKS_LIKE_PERSONAL_ID)
    if not _STAFF_USERNAME_RE.match(username):
        raise DomainError(USERNAME_INVALID)
    if User.objects.filter(username=username).exists():
        raise DomainError(USERNAME_TAKEN, status=409)
    role_list = sorted(set(roles))
    unknown = [role for role in role_list if role not in Role.values]
    if unknown:
        raise DomainError(ROLE_UNKNOWN, details=[{"field": "roles", "value": role} for role in unknown])
    if facility is None and FACILITY_ROLES.intersection(role_list):
        raise DomainError(ROLE_NEEDS_FACILITY, details=[{"field": "facility"}])
    user = User(
        username=username, kind=AccountKind.STAFF, full_name=full_name, org_unit=org_unit, facility=facility
    )
    _check_password(password, user)
    user.set_password(password)
    user.save()
    RoleAssignment.objects.bulk_create([RoleAssignment(user=user, role=role) for role in role_list])
    return user


@transaction.atomic
def set_password(*, user: User, password: str) -> None:
    """Replace the password of ``user`` after checking the password rules."""
    _check_password(password, user)
    user.set_password(password)
    user.save(update_fields=["password"])


@transaction.atomic
def grant_assurance_level(*, user: User, level: int, on: dt.date) -> User:
    """Record that a citizen account reached assurance ``level`` on ``on`` (level 2: verified by the police)."""
    if not user.is_citizen:
        raise DomainError(NOT_A_CITIZEN_ACCOUNT)
    if level not in (1, 2):
        raise DomainError(ASSURANCE_LEVEL_INVALID)
    user.assurance_level = level
    user.assurance_granted_on = on
    user.save(update_fields=["assurance_level", "assurance_granted_on"])
    return user


def record_app_version(*, user: User, version: str) -> bool:
    """Remember the app version a user's client reports; write only when it changed. Return whether it did.

    The wallet refuses card linking from apps older than MIN_APP_VERSION, and roll-out reports count
    who runs which version, so the last reported version is enough; malformed values are ignored.
    """
    version = (version or "").strip()
    now = timezone.now()
    if not _write_app_version(user.pk, user.app_version, version, now):
        return False
    user.app_version, user.app_version_seen_at = version, now
    return True


def _write_app_version(user_id: int, known: str, version: str, now: dt.datetime) -> bool:
    if not _APP_VERSION_RE.match(version) or version == known:
        return False
    with transaction.atomic():
        User.objects.filter(pk=user_id).update(app_version=version, app_version_seen_at=now)
    return True


# --- API tokens ---------------------------------------------------------------------------------------


def _token_digest(plaintext: str, secret: str | None = None) -> str:
    # HMAC-SHA256 keyed from SECRET_KEY: the secret is 256 random bits, so a slow hash buys nothing
    # (docs/decisions/0003-api-token-hashing.md).
    return salted_hmac(_TOKEN_KEY_SALT, plaintext, secret=secret, algorithm="sha256").hexdigest()


def _token_lifetime() -> dt.timedelta:
    return dt.timedelta(seconds=int(str(settings.SOSKDT["API_TOKEN_LIFETIME_SECONDS"])))


@transaction.atomic
def issue_api_token(*, user: User) -> tuple[str, ApiToken]:
    """Create a bearer token for ``user``; return the plaintext (shown once, never stored) and the row."""
    prefix = secrets.token_hex(6)
    plaintext = f"{prefix}.{secrets.token_urlsafe(32)}"
    now = timezone.now()
    token = ApiToken.objects.create(
        user=user,
        prefix=prefix,
        digest=_token_digest(plaintext),
        created_at=now,
        expires_at=now + _token_lifetime(),
    )
    return plaintext, token


@transaction.atomic
def revoke_api_token(*, token: ApiToken) -> None:
    """Make ``token`` unusable from now on (repeating it is harmless)."""
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])


_TOKEN = sqlbatch.Loader(ApiToken)
_USER = sqlbatch.Loader(User)
_FIND_TOKEN_SQL = (
    f'SELECT {_TOKEN.columns("t")}, {_USER.columns("u")} FROM "identity_apitoken" "t" '
    'INNER JOIN "identity_user" "u" ON "u"."id" = "t"."user_id" WHERE "t"."prefix" = %s'
)


def token_prefix(plaintext: str | None) -> str | None:
    """The public prefix of a token shaped like the ones ``issue_api_token`` makes (None: not that shape)."""
    prefix, dot, _secret = (plaintext or "").strip().partition(".")
    return prefix if dot and len(prefix) == 12 else None


def signing_keys() -> tuple[str, ...]:
    """SECRET_KEY, then each key of SECRET_KEY_FALLBACKS: tokens issued before a key rotation keep
    working while the old key is a fallback."""
    return (settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", []))


def token_digests(plaintext: str) -> list[str]:
    """The digests ``plaintext`` would have under each of ``signing_keys()``, in that order."""
    text = plaintext.strip()
    return [_token_digest(text, key) for key in signing_keys()]


def _find_token(plaintext: str) -> ApiToken | None:
    prefix = token_prefix(plaintext)
    if prefix is None:
        return None
    # Every API call starts here: one hand-written query, not the ORM's (docs/decisions/0005).
    with sqlbatch.prepared_cursor() as cursor:
        cursor.execute(_FIND_TOKEN_SQL, [prefix])
        row = cursor.fetchone()
    if row is None:
        return None
    token = _TOKEN.load(row)
    user = _USER.load(row, len(_TOKEN))
    assert token is not None and user is not None
    token.user = user
    if any(hmac.compare_digest(token.digest, digest) for digest in token_digests(plaintext)):
        return token
    return None


def use_api_token(plaintext: str) -> ApiToken | None:
    """Return the usable token for ``plaintext`` (None if unknown, expired, revoked or its user inactive).

    ``last_used_at`` is written at most once a minute so that a busy client does not write on every call.
    """
    token = _find_token(plaintext)
    now = timezone.now()
    if token is None or not token.is_usable_at(now) or not token.user.is_active:
        return None
    if _touch_token(token.pk, token.last_used_at, now):
        token.last_used_at = now
    return token


def _touch_token(token_id: int, last_used_at: dt.datetime | None, now: dt.datetime) -> bool:
    if last_used_at is not None and now - last_used_at < _LAST_USED_RESOLUTION:
        return False
    with transaction.atomic():
        ApiToken.objects.filter(pk=token_id).update(last_used_at=now)
    return True


def token_used(
    *, token_id: int, last_used_at: dt.datetime | None, user_id: int, app_version: str, reported: str | None
) -> None:
    """What ``use_api_token`` and ``record_app_version`` write, for a call whose own statement checked the
    token (the book's one-statement reads): ``last_used_at`` at most once a minute, a changed app version.
    """
    now = timezone.now()
    _touch_token(token_id, last_used_at, now)
    if reported:
        _write_app_version(user_id, app_version, reported.strip(), now)


def authenticate_token(plaintext: str) -> User | None:
    """Return the user of a usable API token, or None."""
    token = use_api_token(plaintext)
    return token.user if token is not None else None
