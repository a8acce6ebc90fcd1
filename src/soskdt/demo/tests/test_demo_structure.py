"""The demo builds a coherent organisation, staff, population, cards and accounts."""

from __future__ import annotations

import collections
import unicodedata

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.utils import timezone

from soskdt.core.identifiers import parse_card_code, parse_personal_id
from soskdt.demo import names, selectors
from soskdt.demo.builders import DEMO_PASSWORD, PERSONA_KEYS, DemoResult
from soskdt.demo.builders.insurance import BENEFIT_LEVEL
from soskdt.demo.builders.staff import Staff
from soskdt.demo.models import DemoStaffLink
from soskdt.identity.models import AccountKind, Role, RoleAssignment, User
from soskdt.identity.passwords import password_problems
from soskdt.registry.models import CardIssuer, Citizen, Facility, InsuranceCard, OrgUnit, OrgUnitKind, Sex

from .conftest import SMALL_DEMO_CITIZENS

pytestmark = pytest.mark.django_db


def _age(citizen: Citizen) -> int:
    return citizen.birth_date.age_on(timezone.localdate())


def _active_units(kind: str) -> list[OrgUnit]:
    today = timezone.localdate()
    return [u for u in OrgUnit.objects.filter(kind=kind) if u.is_active_on(today)]


def test_the_tree_has_one_province_department_and_one_centre_with_8_departments_and_5_stations(
    small_demo: DemoResult,
) -> None:
    [province] = _active_units(OrgUnitKind.PROVINCE_DEPARTMENT)
    [centre] = _active_units(OrgUnitKind.HEALTH_CENTRE)
    assert province.name == "Sở Y tế tỉnh An Giang"
    assert centre.name == "Trung tâm Y tế khu vực An Phú"
    assert centre.parent == province
    departments = _active_units(OrgUnitKind.DEPARTMENT)
    stations = _active_units(OrgUnitKind.COMMUNE_STATION)
    assert len(departments) == 8
    assert len(stations) == 5
    assert {u.parent_id for u in departments + stations} == {centre.pk}
    assert {"Khoa Khám bệnh", "Khoa Sản", "Phòng Kế hoạch - Nghiệp vụ"} <= {u.name for u in departments}
    assert all(s.name.startswith("Trạm Y tế xã ") for s in stations)


def test_the_former_district_centre_is_closed_the_day_before_the_reform(small_demo: DemoResult) -> None:
    former = small_demo.org.former_centre
    former.refresh_from_db()
    assert former.valid_to is not None
    assert former.valid_to < small_demo.org.centre.valid_from
    assert not former.is_active_on(timezone.localdate())


def test_three_facilities_have_province_prefixed_codes_and_an_org_unit(small_demo: DemoResult) -> None:
    facilities = list(Facility.objects.select_related("org_unit"))
    assert len(facilities) == 3
    for facility in facilities:
        assert len(facility.code) == 5 and facility.code.isdigit()
        assert facility.code.startswith(names.PROVINCE_CODE)
        assert facility.org_unit is not None


def test_about_200_staff_hold_every_role(small_demo: DemoResult) -> None:
    staff = User.objects.filter(kind=AccountKind.STAFF).exclude(username="admin")
    assert 190 <= staff.count() <= 210
    roles = collections.Counter(RoleAssignment.objects.values_list("role", flat=True))
    assert set(roles) == set(Role.values)
    assert roles[Role.CLINICIAN] >= 10
    for role in (Role.CLINICIAN, Role.SUBMITTER):
        assert not User.objects.filter(roles__role=role, facility__isnull=True).exists()
    submitter_facilities = set(
        User.objects.filter(roles__role=Role.SUBMITTER).values_list("facility__code", flat=True)
    )
    assert submitter_facilities == set(Facility.objects.values_list("code", flat=True))
    reported_units = set(
        User.objects.filter(roles__role=Role.UNIT_REPORTER).values_list("org_unit__kind", "org_unit__name")
    )
    assert len(reported_units) == 13
    assert User.objects.filter(
        roles__role=Role.CENTRE_ADMIN, org_unit__kind=OrgUnitKind.HEALTH_CENTRE
    ).exists()
    assert User.objects.filter(
        roles__role=Role.PROVINCE_ADMIN, org_unit__kind=OrgUnitKind.PROVINCE_DEPARTMENT
    ).exists()


