from __future__ import annotations

import unicodedata

import pytest

from soskdt.registry.models import Citizen
from soskdt.registry.signals import citizens_imported
from soskdt.registry.tests.helpers import CITIZEN_HEADER, citizen_row, codes, run_import, warning_codes

pytestmark = pytest.mark.django_db

FULL_HEADER = [
    "personal_id",
    "full_name",
    "birth_date",
    "sex",
    "ethnicity",
    "nationality",
    "occupation",
    "phone",
    "address",
    "province_code",
    "commune_code",
    "representative_personal_id",
    "representative_relation",
]
MOTHER = [
    "079190001234",
    "Nguyễn Thị Hương",
    "15/03/1990",
    "Nữ",
    "Kinh",
    "",
    "Giáo viên",
    "0912 345 678",
    "12 Lê Lợi, phường Bến Thành",
    "079",
    "26734",
    "",
    "",
]
CHILD = [
    "079215004321",
    "Trần Minh Khôi",
    "2015-06",
    "1",
    "Kinh",
    "Việt Nam",
    "Học sinh",
    "",
    "12 Lê Lợi",
    "079",
    "26734",
    "079190001234",
    "mẹ",
]


def test_a_good_file_loads_every_citizen_with_every_column(write_csv):
    result = run_import("citizens", write_csv(FULL_HEADER, [MOTHER, CHILD]))

    assert (result.rows, result.created, result.rejected, result.exit_status) == (2, 2, 0, 0)
    assert list(result.errors) == [] and list(result.warnings) == []
    mother = Citizen.objects.get(personal_id="079190001234")
    assert (mother.full_name, mother.birth_date.display(), mother.sex) == (
        "Nguyễn Thị Hương",
        "15/03/1990",
        "2",
    )
    assert (mother.ethnicity, mother.nationality, mother.occupation) == ("Kinh", "Việt Nam", "Giáo viên")
    assert (mother.phone, mother.province_code, mother.commune_code) == ("0912345678", "079", "26734")
    child = Citizen.objects.get(personal_id="079215004321")
    assert (child.birth_year, child.birth_month, child.birth_day) == (2015, 6, None)
    assert child.representative == mother
    assert child.representative_relation == "mẹ"


@pytest.mark.parametrize(
    ("written", "stored"),
    [
        ("1990", (1990, None, None)),
        ("1990-07", (1990, 7, None)),
        ("1990-07-04", (1990, 7, 4)),
        ("04/07/1990", (1990, 7, 4)),
        ("07/1990", (1990, 7, None)),
    ],
)
def test_birth_dates_may_be_partial_in_every_documented_format(write_csv, written, stored):
    run_import("citizens", write_csv(CITIZEN_HEADER, [citizen_row(birth_date=written)]))

    citizen = Citizen.objects.get()
    assert (citizen.birth_year, citizen.birth_month, citizen.birth_day) == stored


@pytest.mark.parametrize(
    ("written", "stored"),
    [("1", "1"), ("Nam", "1"), ("nam", "1"), ("2", "2"), ("Nữ", "2"), ("3", "3"), ("Chưa xác định", "3")],
)
def test_sex_is_read_as_a_code_or_its_vietnamese_name(write_csv, written, stored):
    run_import("citizens", write_csv(CITIZEN_HEADER, [citizen_row(sex=written)]))

    assert Citizen.objects.get().sex == stored


def test_importing_the_same_file_twice_reports_every_row_unchanged_and_writes_nothing(write_csv):
    path = write_csv(FULL_HEADER, [MOTHER, CHILD])
    run_import("citizens", path)
    before = list(Citizen.objects.order_by("pk").values())

    again = run_import("citizens", path)

    assert (again.created, again.updated, again.unchanged, again.rejected) == (0, 0, 2, 0)
    assert list(Citizen.objects.order_by("pk").values()) == before


def test_a_changed_row_is_updated_and_the_other_rows_are_unchanged(write_csv):
    run_import(
        "citizens",
        write_csv(CITIZEN_HEADER, [citizen_row(), citizen_row("001190005678", "Trần Thị Bình", "1990", "2")]),
    )

    result = run_import(
        "citizens",
        write_csv(
            CITIZEN_HEADER,
            [
                citizen_row(full_name="Nguyễn Văn Ân"),
                citizen_row("001190005678", "Trần Thị Bình", "1990", "2"),
            ],
        ),
    )

    assert (result.created, result.updated, result.unchanged) == (0, 1, 1)
    assert Citizen.objects.get(personal_id="001090001234").full_name == "Nguyễn Văn Ân"


