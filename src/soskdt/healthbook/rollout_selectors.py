"""Reads of the health book for the roll-out tracker: who has a book created (activated), as of a moment.

``books_created_for`` answers for a list of staff; ``citizens_with_book`` is a query of citizen ids for the
coverage indicator (books integrated ÷ population), counted in the database for a whole province.

A book counts as created from ``Book.activated_at`` (consent and passcode done). Kept apart from
``selectors.py`` so that the roll-out work did not collide with the health-book work; the health-book
engineer may move these functions into ``selectors.py`` (the roll-out tracker imports them from here).
Should ``Book`` lose its ``citizen`` or ``activated_at`` field, ``book_tracking_available`` turns False and
unit reporters enter the "book created" status by hand instead of the tracker failing.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from typing import Any

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db.models import Model, Q, QuerySet

logger = logging.getLogger(__name__)

_IN_CHUNK = 5000
# The fields read on ``Book``: the owner's personal ID and the moment the book was activated.
_PERSON_LOOKUP = "citizen__personal_id"
_ACTIVATED_FIELD = "activated_at"


def _book_model() -> type[Model] | None:
    try:
        model = apps.get_model("healthbook", "Book")
    except LookupError:
        return None
    try:
        model._meta.get_field("citizen")
        model._meta.get_field(_ACTIVATED_FIELD)
    except FieldDoesNotExist:
        logger.warning(
            "healthbook.Book has no citizen/%s field: book status left to manual entry", _ACTIVATED_FIELD
        )
        return None
    return model


def book_tracking_available() -> bool:
    """Tell whether the health book records activations (else "book created" is entered by hand)."""
    return _book_model() is not None


def books_created_for(personal_ids: Iterable[str] | QuerySet[Any], as_of: dt.datetime) -> set[str]:
    """Of these personal IDs, those whose health book was created (activated) at or before ``as_of``.

    ``personal_ids`` may be a query of personal IDs, used as a subquery. Empty when books are not tracked.
    """
    model = _book_model()
    if model is None:
        return set()
    if isinstance(personal_ids, QuerySet):
        chunks: list[Any] = [personal_ids]
    else:
        wanted = sorted(set(personal_ids))
        chunks = [wanted[i : i + _IN_CHUNK] for i in range(0, len(wanted), _IN_CHUNK)]
    found: set[str] = set()
    for chunk in chunks:
        condition = Q(**{f"{_PERSON_LOOKUP}__in": chunk, f"{_ACTIVATED_FIELD}__lte": as_of})
        found.update(model._default_manager.filter(condition).values_list(_PERSON_LOOKUP, flat=True))
    return found


def citizens_with_book(as_of: dt.datetime) -> QuerySet[Any] | None:
    """A query of the citizen ids whose health book was created (activated) at or before ``as_of``.

    Meant as a subquery (``citizen_id__in=…``); None when books are not tracked.
    """
    model = _book_model()
    if model is None:
        return None
    return model._default_manager.filter(**{f"{_ACTIVATED_FIELD}__lte": as_of}).values("citizen_id")