def test_every_staff_member_is_also_a_person_of_the_register(small_demo: DemoResult) -> None:
    links = list(selectors.staff_links())
    assert len(links) == len(small_demo.staff.members)
    for link in links:
        assert link.user.kind == AccountKind.STAFF
        assert link.user.citizen is None  # their own citizen account, if any, is a separate login
        assert link.citizen.full_name == link.user.full_name
        assert link.citizen.occupation == names.STAFF_OCCUPATION
    assert DemoStaffLink.objects.values("citizen").distinct().count() == len(links)


def test_names_keep_their_vietnamese_diacritics(small_demo: DemoResult) -> None:
    vocabulary = names.vocabulary()
    full_names = list(Citizen.objects.values_list("full_name", flat=True))
    assert len(full_names) == SMALL_DEMO_CITIZENS + len(small_demo.staff.members)
    for full_name in full_names:
        assert unicodedata.is_normalized("NFC", full_name)
        assert 3 <= len(full_name.split()) <= 4, full_name
        assert set(full_name.split()) <= vocabulary, full_name
    with_marks = sum(1 for n in full_names if not n.isascii())
    assert with_marks / len(full_names) > 0.85
    family_names = collections.Counter(n.split()[0] for n in full_names)
    assert family_names.most_common(1)[0][0] == "Nguyễn"
    assert not {"Nguyen", "Tran", "Le", "Pham", "Huynh", "Vo", "Dang", "Thi", "Van"} & {
        word for n in full_names for word in n.split()
    }


def test_personal_ids_are_12_digits_and_consistent_except_the_deliberate_ones(small_demo: DemoResult) -> None:
    inconsistent = []
    for citizen in Citizen.objects.all():
        pid = parse_personal_id(citizen.personal_id)
        assert citizen.personal_id.isdigit() and len(citizen.personal_id) == 12
        sex = "M" if citizen.sex == Sex.MALE else "F"
        if pid.consistency_warnings(birth_year=citizen.birth_year, sex=sex):
            inconsistent.append(citizen.personal_id)
    assert sorted(inconsistent) == sorted(small_demo.population.inconsistent_ids)
    assert 3 <= len(inconsistent) <= 10


def test_a_few_elderly_people_are_known_only_by_their_birth_year(small_demo: DemoResult) -> None:
    year_only = list(Citizen.objects.filter(birth_month__isnull=True))
    assert len(year_only) >= 3
    assert all(c.birth_day is None and _age(c) >= 70 for c in year_only)


def test_every_child_under_14_has_a_parent_as_representative(small_demo: DemoResult) -> None:
    children = [c for c in Citizen.objects.select_related("representative") if _age(c) < 14]
    assert children
    for child in children:
        parent = child.representative
        assert parent is not None, child
        assert child.representative_relation == ("Cha" if parent.sex == Sex.MALE else "Mẹ")
        assert _age(parent) >= 18
        assert parent.address == child.address


def test_adults_have_phones_and_addresses_in_the_five_communes(small_demo: DemoResult) -> None:
    communes = {c.code for c in names.COMMUNES}
    adults = [c for c in Citizen.objects.all() if 18 <= _age(c) < 75]
    assert sum(1 for c in adults if c.phone) / len(adults) > 0.85
    for citizen in Citizen.objects.all():
        assert citizen.commune_code in communes
        assert citizen.address.endswith("tỉnh An Giang")
        assert not citizen.phone or (len(citizen.phone) == 10 and citizen.phone.startswith("0"))


def test_card_codes_are_well_formed_and_plausible_for_the_person(small_demo: DemoResult) -> None:
    people = {c.personal_id: c for c in Citizen.objects.all()}
    facilities = set(Facility.objects.values_list("code", flat=True))
    for card in InsuranceCard.objects.all():
        code = parse_card_code(card.code)
        assert code.social_insurance_number == card.social_insurance_number
        assert code.benefit_level == BENEFIT_LEVEL.get(code.group, 4)
        assert (code.group == "CA") == (card.issuer == CardIssuer.POLICE)
        assert card.primary_care_facility_code in facilities
        person = people[card.holder_personal_id]
        if card.is_valid_on(timezone.localdate()):
            age = _age(person)
            assert (code.group == "TE") == (age < 6), (card, age)
            if code.group == "HT":
                assert age >= 55
    assert InsuranceCard.objects.filter(issuer=CardIssuer.POLICE).exists()


