from __future__ import annotations

import datetime as dt

import pytest

from soskdt.registry.models import Citizen, InsuranceCard
from soskdt.registry.tests.helpers import CARD_HEADER, card_row, codes, run_import, warning_codes

pytestmark = pytest.mark.django_db

HOLDER = "079090001234"


@pytest.fixture
def holder() -> Citizen:
    return Citizen.objects.create(
        personal_id=HOLDER, full_name="Nguyễn Văn An", birth_year=1990, birth_month=3, birth_day=15, sex="1"
    )


def test_a_good_file_loads_every_card_and_derives_the_social_insurance_number(write_csv, holder):
    header = [*CARD_HEADER, "social_insurance_number", "issuer"]
    rows = [
        [*card_row(), "7912345678", "BHXH_VN"],
        [
            *card_row("ca5790000000001", "079085000001", full_name="Lê Văn Công", birth_date="1985", sex="1"),
            "",
            "bhxh_cand",
        ],
    ]

    result = run_import("cards", write_csv(header, rows))

    assert (result.created, result.rejected, result.exit_status) == (2, 0, 0)
    card = InsuranceCard.objects.get(code="GD4797912345678")
    assert (card.social_insurance_number, card.holder_personal_id, card.issuer) == (
        "7912345678",
        HOLDER,
        "BHXH_VN",
    )
    assert (card.valid_from, card.valid_to) == (dt.date(2025, 1, 1), dt.date(2025, 12, 31))
    police = InsuranceCard.objects.get(code="CA5790000000001")
    assert (police.issuer, police.social_insurance_number, police.birth_month) == (
        "BHXH_CAND",
        "0000000001",
        None,
    )
    assert warning_codes(result) == ["CARD_HOLDER_NOT_FOUND"]


def test_importing_the_same_cards_twice_changes_nothing(write_csv, holder):
    path = write_csv(
        CARD_HEADER, [card_row(), card_row("GD4797912345678", valid_from="01/01/2026", valid_to="31/12/2026")]
    )
    run_import("cards", path)
    before = list(InsuranceCard.objects.order_by("pk").values())

    again = run_import("cards", path)

    assert (again.created, again.updated, again.unchanged, again.rejected) == (0, 0, 2, 0)
    assert list(InsuranceCard.objects.order_by("pk").values()) == before


def test_extending_a_card_updates_it_and_does_not_overlap_itself(write_csv, holder):
    run_import("cards", write_csv(CARD_HEADER, [card_row()]))

    result = run_import("cards", write_csv(CARD_HEADER, [card_row(valid_to="30/06/2026")]))

    assert (result.updated, result.rejected) == (1, 0)
    assert InsuranceCard.objects.get().valid_to == dt.date(2026, 6, 30)


def test_a_card_overlapping_a_stored_card_of_the_same_holder_is_rejected(write_csv, holder):
    run_import("cards", write_csv(CARD_HEADER, [card_row()]))

    result = run_import(
        "cards",
        write_csv(CARD_HEADER, [card_row("HS4797912345678", valid_from="01/06/2025", valid_to="31/05/2026")]),
    )

    assert (result.created, result.rejected) == (0, 1)
    [error] = list(result.errors)
    assert (error.code, error.row, error.column) == ("CARD_PERIOD_OVERLAP", 2, "valid_from")
    assert (
        "GD4797912345678" in error.message and "01/01/2025" in error.message and "31/12/2025" in error.message
    )


@pytest.mark.parametrize("batch_size", [1, 100])
def test_a_card_overlapping_one_earlier_in_the_file_is_rejected(write_csv, holder, batch_size):
    rows = [card_row(), card_row("HS4797912345678", valid_from="31/12/2025", valid_to="31/12/2026")]

    result = run_import("cards", write_csv(CARD_HEADER, rows), batch_size=batch_size)

    assert (result.created, result.rejected) == (1, 1)
    assert [(p.code, p.row) for p in result.errors] == [("CARD_PERIOD_OVERLAP", 3)]
    assert InsuranceCard.objects.get().code == "GD4797912345678"


