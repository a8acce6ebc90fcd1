import datetime as dt

import pytest

from soskdt.core.errors import DomainError
from soskdt.identity import services
from soskdt.identity.models import AccountKind, Role
from soskdt.testing import DEFAULT_PASSWORD, make_citizen, make_facility, make_orgunit

pytestmark = pytest.mark.django_db


def test_a_citizen_account_uses_the_personal_id_as_username():
    person = make_citizen(full_name="Nguyễn Văn An")
    user = services.create_citizen_account(
        citizen=person,
        password=DEFAULT_PASSWORD,
        phone="0912345678",
        assurance_level=2,
        granted_on=dt.date(2024, 5, 2),
    )
    assert user.username == person.personal_id
    assert user.kind == AccountKind.CITIZEN
    assert user.full_name == "Nguyễn Văn An"
    assert (user.assurance_level, user.assurance_granted_on) == (2, dt.date(2024, 5, 2))
    assert user.phone == "0912345678"
    assert user.check_password(DEFAULT_PASSWORD)


def test_a_person_has_at_most_one_account():
    person = make_citizen()
    services.create_citizen_account(citizen=person, password=DEFAULT_PASSWORD)
    with pytest.raises(DomainError) as caught:
        services.create_citizen_account(citizen=person, password=DEFAULT_PASSWORD)
    assert (caught.value.code, caught.value.status) == ("ACCOUNT_EXISTS", 409)


def test_a_clinician_needs_a_facility():
    with pytest.raises(DomainError) as caught:
        services.create_staff_account(
            username="bs.lan",
            full_name="Trần Thị Lan",
            password=DEFAULT_PASSWORD,
            org_unit=make_orgunit(),
            roles=[Role.CLINICIAN],
        )
    assert caught.value.code == "ROLE_NEEDS_FACILITY"


def test_a_staff_account_keeps_its_unit_facility_and_roles():
    unit = make_orgunit()
    facility = make_facility(org_unit=unit)
    user = services.create_staff_account(
        username="bs.lan",
        full_name="Trần Thị Lan",
        password=DEFAULT_PASSWORD,
        org_unit=unit,
        facility=facility,
        roles=[Role.CLINICIAN, Role.UNIT_REPORTER, Role.CLINICIAN],
    )
    assert user.kind == AccountKind.STAFF
    assert (user.org_unit, user.facility) == (unit, facility)
    assert sorted(user.roles.values_list("role", flat=True)) == ["clinician", "unit_reporter"]


def test_a_staff_username_cannot_look_like_a_personal_id_or_be_taken():
    unit = make_orgunit()
    with pytest.raises(DomainError) as caught:
        services.create_staff_account(
            username="079085000001", full_name="X", password=DEFAULT_PASSWORD, org_unit=unit
        )
    assert caught.value.code == "USERNAME_LOOKS_LIKE_PERSONAL_ID"
    services.create_staff_account(username="ketoan", full_name="X", password=DEFAULT_PASSWORD, org_unit=unit)
    with pytest.raises(DomainError) as caught:
        services.create_staff_account(
            username="ketoan", full_name="Y", password=DEFAULT_PASSWORD, org_unit=unit
        )
    assert caught.value.code == "USERNAME_TAKEN"


def test_an_unknown_role_is_refused_and_nothing_is_created():
    with pytest.raises(DomainError) as caught:
        services.create_staff_account(
            username="x.y",
            full_name="X",
            password=DEFAULT_PASSWORD,
            org_unit=make_orgunit(),
            roles=["superhero"],
        )
    assert caught.value.code == "ROLE_UNKNOWN"


def test_granting_level_2_records_the_day(level1_citizen):
    services.grant_assurance_level(user=level1_citizen, level=2, on=dt.date(2025, 1, 6))
    level1_citizen.refresh_from_db()
    assert (level1_citizen.assurance_level, level1_citizen.assurance_granted_on) == (2, dt.date(2025, 1, 6))


def test_assurance_levels_are_only_for_citizens_and_only_1_or_2(clinician, citizen):
    with pytest.raises(DomainError) as caught:
        services.grant_assurance_level(user=clinician, level=2, on=dt.date(2025, 1, 6))
    assert caught.value.code == "NOT_A_CITIZEN_ACCOUNT"
    with pytest.raises(DomainError) as caught:
        services.grant_assurance_level(user=citizen, level=3, on=dt.date(2025, 1, 6))
    assert caught.value.code == "ASSURANCE_LEVEL_INVALID"


def test_the_personas_are_what_the_fixtures_promise(
    citizen, other_citizen, level1_citizen, clinician, org_tree
):
    from soskdt.registry.models import InsuranceCard

    assert citizen.assurance_level == 2
    assert InsuranceCard.objects.filter(holder_personal_id=citizen.username).count() == 1
    assert other_citizen.username != citizen.username
    assert level1_citizen.assurance_level == 1
    assert clinician.facility is not None
    assert clinician.org_unit.parent == org_tree.centre
    assert org_tree.centre.parent == org_tree.province
    assert {unit.parent for unit in (*org_tree.departments, org_tree.station)} == {org_tree.centre}