def test_most_people_hold_a_card_valid_today(small_demo: DemoResult) -> None:
    today = timezone.localdate()
    holders = set(
        InsuranceCard.objects.filter(valid_from__lte=today, valid_to__gte=today).values_list(
            "holder_personal_id", flat=True
        )
    )
    assert len(holders) / Citizen.objects.count() > 0.8


def test_there_are_expired_cards_histories_and_mismatches(small_demo: DemoResult) -> None:
    cards = small_demo.cards
    assert cards.expired_only and cards.with_history and cards.uninsured
    assert len(cards.mismatched) >= 3
    assert set(cards.mismatched.values()) == {"name", "birth", "sex"}
    today = timezone.localdate()
    for personal_id in cards.with_history:
        mine = list(InsuranceCard.objects.filter(holder_personal_id=personal_id).order_by("valid_from"))
        assert len(mine) == 2
        assert mine[0].valid_to < today and mine[1].is_valid_on(today)


def test_only_the_mismatched_cards_disagree_with_the_population_register(small_demo: DemoResult) -> None:
    people = {c.personal_id: c for c in Citizen.objects.all()}
    mismatched = small_demo.cards.mismatched
    fields = ("full_name", "birth_year", "birth_month", "birth_day", "sex")
    for card in InsuranceCard.objects.all():
        person = people[card.holder_personal_id]
        same = all(getattr(card, f) == getattr(person, f) for f in fields)
        assert same == (card.holder_personal_id not in mismatched), card


def test_at_most_one_card_is_valid_per_person_on_any_day(small_demo: DemoResult) -> None:
    by_holder: dict[str, list[InsuranceCard]] = collections.defaultdict(list)
    for card in InsuranceCard.objects.order_by("holder_personal_id", "valid_from"):
        by_holder[card.holder_personal_id].append(card)
    for cards in by_holder.values():
        for earlier, later in zip(cards, cards[1:], strict=False):
            assert earlier.valid_to < later.valid_from, (earlier, later)


def test_about_60_percent_of_adults_have_an_account_mostly_level_2(small_demo: DemoResult) -> None:
    accounts = {u.username: u for u in User.objects.filter(kind=AccountKind.CITIZEN)}
    residents = Citizen.objects.filter(demo_staff_link__isnull=True)
    adults = [c for c in residents if _age(c) >= 18]
    with_account = [accounts[c.personal_id] for c in adults if c.personal_id in accounts]
    assert 0.5 <= len(with_account) / len(adults) <= 0.72
    levels = collections.Counter(u.assurance_level for u in accounts.values())
    assert levels[2] > 3 * levels[1] > 0
    assert all(u.assurance_granted_on is not None for u in accounts.values())
    assert any(u.app_version in ("2.0.1", "2.0.3") for u in accounts.values())
    assert not any(_age(c) < 14 for c in Citizen.objects.filter(account__isnull=False))
    assert all(u.citizen is not None and u.citizen.personal_id == u.username for u in accounts.values())


def test_the_demo_password_meets_the_password_rules() -> None:
    assert password_problems(DEMO_PASSWORD) == []


def test_every_persona_logs_in_with_the_demo_password(small_demo: DemoResult) -> None:
    assert list(selectors.personas()) == list(PERSONA_KEYS)
    for key in PERSONA_KEYS:
        user = authenticate(None, username=selectors.persona(key), password=DEMO_PASSWORD)
        assert isinstance(user, User), key


