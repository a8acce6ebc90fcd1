"""Every write of sharing, and the grants that let a clinician read a book (docs/sharing.md).

Citizen side: ``create_share``, ``revoke_share``, ``renew_proxy``/``revoke_proxy``, ``mark_notices_read``.
Clinician side: ``open_share`` (code, or QR link + code) → a ``ShareSession``; ``start_emergency`` → an
``EmergencyAccess``; ``session_grant``/``emergency_grant`` turn their public ids into a
``healthbook.selectors.StaffGrant`` for ``healthbook.reads``; ``clinician_access`` is the same for other
modules (clinical summary, FHIR export). Auditor side: ``review_emergency``.

A refusal that must be remembered (a wrong code counts towards the locks, a denied read is logged) is
written in its own transaction and the refusal is raised after it commits, so that rolling back the
request's work never erases the trace of the attempt.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hmac
import logging
import secrets
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

from soskdt.core import throttle
from soskdt.core.errors import DomainError, NotFound, define
from soskdt.healthbook import book as book_services
from soskdt.healthbook.access import AccessContext, record_access
from soskdt.healthbook.models import AccessLog, AccessOutcome, ActorKind, Book
from soskdt.healthbook.scope import CATEGORIES, Scope
from soskdt.healthbook.selectors import BookAccess, Who, book_access, viewer_citizen_id
from soskdt.identity.models import User
from soskdt.identity.permissions import has_permission
from soskdt.registry.models import Citizen, Facility
from soskdt.sharing.models import (
    MAX_WRONG_TRIES,
    EmergencyAccess,
    EmergencyReason,
    Notice,
    NoticeKind,
    ProxyRenewal,
    ReviewOutcome,
    ShareGrant,
    ShareSession,
)

logger = logging.getLogger(__name__)

# --- rules ---------------------------------------------------------------------------------------------

#: Share codes: 8 characters from an alphabet without 0/O and 1/I, shown as ``ABCD-EFGH``.
CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
CODE_LENGTH = 8
DEFAULT_LIFETIME = dt.timedelta(hours=4)
MIN_LIFETIME = dt.timedelta(minutes=15)
MAX_LIFETIME = dt.timedelta(days=30)
#: The lifetimes offered on the page, in minutes (1 h, 4 h, 24 h, 7 days, 30 days).
LIFETIME_CHOICES = (60, 240, 1440, 10080, 43200)
EMERGENCY_LIFETIME = dt.timedelta(hours=3)
#: In an emergency the whole book is shown except HIV-related items (HIV law: never without consent).
EMERGENCY_SCOPE = Scope(years=None, categories=frozenset(CATEGORIES), include_hiv=False)
EMERGENCY_TEXT_MIN = 10
#: Wrong codes per clinician: 10 in 15 minutes lock the clinician's code entry for 15 minutes.
CODE_MAX_FAILURES = 10
CODE_WINDOW_SECONDS = 15 * 60
_CODE_SALT = "soskdt.sharing.share-code"

CLINICIAN_PERMISSION = "sharing.open_book"
AUDITOR_PERMISSION = "sharing.review_emergency"

SHARE_CATEGORIES_EMPTY = define("SHARE_CATEGORIES_EMPTY", _("Chọn ít nhất một nhóm thông tin để chia sẻ."))
SHARE_CATEGORY_UNKNOWN = define("SHARE_CATEGORY_UNKNOWN", _("Nhóm thông tin không hợp lệ: {category}."))
SHARE_YEARS_EMPTY = define("SHARE_YEARS_EMPTY", _("Chọn ít nhất một năm, hoặc chia sẻ toàn bộ sổ."))
SHARE_LIFETIME_INVALID = define("SHARE_LIFETIME_INVALID", _("Thời hạn chia sẻ phải từ 15 phút đến 30 ngày."))
SHARE_FACILITY_UNKNOWN = define(
    "SHARE_FACILITY_UNKNOWN", _("Không tìm thấy cơ sở khám chữa bệnh {facility}.")
)
SHARE_CODE_LOCKED = define(
    "SHARE_CODE_LOCKED",
    _("Bạn đã nhập sai mã chia sẻ quá nhiều lần. Vui lòng thử lại sau {minutes} phút."),
)
EMERGENCY_REASON_INVALID = define("EMERGENCY_REASON_INVALID", _("Chọn lý do truy cập khẩn cấp."))
EMERGENCY_TEXT_REQUIRED = define(
    "EMERGENCY_TEXT_REQUIRED", _("Mô tả tình huống khẩn cấp (ít nhất 10 ký tự).")
)
EMERGENCY_NO_BOOK = define(
    "EMERGENCY_NO_BOOK", _("Người này chưa kích hoạt Sổ sức khỏe điện tử: không có dữ liệu để xem.")
)
REVIEW_OUTCOME_INVALID = define("REVIEW_OUTCOME_INVALID", _("Chọn kết luận rà soát."))
PROXY_NOT_NEEDED = define(
    "PROXY_NOT_NEEDED", _("Bạn không có người đại diện cần gia hạn (chỉ từ 14 tuổi trở lên).")
)


def code_limit() -> throttle.Limit:
    return throttle.Limit(
        "share-code", CODE_MAX_FAILURES, CODE_WINDOW_SECONDS, window_seconds=CODE_WINDOW_SECONDS
    )


def normalise_code(raw: str | None) -> str:
    """The code as typed, upper-cased, without spaces or dashes."""
    return "".join(ch for ch in (raw or "").upper() if ch.isalnum())


def format_code(code: str) -> str:
    return f"{code[:4]}-{code[4:]}" if len(code) == CODE_LENGTH else code


def code_digest(code: str) -> str:
    """Keyed digest of a normalised code (HMAC-SHA256 with the site key): what the database keeps."""
    return salted_hmac(
        _CODE_SALT, normalise_code(code), secret=settings.SECRET_KEY, algorithm="sha256"
    ).hexdigest()


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def _public_id() -> str:
    return secrets.token_urlsafe(16)


# --- notices and the log for clinician reads -----------------------------------------------------------


def _notify(row: AccessLog, *, share_id: int | None = None, emergency_id: int | None = None) -> Notice:
    kind = NoticeKind.EMERGENCY_READ if row.actor_kind == ActorKind.EMERGENCY else NoticeKind.CLINICIAN_READ
    return Notice.objects.create(
        citizen_id=row.owner_id,
        kind=kind,
        access_log=row,
        share_id=share_id,
        emergency_id=emergency_id,
        created_at=row.at,
    )


def _log_denied(
    *, citizen_id: int, viewer: User, actor_kind: str, action: str, target: str, context: AccessContext
) -> None:
    """Write a denied row on the book (own transaction, so it stays when the request fails)."""
    book = Book.objects.filter(citizen_id=citizen_id).first()
    if book is None:
        return
    with transaction.atomic():
        record_access(
            book=book,
            actor_id=viewer.pk,
            actor_kind=actor_kind,
            action=action,
            target=target,
            context=dataclasses.replace(context, facility_id=viewer.facility_id),
            outcome=AccessOutcome.DENIED,
        )


# --- grants: what healthbook.reads needs to let a clinician read ----------------------------------------


def _is_clinician(viewer: Any) -> bool:
    return (
        isinstance(viewer, User)
        and viewer.facility_id is not None
        and has_permission(viewer, CLINICIAN_PERMISSION)
    )


def require_clinician(viewer: Any) -> User:
    """The staff account, if it holds ``sharing.open_book`` and works at a facility; else NotFound."""
    if not _is_clinician(viewer):
        raise NotFound()
    return viewer


@dataclass(frozen=True, slots=True)
class SessionGrant:
    """A clinician's share session as a ``StaffGrant``: bound to the clinician and facility, ends with the share."""

    session: ShareSession

    actor_kind = ActorKind.CLINICIAN

    @property
    def citizen_id(self) -> int:
        return self.session.share.citizen_id

    @property
    def facility_id(self) -> int:
        return self.session.facility_id

    @property
    def scope(self) -> Scope:
        return self.session.share.scope

    @property
    def public_id(self) -> str:
        return self.session.public_id

    @property
    def expires_at(self) -> dt.datetime:
        return self.session.share.expires_at

    def allows(self, viewer: Any) -> bool:
        share = self.session.share
        return (
            _is_clinician(viewer)
            and viewer.pk == self.session.clinician_id
            and viewer.facility_id == self.session.facility_id
            and self.session.ended_at is None
            and share.is_live()
            and (share.facility_id is None or share.facility_id == self.session.facility_id)
        )

    def on_read(self, row: AccessLog) -> None:
        _notify(row, share_id=self.session.share_id)


