from __future__ import annotations

import datetime as dt

import pytest

from soskdt.registry import selectors
from soskdt.registry.models import Citizen, InsuranceCard, OrgUnit

pytestmark = pytest.mark.django_db

JULY_2025 = dt.date(2025, 7, 1)


def make_card(code: str, holder: str, start: dt.date, end: dt.date) -> InsuranceCard:
    return InsuranceCard.objects.create(
        code=code, social_insurance_number=code[5:], holder_personal_id=holder, full_name="Nguyễn Văn An",
        birth_year=1990, sex="1", primary_care_facility_code="79048", valid_from=start, valid_to=end,
    )  # fmt: skip


@pytest.fixture
def cards() -> tuple[InsuranceCard, InsuranceCard]:
    old = make_card("GD4797912345678", "079090001234", dt.date(2024, 1, 1), dt.date(2024, 12, 31))
    new = make_card("HS4797912345678", "079090001234", dt.date(2025, 1, 1), dt.date(2025, 12, 31))
    make_card("GD4797900000002", "079190000002", dt.date(2025, 1, 1), dt.date(2025, 12, 31))
    return old, new


def test_a_citizen_is_found_by_personal_id_and_a_stranger_is_none():
    citizen = Citizen.objects.create(
        personal_id="079090001234", full_name="Nguyễn Văn An", birth_year=1990, sex="1"
    )

    assert selectors.citizen_by_personal_id(" 079090001234 ") == citizen
    assert selectors.citizen_by_personal_id("079090009999") is None


def test_cards_for_holder_lists_only_their_cards_most_recent_first(cards):
    old, new = cards

    assert list(selectors.cards_for_holder("079090001234")) == [new, old]


@pytest.mark.parametrize("identifier", ["079090001234", "7912345678", "GD4797912345678", "hs4797912345678"])
def test_the_card_valid_on_a_day_is_found_by_personal_id_number_or_any_code_of_the_person(cards, identifier):
    old, new = cards

    assert selectors.card_valid_on(identifier, dt.date(2025, 3, 1)) == new
    assert selectors.card_valid_on(identifier, dt.date(2024, 12, 31)) == old
    assert selectors.card_valid_on(identifier, dt.date(2026, 1, 1)) is None


def test_a_malformed_identifier_finds_no_card(cards):
    assert selectors.card_valid_on("12345", dt.date(2025, 3, 1)) is None


@pytest.fixture
def tree() -> dict[str, OrgUnit]:
    """A province department, a district centre closed on 30/06/2025 and its regional successor."""
    units: dict[str, OrgUnit] = {}

    def add(
        code: str, parent: str | None, start: dt.date = dt.date(2000, 1, 1), end: dt.date | None = None
    ) -> None:
        units[code] = OrgUnit.objects.create(
            code=code, name=code, kind="other", parent=units.get(parent or ""), valid_from=start, valid_to=end
        )

    add("SYT", None)
    add("TTYT-HUYEN", "SYT", end=dt.date(2025, 6, 30))
    add("KHOA-CU", "TTYT-HUYEN", end=dt.date(2025, 6, 30))
    add("TTYT-KV", "SYT", start=JULY_2025)
    add("KHOA", "TTYT-KV", start=JULY_2025)
    add("TRAM", "KHOA", start=JULY_2025)
    return units


def codes(units) -> set[str]:
    return {unit.code for unit in units}


def test_units_active_on_a_day_follow_the_reorganisation(tree):
    assert codes(selectors.units_active_on(dt.date(2025, 6, 30))) == {"SYT", "TTYT-HUYEN", "KHOA-CU"}
    assert codes(selectors.units_active_on(JULY_2025)) == {"SYT", "TTYT-KV", "KHOA", "TRAM"}


def test_units_active_under_a_unit_are_its_subtree_on_that_day(tree):
    assert codes(selectors.units_active_on(JULY_2025, under=tree["TTYT-KV"])) == {"TTYT-KV", "KHOA", "TRAM"}
    assert codes(selectors.units_active_on(JULY_2025, under=tree["TTYT-HUYEN"])) == set()
    assert codes(selectors.units_active_on(dt.date(2025, 1, 1), under=tree["SYT"])) == {
        "SYT",
        "TTYT-HUYEN",
        "KHOA-CU",
    }


def test_unit_descendants_are_every_level_below_and_only_active_ones_on_a_day(tree):
    assert codes(selectors.unit_descendants(tree["SYT"])) == {
        "TTYT-HUYEN",
        "KHOA-CU",
        "TTYT-KV",
        "KHOA",
        "TRAM",
    }
    assert codes(selectors.unit_descendants(tree["SYT"], on=JULY_2025)) == {"TTYT-KV", "KHOA", "TRAM"}
    assert codes(selectors.unit_descendants(tree["TRAM"])) == set()


def test_unit_descendants_take_one_query_per_level(tree, django_assert_max_num_queries):
    with django_assert_max_num_queries(5):
        assert len(list(selectors.unit_descendants(tree["SYT"]))) == 5
