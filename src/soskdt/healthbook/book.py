"""Every write of the citizen's book: consent, passcode, unlocking, passcode reset by OTP, sync.

Each function is one transaction and writes its access-log row in it (``healthbook.access``). A refusal
that must still be remembered (a wrong passcode counts towards the lock and is logged) is stored first
and raised after the transaction commits. Rules and flows: docs/healthbook.md.

The passcode belongs to an account's own book. A represented person's book has none: it opens with the
passcode of the representative opening it, and its unlock is per book (one session marker or one
``X-Book-Token`` per book), so a parent unlocks each child's book on its own.
"""

from __future__ import annotations

import datetime as dt
import hmac
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Literal

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

from soskdt.core import throttle
from soskdt.core.errors import DomainError, define
from soskdt.healthbook import sms, terms
from soskdt.healthbook.access import AccessContext, record_access
from soskdt.healthbook.models import (
    AccessOutcome,
    Book,
    BookToken,
    ConsentActor,
    PasscodeReset,
    Visit,
)
from soskdt.healthbook.selectors import BookAccess, Who, book_access, viewer_citizen_id
from soskdt.identity.models import User
from soskdt.identity.services import signing_keys, token_prefix

LEVEL2_REQUIRED = define(
    "BOOK_LEVEL2_REQUIRED",
    _(
        "Cần tài khoản định danh điện tử mức 2 để sử dụng Sổ sức khỏe điện tử. Vui lòng mang CCCD gắn chip "
        "đến cơ quan Công an nơi cư trú để được xác thực."
    ),
)
TERMS_NOT_ACCEPTED = define(
    "BOOK_TERMS_NOT_ACCEPTED",
    _("Bạn cần đọc điều khoản và chọn “Đồng ý sử dụng” trước khi dùng Sổ sức khỏe điện tử."),
)
TERMS_VERSION_OUTDATED = define(
    "BOOK_TERMS_VERSION_OUTDATED",
    _("Điều khoản sử dụng đã được cập nhật. Vui lòng đọc và đồng ý phiên bản {version}."),
)
NOT_ACTIVATED = define("BOOK_NOT_ACTIVATED", _("Sổ sức khỏe điện tử chưa được kích hoạt."))
OWN_BOOK_FIRST = define(
    "BOOK_OWN_BOOK_FIRST",
    _(
        "Hãy kích hoạt Sổ sức khỏe điện tử của bạn và đặt passcode trước. Sổ của người bạn quản lý được "
        "mở bằng passcode của bạn."
    ),
)
PASSCODE_INVALID = define("PASSCODE_INVALID", _("Passcode phải gồm đúng 6 chữ số."))
PASSCODE_TOO_SIMPLE = define(
    "PASSCODE_TOO_SIMPLE",
    _("Passcode quá dễ đoán (6 số giống nhau hoặc 6 số liên tiếp). Vui lòng chọn passcode khác."),
)
PASSCODE_MISMATCH = define("PASSCODE_MISMATCH", _("Hai lần nhập passcode không giống nhau."))
PASSCODE_ALREADY_SET = define(
    "PASSCODE_ALREADY_SET", _("Sổ đã có passcode. Nếu quên passcode, chọn “Quên passcode?” để đặt lại.")
)
PASSCODE_NOT_SET = define("PASSCODE_NOT_SET", _("Bạn chưa đặt passcode cho Sổ sức khỏe điện tử."))
PASSCODE_WRONG = define("PASSCODE_WRONG", _("Passcode không đúng. Bạn còn {remaining} lần thử."))
PASSCODE_LOCKED = define(
    "PASSCODE_LOCKED",
    _(
        "Bạn đã nhập sai passcode quá nhiều lần. Sổ sức khỏe tạm khóa trong {minutes} phút. Chọn "
        "“Quên passcode?” để đặt lại passcode bằng mã OTP."
    ),
)
BOOK_LOCKED = define("BOOK_LOCKED", _("Sổ đang đóng. Vui lòng nhập passcode để mở sổ."))
PHONE_MISSING = define(
    "BOOK_PHONE_MISSING",
    _("Tài khoản chưa có số điện thoại đăng ký để nhận mã OTP. Vui lòng liên hệ cơ quan Công an nơi cư trú."),
)
OTP_RATE_LIMITED = define(
    "OTP_RATE_LIMITED", _("Bạn đã yêu cầu mã OTP quá nhiều lần. Vui lòng thử lại sau {minutes} phút.")
)
OTP_WRONG = define("OTP_WRONG", _("Mã OTP không đúng. Bạn còn {remaining} lần thử."))
OTP_EXPIRED = define(
    "OTP_EXPIRED", _("Mã OTP đã hết hạn hoặc đã nhập sai quá số lần cho phép. Vui lòng yêu cầu mã mới.")
)

