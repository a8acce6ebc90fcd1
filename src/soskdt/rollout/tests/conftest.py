"""Roll-out fixtures: a roster on the persona org tree, and helpers to give people accounts, cards and statuses."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from zoneinfo import ZoneInfo

import pytest

from soskdt import testing
from soskdt.identity.models import User
from soskdt.registry.models import OrgUnit
from soskdt.rollout.models import RosterEntry
from soskdt.wallet.models import CardLinkRequest, LinkedCard, LinkStatus

VN = ZoneInfo("Asia/Ho_Chi_Minh")


def at(year: int, month: int, day: int, hour: int = 9) -> dt.datetime:
    """A local (Asia/Ho_Chi_Minh) time."""
    return dt.datetime(year, month, day, hour, tzinfo=VN)


def add_staff(
    unit: OrgUnit,
    *,
    name: str | None = None,
    department: str = "",
    smartphone: bool = True,
    active_from: dt.date = dt.date(2024, 1, 1),
    active_to: dt.date | None = None,
    personal_id: str | None = None,
    position: str = "Điều dưỡng",
) -> RosterEntry:
    citizen_pid = personal_id or testing.personal_id_for(birth_year=1988, sex="2")
    return RosterEntry.objects.create(
        unit=unit,
        full_name=name or f"Cán bộ {citizen_pid[-4:]}",
        personal_id=citizen_pid,
        position=position,
        department=department,
        has_smartphone=smartphone,
        active_from=active_from,
        active_to=active_to,
    )


def give_account(
    entry: RosterEntry,
    *,
    level: int = 2,
    granted_on: dt.date = dt.date(2024, 3, 1),
    app_version: str = "2.1.0",
) -> User:
    """Make the person behind ``entry`` a citizen of the register with a SoSKDT account."""
    user = testing.make_citizen_account(
        personal_id=entry.personal_id, full_name=entry.full_name, assurance_level=level, granted_on=granted_on
    )
    if app_version:
        User.objects.filter(pk=user.pk).update(app_version=app_version)
    return user


def link_card(user: User, *, linked_at: dt.datetime) -> LinkedCard:
    """Put a BHYT card in the wallet of ``user`` at ``linked_at`` (as the verification task would)."""
    assert user.citizen is not None
    card = testing.make_card(citizen=user.citizen)
    request = CardLinkRequest.objects.create(
        account=user,
        citizen=user.citizen,
        typed_value=card.social_insurance_number,
        social_insurance_number=card.social_insurance_number,
        issuer=card.issuer,
        status=LinkStatus.APPROVED,
        decided_at=linked_at,
        card=card,
    )
    return LinkedCard.objects.create(citizen=user.citizen, card=card, request=request, linked_at=linked_at)


@pytest.fixture
def exam_unit(org_tree: testing.OrgTree) -> OrgUnit:
    """The examination department (the unit_reporter persona's unit)."""
    return org_tree.departments[0]


@pytest.fixture
def staff_factory(exam_unit: OrgUnit) -> Callable[..., RosterEntry]:
    def make(**kwargs: object) -> RosterEntry:
        unit = kwargs.pop("unit", exam_unit)
        return add_staff(unit, **kwargs)  # type: ignore[arg-type]

    return make
