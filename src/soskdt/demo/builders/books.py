"""Health books of the demo: the ``parent`` persona's book is activated and synced (a returning user).

The ``citizen`` persona's book is left for the first-use walk (terms, *Đồng ý sử dụng*, passcode), and
the parent's child's book for a representative's first use. Goes through ``healthbook.book`` like the
pages do, so consent, passcode hash and the access log are the real thing.
"""

from __future__ import annotations

from typing import Any

from soskdt.healthbook import book as book_services
from soskdt.healthbook import terms
from soskdt.healthbook.access import AccessContext
from soskdt.healthbook.models import Book
from soskdt.identity.models import User

#: The passcode of the activated demo book (6 digits, not a trivial one).
DEMO_PASSCODE = "246810"
RETURNING_PERSONA = "parent"


def build_demo_books(result: Any) -> list[Book]:
    """Activate and sync the book of the returning persona; return the books made."""
    username = result.personas.get(RETURNING_PERSONA)
    user = User.objects.filter(username=username).first() if username else None
    if user is None or user.citizen_id is None:
        return []
    context = AccessContext(channel="page", user_agent="soskdt demo")
    book_services.accept_terms(
        viewer=user, who=user.citizen_id, terms_version=terms.CURRENT_VERSION, context=context
    )
    book = book_services.set_passcode(
        viewer=user, passcode=DEMO_PASSCODE, confirm=DEMO_PASSCODE, context=context
    )
    book_services.sync_book(viewer=user, who=user.citizen_id, gate=lambda _access: True, context=context)
    book.refresh_from_db()
    return [book]