def test_a_column_left_out_of_the_file_keeps_the_stored_value(write_csv):
    run_import("citizens", write_csv([*CITIZEN_HEADER, "phone"], [[*citizen_row(), "0912345678"]]))

    result = run_import("citizens", write_csv(CITIZEN_HEADER, [citizen_row()]))

    assert result.unchanged == 1
    assert Citizen.objects.get().phone == "0912345678"


def test_a_duplicate_personal_id_in_the_file_rejects_the_later_rows_only(write_csv):
    rows = [citizen_row(), citizen_row(full_name="Người Khác"), citizen_row(full_name="Người Thứ Ba")]

    result = run_import("citizens", write_csv(CITIZEN_HEADER, rows))

    assert (result.created, result.rejected) == (1, 2)
    assert [(p.code, p.row, p.column) for p in result.errors] == [
        ("DUPLICATE_KEY", 3, "personal_id"),
        ("DUPLICATE_KEY", 4, "personal_id"),
    ]
    assert Citizen.objects.get().full_name == "Nguyễn Văn An"


def test_duplicates_are_found_across_batches(write_csv):
    rows = [citizen_row(f"0010900{i:05d}") for i in range(5)] + [citizen_row("001090000001")]

    result = run_import("citizens", write_csv(CITIZEN_HEADER, rows), batch_size=2)

    assert (result.created, result.rejected) == (5, 1)
    assert codes(result) == ["DUPLICATE_KEY"]


@pytest.mark.parametrize(
    ("column", "value", "code"),
    [
        ("personal_id", "1090001234", "PERSONAL_ID_INVALID"),
        ("personal_id", "00109000123A", "PERSONAL_ID_INVALID"),
        ("personal_id", "", "VALUE_REQUIRED"),
        ("full_name", "", "VALUE_REQUIRED"),
        ("full_name", "A" * 256, "VALUE_TOO_LONG"),
        ("birth_date", "31/02/1990", "BIRTH_DATE_INVALID"),
        ("birth_date", "năm 1990", "BIRTH_DATE_INVALID"),
        ("birth_date", "", "VALUE_REQUIRED"),
        ("birth_date", "2199", "BIRTH_DATE_IN_FUTURE"),
        ("sex", "M", "SEX_INVALID"),
        ("sex", "", "VALUE_REQUIRED"),
        ("phone", "không có", "PHONE_INVALID"),
        ("phone", "12345", "PHONE_INVALID"),
        ("province_code", "HCM", "PROVINCE_CODE_INVALID"),
        ("commune_code", "267", "COMMUNE_CODE_INVALID"),
        ("ethnicity", "K" * 51, "VALUE_TOO_LONG"),
        ("representative_personal_id", "12345", "PERSONAL_ID_INVALID"),
        ("representative_personal_id", "079190001234", "REPRESENTATIVE_SELF"),
    ],
)
def test_each_bad_value_rejects_the_row_with_its_line_column_code_and_message(write_csv, column, value, code):
    bad = list(MOTHER)
    bad[FULL_HEADER.index(column)] = value
    child = list(CHILD)
    child[FULL_HEADER.index("representative_personal_id")] = ""

    result = run_import("citizens", write_csv(FULL_HEADER, [child, bad]))

    assert (result.created, result.rejected, result.exit_status) == (1, 1, 1)
    [error] = list(result.errors)
    assert (error.code, error.row, error.column, error.value) == (code, 3, column, value)
    assert error.message and error.message != code
    assert not Citizen.objects.filter(full_name="Nguyễn Thị Hương").exists()


def test_a_row_with_several_bad_values_reports_each_of_them(write_csv):
    result = run_import("citizens", write_csv(CITIZEN_HEADER, [["12", "", "31/02/1990", "X"]]))

    assert result.rejected == 1
    assert sorted((p.column, p.code) for p in result.errors) == [
        ("birth_date", "BIRTH_DATE_INVALID"),
        ("full_name", "VALUE_REQUIRED"),
        ("personal_id", "PERSONAL_ID_INVALID"),
        ("sex", "SEX_INVALID"),
    ]


def test_a_row_with_too_few_or_too_many_fields_is_rejected(write_csv):
    rows = [citizen_row()[:3], [*citizen_row("001190005678"), "extra"], citizen_row("001090009999")]

    result = run_import("citizens", write_csv(CITIZEN_HEADER, rows))

    assert (result.created, result.rejected) == (1, 2)
    assert [(p.code, p.row, p.column) for p in result.errors] == [
        ("ROW_FIELD_COUNT", 2, None),
        ("ROW_FIELD_COUNT", 3, None),
    ]