@dataclass(frozen=True, slots=True)
class EmergencyGrant:
    """An emergency access as a ``StaffGrant``: the clinician who started it, at that facility, for 3 hours."""

    emergency: EmergencyAccess

    actor_kind = ActorKind.EMERGENCY

    @property
    def citizen_id(self) -> int:
        return self.emergency.citizen_id

    @property
    def facility_id(self) -> int:
        return self.emergency.facility_id

    @property
    def scope(self) -> Scope:
        return EMERGENCY_SCOPE

    @property
    def public_id(self) -> str:
        return self.emergency.public_id

    @property
    def expires_at(self) -> dt.datetime:
        return self.emergency.expires_at

    def allows(self, viewer: Any) -> bool:
        return (
            _is_clinician(viewer)
            and viewer.pk == self.emergency.clinician_id
            and viewer.facility_id == self.emergency.facility_id
            and self.emergency.is_live()
        )

    def on_read(self, row: AccessLog) -> None:
        _notify(row, emergency_id=self.emergency.pk)


Grant = SessionGrant | EmergencyGrant


def session_grant(
    viewer: Any, public_id: str, *, context: AccessContext, action: str = "book.open", target: str = ""
) -> SessionGrant:
    """The grant of a share session for ``viewer``; anything else (not theirs, ended…) is NotFound, logged."""
    require_clinician(viewer)
    session = (
        ShareSession.objects.select_related("share", "share__citizen", "facility")
        .filter(public_id=str(public_id))
        .first()
    )
    if session is None:
        raise NotFound()
    grant = SessionGrant(session)
    if not grant.allows(viewer):
        _log_denied(
            citizen_id=session.share.citizen_id,
            viewer=viewer,
            actor_kind=ActorKind.CLINICIAN,
            action=action,
            target=target or f"share:{session.share_id}",
            context=context,
        )
        raise NotFound()
    return grant


