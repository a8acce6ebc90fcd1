"""``core.translation.translator``: labels translated once per language, in the language asked for."""

from __future__ import annotations

from django.utils import translation

from soskdt.core.translation import translator


def test_the_translator_answers_in_the_active_language_and_remembers_per_language():
    with translation.override("en"):
        english = translator()
        assert english("Thông tin hành chính") == "Administrative information"
    with translation.override("vi"):
        vietnamese = translator()
        assert vietnamese("Thông tin hành chính") == "Thông tin hành chính"
        # Asked again while Vietnamese is active, the English translator still answers in English.
        assert english("Thông tin hành chính") == "Administrative information"
    with translation.override("en"):
        assert translator() is english