def test_a_personal_id_that_disagrees_with_sex_or_birth_year_loads_with_warnings(write_csv):
    # 0 = male born in the 1900s, 85 = 1985; the register says female, born 1990.
    result = run_import(
        "citizens", write_csv(CITIZEN_HEADER, [citizen_row("001085001234", birth_date="1990", sex="2")])
    )

    assert (result.created, result.exit_status) == (1, 0)
    assert sorted(warning_codes(result)) == ["PERSONAL_ID_BIRTH_YEAR_MISMATCH", "PERSONAL_ID_SEX_MISMATCH"]


def test_a_representative_listed_later_in_the_file_is_still_linked(write_csv):
    result = run_import("citizens", write_csv(FULL_HEADER, [CHILD, MOTHER]), batch_size=1)

    assert (result.created, result.exit_status) == (2, 0)
    assert Citizen.objects.get(personal_id="079215004321").representative.personal_id == "079190001234"


def test_a_representative_missing_from_the_register_is_a_warning_and_the_row_loads_unlinked(write_csv):
    path = write_csv(FULL_HEADER, [CHILD])

    result = run_import("citizens", path)

    assert (result.created, result.exit_status) == (1, 0)
    [warning] = list(result.warnings)
    assert (warning.code, warning.row, warning.column, warning.value) == (
        "REPRESENTATIVE_NOT_FOUND",
        2,
        "representative_personal_id",
        "079190001234",
    )
    assert Citizen.objects.get().representative is None

    again = run_import("citizens", path)
    assert (again.unchanged, again.updated) == (1, 0)
    assert warning_codes(again) == ["REPRESENTATIVE_NOT_FOUND"]


def test_a_representative_that_changes_alone_counts_as_an_update(write_csv):
    father = ["079090002222", "Trần Văn Bình", "1990", "1", "", "", "", "", "", "", "", "", ""]
    run_import("citizens", write_csv(FULL_HEADER, [MOTHER, father, CHILD]))
    child = list(CHILD)
    child[FULL_HEADER.index("representative_personal_id")] = "079090002222"

    result = run_import("citizens", write_csv(FULL_HEADER, [MOTHER, father, child]))

    assert (result.updated, result.unchanged) == (1, 2)
    assert Citizen.objects.get(personal_id="079215004321").representative.personal_id == "079090002222"


def test_an_empty_representative_cell_removes_the_link(write_csv):
    run_import("citizens", write_csv(FULL_HEADER, [MOTHER, CHILD]))
    child = list(CHILD)
    child[FULL_HEADER.index("representative_personal_id")] = ""

    result = run_import("citizens", write_csv(FULL_HEADER, [MOTHER, child]))

    assert (result.updated, result.unchanged) == (1, 1)
    assert Citizen.objects.get(personal_id="079215004321").representative is None


def test_decomposed_vietnamese_text_is_stored_composed_and_spaces_are_collapsed(write_csv):
    decomposed = unicodedata.normalize("NFD", "Nguyễn   Thị Hương ")

    run_import("citizens", write_csv(CITIZEN_HEADER, [citizen_row("001190005678", decomposed, "1990", "2")]))

    assert Citizen.objects.get().full_name == "Nguyễn Thị Hương"


def test_small_batches_give_the_same_result_as_one_batch(write_csv):
    rows = [citizen_row(f"0010900{i:05d}", f"Người {i}") for i in range(7)] + [citizen_row("bad")]
    path = write_csv(CITIZEN_HEADER, rows)

    small = run_import("citizens", path, batch_size=3)

    assert (small.created, small.rejected) == (7, 1)
    assert Citizen.objects.count() == 7


def test_created_and_updated_citizens_are_announced_once_per_batch_and_unchanged_ones_are_not(write_csv):
    received: list[list[str]] = []

    def receiver(sender, personal_ids, **kwargs):
        received.append(sorted(personal_ids))

    citizens_imported.connect(receiver, dispatch_uid="test-receiver")
    try:
        run_import(
            "citizens", write_csv(CITIZEN_HEADER, [citizen_row(), citizen_row("001190005678", sex="2")])
        )
        rows = [
            citizen_row(full_name="Nguyễn Văn Ân"),
            citizen_row("001190005678", sex="2"),
            citizen_row("001090009999"),
        ]
        run_import("citizens", write_csv(CITIZEN_HEADER, rows), batch_size=2)
    finally:
        citizens_imported.disconnect(dispatch_uid="test-receiver")

    assert received == [["001090001234", "001190005678"], ["001090001234"], ["001090009999"]]