def emergency_grant(
    viewer: Any, public_id: str, *, context: AccessContext, action: str = "book.open", target: str = ""
) -> EmergencyGrant:
    """The grant of an emergency access for ``viewer``; anything else (not theirs, expired) is NotFound, logged."""
    require_clinician(viewer)
    emergency = (
        EmergencyAccess.objects.select_related("citizen", "facility").filter(public_id=str(public_id)).first()
    )
    if emergency is None:
        raise NotFound()
    grant = EmergencyGrant(emergency)
    if not grant.allows(viewer):
        _log_denied(
            citizen_id=emergency.citizen_id,
            viewer=viewer,
            actor_kind=ActorKind.EMERGENCY,
            action=action,
            target=target or f"emergency:{emergency.pk}",
            context=context,
        )
        raise NotFound()
    return grant


def grant_for(
    viewer: Any, public_id: str, *, context: AccessContext, action: str = "book.open", target: str = ""
) -> Grant:
    """A share session's or an emergency access's grant by its public id (they never collide)."""
    if ShareSession.objects.filter(public_id=str(public_id)).exists():
        return session_grant(viewer, public_id, context=context, action=action, target=target)
    return emergency_grant(viewer, public_id, context=context, action=action, target=target)


def log_denied_read(grant: Grant, viewer: User, *, action: str, target: str, context: AccessContext) -> None:
    """Record a refused read through a grant (out of scope, missing visit…) as a denied row."""
    _log_denied(
        citizen_id=grant.citizen_id,
        viewer=viewer,
        actor_kind=grant.actor_kind,
        action=action,
        target=target,
        context=context,
    )


