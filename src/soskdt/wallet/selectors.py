"""Reads of the wallet for a viewer. A citizen sees only their own requests; anything else is not found."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Min, QuerySet
from django.utils import timezone

from soskdt.core.dates import PartialDate
from soskdt.core.errors import NotFound
from soskdt.identity.models import AccountKind, User
from soskdt.registry.models import Facility, InsuranceCard
from soskdt.wallet.codes import Explanation, explain
from soskdt.wallet.models import CardLinkRequest, LinkedCard, LinkStatus


def _citizen_id_of(viewer: User) -> int:
    if not getattr(viewer, "is_authenticated", False) or viewer.kind != AccountKind.CITIZEN:
        raise NotFound()
    if viewer.citizen_id is None:
        raise NotFound()
    return viewer.citizen_id


@dataclass(frozen=True, slots=True)
class CardSummary:
    """A BHYT card as the wallet shows it (*Thẻ BHYT* in *Ví giấy tờ*)."""

    code: str
    social_insurance_number: str
    group: str
    benefit_level: int
    full_name: str
    birth_date: PartialDate
    sex: str
    sex_label: str
    issuer: str
    issuer_label: str
    primary_care_facility_code: str
    primary_care_facility_name: str
    valid_from: dt.date
    valid_to: dt.date
    valid_today: bool
    linked_at: dt.datetime | None = None


def facility_names(codes: Iterable[str]) -> dict[str, str]:
    """Names of the facilities with these codes, in one query (unknown codes are left out)."""
    wanted = {code for code in codes if code}
    if not wanted:
        return {}
    return dict(Facility.objects.filter(code__in=wanted).values_list("code", "name"))


def summarise_card(
    card: InsuranceCard, *, linked_at: dt.datetime | None = None, names: dict[str, str] | None = None
) -> CardSummary:
    """Describe ``card`` for display; the facility name comes from ``names`` or the facility register."""
    if names is None:
        names = facility_names([card.primary_care_facility_code])
    return CardSummary(
        code=card.code,
        social_insurance_number=card.social_insurance_number,
        group=card.group,
        benefit_level=card.benefit_level,
        full_name=card.full_name,
        birth_date=card.birth_date,
        sex=card.sex,
        sex_label=str(card.get_sex_display()),
        issuer=card.issuer,
        issuer_label=str(card.get_issuer_display()),
        primary_care_facility_code=card.primary_care_facility_code,
        primary_care_facility_name=names.get(card.primary_care_facility_code, ""),
        valid_from=card.valid_from,
        valid_to=card.valid_to,
        valid_today=card.is_valid_on(timezone.localdate()),
        linked_at=linked_at,
    )


def linked_card_of(viewer: User) -> LinkedCard | None:
    """Return the card currently in the viewer's wallet (None when nothing is linked)."""
    citizen_id = _citizen_id_of(viewer)
    return (
        LinkedCard.objects.select_related("card")
        .filter(citizen_id=citizen_id, replaced_at__isnull=True)
        .first()
    )


def wallet_card_of(viewer: User) -> CardSummary | None:
    """Return the summary of the viewer's linked card, or None."""
    linked = linked_card_of(viewer)
    return summarise_card(linked.card, linked_at=linked.linked_at) if linked else None


def linked_card_history_of(viewer: User) -> QuerySet[LinkedCard]:
    """Every card the viewer has linked, the current one first."""
    return LinkedCard.objects.select_related("card").filter(citizen_id=_citizen_id_of(viewer))


def requests_of(viewer: User) -> QuerySet[CardLinkRequest]:
    """The viewer's card-linking requests, newest first."""
    _citizen_id_of(viewer)
    return (
        CardLinkRequest.objects.filter(account=viewer).select_related("card").order_by("-created_at", "-pk")
    )


def request_of(viewer: User, request_id: int) -> CardLinkRequest:
    """Return one of the viewer's requests; another person's request is the same not-found as a missing one."""
    request = requests_of(viewer).filter(pk=request_id).first()
    if request is None:
        raise NotFound()
    return request