PASSCODE_LENGTH = 6
OTP_LENGTH = 6
OTP_MAX_ATTEMPTS = 5
OTP_REQUESTS_PER_WINDOW = 3
OTP_WINDOW_SECONDS = 15 * 60

_PASSCODE_RE = re.compile(r"^[0-9]{6}$")
_TOKEN_SALT = "soskdt.healthbook.book-token"  # noqa: S105 - an HMAC salt, not a secret

#: The passcode gate of a channel: does this request hold an unlock of this book?
Gate = Callable[[BookAccess], bool]


def _setting(name: str) -> int:
    return int(str(settings.SOSKDT[name]))


def passcode_limit() -> throttle.Limit:
    """Five wrong passcodes (SOSKDT["PASSCODE_MAX_FAILURES"]) lock for SOSKDT["PASSCODE_LOCK_SECONDS"]."""
    return throttle.Limit("passcode", _setting("PASSCODE_MAX_FAILURES"), _setting("PASSCODE_LOCK_SECONDS"))


def otp_request_limit() -> throttle.Limit:
    return throttle.Limit(
        "passcode-otp", OTP_REQUESTS_PER_WINDOW, OTP_WINDOW_SECONDS, window_seconds=OTP_WINDOW_SECONDS
    )


def _passcode_key(user: User) -> str:
    # The passcode is the account's, whichever book it opens: one counter per account.
    return f"user:{user.pk}"


def token_lifetime() -> dt.timedelta:
    return dt.timedelta(seconds=_setting("BOOK_TOKEN_LIFETIME_SECONDS"))


# --- rules that need no database -------------------------------------------------------------------


def check_passcode_rules(passcode: str, confirm: str | None = None, *, field: str = "passcode") -> str:
    """Return the passcode if it is 6 digits, not trivial, and equal to ``confirm`` (when given)."""
    value = passcode or ""
    if not _PASSCODE_RE.match(value):
        raise DomainError(PASSCODE_INVALID, status=422, details=[{"field": field}])
    if len(set(value)) == 1 or value in "0123456789" or value in "9876543210":
        raise DomainError(PASSCODE_TOO_SIMPLE, status=422, details=[{"field": field}])
    if confirm is not None and confirm != value:
        raise DomainError(PASSCODE_MISMATCH, status=422, details=[{"field": f"{field}_confirm"}])
    return value


def require_level2(viewer: User) -> None:
    if viewer.assurance_level != 2:
        raise DomainError(LEVEL2_REQUIRED, status=403, details=[{"reason": "NO_LEVEL2"}])


def require_open(access: BookAccess) -> None:
    """Refuse a book that is not activated or whose consent is for older terms."""
    if not access.is_activated:
        raise DomainError(NOT_ACTIVATED, status=409, details=[{"reason": "TERMS_NOT_ACCEPTED"}])
    if not access.terms_current:
        raise DomainError(TERMS_VERSION_OUTDATED, status=409, version=terms.CURRENT_VERSION)


# --- consent and passcode --------------------------------------------------------------------------