def grant_gate(grant: Grant, viewer: User) -> book_services.Gate:
    """The passcode gate of a clinician's read: open only while the grant is live and bound to ``viewer``."""
    return lambda access: access.grant is grant and grant.allows(viewer)


def clinician_access(
    viewer: Any, code_or_grant: Any, *, context: AccessContext | None = None
) -> tuple[BookAccess, Scope]:
    """Authorise a clinician's read of a shared (or emergency-opened) book; return the access and its scope.

    ``code_or_grant``: a share session's or an emergency access's public id, a ``ShareSession``, an
    ``EmergencyAccess``, or a grant from ``session_grant``/``emergency_grant``. NotFound (answer 404)
    when it is not this clinician's, not at their facility, ended, expired or revoked, or the book is not
    open. Writes nothing: read inside your own ``transaction.atomic()`` and log the read there with
    ``log_clinician_read``.
    """
    grant: Grant
    if isinstance(code_or_grant, SessionGrant | EmergencyGrant):
        grant = code_or_grant
    elif isinstance(code_or_grant, ShareSession):
        grant = SessionGrant(code_or_grant)
    elif isinstance(code_or_grant, EmergencyAccess):
        grant = EmergencyGrant(code_or_grant)
    else:
        grant = grant_for(viewer, str(code_or_grant), context=context or AccessContext(channel="api"))
    access = book_access(viewer, grant.citizen_id, grant=grant)
    try:
        book_services.require_open(access)
    except DomainError as exc:
        raise NotFound() from exc
    return access, access.scope


def log_clinician_read(*, access: BookAccess, action: str, target: str, context: AccessContext) -> AccessLog:
    """Log one successful read by a clinician (in the caller's transaction) and notify the citizen."""
    grant = access.grant
    if grant is None:
        raise ValueError("not a clinician's access")
    row = record_access(
        book=access.book,
        actor_id=access.viewer.pk,
        actor_kind=access.actor_kind,
        action=action,
        target=target,
        context=dataclasses.replace(context, facility_id=grant.facility_id),
    )
    grant.on_read(row)
    return row


# --- citizen side: shares --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ShareCreated:
    share: ShareGrant
    code: str  # plaintext, shown once

    @property
    def display_code(self) -> str:
        return format_code(self.code)


def _check_scope(
    years: list[int] | None, categories: list[str], include_hiv: bool
) -> tuple[list[int] | None, list[str]]:
    wanted = [c for c in dict.fromkeys(categories or []) if c]
    for category in wanted:
        if category not in CATEGORIES:
            raise DomainError(
                SHARE_CATEGORY_UNKNOWN, status=422, category=category, details=[{"field": "categories"}]
            )
    if not wanted:
        raise DomainError(SHARE_CATEGORIES_EMPTY, status=422, details=[{"field": "categories"}])
    if years is not None:
        years = sorted({int(y) for y in years})
        if not years:
            raise DomainError(SHARE_YEARS_EMPTY, status=422, details=[{"field": "years"}])
    ordered = [c for c in CATEGORIES if c in wanted]
    return years, ordered


def _check_lifetime(lifetime: dt.timedelta | None) -> dt.timedelta:
    lifetime = DEFAULT_LIFETIME if lifetime is None else lifetime
    if not MIN_LIFETIME <= lifetime <= MAX_LIFETIME:
        raise DomainError(SHARE_LIFETIME_INVALID, status=422, details=[{"field": "lifetime_minutes"}])
    return lifetime


