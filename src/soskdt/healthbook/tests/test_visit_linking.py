"""Linking visits to citizens: by personal ID, by the card's social-insurance number, or later."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from soskdt.healthbook.models import LinkMethod, Visit
from soskdt.healthbook.records import VisitStatus
from soskdt.healthbook.selectors import unlinked_visits
from soskdt.healthbook.services import link_pending_visits, record_visits
from soskdt.healthbook.tests.factories import make_card, make_citizen, make_visit_input
from soskdt.registry.models import Facility
from soskdt.registry.signals import citizens_imported


@pytest.mark.django_db
def test_a_visit_is_linked_to_the_citizen_with_its_personal_id(facility: Facility) -> None:
    citizen = make_citizen("079085001234")

    [outcome] = record_visits(visits=[make_visit_input(personal_id="079085001234")])

    assert (outcome.linked, outcome.citizen_id) == (True, citizen.pk)
    visit = Visit.objects.get()
    assert (visit.citizen, visit.link_method) == (citizen, LinkMethod.PERSONAL_ID)
    assert visit.linked_at is not None


@pytest.mark.django_db
def test_a_visit_without_personal_id_is_linked_by_the_social_insurance_number_on_its_card(
    facility: Facility,
) -> None:
    citizen = make_citizen("079085009999")
    make_card(holder_personal_id="079085009999", social_insurance_number="7912345678")
    sent = make_visit_input(personal_id=None, social_insurance_number="7912345678")
    sent.summary["MA_THE_BHYT"] = ["DN4797900000001", "DN4797912345678"]

    [outcome] = record_visits(visits=[sent])

    assert outcome.citizen_id == citizen.pk
    assert Visit.objects.get().link_method == LinkMethod.SOCIAL_INSURANCE_NUMBER


@pytest.mark.django_db
def test_a_passport_number_in_the_personal_id_field_falls_back_to_the_card(facility: Facility) -> None:
    citizen = make_citizen("079085009999")
    make_card(holder_personal_id="079085009999", social_insurance_number="7912345678")

    [outcome] = record_visits(
        visits=[make_visit_input(personal_id="C1234567", social_insurance_number="7912345678")]
    )

    assert outcome.citizen_id == citizen.pk


@pytest.mark.django_db
def test_an_unlinked_visit_is_kept_and_linked_once_its_citizen_is_imported(facility: Facility) -> None:
    [outcome] = record_visits(visits=[make_visit_input(personal_id="079085001234")])
    assert (outcome.status, outcome.linked) == (VisitStatus.ACCEPTED, False)
    assert list(unlinked_visits().values_list("pk", flat=True)) == [outcome.visit_id]

    citizen = make_citizen("079085001234")
    assert link_pending_visits(personal_ids=["079085001234"]) == 1

    visit = Visit.objects.get()
    assert (visit.citizen, visit.link_method) == (citizen, LinkMethod.PERSONAL_ID)
    assert not unlinked_visits().exists()
    assert link_pending_visits(personal_ids=["079085001234"]) == 0


@pytest.mark.django_db
def test_a_card_imported_later_links_the_visits_of_its_holder(facility: Facility) -> None:
    record_visits(visits=[make_visit_input(personal_id=None, social_insurance_number="7912345678")])
    citizen = make_citizen("079085009999")
    make_card(holder_personal_id="079085009999", social_insurance_number="7912345678")

    assert link_pending_visits(personal_ids=["079085009999"]) == 1
    assert Visit.objects.get().citizen == citizen


@pytest.mark.django_db
def test_the_nightly_pass_links_every_visit_whose_citizen_has_appeared(facility: Facility) -> None:
    record_visits(
        visits=[make_visit_input(ma_lk=f"LK{i}", personal_id=f"0790850000{i:02d}") for i in range(6)]
        + [make_visit_input(ma_lk="LK-CARD", personal_id=None, social_insurance_number="7900000077")]
    )
    for i in (1, 3, 5):
        make_citizen(f"0790850000{i:02d}")
    make_citizen("079085000077")
    make_card(holder_personal_id="079085000077", social_insurance_number="7900000077")

    assert link_pending_visits() == 4

    assert sorted(unlinked_visits().values_list("ma_lk", flat=True)) == ["LK0", "LK2", "LK4"]
    assert link_pending_visits() == 0


@pytest.mark.django_db
def test_importing_citizens_links_their_waiting_visits_after_the_import_commits(
    facility: Facility, django_capture_on_commit_callbacks: pytest.FixtureRequest
) -> None:
    record_visits(visits=[make_visit_input(personal_id="079085001234")])
    citizen = make_citizen("079085001234")

    with django_capture_on_commit_callbacks(execute=True) as callbacks:  # type: ignore[operator]
        citizens_imported.send(sender=Facility, personal_ids=["079085001234"])
        assert Visit.objects.get().citizen_id is None

    assert len(callbacks) == 1
    assert Visit.objects.get().citizen == citizen


@pytest.mark.django_db
def test_a_personal_id_whose_birth_year_or_sex_disagrees_with_the_register_is_not_linked(
    facility: Facility,
) -> None:
    make_citizen("079085001234", birth_year=1990)
    make_citizen("079085005555", sex="2")

    outcomes = record_visits(
        visits=[
            make_visit_input(ma_lk="LK-YEAR", personal_id="079085001234"),
            make_visit_input(ma_lk="LK-SEX", personal_id="079085005555"),
        ]
    )

    assert [o.linked for o in outcomes] == [False, False]
    assert all(o.warnings[-1]["code"] == "VISIT_LINK_IDENTITY_MISMATCH" for o in outcomes)
    assert unlinked_visits().count() == 2
    assert link_pending_visits() == 0


@pytest.mark.django_db
def test_a_card_number_held_by_two_people_is_not_linked(facility: Facility) -> None:
    make_citizen("079085000001")
    make_citizen("079085000002")
    make_card(holder_personal_id="079085000001", social_insurance_number="7912345678")
    make_card(
        holder_personal_id="079085000002",
        social_insurance_number="7912345678",
        valid_from=dt.date(2026, 1, 1),
    )

    [outcome] = record_visits(
        visits=[make_visit_input(personal_id=None, social_insurance_number="7912345678")]
    )

    assert not outcome.linked
    assert outcome.warnings[-1]["code"] == "VISIT_LINK_AMBIGUOUS_INSURANCE_NUMBER"


@pytest.mark.django_db
def test_a_correction_of_the_personal_id_moves_the_visit_to_the_right_book(facility: Facility) -> None:
    wrong = make_citizen("079085001111")
    right = make_citizen("079085002222")
    record_visits(visits=[make_visit_input(personal_id="079085001111")])
    assert Visit.objects.get().citizen == wrong

    [outcome] = record_visits(visits=[make_visit_input(personal_id="079085002222", submission_ref="sub-2")])

    assert (outcome.status, outcome.citizen_id) == (VisitStatus.REPLACED, right.pk)
    assert Visit.objects.get().citizen == right


@pytest.mark.django_db
def test_a_manual_link_survives_a_correction_that_names_nobody(facility: Facility) -> None:
    citizen = make_citizen("079085003333")
    record_visits(visits=[make_visit_input(personal_id=None, social_insurance_number="7900000000")])
    Visit.objects.update(citizen=citizen, link_method=LinkMethod.MANUAL)

    corrected = make_visit_input(
        personal_id=None, social_insurance_number="7900000000", submission_ref="sub-2"
    )
    corrected.summary["GHI_CHU"] = "Đã sửa"
    [outcome] = record_visits(visits=[corrected])

    assert (outcome.status, outcome.citizen_id) == (VisitStatus.REPLACED, citizen.pk)
    assert Visit.objects.get().link_method == LinkMethod.MANUAL


@pytest.mark.django_db
def test_linking_a_batch_costs_the_same_queries_for_two_visits_or_forty(facility: Facility) -> None:
    for i in range(40):
        make_citizen(f"0790850{i:05d}")
        make_card(holder_personal_id=f"0790850{i:05d}", social_insurance_number=f"79{i:08d}")

    def queries(prefix: str, count: int) -> int:
        batch = [
            make_visit_input(
                ma_lk=f"{prefix}{i}",
                personal_id=f"0790850{i:05d}" if i % 2 else None,
                social_insurance_number=f"79{i:08d}",
            )
            for i in range(count)
        ]
        with CaptureQueriesContext(connection) as captured:
            outcomes = record_visits(visits=batch)
        assert all(o.linked for o in outcomes)
        return len(captured)

    queries("W", 2)
    assert queries("A", 2) == queries("B", 40)