def _passcode_book(access: BookAccess) -> Book | None:
    """The book holding the passcode that opens ``access.book``: the viewer's own."""
    if access.is_own:
        return access.book if access.book.pk is not None else None
    return Book.objects.filter(citizen_id=viewer_citizen_id(access.viewer)).first()


def _locked_book(access: BookAccess) -> Book:
    """Create the book row if needed and lock it for this transaction."""
    book, _created = Book.objects.select_for_update().get_or_create(citizen_id=access.citizen.pk)
    book.citizen = access.citizen
    return book


@transaction.atomic
def accept_terms(*, viewer: User, who: Who, terms_version: str, context: AccessContext) -> Book:
    """Record *Đồng ý sử dụng* for the book of ``who``: the terms version, when, and by whom.

    A representative consents for the person they represent; that person's book is then activated (it
    opens with the representative's passcode, so the representative's own book must be activated first).
    The viewer's own book is activated when its passcode is set.
    """
    access = book_access(viewer, who)
    require_level2(viewer)
    if terms_version != terms.CURRENT_VERSION:
        raise DomainError(
            TERMS_VERSION_OUTDATED,
            status=409,
            details=[{"field": "terms_version", "current": terms.CURRENT_VERSION}],
            version=terms.CURRENT_VERSION,
        )
    if not access.is_own:
        own = _passcode_book(access)
        if own is None or not own.has_passcode:
            raise DomainError(OWN_BOOK_FIRST, status=409)
    book = _locked_book(access)
    now = timezone.now()
    book.terms_version = terms.CURRENT_VERSION
    book.terms_accepted_at = now
    book.terms_accepted_by = viewer
    book.terms_accepted_as = ConsentActor.CITIZEN if access.is_own else ConsentActor.REPRESENTATIVE
    if book.activated_at is None and (not access.is_own or book.has_passcode):
        book.activated_at = now
    book.save()
    record_access(
        book=book,
        actor_id=viewer.pk,
        actor_kind=access.actor_kind,
        action="book.terms",
        target=f"terms:{terms.CURRENT_VERSION}",
        context=context,
        lock=False,
    )
    return book


@transaction.atomic
def set_passcode(*, viewer: User, passcode: str, confirm: str | None, context: AccessContext) -> Book:
    """Set the passcode of the viewer's own book (first use, after consent); this activates the book."""
    require_level2(viewer)
    value = check_passcode_rules(passcode, confirm)
    access = book_access(viewer, viewer_citizen_id(viewer), for_update=True)
    if not access.terms_current:
        raise DomainError(TERMS_NOT_ACCEPTED, status=409)
    book = access.book
    if book.has_passcode:
        raise DomainError(PASSCODE_ALREADY_SET, status=409)
    now = timezone.now()
    book.passcode_hash = make_password(value)
    book.passcode_set_at = now
    book.activated_at = book.activated_at or now
    book.save(update_fields=["passcode_hash", "passcode_set_at", "activated_at", "updated_at"])
    record_access(
        book=book,
        actor_id=viewer.pk,
        actor_kind=access.actor_kind,
        action="passcode.set",
        context=context,
        lock=False,
    )
    return book


def activate_book(
    *,
    viewer: User,
    who: Who,
    terms_accepted: bool,
    terms_version: str,
    passcode: str | None,
    context: AccessContext,
) -> Book:
    """First use in one call (the API): consent, and the passcode when the own book has none yet."""
    if not terms_accepted:
        raise DomainError(TERMS_NOT_ACCEPTED, status=422, details=[{"field": "accept_terms"}])
    with transaction.atomic():
        book = accept_terms(viewer=viewer, who=who, terms_version=terms_version, context=context)
        own = book.citizen_id == viewer.citizen_id
        if own and not book.has_passcode:
            if passcode is None:
                raise DomainError(PASSCODE_INVALID, status=422, details=[{"field": "passcode"}])
            book = set_passcode(viewer=viewer, passcode=passcode, confirm=None, context=context)
        elif own and passcode is not None:
            raise DomainError(PASSCODE_ALREADY_SET, status=409)
    return book