def test_citizen_personas_are_shaped_for_what_they_demonstrate(small_demo: DemoResult) -> None:
    today = timezone.localdate()

    def account(key: str) -> User:
        return User.objects.select_related("citizen").get(username=selectors.persona(key))

    def valid_card(user: User) -> InsuranceCard | None:
        return InsuranceCard.objects.filter(
            holder_personal_id=user.username, valid_from__lte=today, valid_to__gte=today
        ).first()

    citizen = account("citizen")
    card = valid_card(citizen)
    assert citizen.assurance_level == 2 and card is not None and citizen.citizen is not None
    assert (card.full_name, card.birth_date, card.sex) == (
        citizen.citizen.full_name,
        citizen.citizen.birth_date,
        citizen.citizen.sex,
    )
    assert card.issuer == CardIssuer.VSS

    mismatch = account("citizen_mismatch")
    card = valid_card(mismatch)
    assert mismatch.assurance_level == 2 and card is not None and mismatch.citizen is not None
    assert card.full_name != mismatch.citizen.full_name

    expired = account("citizen_expired")
    assert expired.assurance_level == 2 and valid_card(expired) is None
    assert InsuranceCard.objects.filter(holder_personal_id=expired.username, valid_to__lt=today).exists()

    old_app = account("citizen_old_app")
    assert old_app.assurance_level == 2 and valid_card(old_app) is not None
    assert tuple(int(p) for p in old_app.app_version.split(".")) < (2, 0, 4)

    assert account("citizen_level1").assurance_level == 1

    parent = account("parent")
    assert parent.assurance_level == 2 and valid_card(parent) is not None
    children = [c for c in Citizen.objects.filter(representative=parent.citizen) if _age(c) < 14]
    assert children


def test_staff_personas_have_their_roles(small_demo: DemoResult) -> None:
    expected = {
        "clinician": Role.CLINICIAN,
        "submitter": Role.SUBMITTER,
        "unit_reporter": Role.UNIT_REPORTER,
        "reception": Role.RECEPTION,
        "centre_admin": Role.CENTRE_ADMIN,
        "province_admin": Role.PROVINCE_ADMIN,
        "auditor": Role.AUDITOR,
    }
    for key, role in expected.items():
        user = User.objects.get(username=selectors.persona(key))
        assert user.kind == AccountKind.STAFF and user.has_role(role), key
    admin = User.objects.get(username=selectors.persona("admin"))
    assert admin.is_superuser and admin.is_staff


def test_an_unknown_persona_is_a_lookup_error(small_demo: DemoResult) -> None:
    with pytest.raises(LookupError):
        selectors.persona("nobody")


def test_logins_table_lists_every_persona(small_demo: DemoResult, capsys: pytest.CaptureFixture[str]) -> None:
    call_command("demo", "--logins")
    out = capsys.readouterr().out
    assert "Tên đăng nhập" in out and "Username" in out and DEMO_PASSWORD in out
    for username in selectors.personas().values():
        assert username in out
    assert "Cha" in out or "Mẹ" in out


def test_the_logins_table_names_the_child_whose_visits_the_demo_loads(
    small_demo: DemoResult, capsys: pytest.CaptureFixture[str]
) -> None:
    child = small_demo.citizen_personas["child"]  # build_demo_visits always gives this child visits
    assert selectors.persona("child") == child.personal_id
    assert "child" not in selectors.personas()  # not a login
    [row] = [r for r in selectors.login_rows(timezone.localdate()) if r.key == "parent"]
    assert f"của {child.full_name}, sinh năm {child.birth_year}" in row.note
    siblings = Citizen.objects.filter(representative=child.representative).exclude(pk=child.pk)
    for sibling in siblings:
        if sibling.full_name != child.full_name:
            assert sibling.full_name not in row.note
    call_command("demo", "--logins")
    assert child.full_name in capsys.readouterr().out


def test_the_reception_persona_works_the_examination_departments_desk(small_demo: DemoResult) -> None:
    from soskdt.rollout.models import ReceptionHelp

    user = User.objects.select_related("org_unit").get(username=selectors.persona("reception"))
    assert user.org_unit is not None and user.org_unit.code == "ANPHU-KKB"
    assert set(user.roles.values_list("role", flat=True)) == {Role.RECEPTION}
    records = ReceptionHelp.objects.filter(unit=user.org_unit)
    assert records.exists() and set(records.values_list("recorded_by", flat=True)) == {user.pk}
    [row] = [r for r in selectors.login_rows(timezone.localdate()) if r.key == "reception"]
    assert row.role == "Nhân viên tiếp đón (reception)" and "Khoa Khám bệnh" in row.note


def test_staff_result_lists_members_by_role(small_demo: DemoResult) -> None:
    staff: Staff = small_demo.staff
    assert {m.user.username for m in staff.with_role(Role.CENTRE_ADMIN)} == {
        selectors.persona("centre_admin")
    }
