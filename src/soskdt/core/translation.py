"""Translations for text built many times per request.

Django's ``gettext`` looks a message up in each catalog in turn on every call, and finding the active
language is itself a context-local lookup; a visit's detail translates some fifty labels, which cost
more than reading the visit. ``translator()`` returns a ``gettext`` for the active language that
remembers each message: take it once at the top of a function that translates many labels
(``_ = translator()``, so that ``makemessages`` still finds each ``_("…")``).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from django.utils import translation


def translator() -> Callable[[str], str]:
    """``gettext`` in the language active now, each message looked up once per language."""
    return _translator(translation.get_language())


@lru_cache(maxsize=32)
def _translator(language: str | None) -> Callable[[str], str]:
    known: dict[str, str] = {}

    def gettext(message: str) -> str:
        found = known.get(message)
        if found is None:
            with translation.override(language):
                found = known[message] = translation.gettext(message)
        return found

    return gettext