def test_consecutive_cards_and_cards_of_other_people_do_not_overlap(write_csv, holder):
    rows = [
        card_row(),
        card_row("HS4797912345678", valid_from="01/01/2026", valid_to="31/12/2026"),
        card_row("GD4797900000002", "079190000002", full_name="Trần Thị Bình", sex="2"),
    ]

    result = run_import("cards", write_csv(CARD_HEADER, rows))

    assert (result.created, result.rejected) == (3, 0)


def test_the_same_card_code_and_start_twice_in_a_file_is_a_duplicate(write_csv, holder):
    rows = [card_row(), card_row(valid_to="30/06/2025")]

    result = run_import("cards", write_csv(CARD_HEADER, rows))

    assert (result.created, result.rejected) == (1, 1)
    [error] = list(result.errors)
    assert (error.code, error.row, error.column) == ("DUPLICATE_KEY", 3, "code")


@pytest.mark.parametrize(
    ("column", "value", "code"),
    [
        ("code", "GD47979123456", "CARD_CODE_INVALID"),
        ("code", "ZZ4797912345678", "CARD_GROUP_UNKNOWN"),
        ("code", "GD6797912345678", "CARD_LEVEL_INVALID"),
        ("code", "GD0797912345678", "CARD_LEVEL_INVALID"),
        ("code", "", "VALUE_REQUIRED"),
        ("social_insurance_number", "79123", "SOCIAL_INSURANCE_NUMBER_INVALID"),
        ("social_insurance_number", "7900000000", "CARD_NUMBER_MISMATCH"),
        ("holder_personal_id", "79090001234", "PERSONAL_ID_INVALID"),
        ("full_name", "", "VALUE_REQUIRED"),
        ("birth_date", "15-03-1990", "BIRTH_DATE_INVALID"),
        ("sex", "nam giới", "SEX_INVALID"),
        ("primary_care_facility_code", "7904", "FACILITY_CODE_INVALID"),
        ("valid_from", "2025", "DATE_INVALID"),
        ("valid_from", "", "VALUE_REQUIRED"),
        ("valid_to", "31/13/2025", "DATE_INVALID"),
        ("valid_to", "31/12/2024", "PERIOD_INVALID"),
        ("issuer", "BHXH", "CARD_ISSUER_INVALID"),
    ],
)
def test_each_bad_card_value_rejects_the_row_with_its_code(write_csv, holder, column, value, code):
    header = [*CARD_HEADER, "social_insurance_number", "issuer"]
    row = [*card_row(), "", ""]
    row[header.index(column)] = value

    result = run_import("cards", write_csv(header, [row]))

    assert (result.created, result.rejected, result.exit_status) == (0, 1, 1)
    assert [(p.code, p.row, p.column, p.value) for p in result.errors] == [(code, 2, column, value)]
    assert not InsuranceCard.objects.exists()


def test_card_details_that_differ_from_the_population_register_are_a_warning(write_csv, holder):
    result = run_import(
        "cards", write_csv(CARD_HEADER, [card_row(full_name="Nguyễn Văn Ân", birth_date="1991", sex="1")])
    )

    assert (result.created, result.exit_status) == (1, 0)
    [warning] = [p for p in result.warnings if p.code == "CARD_HOLDER_DETAILS_DIFFER"]
    assert (warning.row, warning.column) == (2, "holder_personal_id")
    assert (
        "họ và tên" in warning.message
        and "ngày sinh" in warning.message
        and "giới tính" not in warning.message
    )


def test_a_card_holder_name_differing_only_in_case_and_spaces_gives_no_warning(write_csv, holder):
    result = run_import(
        "cards", write_csv(CARD_HEADER, [card_row(full_name="NGUYỄN  VĂN AN", birth_date="1990")])
    )

    assert list(result.warnings) == []


def test_a_holder_id_that_disagrees_with_the_card_sex_is_a_warning(write_csv, holder):
    result = run_import("cards", write_csv(CARD_HEADER, [card_row(sex="2")]))

    assert result.created == 1
    assert "PERSONAL_ID_SEX_MISMATCH" in warning_codes(result)
    assert codes(result) == []
