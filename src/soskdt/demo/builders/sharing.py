"""Shares of the demo: the returning ``parent`` persona has a live share with a known code, an expired one, a
revoked one; the ``clinician`` persona has read the book with it and opened it once in an emergency (flagged
for the ``auditor``). Goes through ``sharing.services`` so that the access log and the notices are real.

The ``parent`` persona is used rather than ``citizen`` because a clinician can only read an activated,
synced book, and the ``citizen`` persona's book is kept for the first-use walk.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from soskdt.healthbook import reads
from soskdt.healthbook.access import AccessContext
from soskdt.identity.models import User
from soskdt.sharing import services
from soskdt.sharing.models import ShareGrant

#: The live demo share's code (8 characters of the code alphabet): type it at *Tra cứu sổ sức khỏe*.
DEMO_SHARE_CODE = "AN7K2QPH"
SHARING_PERSONA = "parent"


@dataclass
class DemoSharing:
    live: ShareGrant | None = None
    expired: ShareGrant | None = None
    revoked: ShareGrant | None = None

    @property
    def code(self) -> str:
        return services.format_code(DEMO_SHARE_CODE)


def live_demo_share() -> ShareGrant | None:
    """The demo's live share, if the demo built one (for the logins table)."""
    return (
        ShareGrant.objects.filter(code_digest=services.code_digest(DEMO_SHARE_CODE), revoked_at__isnull=True)
        .filter(expires_at__gt=timezone.now())
        .first()
    )


def build_demo_sharing(result: Any) -> DemoSharing:
    """Make the demo's shares, reads and emergency access; nothing when the personas are missing."""
    owner = User.objects.filter(username=result.personas.get(SHARING_PERSONA, "")).first()
    clinician = User.objects.filter(username=result.personas.get("clinician", "")).first()
    made = DemoSharing()
    if owner is None or owner.citizen_id is None or clinician is None or clinician.facility_id is None:
        return made
    page = AccessContext(channel="page", user_agent="soskdt demo")
    everything = list(services.CATEGORIES)
    live = services.create_share(
        viewer=owner,
        who=owner.citizen_id,
        categories=everything,
        lifetime=dt.timedelta(days=30),
        context=page,
    )
    # Demo only: a known code, so that the logins table can print it.
    ShareGrant.objects.filter(pk=live.share.pk).update(code_digest=services.code_digest(DEMO_SHARE_CODE))
    expired = services.create_share(
        viewer=owner, who=owner.citizen_id, categories=["visits", "lab"], context=page
    )
    ShareGrant.objects.filter(pk=expired.share.pk).update(
        created_at=timezone.now() - dt.timedelta(days=3),
        expires_at=timezone.now() - dt.timedelta(days=3, hours=-4),
    )
    revoked = services.create_share(viewer=owner, who=owner.citizen_id, categories=everything, context=page)
    services.revoke_share(viewer=owner, share_id=revoked.share.pk, context=page)

    session = services.open_share(viewer=clinician, code=DEMO_SHARE_CODE, context=page)
    grant = services.SessionGrant(session)
    gate = services.grant_gate(grant, clinician)
    home = reads.open_book(viewer=clinician, who=owner.citizen_id, gate=gate, context=page, grant=grant)
    if home.years:
        reads.visits_for_year(
            viewer=clinician,
            who=owner.citizen_id,
            year=home.years[0].year,
            gate=gate,
            context=page,
            grant=grant,
        )
    services.start_emergency(
        viewer=clinician,
        personal_id=owner.username,
        reason="no_representative",
        reason_text="Người bệnh đau ngực cấp, khó thở; không liên lạc được người nhà (dữ liệu mẫu).",
        context=page,
    )
    made.live = ShareGrant.objects.get(pk=live.share.pk)
    made.expired = ShareGrant.objects.get(pk=expired.share.pk)
    made.revoked = ShareGrant.objects.get(pk=revoked.share.pk)
    return made
