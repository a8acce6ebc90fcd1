"""Background jobs of the wallet: thin, take ids, safe to repeat."""

from __future__ import annotations

from django_tasks import task

from soskdt.core.errors import NotFound
from soskdt.wallet import services


@task()
def verify_card_link_request(request_id: int) -> str:
    """Check a card-linking request against the insurance register; return its status afterwards."""
    try:
        return services.verify_link_request(request_id=request_id).status
    except NotFound:
        # The request (or its account) was deleted before the worker got to it: nothing left to do.
        return "missing"