def create_share(
    *,
    viewer: User,
    who: Who,
    categories: list[str],
    years: list[int] | None = None,
    include_hiv: bool = False,
    lifetime: dt.timedelta | None = None,
    facility_code: str | None = None,
    context: AccessContext,
) -> ShareCreated:
    """Create a share of ``who``'s book (own, or a managed person's); return it with its plaintext code.

    ``years=None`` shares every year. HIV-related items are shared only with ``include_hiv``.
    """
    years, categories = _check_scope(years, categories, include_hiv)
    lifetime = _check_lifetime(lifetime)
    facility = None
    if facility_code:
        facility = Facility.objects.filter(code=facility_code.strip()).first()
        if facility is None:
            raise DomainError(
                SHARE_FACILITY_UNKNOWN, status=422, facility=facility_code, details=[{"field": "facility"}]
            )
    for _attempt in range(5):
        code = new_code()
        try:
            with transaction.atomic():
                access = book_access(viewer, who, for_update=True)
                book_services.require_level2(viewer)
                book_services.require_open(access)
                now = timezone.now()
                share = ShareGrant.objects.create(
                    citizen=access.citizen,
                    created_by=viewer,
                    created_as=access.actor_kind,
                    years=years,
                    categories=categories,
                    include_hiv=bool(include_hiv),
                    facility=facility,
                    public_id=_public_id(),
                    code_digest=code_digest(code),
                    created_at=now,
                    expires_at=now + lifetime,
                )
                record_access(
                    book=access.book,
                    actor_id=viewer.pk,
                    actor_kind=access.actor_kind,
                    action="share.create",
                    target=f"share:{share.pk}",
                    context=context,
                    lock=False,
                )
        except IntegrityError:  # a code collision (one in 10^12): draw another
            continue
        return ShareCreated(share, code)
    raise RuntimeError("could not draw a unique share code")


def managed_citizen_ids(viewer: User) -> list[int]:
    """The viewer's own citizen id and those of the people they manage."""
    from soskdt.healthbook.selectors import managed_people

    return [viewer_citizen_id(viewer), *(p.citizen.pk for p in managed_people(viewer))]


def shares_of(viewer: User) -> list[ShareGrant]:
    """The shares of the viewer's book and of the books they manage, newest first."""
    return list(
        ShareGrant.objects.filter(citizen_id__in=managed_citizen_ids(viewer))
        .select_related("citizen", "facility")
        .order_by("-created_at", "-id")
    )


def share_of(viewer: User, share_id: int) -> ShareGrant:
    share = (
        ShareGrant.objects.select_related("citizen", "facility")
        .filter(pk=share_id, citizen_id__in=managed_citizen_ids(viewer))
        .first()
    )
    if share is None:
        raise NotFound()
    return share


def revoke_share(*, viewer: User, share_id: int, context: AccessContext) -> ShareGrant:
    """*Thu hồi*: end the share and every session opened with it, at once (idempotent)."""
    share = share_of(viewer, share_id)
    with transaction.atomic():
        access = book_access(viewer, share.citizen_id, for_update=True)
        share = ShareGrant.objects.select_for_update().get(pk=share.pk)
        if share.revoked_at is None:
            now = timezone.now()
            share.revoked_at = now
            share.save(update_fields=["revoked_at"])
            ShareSession.objects.filter(share=share, ended_at__isnull=True).update(ended_at=now)
            if access.book.pk is not None:
                record_access(
                    book=access.book,
                    actor_id=viewer.pk,
                    actor_kind=access.actor_kind,
                    action="share.revoke",
                    target=f"share:{share.pk}",
                    context=context,
                    lock=False,
                )
    return share


# --- clinician side: opening a share ----------------------------------------------------------------------


def code_locked_minutes(viewer: User) -> int:
    return throttle.locked_for(code_limit(), f"user:{viewer.pk}")


def _wrong_code(viewer: User, share: ShareGrant | None, context: AccessContext) -> None:
    """Count a wrong code for the clinician, and against the share when the QR link named it."""
    throttle.record_failure(code_limit(), f"user:{viewer.pk}")
    if share is None:
        logger.info("wrong share code by user %s", viewer.pk)
        return
    with transaction.atomic():
        locked = ShareGrant.objects.select_for_update().get(pk=share.pk)
        locked.wrong_tries += 1
        fields = ["wrong_tries"]
        if locked.wrong_tries >= MAX_WRONG_TRIES and locked.disabled_at is None:
            locked.disabled_at = timezone.now()
            fields.append("disabled_at")
        locked.save(update_fields=fields)
    _log_denied(
        citizen_id=share.citizen_id,
        viewer=viewer,
        actor_kind=ActorKind.CLINICIAN,
        action="share.open",
        target=f"share:{share.pk}",
        context=context,
    )


