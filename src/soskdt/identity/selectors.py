"""Reads of the identity app for a viewer: roles and the profile shown by the pages and ``/auth/me``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from soskdt.identity.models import Role, RoleAssignment, User
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
