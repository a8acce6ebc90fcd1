"""The book's tabs come from the cost group MA_NHOM of each service line (DOMAIN.md §4)."""

from __future__ import annotations

import pytest

from soskdt.healthbook.models import ServiceCategory, ServiceLine, category_for_cost_group
from soskdt.healthbook.services import record_visits
from soskdt.healthbook.tests.factories import make_visit_input
from soskdt.registry.models import Facility

EXPECTED = {
    1: "lab",
    2: "imaging",
    3: "functional",
    4: "drug",
    5: "drug",
    6: "drug",
    7: "blood",
    8: "surgery",
    9: "other",
    10: "supply",
    11: "supply",
    12: "transport",
    13: "exam",
    14: "bed",
    15: "bed",
    16: "bed",
    17: "blood",
    18: "procedure",
    19: "other",
}


@pytest.mark.parametrize(("cost_group", "category"), sorted(EXPECTED.items()))
def test_each_cost_group_has_its_book_category(cost_group: int, category: str) -> None:
    assert category_for_cost_group(cost_group) == category
    assert category_for_cost_group(str(cost_group)) == category
    assert category in ServiceCategory.values


@pytest.mark.parametrize("cost_group", [None, 0, 20, 99, "", "X", " 1 "])
def test_unknown_or_odd_cost_groups_are_other_unless_they_read_as_a_known_number(cost_group: object) -> None:
    expected = "lab" if cost_group == " 1 " else "other"
    assert category_for_cost_group(cost_group) == expected


@pytest.mark.django_db
def test_stored_service_lines_carry_the_category_of_their_cost_group(facility: Facility) -> None:
    sent = make_visit_input(services=0, results=0)
    sent.services = [
        {"STT": i, "MA_DICH_VU": f"S{i}", "MA_NHOM": group} for i, group in enumerate(EXPECTED, start=1)
    ]

    record_visits(visits=[sent])

    stored = dict(ServiceLine.objects.values_list("cost_group", "category"))
    assert stored == EXPECTED
