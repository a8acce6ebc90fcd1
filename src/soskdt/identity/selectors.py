"""Reads of the identity app for a viewer: roles and the profile shown by the pages and ``/auth/me``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from soskdt.identity.models import AccountKind, Role, RoleAssignment, User
from soskdt.registry.models import Citizen, Facility, OrgUnit


def role_set(user: User) -> frozenset[str]:
    """Return the roles of ``user``, read once and kept on the object (the same cache as ``User.has_role``)."""
    cached: set[str] | None = getattr(user, "_role_cache", None)
    if cached is None:
        cached = set(RoleAssignment.objects.filter(user=user).values_list("role", flat=True))
        user._role_cache = cached  # type: ignore[attr-defined]
    return frozenset(cached)


@dataclass(frozen=True, slots=True)
class Profile:
    """What an account may see about itself."""

    kind: str
    username: str
    full_name: str
    assurance_level: int | None
    assurance_granted_on: dt.date | None
    roles: tuple[str, ...]
    org_unit: OrgUnit | None
    facility: Facility | None
    citizen: Citizen | None
    app_version: str

    @property
    def role_labels(self) -> list[str]:
        return [str(Role(role).label) for role in self.roles]


def profile_of(user: User) -> Profile:
    """Return the profile of ``user`` (the signed-in account; nobody reads another's profile here)."""
    return Profile(
        kind=user.kind,
        username=user.username,
        full_name=user.citizen.full_name if user.citizen else user.full_name,
        assurance_level=user.assurance_level,
        assurance_granted_on=user.assurance_granted_on,
        roles=tuple(sorted(role_set(user))),
        org_unit=user.org_unit,
        facility=user.facility,
        citizen=user.citizen,
        app_version=user.app_version,
    )


# --- roll-out counts ----------------------------------------------------------------------------------

_IN_CHUNK = 5000


@dataclass(frozen=True, slots=True)
class AccountFacts:
    """What the roll-out tracker reads about a person's citizen account (VNeID-like)."""

    personal_id: str
    assurance_level: int | None
    assurance_granted_on: dt.date | None
    app_version: str

    def level2_on(self, day: dt.date) -> bool:
        """Tell whether the account held assurance level 2 on ``day``."""
        return (
            self.assurance_level == 2
            and self.assurance_granted_on is not None
            and self.assurance_granted_on <= day
        )


def citizen_accounts_for(personal_ids: Iterable[str] | QuerySet[Any]) -> dict[str, AccountFacts]:
    """Citizen accounts of these people, by personal ID (a list, or a query of personal IDs used as a subquery)."""
    if isinstance(personal_ids, QuerySet):
        chunks: list[Any] = [personal_ids]
    else:
        wanted = sorted(set(personal_ids))
        chunks = [wanted[i : i + _IN_CHUNK] for i in range(0, len(wanted), _IN_CHUNK)]
    found: dict[str, AccountFacts] = {}
    for chunk in chunks:
        rows = User.objects.filter(kind=AccountKind.CITIZEN, citizen__personal_id__in=chunk).values_list(
            "citizen__personal_id", "assurance_level", "assurance_granted_on", "app_version"
        )
        for pid, level, granted, version in rows:
            found[pid] = AccountFacts(pid, level, granted, version or "")
    return found


def staff_with_role_in_units(role: str, unit_ids: Iterable[int]) -> dict[int, list[User]]:
    """Active staff accounts holding ``role`` in each of these org units (for reminders), by unit id."""
    found: dict[int, list[User]] = {}
    users = User.objects.filter(
        kind=AccountKind.STAFF, is_active=True, org_unit_id__in=list(unit_ids), roles__role=role
    ).order_by("org_unit_id", "username")
    for user in users:
        assert user.org_unit_id is not None
        found.setdefault(user.org_unit_id, []).append(user)
    return found
