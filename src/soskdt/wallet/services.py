"""Every write of the wallet: submit a BHYT card-linking request, verify it against the insurance register.

The flow mirrors VNeID (letter 310/TTYT-KHNV, Appendix 2): the citizen submits the number, the request
waits (``pending``) while a background job checks it, then it is ``approved`` (the card goes into the
wallet) or ``rejected`` with a stable code, a roll-out reason and advice. See docs/wallet.md.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from soskdt.core.errors import DomainError, NotFound
from soskdt.core.identifiers import IdentifierError, parse_card_or_number
from soskdt.identity.models import AccountKind, User
from soskdt.identity.services import record_app_version
from soskdt.registry.models import CardIssuer, Citizen, InsuranceCard
from soskdt.wallet import codes
from soskdt.wallet.models import CardLinkRequest, DocumentType, LinkedCard, LinkStatus

_VERSION_RE = re.compile(r"^\s*v?([0-9]+(?:\.[0-9]+)*)")


# --- rules that need no database -----------------------------------------------------------------------


def version_tuple(version: str) -> tuple[int, ...] | None:
    """Parse ``2.0.4`` (or ``2.0.4-beta``, ``v2.1``) into ``(2, 0, 4)``; None when there is no number."""
    match = _VERSION_RE.match(version or "")
    if not match:
        return None
    return tuple(int(part) for part in match.group(1).split("."))


def min_app_version() -> str:
    return str(settings.SOSKDT["MIN_APP_VERSION"])


def is_app_version_supported(version: str) -> bool:
    """Tell whether a client ``version`` may link a card (≥ MIN_APP_VERSION, compared number by number)."""
    have, need = version_tuple(version), version_tuple(min_app_version())
    if have is None or need is None:
        return False
    width = max(len(have), len(need))
    return have + (0,) * (width - len(have)) >= need + (0,) * (width - len(need))


def normalise_name(name: str) -> str:
    """Compare names as people read them: Unicode NFC, case-insensitive, runs of spaces collapsed.

    Registers differ in how they encode Vietnamese diacritics (precomposed or combining marks) and in
    capitalisation ("NGUYỄN VĂN AN" on the card, "Nguyễn Văn An" in the population register).
    """
    composed = unicodedata.normalize("NFC", name or "")
    return unicodedata.normalize("NFC", " ".join(composed.casefold().split()))


def _refuse(
    code: str, *, status: int = 400, details: list[dict[str, Any]] | None = None, **params: Any
) -> DomainError:
    reason = codes.REFUSAL_REASONS[code]
    return DomainError(code, details=[{"reason": reason}, *(details or [])], status=status, **params)


@dataclass(frozen=True, slots=True)
class ParsedValue:
    social_insurance_number: str
    card_code: str


def parse_typed_value(value: str) -> ParsedValue:
    """Accept the 10-digit number or the 15-character code; anything else is WRONG_NUMBER."""
    try:
        card, number = parse_card_or_number(value)
    except IdentifierError as exc:
        raise _refuse(codes.WRONG_NUMBER, status=422, details=[{"field": "value"}]) from exc
    return ParsedValue(number, card.value if card else "")


def link_blocker(*, user: User, app_version: str) -> DomainError | None:
    """Return why ``user`` cannot link a card from a client at ``app_version`` right now (or None).

    Pages call it before showing the form, so that a level-1 citizen or an old app learns what to do
    before typing anything; ``submit_link_request`` calls it again inside its transaction.
    """
    if user.kind != AccountKind.CITIZEN or user.citizen_id is None:
        return NotFound()
    if user.assurance_level != 2:
        return _refuse(codes.LEVEL2_REQUIRED, status=403)
    if not is_app_version_supported(app_version):
        return _refuse(
            codes.APP_OUTDATED,
            details=[{"field": "app_version", "value": app_version}],
            min_version=min_app_version(),
            version=app_version or "?",
        )
    if CardLinkRequest.objects.filter(citizen_id=user.citizen_id, status=LinkStatus.PENDING).exists():
        return _refuse(codes.REQUEST_PENDING, status=409)
    return None


# --- submit ----------------------------------------------------------------------------------------------


def submit_link_request(
    *, user: User, value: str, issuer: str, app_version: str, document_type: str = DocumentType.BHYT
) -> CardLinkRequest:
    """Open a pending request to link the BHYT card ``value`` (10 digits or 15 chars) issued by ``issuer``.

    Refusals raise DomainError (nothing stored): LEVEL2_REQUIRED, APP_OUTDATED, WRONG_NUMBER,
    REQUEST_PENDING, ISSUER_INVALID, DOCUMENT_TYPE_UNSUPPORTED. The check against the insurance register
    runs in the background (``tasks.verify_card_link_request``) once the request is committed.
    """
    # Recorded before the checks and in its own transaction: a refused old app is exactly what the
    # roll-out reports need to count.
    record_app_version(user=user, version=app_version)
    with transaction.atomic():
        blocker = link_blocker(user=user, app_version=app_version)
        if blocker is not None:
            raise blocker
        if document_type != DocumentType.BHYT:
            raise _refuse(codes.DOCUMENT_TYPE_UNSUPPORTED, status=422, details=[{"field": "type"}])
        if issuer not in CardIssuer.values:
            raise _refuse(codes.ISSUER_INVALID, status=422, details=[{"field": "issuer"}])
        parsed = parse_typed_value(value)
        assert user.citizen_id is not None  # checked by link_blocker
        try:
            with transaction.atomic():
                request = CardLinkRequest.objects.create(
                    account=user,
                    citizen_id=user.citizen_id,
                    document_type=document_type,
                    typed_value=(value or "").strip()[:40],
                    social_insurance_number=parsed.social_insurance_number,
                    card_code=parsed.card_code,
                    issuer=issuer,
                    app_version=(app_version or "")[:20],
                )
        except IntegrityError as exc:
            # Another tab submitted between the check above and this insert.
            raise _refuse(codes.REQUEST_PENDING, status=409) from exc
        request_id = request.pk
        transaction.on_commit(lambda: _enqueue_verification(request_id))
    return request


def _enqueue_verification(request_id: int) -> None:
    from soskdt.wallet.tasks import verify_card_link_request

    verify_card_link_request.enqueue(request_id)


# --- verify ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Rejection:
    code: str
    reason: str
    params: dict[str, Any]
    card: InsuranceCard | None = None


def _personal_data_differences(card: InsuranceCard, person: Citizen) -> list[str]:
    differing: list[str] = []
    if normalise_name(card.full_name) != normalise_name(person.full_name):
        differing.append("full_name")
    if not card.birth_date.matches(person.birth_date):
        differing.append("birth_date")
    if card.sex != person.sex:
        differing.append("sex")
    return differing


def check_card(*, person: Citizen, number: str, issuer: str) -> InsuranceCard | _Rejection:
    """Check a number against the insurance register for ``person``: the card, or why it is refused.

    Order of the checks (DOMAIN.md §3): the card exists, it is held under this person's ID, name/birth
    date/sex agree with the population register, it is valid today, and it was issued by ``issuer``.
    A card held by somebody else is refused before any comparison, so nothing about that person leaks.
    """
    today = timezone.localdate()
    cards = list(InsuranceCard.objects.filter(social_insurance_number=number).order_by("-valid_from", "-pk"))
    if not cards:
        if issuer == CardIssuer.POLICE:
            reason = "ARMED_FORCES_CARD"
        elif InsuranceCard.objects.filter(holder_personal_id=person.personal_id).exists():
            reason = "WRONG_NUMBER"
        else:
            reason = "INSURANCE_NOT_MATCHED"
        return _Rejection(codes.CARD_NOT_FOUND, reason, {"number": number})
    own = [card for card in cards if card.holder_personal_id == person.personal_id]
    if not own:
        return _Rejection(codes.INSURANCE_NOT_MATCHED, "INSURANCE_NOT_MATCHED", {"number": number})
    # A re-issued card keeps the lifelong number: judge the period valid today, else the latest one.
    card = next((c for c in own if c.is_valid_on(today)), own[0])
    differing = _personal_data_differences(card, person)
    if differing:
        return _Rejection(codes.PERSONAL_DATA_MISMATCH, "PERSONAL_DATA_MISMATCH", {"fields": differing}, card)
    if not card.is_valid_on(today):
        params = {"valid_from": card.valid_from.isoformat(), "valid_to": card.valid_to.isoformat()}
        return _Rejection(codes.CARD_EXPIRED, "NO_CARD_OR_EXPIRED", params, card)
    if card.issuer != issuer:
        return _Rejection(codes.WRONG_ISSUER, "WRONG_ISSUER", {"issuer": card.issuer, "chosen": issuer}, card)
    return card


def verify_link_request(*, request_id: int) -> CardLinkRequest:
    """Decide a pending request against the insurance register; a decided request is returned unchanged.

    Safe to repeat (the task may run twice): the row is locked and only a pending request is decided.
    Approval puts the card in the wallet and closes the previously linked card, which stays as history.
    """
    with transaction.atomic():
        request = (
            CardLinkRequest.objects.select_for_update()
            .select_related("citizen")
            .filter(pk=request_id)
            .first()
        )
        if request is None or request.status != LinkStatus.PENDING:
            if request is None:
                raise NotFound()
            return request
        now = timezone.now()
        outcome = check_card(
            person=request.citizen, number=request.social_insurance_number, issuer=request.issuer
        )
        request.decided_at = now
        if isinstance(outcome, _Rejection):
            request.status = LinkStatus.REJECTED
            request.rejection_code = outcome.code
            request.reason_code = outcome.reason
            request.rejection_params = outcome.params
            request.card = outcome.card
        else:
            request.status = LinkStatus.APPROVED
            request.card = outcome
            LinkedCard.objects.filter(citizen_id=request.citizen_id, replaced_at__isnull=True).update(
                replaced_at=now, updated_at=now
            )
            LinkedCard.objects.create(
                citizen_id=request.citizen_id, card=outcome, request=request, linked_at=now
            )
        request.save(
            update_fields=[
                "status",
                "decided_at",
                "rejection_code",
                "reason_code",
                "rejection_params",
                "card",
                "updated_at",
            ]
        )
    return request