# --- unlocking --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Unlocked:
    access: BookAccess
    expires_at: dt.datetime
    token: str | None = None  # the plaintext X-Book-Token (API only; shown once, never stored)


def unlock_book(
    *, viewer: User, who: Who, passcode: str, context: AccessContext, issue_token: bool
) -> Unlocked:
    """Check the passcode that opens the book of ``who``; count and log failures; lock after five.

    Raises PASSCODE_WRONG (401, the tries left), PASSCODE_LOCKED (429, the minutes left). A success
    clears the failures and, for the API, issues a short-lived book token.
    """
    limit, key = passcode_limit(), _passcode_key(viewer)
    refusal: DomainError | None = None
    plaintext: str | None = None
    expires_at = timezone.now()
    with transaction.atomic():
        access = book_access(viewer, who, for_update=True)
        require_level2(viewer)
        require_open(access)
        holder = _passcode_book(access)
        if holder is None or not holder.has_passcode:
            raise DomainError(OWN_BOOK_FIRST if not access.is_own else PASSCODE_NOT_SET, status=409)
        log = partial(
            record_access,
            book=access.book,
            actor_id=viewer.pk,
            actor_kind=access.actor_kind,
            action="book.unlock",
            context=context,
            lock=False,
        )
        minutes = throttle.locked_for(limit, key)
        if minutes:
            log(outcome=AccessOutcome.DENIED, target="locked")
            refusal = DomainError(PASSCODE_LOCKED, status=429, minutes=minutes)
        elif not check_password(passcode or "", holder.passcode_hash):
            failures = throttle.record_failure(limit, key)
            log(outcome=AccessOutcome.DENIED, target="wrong-passcode")
            if failures >= limit.max_failures:
                minutes = throttle.locked_for(limit, key)
                refusal = DomainError(PASSCODE_LOCKED, status=429, minutes=minutes)
            else:
                remaining = limit.max_failures - failures
                refusal = DomainError(
                    PASSCODE_WRONG, status=401, details=[{"remaining": remaining}], remaining=remaining
                )
        else:
            throttle.clear(limit, key)
            log(outcome=AccessOutcome.SUCCESS)
            expires_at = timezone.now() + token_lifetime()
            if issue_token:
                plaintext, token = issue_book_token(user=viewer, book=access.book)
                expires_at = token.expires_at
    if refusal is not None:
        # Raised after the commit: the failure count and its log row must survive the refusal.
        raise refusal
    return Unlocked(access, expires_at, plaintext)


def _token_digest(plaintext: str, secret: str | None = None) -> str:
    # The secret is 256 random bits: a keyed digest is enough (decision 0003, as for API tokens).
    return salted_hmac(_TOKEN_SALT, plaintext, secret=secret, algorithm="sha256").hexdigest()


def issue_book_token(*, user: User, book: Book) -> tuple[str, BookToken]:
    """Create an ``X-Book-Token`` for ``user`` and ``book``; return the plaintext (shown once) and the row."""
    prefix = secrets.token_hex(6)
    plaintext = f"{prefix}.{secrets.token_urlsafe(32)}"
    now = timezone.now()
    token = BookToken.objects.create(
        book=book,
        user=user,
        prefix=prefix,
        digest=_token_digest(plaintext),
        created_at=now,
        expires_at=now + token_lifetime(),
    )
    return plaintext, token


def book_token_digests(plaintext: str) -> list[str]:
    """The digests ``plaintext`` would have under each of ``signing_keys()``, in that order."""
    text = plaintext.strip()
    return [_token_digest(text, key) for key in signing_keys()]


def book_token_valid(
    plaintext: str | None, *, user: User, book: Book, token: BookToken | None | Literal[False] = False
) -> bool:
    """Tell whether ``plaintext`` is a live book token of ``user`` for ``book``.

    One query, none when the caller already read the row with this prefix (``token``; None: no such row).
    """
    text = (plaintext or "").strip()
    prefix = token_prefix(text)
    if prefix is None or book.pk is None:
        return False
    if token is False:
        token = BookToken.objects.filter(prefix=prefix).first()
    if token is None or token.prefix != prefix or token.user_id != user.pk or token.book_id != book.pk:
        return False
    if token.revoked_at is not None or timezone.now() >= token.expires_at:
        return False
    return any(hmac.compare_digest(token.digest, digest) for digest in book_token_digests(text))


