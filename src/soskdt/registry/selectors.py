"""Reads of the registers that other apps use: people, their cards, and the org-unit tree over time."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet
from django.utils import timezone

from soskdt.core.identifiers import IdentifierError, parse_card_or_number
from soskdt.registry.models import Citizen, InsuranceCard, OrgUnit, OrgUnitKind


def citizen_by_personal_id(personal_id: str) -> Citizen | None:
    """Return the citizen with this 12-digit personal ID, or None."""
    return Citizen.objects.filter(personal_id=(personal_id or "").strip()).first()


def cards_for_holder(personal_id: str) -> QuerySet[InsuranceCard]:
    """Return every card of a person, the most recent period first."""
    return InsuranceCard.objects.filter(holder_personal_id=(personal_id or "").strip()).order_by(
        "-valid_from"
    )


def card_valid_on(identifier: str, day: dt.date | None = None) -> InsuranceCard | None:
    """Return the card valid on ``day`` (default today) for a personal ID, a 10-digit number or a card code.

    12 digits is a personal ID; 10 digits the lifelong social-insurance number citizens type; 15
    characters a card code, matched by its number so that a re-issued card is still found.
    """
    day = day or timezone.localdate()
    value = (identifier or "").strip().replace(" ", "")
    if len(value) == 12 and value.isdigit():
        cards = InsuranceCard.objects.filter(holder_personal_id=value)
    else:
        try:
            _card, number = parse_card_or_number(value)
        except IdentifierError:
            return None
        cards = InsuranceCard.objects.filter(social_insurance_number=number)
    return cards.filter(valid_from__lte=day, valid_to__gte=day).order_by("-valid_from").first()


def _active_on(day: dt.date) -> Q:
    return Q(valid_from__lte=day) & (Q(valid_to__isnull=True) | Q(valid_to__gte=day))


def unit_descendants(unit: OrgUnit, on: dt.date | None = None) -> QuerySet[OrgUnit]:
    """Return the units below ``unit`` (not itself); with ``on``, the subtree as it stood that day.

    On a given day the walk only goes through units active that day: a closed unit's children have
    moved to its successor (DOMAIN.md §7, the 2025 reorganisation).
    """
    found: set[int] = set()
    frontier = {unit.pk}
    children = OrgUnit.objects.all() if on is None else OrgUnit.objects.filter(_active_on(on))
    while frontier:
        level = set(children.filter(parent_id__in=frontier).values_list("pk", flat=True)) - found
        found |= level
        frontier = level
    return OrgUnit.objects.filter(pk__in=found)


def units_active_on(day: dt.date, under: OrgUnit | None = None) -> QuerySet[OrgUnit]:
    """Return the units active on ``day``; with ``under``, only that unit and its subtree on that day."""
    units = OrgUnit.objects.filter(_active_on(day))
    if under is None:
        return units
    return units.filter(Q(pk=under.pk) | Q(pk__in=unit_descendants(under, on=day).values("pk")))


def _province_forms(code: str) -> set[str]:
    # Province codes are written with 2 or 3 digits ("89", "089"): match either spelling.
    digits = code.lstrip("0") or "0"
    return {digits.zfill(2), digits.zfill(3)}


def residents_of_area(area: OrgUnit, day: dt.date) -> QuerySet[Citizen] | None:
    """The people of the population register living in ``area`` and alive on ``day``; None when unknown.

    A province department covers its province (``province_code``); any other unit covers the communes of
    itself and of the units below it that day (``commune_code``, set on commune health stations). A unit
    with neither has no known territory: None, never an empty population.
    """
    alive = Q(date_of_death__isnull=True) | Q(date_of_death__gt=day)
    if area.kind == OrgUnitKind.PROVINCE_DEPARTMENT:
        if not area.province_code:
            return None
        return Citizen.objects.filter(alive, province_code__in=sorted(_province_forms(area.province_code)))
    communes = sorted(
        set(units_active_on(day, under=area).exclude(commune_code="").values_list("commune_code", flat=True))
    )
    if not communes:
        return None
    return Citizen.objects.filter(alive, commune_code__in=communes)
