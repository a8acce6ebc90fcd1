"""Which role may do what, declared as data. Views and routers ask ``has_permission``; nobody checks roles inline.

A Django superuser gets no domain permission from being one: administering the system is not a reason to
open anybody's health book.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from soskdt.identity.models import AccountKind, Role
from soskdt.identity.selectors import role_set

PERMISSIONS: Mapping[str, frozenset[str]] = {
    # A facility's submitter sends its QĐ 130 files.
    "ingestion.submit": frozenset({Role.SUBMITTER}),
    # Operators watch the feed: submissions and their errors, the unlinked-visit queue, daily counts.
    # A submitter sees only their own facility's submissions (scoped in ingestion.selectors).
    "ingestion.operate": frozenset({Role.SUBMITTER, Role.CENTRE_ADMIN, Role.PROVINCE_ADMIN}),
    # A clinician opens a citizen's book during care, with the citizen's share or in an emergency.
    "sharing.open_book": frozenset({Role.CLINICIAN}),
    # A unit reporter fills the monthly roll-out report (Appendix 1) for their department or station.
    "rollout.report_unit": frozenset({Role.UNIT_REPORTER}),
    # Reception staff (and the unit's reporters) record the patients they helped at reception (Appendix 1,
    # I.2) for their own unit; reception staff see nothing else of the roll-out tracker.
    "rollout.guide_patients": frozenset({Role.RECEPTION, Role.UNIT_REPORTER}),
    # Health-centre and provincial administrators approve reports and see the dashboards.
    "rollout.admin_centre": frozenset({Role.CENTRE_ADMIN, Role.PROVINCE_ADMIN}),
    # An auditor reviews every emergency opening of a book afterwards.
    "sharing.review_emergency": frozenset({Role.AUDITOR}),
}


def roles_with(perm: str) -> frozenset[str]:
    """Return the roles granting ``perm``; an unknown permission is a programming error (KeyError)."""
    return PERMISSIONS[perm]


def has_permission(user: Any, perm: str) -> bool:
    """Tell whether ``user`` (possibly anonymous) holds one of the roles granting ``perm``."""
    allowed = roles_with(perm)
    if not getattr(user, "is_authenticated", False) or not user.is_active or user.kind != AccountKind.STAFF:
        return False
    return not allowed.isdisjoint(role_set(user))


def permissions_of(user: Any) -> frozenset[str]:
    """Return every permission ``user`` holds."""
    return frozenset(perm for perm in PERMISSIONS if has_permission(user, perm))