def open_share(
    *, viewer: Any, code: str, context: AccessContext, public_id: str | None = None
) -> ShareSession:
    """Open a share with its code (typed, or with the QR link's ``public_id``); return the clinician's session.

    The code alone finds the share (by its digest). With ``public_id`` (the QR link), the code must be that
    share's: a wrong one counts against the share, disabled after 10. Every wrong code counts against the
    clinician (10 in 15 minutes lock them out for 15 minutes: ``SHARE_CODE_LOCKED``, 429). A share that is
    unknown, expired, revoked, disabled or bound to another facility is NotFound (and logged as denied).
    """
    clinician = require_clinician(viewer)
    facility_id = clinician.facility_id
    assert facility_id is not None  # require_clinician
    minutes = code_locked_minutes(clinician)
    if minutes:
        raise DomainError(SHARE_CODE_LOCKED, status=429, minutes=minutes)
    normalised = normalise_code(code)
    digest = code_digest(normalised)
    named: ShareGrant | None = None
    if public_id is not None:
        named = ShareGrant.objects.filter(public_id=str(public_id)).first()
        if named is None:
            raise NotFound()
        share: ShareGrant | None = named if hmac.compare_digest(named.code_digest, digest) else None
    else:
        share = (
            ShareGrant.objects.filter(code_digest=digest).first() if len(normalised) == CODE_LENGTH else None
        )
    if share is None:
        _wrong_code(clinician, named, context)
        raise NotFound()
    if not share.is_live() or (share.facility_id is not None and share.facility_id != clinician.facility_id):
        _log_denied(
            citizen_id=share.citizen_id,
            viewer=clinician,
            actor_kind=ActorKind.CLINICIAN,
            action="share.open",
            target=f"share:{share.pk}",
            context=context,
        )
        raise NotFound()
    with transaction.atomic():
        book = Book.objects.select_for_update().filter(citizen_id=share.citizen_id).first()
        if book is None:
            raise NotFound()
        session = (
            ShareSession.objects.filter(
                share=share, clinician=clinician, facility_id=facility_id, ended_at__isnull=True
            )
            .order_by("-id")
            .first()
        )
        if session is None:
            session = ShareSession.objects.create(
                share=share,
                clinician=clinician,
                facility_id=facility_id,
                public_id=_public_id(),
                opened_at=timezone.now(),
            )
        session.share = share
        row = record_access(
            book=book,
            actor_id=clinician.pk,
            actor_kind=ActorKind.CLINICIAN,
            action="share.open",
            target=f"share:{share.pk}",
            context=dataclasses.replace(context, facility_id=clinician.facility_id),
            lock=False,
        )
        _notify(row, share_id=share.pk)
    return session


def end_session(*, viewer: User, public_id: str) -> None:
    """The clinician closes the patient's book (*Đóng sổ*): the session ends; the share stays."""
    ShareSession.objects.filter(public_id=public_id, clinician=viewer, ended_at__isnull=True).update(
        ended_at=timezone.now()
    )


# --- clinician side: emergency access ---------------------------------------------------------------------


