from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from soskdt.registry.models import Citizen, Facility, InsuranceCard, OrgUnit

pytestmark = pytest.mark.django_db


@pytest.fixture
def registers() -> dict[str, object]:
    centre = OrgUnit.objects.create(
        code="TTYT-Q3", name="Trung tâm Y tế khu vực Quận 3", kind="health_centre"
    )
    facility = Facility.objects.create(code="79048", name="TTYT Quận 3", province_code="79", org_unit=centre)
    mother = Citizen.objects.create(
        personal_id="079190001234", full_name="Nguyễn Thị Hương", birth_year=1990, sex="2"
    )
    children = [
        Citizen.objects.create(
            personal_id=f"0792150000{i:02d}",
            full_name=f"Trần Minh {i}",
            birth_year=2015,
            birth_month=6,
            sex="1",
            representative=mother,
        )
        for i in range(20)
    ]
    card = InsuranceCard.objects.create(
        code="GD4797912345678", social_insurance_number="7912345678", holder_personal_id="079190001234",
        full_name="Nguyễn Thị Hương", birth_year=1990, sex="2", primary_care_facility_code="79048",
        valid_from="2020-01-01", valid_to="2020-12-31",
    )  # fmt: skip
    return {"centre": centre, "facility": facility, "mother": mother, "child": children[0], "card": card}


@pytest.mark.parametrize("model", ["orgunit", "facility", "citizen", "insurancecard"])
def test_every_register_has_a_vietnamese_changelist_and_change_page(admin_client, registers, model):
    instance = {"orgunit": "centre", "facility": "facility", "citizen": "child", "insurancecard": "card"}[
        model
    ]

    changelist = admin_client.get(reverse(f"admin:registry_{model}_changelist"))
    change = admin_client.get(reverse(f"admin:registry_{model}_change", args=[registers[instance].pk]))

    assert changelist.status_code == 200 and change.status_code == 200


def test_the_citizen_list_takes_a_fixed_number_of_queries_and_no_full_count(
    admin_client, registers, django_assert_max_num_queries
):
    with django_assert_max_num_queries(8):
        response = admin_client.get(reverse("admin:registry_citizen_changelist"))

    assert response.status_code == 200
    assert "15/06/2015" not in response.content.decode()  # month known, day not: shown as 06/2015
    assert "06/2015" in response.content.decode()


@pytest.mark.parametrize(
    ("model", "term", "expected"),
    [
        ("citizen", "079190001234", {"079190001234"}),
        ("citizen", "nguyễn thị", {"079190001234"}),
        ("citizen", "Hương", set()),
        ("insurancecard", "GD4797912345678", {"GD4797912345678"}),
        ("insurancecard", "7912345678", {"GD4797912345678"}),
        ("insurancecard", "079190001234", {"GD4797912345678"}),
        ("insurancecard", "0000000000", set()),
        ("facility", "Quận", {"79048"}),
        ("orgunit", "ttyt", {"TTYT-Q3"}),
    ],
)
def test_search_finds_by_exact_identifier_or_the_start_of_the_name(
    admin_client, registers, model, term, expected
):
    response = admin_client.get(reverse(f"admin:registry_{model}_changelist"), {"q": term})

    found = {str(getattr(obj, "personal_id", None) or obj.code) for obj in response.context["cl"].result_list}
    assert found == expected


def test_cards_can_be_filtered_to_those_valid_today_or_ended(admin_client, registers):
    today = timezone.localdate()
    current = InsuranceCard.objects.create(
        code="HS4797912345678", social_insurance_number="7912345678", holder_personal_id="079190001234",
        full_name="Nguyễn Thị Hương", birth_year=1990, sex="2", primary_care_facility_code="79048",
        valid_from=today - dt.timedelta(days=30), valid_to=today + dt.timedelta(days=30),
    )  # fmt: skip
    url = reverse("admin:registry_insurancecard_changelist")

    valid = admin_client.get(url, {"hieu_luc": "today"}).context["cl"].result_list
    ended = admin_client.get(url, {"hieu_luc": "ended"}).context["cl"].result_list

    assert list(valid) == [current]
    assert current not in list(ended) and registers["card"] in list(ended)