class BookTokenGate:
    """The API's passcode gate: the request's ``X-Book-Token`` must be a live token for this book.

    ``prefix`` tells ``selectors.book_access`` which token row to read along with the book, so that the
    check costs no query of its own.
    """

    def __init__(self, plaintext: str | None) -> None:
        self.plaintext = plaintext
        self.prefix = token_prefix(plaintext)

    def __call__(self, access: BookAccess) -> bool:
        lookup = access.token_lookup
        if lookup is not None and lookup[0] == self.prefix:
            return book_token_valid(self.plaintext, user=access.viewer, book=access.book, token=lookup[1])
        return book_token_valid(self.plaintext, user=access.viewer, book=access.book)


def revoke_book_tokens(*, user: User, book: Book | None = None, plaintext: str | None = None) -> int:
    """Close unlocks: one token (``plaintext``), the tokens of one book, or all of the user's."""
    tokens = BookToken.objects.filter(user=user, revoked_at__isnull=True)
    if book is not None:
        tokens = tokens.filter(book=book)
    if plaintext is not None:
        tokens = tokens.filter(prefix=plaintext.strip().partition(".")[0])
    with transaction.atomic():
        return tokens.update(revoked_at=timezone.now())


# --- passcode reset by OTP -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ResetRequested:
    phone_masked: str
    expires_at: dt.datetime


def _otp_lifetime() -> dt.timedelta:
    return dt.timedelta(seconds=_setting("PASSCODE_OTP_LIFETIME_SECONDS"))


def request_passcode_reset(*, viewer: User, context: AccessContext) -> ResetRequested:
    """Send a 6-digit OTP to the registered phone to reset the passcode (*Quên passcode?*).

    The code is stored hashed, lives 5 minutes, allows 5 tries; a new request replaces an older one.
    At most 3 requests per 15 minutes. The SMS goes out after the commit.
    """
    require_level2(viewer)
    limit, key = otp_request_limit(), _passcode_key(viewer)
    minutes = throttle.locked_for(limit, key)
    if minutes:
        raise DomainError(OTP_RATE_LIMITED, status=429, minutes=minutes)
    with transaction.atomic():
        access = book_access(viewer, viewer_citizen_id(viewer), for_update=True)
        if not access.book.has_passcode:
            raise DomainError(PASSCODE_NOT_SET, status=409)
        phone = (viewer.phone or access.citizen.phone or "").strip()
        if not phone:
            raise DomainError(PHONE_MISSING, status=409)
        throttle.record_failure(limit, key)  # counts requests, not failures
        now = timezone.now()
        PasscodeReset.objects.filter(user=viewer, used_at__isnull=True, expires_at__gt=now).update(
            expires_at=now
        )
        code = f"{secrets.randbelow(10**OTP_LENGTH):0{OTP_LENGTH}d}"
        reset = PasscodeReset.objects.create(
            user=viewer,
            book=access.book,
            otp_hash=make_password(code),
            phone=phone,
            created_at=now,
            expires_at=now + _otp_lifetime(),
        )
        record_access(
            book=access.book,
            actor_id=viewer.pk,
            actor_kind=access.actor_kind,
            action="passcode.reset_request",
            context=context,
            lock=False,
        )
        text = str(
            _(
                "SoSKDT: Mã OTP đặt lại passcode Sổ sức khỏe điện tử là {code}. Mã có hiệu lực 5 phút. "
                "Không cung cấp mã này cho bất kỳ ai."
            )
        ).format(code=code)
        message = sms.SmsMessage(phone=phone, text=text, otp=code)
        transaction.on_commit(lambda: sms.send_sms(message))
    return ResetRequested(sms.mask_phone(phone), reset.expires_at)