def start_emergency(
    *, viewer: Any, personal_id: str, reason: str, reason_text: str, context: AccessContext
) -> EmergencyAccess:
    """Break the glass: open ``personal_id``'s book for 3 hours with a reason; flagged for the auditor.

    The citizen gets a notice; the opening itself is the first row of the emergency in their log.
    """
    clinician = require_clinician(viewer)
    facility_id = clinician.facility_id
    assert facility_id is not None  # require_clinician
    problems = []
    if reason not in EmergencyReason.values:
        problems.append(DomainError(EMERGENCY_REASON_INVALID, status=422, details=[{"field": "reason"}]))
    text = (reason_text or "").strip()
    if len(text) < EMERGENCY_TEXT_MIN:
        problems.append(DomainError(EMERGENCY_TEXT_REQUIRED, status=422, details=[{"field": "text"}]))
    if problems:
        first = problems[0]
        raise DomainError(first.code, status=422, details=[d for p in problems for d in p.details])
    citizen = Citizen.objects.filter(personal_id=(personal_id or "").strip()).first()
    if citizen is None:
        raise NotFound()
    with transaction.atomic():
        book = Book.objects.select_for_update().filter(citizen=citizen).first()
        if book is None or book.activated_at is None:
            raise DomainError(EMERGENCY_NO_BOOK, status=409)
        now = timezone.now()
        emergency = EmergencyAccess.objects.create(
            public_id=_public_id(),
            clinician=clinician,
            facility_id=facility_id,
            citizen=citizen,
            reason=reason,
            reason_text=text,
            started_at=now,
            expires_at=now + EMERGENCY_LIFETIME,
        )
        row = record_access(
            book=book,
            actor_id=clinician.pk,
            actor_kind=ActorKind.EMERGENCY,
            action="emergency.start",
            target=f"emergency:{emergency.pk}",
            context=dataclasses.replace(context, facility_id=clinician.facility_id),
            lock=False,
        )
        _notify(row, emergency_id=emergency.pk)
    return emergency


def review_emergency(*, viewer: User, emergency_id: int, outcome: str, comment: str) -> EmergencyAccess:
    """The facility's auditor marks an emergency access reviewed, with a conclusion and a comment."""
    from soskdt.sharing.selectors import emergencies_for_auditor

    if outcome not in ReviewOutcome.values:
        raise DomainError(REVIEW_OUTCOME_INVALID, status=422, details=[{"field": "outcome"}])
    with transaction.atomic():
        emergency = emergencies_for_auditor(viewer).select_for_update().filter(pk=emergency_id).first()
        if emergency is None:
            raise NotFound()
        emergency.reviewed_by = viewer
        emergency.reviewed_at = timezone.now()
        emergency.review_outcome = outcome
        emergency.review_comment = (comment or "").strip()
        emergency.save(update_fields=["reviewed_by", "reviewed_at", "review_outcome", "review_comment"])
    return emergency


# --- notices ---------------------------------------------------------------------------------------------------


def mark_notices_read(*, viewer: User) -> int:
    """Mark every notice of the viewer's own book read; return how many were unread."""
    return Notice.objects.filter(citizen_id=viewer_citizen_id(viewer), read_at__isnull=True).update(
        read_at=timezone.now()
    )


# --- proxy (guardian) renewal ------------------------------------------------------------------------------


def proxy_renewals(representative_id: int, person_ids: Any) -> set[int]:
    """Which of ``person_ids`` renewed ``representative_id`` (registered with healthbook.selectors)."""
    return set(
        ProxyRenewal.objects.filter(
            representative_id=representative_id, person_id__in=list(person_ids), revoked_at__isnull=True
        ).values_list("person_id", flat=True)
    )


def renew_proxy(*, viewer: User) -> ProxyRenewal:
    """The person (14 or over, with their own account) renews their representative's access to their book."""
    from soskdt.healthbook.selectors import CHILD_AGE_LIMIT

    own = viewer_citizen_id(viewer)
    person = Citizen.objects.get(pk=own)
    if person.representative_id is None or person.birth_date.age_on(timezone.localdate()) < CHILD_AGE_LIMIT:
        raise DomainError(PROXY_NOT_NEEDED, status=409)
    with transaction.atomic():
        existing = ProxyRenewal.objects.filter(
            person=person, representative_id=person.representative_id, revoked_at__isnull=True
        ).first()
        if existing is not None:
            return existing
        return ProxyRenewal.objects.create(
            person=person,
            representative_id=person.representative_id,
            renewed_by=viewer,
            renewed_at=timezone.now(),
        )


def revoke_proxy(*, viewer: User) -> int:
    """The person withdraws the renewal: their representative's access ends at once."""
    own = viewer_citizen_id(viewer)
    return ProxyRenewal.objects.filter(person_id=own, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