def pending_request_of(viewer: User) -> CardLinkRequest | None:
    """The viewer's request still waiting for the register check, if any."""
    return requests_of(viewer).filter(status=LinkStatus.PENDING).first()


def explanation_of(request: CardLinkRequest) -> Explanation | None:
    """Why a rejected request was rejected and what to do; None for other statuses."""
    if request.status != LinkStatus.REJECTED:
        return None
    return explain(request.rejection_code, request.reason_code, request.rejection_params)


def citizens_with_linked_card(citizen_ids: Iterable[int]) -> set[int]:
    """Of ``citizen_ids``, those with a BHYT card in their wallet (for the roll-out counts)."""
    return set(
        LinkedCard.objects.filter(citizen_id__in=list(citizen_ids), replaced_at__isnull=True).values_list(
            "citizen_id", flat=True
        )
    )


def why_not_linked(citizen_ids: Iterable[int]) -> dict[int, str]:
    """For citizens whose latest request is rejected or pending, its roll-out reason (``reasons.CARD`` key)."""
    latest: dict[int, str] = {}
    rows = (
        CardLinkRequest.objects.filter(citizen_id__in=list(citizen_ids))
        .order_by("citizen_id", "-created_at", "-pk")
        .values_list("citizen_id", "status", "reason_code")
    )
    seen: set[int] = set()
    for citizen_id, status, reason in rows:
        if citizen_id in seen:
            continue
        seen.add(citizen_id)
        if status == LinkStatus.REJECTED:
            latest[citizen_id] = reason
        elif status == LinkStatus.PENDING:
            latest[citizen_id] = "REQUEST_PENDING"
    return latest


_IN_CHUNK = 5000


def _personal_id_chunks(personal_ids: Iterable[str] | QuerySet[Any]) -> list[Any]:
    if isinstance(personal_ids, QuerySet):
        return [personal_ids]
    wanted = sorted(set(personal_ids))
    return [wanted[i : i + _IN_CHUNK] for i in range(0, len(wanted), _IN_CHUNK)]


def first_card_linked_at(personal_ids: Iterable[str] | QuerySet[Any]) -> dict[str, dt.datetime]:
    """When each of these people first had a BHYT card in their wallet, by personal ID (roll-out counts).

    Linking another card replaces the previous one but the wallet is never emptied, so "linked on a day"
    is "first linked on or before that day". ``personal_ids`` may be a query of personal IDs (a subquery).
    """
    found: dict[str, dt.datetime] = {}
    for chunk in _personal_id_chunks(personal_ids):
        rows = (
            LinkedCard.objects.filter(citizen__personal_id__in=chunk)
            .values("citizen__personal_id")
            .annotate(first=Min("linked_at"))
            .values_list("citizen__personal_id", "first")
        )
        found.update(dict(rows))
    return found


def why_not_linked_by_personal_id(personal_ids: Iterable[str] | QuerySet[Any]) -> dict[str, str]:
    """Like ``why_not_linked``, keyed by personal ID: the roll-out reason of a latest rejected or pending request."""
    latest: dict[str, str] = {}
    for chunk in _personal_id_chunks(personal_ids):
        rows = (
            CardLinkRequest.objects.filter(citizen__personal_id__in=chunk)
            .order_by("citizen_id", "-created_at", "-pk")
            .values_list("citizen__personal_id", "status", "reason_code")
        )
        seen: set[str] = set()
        for pid, status, reason in rows:
            if pid in seen:
                continue
            seen.add(pid)
            if status == LinkStatus.REJECTED:
                latest[pid] = reason
            elif status == LinkStatus.PENDING:
                latest[pid] = "REQUEST_PENDING"
    return latest


def citizens_with_card(as_of: dt.datetime) -> QuerySet[Any]:
    """A query of the citizen ids with a BHYT card in their wallet at ``as_of`` (the coverage indicator).

    As in ``first_card_linked_at``: linking another card replaces the previous one but the wallet is never
    emptied, so "has a card" is "a card was linked at or before ``as_of``". Meant as a subquery.
    """
    return LinkedCard.objects.filter(linked_at__lte=as_of).values("citizen_id")