def reset_passcode(
    *, viewer: User, otp: str, passcode: str, confirm: str | None, context: AccessContext
) -> Book:
    """Set a new passcode with the OTP sent by ``request_passcode_reset``; this also lifts a lockout."""
    require_level2(viewer)
    value = check_passcode_rules(passcode, confirm)
    refusal: DomainError | None = None
    with transaction.atomic():
        access = book_access(viewer, viewer_citizen_id(viewer), for_update=True)
        book = access.book
        now = timezone.now()
        reset = (
            PasscodeReset.objects.select_for_update()
            .filter(user=viewer, used_at__isnull=True)
            .order_by("-created_at", "-pk")
            .first()
        )
        log = partial(
            record_access,
            book=book,
            actor_id=viewer.pk,
            actor_kind=access.actor_kind,
            action="passcode.reset",
            context=context,
            lock=False,
        )
        if book.pk is None or reset is None or reset.expires_at <= now or reset.attempts >= OTP_MAX_ATTEMPTS:
            raise DomainError(OTP_EXPIRED, status=400, details=[{"field": "otp"}])
        if not check_password((otp or "").strip(), reset.otp_hash):
            reset.attempts += 1
            reset.save(update_fields=["attempts"])
            log(outcome=AccessOutcome.DENIED, target="wrong-otp")
            remaining = OTP_MAX_ATTEMPTS - reset.attempts
            if remaining <= 0:
                refusal = DomainError(OTP_EXPIRED, status=400, details=[{"field": "otp"}])
            else:
                refusal = DomainError(
                    OTP_WRONG,
                    status=400,
                    details=[{"field": "otp", "remaining": remaining}],
                    remaining=remaining,
                )
        else:
            reset.used_at = now
            reset.save(update_fields=["used_at"])
            book.passcode_hash = make_password(value)
            book.passcode_set_at = now
            book.save(update_fields=["passcode_hash", "passcode_set_at", "updated_at"])
            throttle.clear(passcode_limit(), _passcode_key(viewer))
            # Unlocks made with the old passcode end with it.
            BookToken.objects.filter(user=viewer, revoked_at__isnull=True).update(revoked_at=now)
            log(outcome=AccessOutcome.SUCCESS)
    if refusal is not None:
        raise refusal
    return book


# --- Cập nhật dữ liệu --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SyncResult:
    new_visits: int
    updated_visits: int
    synced_at: dt.datetime
    previous_sync: dt.datetime | None


def sync_book(*, viewer: User, who: Who, gate: Gate, context: AccessContext) -> SyncResult:
    """*Cập nhật dữ liệu*: show the visits that arrived since the last sync and say how many are new.

    New: linked to the owner after the previous sync (all linked visits on the first sync). Updated:
    already shown, corrected by the facility since (a new version).
    """
    with transaction.atomic():
        access = book_access(viewer, who, for_update=True)
        require_level2(viewer)
        require_open(access)
        if not gate(access):
            raise DomainError(BOOK_LOCKED, status=401)
        book = access.book
        previous = book.last_synced_at
        now = timezone.now()
        visits = Visit.objects.filter(citizen_id=book.citizen_id, linked_at__lte=now)
        if previous is None:
            new, updated = visits.count(), 0
        else:
            counts = visits.aggregate(
                new=Count("pk", filter=Q(linked_at__gt=previous)),
                updated=Count("pk", filter=Q(linked_at__lte=previous, received_at__gt=previous)),
            )
            new, updated = counts["new"], counts["updated"]
        Book.objects.filter(pk=book.pk).update(last_synced_at=now, updated_at=now)
        book.last_synced_at = now
        record_access(
            book=book,
            actor_id=viewer.pk,
            actor_kind=access.actor_kind,
            action="book.sync",
            target=f"new:{new}",
            context=context,
            lock=False,
        )
    return SyncResult(new, updated, now, previous)
