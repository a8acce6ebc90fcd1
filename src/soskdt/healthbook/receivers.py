"""React to other contexts: link waiting visits when citizens arrive in the register."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.dispatch import receiver

from soskdt.healthbook.services import link_pending_visits
from soskdt.registry.signals import citizens_imported


@receiver(citizens_imported, dispatch_uid="healthbook.link_visits_of_imported_citizens")
def link_visits_of_imported_citizens(
    sender: Any, personal_ids: Iterable[str] | None = None, **kwargs: Any
) -> None:
    """Link the unlinked visits of citizens just imported, once the import has committed.

    ``robust``: a failure here is logged and must not fail the import; the nightly
    ``link_pending_visits()`` pass catches up.
    """
    wanted = None if personal_ids is None else list(personal_ids)
    transaction.on_commit(lambda: link_pending_visits(personal_ids=wanted), robust=True)
