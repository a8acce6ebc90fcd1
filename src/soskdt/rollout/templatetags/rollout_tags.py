"""Numbers the Vietnamese way in the roll-out templates: ``{{ value|vi_percent }}`` → "96,15%"."""

from __future__ import annotations

from decimal import Decimal

from django import template

from soskdt.rollout.periods import format_int

register = template.Library()


@register.filter
def vi_percent(value: Decimal | float | None) -> str:
    if value is None or value == "":
        return "—"
    return f"{value}%".replace(".", ",")


@register.filter
def vi_int(value: int | None) -> str:
    return format_int(value)
