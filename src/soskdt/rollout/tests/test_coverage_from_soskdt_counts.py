"""The coverage indicator "books integrated ÷ population" counted by SoSKDT itself, beside the entered figure.

Population: people of the population register living in the area (a centre: the communes of its stations; a
province department: its province) and alive that day. Books integrated: those of them whose health book is
activated and who have a BHYT card in their wallet, both at the moment read.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.test import Client
from django.urls import reverse

from soskdt import testing
from soskdt.healthbook.models import Book
from soskdt.identity.models import User
from soskdt.registry.models import Citizen, OrgUnit, OrgUnitKind
from soskdt.rollout import selectors, services
from soskdt.rollout.periods import Period
from soskdt.rollout.report import Appendix1, build_consolidated, build_unit_report
from soskdt.rollout.tests.conftest import at, link_card

pytestmark = pytest.mark.django_db

DECEMBER = Period(2024, 12)
END = DECEMBER.end_moment()
NOW = at(2025, 1, 20)
AN_PHU, VINH_HAU, ELSEWHERE = "30337", "30352", "30400"


class Area:
    def __init__(self) -> None:
        self.province = testing.make_orgunit(kind=OrgUnitKind.PROVINCE_DEPARTMENT, province_code="89")
        self.centre = testing.make_orgunit(
            kind=OrgUnitKind.HEALTH_CENTRE,
            parent=self.province,
            province_code="89",
            name="TTYT khu vực An Phú",
        )
        self.department = testing.make_orgunit(kind=OrgUnitKind.DEPARTMENT, parent=self.centre)
        for commune in (AN_PHU, VINH_HAU):
            testing.make_orgunit(kind=OrgUnitKind.COMMUNE_STATION, parent=self.centre, commune_code=commune)
        # A station closed before December: its commune has moved to another centre.
        testing.make_orgunit(
            kind=OrgUnitKind.COMMUNE_STATION,
            parent=self.centre,
            commune_code="30999",
            valid_to=dt.date(2024, 6, 30),
        )
        other = testing.make_orgunit(kind=OrgUnitKind.HEALTH_CENTRE, parent=self.province, province_code="89")
        testing.make_orgunit(kind=OrgUnitKind.COMMUNE_STATION, parent=other, commune_code=ELSEWHERE)

    def person(
        self,
        commune: str,
        *,
        book_at: dt.datetime | None = None,
        book_row: bool = True,
        card_at: dt.datetime | None = None,
        died: dt.date | None = None,
        province: str = "89",
    ) -> Citizen:
        """A resident of ``commune``; with a book activated at ``book_at`` and a card linked at ``card_at``."""
        user = testing.make_citizen_account(commune_code=commune, province_code=province, date_of_death=died)
        assert user.citizen is not None
        if book_at is not None or book_row:
            Book.objects.create(citizen=user.citizen, activated_at=book_at)
        if card_at is not None:
            link_card(user, linked_at=card_at)
        return user.citizen


@pytest.fixture
def area() -> Area:
    """Nine people of the register, worked out by hand in the tests below."""
    a = Area()
    a.person(AN_PHU, book_at=at(2024, 12, 1), card_at=at(2024, 11, 1))  # integrated
    a.person(AN_PHU, book_at=at(2024, 12, 1))  # a book, no card
    a.person(AN_PHU, book_row=False, card_at=at(2024, 12, 1))  # a card, no book
    a.person(AN_PHU, book_row=True, card_at=at(2024, 12, 1))  # a book not activated yet (no passcode)
    a.person(AN_PHU, book_at=at(2025, 1, 5), card_at=at(2024, 12, 1))  # the book comes after December
    a.person(AN_PHU, book_at=at(2024, 10, 1), card_at=at(2024, 10, 1), died=dt.date(2024, 11, 2))  # died
    a.person(VINH_HAU, book_at=at(2024, 12, 20), card_at=at(2024, 12, 21))  # integrated
    a.person(ELSEWHERE, book_at=at(2024, 12, 1), card_at=at(2024, 12, 1))  # another centre's commune
    a.person(
        "30999", book_at=at(2024, 12, 1), card_at=at(2024, 12, 1), province="089"
    )  # the closed station's
    return a


def test_the_centres_figure_counts_the_residents_of_its_stations_communes(area):
    found = selectors.system_coverage(area.centre, END)
    # An Phú: five alive (the sixth died in November); Vĩnh Hậu: one. Integrated: one in each.
    assert (found.books_integrated, found.population) == (2, 6)


def test_a_later_moment_counts_the_book_activated_since(area):
    found = selectors.system_coverage(area.centre, NOW)
    assert (found.books_integrated, found.population) == (3, 6)


def test_the_province_counts_every_resident_of_the_province_whatever_the_code_spelling(area):
    found = selectors.system_coverage(area.province, END)
    # The nine people but the dead one; "089" and "89" are the same province.
    assert (found.books_integrated, found.population) == (4, 8)


def test_a_station_counts_its_own_commune_and_a_department_has_no_territory(area):
    station = OrgUnit.objects.get(commune_code=VINH_HAU)
    assert selectors.system_coverage(station, END).population == 1
    unknown = selectors.system_coverage(area.department, END)
    assert (unknown.books_integrated, unknown.population) == (None, None)


def test_the_consolidated_json_carries_both_figures_labelled(area, centre_admin):
    services.add_coverage_figure(
        area=area.province,
        by=None,
        as_of=dt.date(2024, 11, 22),
        books_integrated=369164,
        population=2724670,
        source="Cục C06",
    )
    services.add_coverage_figure(  # recorded after December: not in December's report
        area=area.province, by=None, as_of=dt.date(2025, 1, 15), books_integrated=400000, population=2724670
    )
    data = build_consolidated(area.centre, DECEMBER, now=NOW).to_json()
    system, entered = data["coverage"]["system"], data["coverage"]["entered"]
    assert system["label"] == "Theo số liệu SoSKDT" and entered["label"] == "Theo số liệu nhập"
    assert (system["books_integrated"], system["population"], system["percent"]) == (2, 6, 33.33)
    assert system["area"]["code"] == area.centre.code and system["as_of"] == END.isoformat()
    assert (entered["books_integrated"], entered["population"], entered["percent"]) == (
        369164,
        2724670,
        13.55,
    )
    assert (entered["as_of"], entered["source"], entered["area"]["code"]) == (
        "2024-11-22",
        "Cục C06",
        area.province.code,
    )
    assert Appendix1.from_json(data).to_json() == data  # read back as it was written


def test_the_api_and_the_json_download_carry_the_coverage(area, centre_admin):
    centre_admin.org_unit = area.centre
    centre_admin.save(update_fields=["org_unit"])
    client = Client()
    client.force_login(centre_admin)
    api = client.get("/api/v1/rollout/consolidated/2024-12").json()
    assert api["coverage"]["system"]["population"] == 6
    assert api["coverage"]["entered"] is None
    url = reverse("rollout_exports:consolidated_report", args=["2024-12", "json"])
    download = json.loads(client.get(url).content)
    assert download["coverage"]["system"]["books_integrated"] == api["coverage"]["system"]["books_integrated"]


def test_a_units_own_report_has_no_coverage(area):
    assert build_unit_report(area.department, DECEMBER, now=NOW).to_json()["coverage"] is None


def test_the_dashboard_shows_soskdt_figure_beside_the_entered_one(area, centre_admin):
    centre_admin.org_unit = area.centre
    centre_admin.save(update_fields=["org_unit"])
    services.add_coverage_figure(
        area=area.province, by=None, as_of=dt.date(2024, 11, 22), books_integrated=369164, population=2724670
    )
    client = Client()
    client.force_login(centre_admin)
    page = client.get(reverse("rollout:dashboard"), {"ky": "2024-12"}).content.decode()
    system = page[page.index("Theo số liệu SoSKDT") : page.index("Theo số liệu nhập")]
    assert "33,33%" in system and ">2<" in system and ">6<" in system
    assert "31/12/2024" in system
    entered = page[page.index("Theo số liệu nhập") :]
    assert "13,55%" in entered and "369.164" in entered and "2.724.670" in entered


def test_a_centre_without_commune_codes_says_so_instead_of_showing_zero(org_tree, centre_admin):
    client = Client()
    client.force_login(centre_admin)
    page = client.get(reverse("rollout:dashboard"), {"ky": "2024-12"}).content.decode()
    system = page[page.index("Theo số liệu SoSKDT") : page.index("Theo số liệu nhập")]
    assert "Chưa xác định được địa bàn" in system and "0,00%" not in system


def test_the_count_takes_the_same_queries_for_ten_people_or_a_hundred(area, django_assert_max_num_queries):
    with django_assert_max_num_queries(6) as few:
        selectors.system_coverage(area.centre, END)
    for n in range(90):
        citizen = testing.make_citizen(commune_code=AN_PHU if n % 2 else VINH_HAU, province_code="89")
        Book.objects.create(citizen=citizen, activated_at=at(2024, 12, 2) if n % 3 else None)
    User.objects.count()  # keep the fixtures' queries out of the block below
    with django_assert_max_num_queries(len(few.captured_queries)):
        found = selectors.system_coverage(area.centre, END)
    assert found.population == 96
