from __future__ import annotations

import pytest

from soskdt.registry.csvio import MAX_LINE_BYTES
from soskdt.registry.models import Citizen
from soskdt.registry.tests.helpers import (
    CITIZEN_HEADER,
    citizen_row,
    codes,
    csv_text,
    run_import,
    warning_codes,
)

pytestmark = pytest.mark.django_db

GOOD_ROWS = [citizen_row(), citizen_row("001190005678", "Trần Thị Bình", "1990", "2")]


def test_a_file_saved_in_windows_1258_is_refused_with_the_line_where_decoding_failed(tmp_path):
    # The first rows are plain ASCII (valid UTF-8 too); the accents on line 4 are single cp1258 bytes.
    text = csv_text(
        CITIZEN_HEADER,
        [citizen_row(f"0010900{i:05d}", "Nguyen Van An") for i in range(2)]
        + [citizen_row(full_name="Lê Văn Hùng")],
    )
    path = tmp_path / "cp1258.csv"
    path.write_bytes(text.encode("cp1258"))

    result = run_import("citizens", path)

    assert (result.exit_status, result.rows) == (2, 0)
    [error] = list(result.errors)
    assert (error.code, error.row) == ("FILE_ENCODING_INVALID", 4)
    assert "dòng 4" in error.message
    assert not Citizen.objects.exists()


def test_a_bad_byte_deep_in_a_file_leaves_nothing_loaded(tmp_path):
    rows = [citizen_row(f"0010900{i:05d}") for i in range(50)]
    path = tmp_path / "late.csv"
    path.write_bytes(csv_text(CITIZEN_HEADER, rows).encode() + b"001090099999,Ng\xe9 Van,1990,1\n")

    result = run_import("citizens", path, batch_size=10)

    assert result.exit_status == 2
    assert [(p.code, p.row) for p in result.errors] == [("FILE_ENCODING_INVALID", 52)]
    assert not Citizen.objects.exists()


def test_a_latin_1_or_utf_16_file_is_refused(tmp_path):
    latin = tmp_path / "latin.csv"
    latin.write_bytes(
        csv_text(CITIZEN_HEADER, [citizen_row(full_name="Nguyễn Văn An")])
        .encode("utf-8")
        .replace("ễ".encode(), b"\xea")
    )
    utf16 = tmp_path / "utf16.csv"
    utf16.write_bytes(csv_text(CITIZEN_HEADER, GOOD_ROWS).encode("utf-16"))

    assert codes(run_import("citizens", latin)) == ["FILE_ENCODING_INVALID"]
    result = run_import("citizens", utf16)
    assert [(p.code, p.row) for p in result.errors] == [("FILE_ENCODING_INVALID", 1)]


def test_a_byte_order_mark_is_accepted(write_csv):
    result = run_import("citizens", write_csv(CITIZEN_HEADER, GOOD_ROWS, encoding="utf-8-sig"))

    assert (result.created, result.exit_status) == (2, 0)


def test_a_semicolon_separated_file_from_vietnamese_excel_is_accepted(write_csv):
    rows = [citizen_row(full_name="Nguyễn Văn An, con")]

    result = run_import("citizens", write_csv(CITIZEN_HEADER, rows, delimiter=";"))

    assert (result.created, result.exit_status) == (1, 0)
    assert Citizen.objects.get().full_name == "Nguyễn Văn An, con"


def test_crlf_line_endings_header_case_and_column_order_do_not_matter(tmp_path):
    path = tmp_path / "crlf.csv"
    path.write_bytes(
        b"Sex,BIRTH_DATE, Full_Name ,personal_id\r\n1,1990,Nguy\xe1\xbb\x85n V\xc4\x83n An,001090001234\r\n"
    )

    result = run_import("citizens", path)

    assert (result.created, result.exit_status) == (1, 0)
    assert Citizen.objects.get().full_name == "Nguyễn Văn An"


def test_missing_required_columns_refuse_the_file_and_name_each_column(write_csv):
    result = run_import(
        "citizens", write_csv(["personal_id", "full_name"], [["001090001234", "Nguyễn Văn An"]])
    )

    assert result.exit_status == 2
    assert [(p.code, p.row, p.column) for p in result.errors] == [
        ("COLUMN_MISSING", 1, "birth_date"),
        ("COLUMN_MISSING", 1, "sex"),
    ]
    assert not Citizen.objects.exists()


def test_a_repeated_column_refuses_the_file(write_csv):
    result = run_import("citizens", write_csv([*CITIZEN_HEADER, "full_name"], [[*citizen_row(), "X"]]))

    assert (result.exit_status, codes(result)) == (2, ["COLUMN_DUPLICATED"])


def test_an_unknown_column_is_ignored_with_a_warning(write_csv):
    result = run_import("citizens", write_csv([*CITIZEN_HEADER, "ghi_chu"], [[*citizen_row(), "bất kỳ"]]))

    assert (result.created, result.exit_status) == (1, 0)
    assert warning_codes(result) == ["COLUMN_UNKNOWN"]


def test_an_empty_file_is_refused_and_a_header_alone_loads_nothing(tmp_path, write_csv):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"\n\n")

    assert (run_import("citizens", empty).exit_status, codes(run_import("citizens", empty))) == (
        2,
        ["FILE_EMPTY"],
    )
    header_only = run_import("citizens", write_csv(CITIZEN_HEADER, []))
    assert (header_only.rows, header_only.exit_status) == (0, 0)


def test_a_missing_file_or_a_directory_is_unreadable(tmp_path):
    assert codes(run_import("citizens", tmp_path / "nope.csv")) == ["FILE_UNREADABLE"]
    assert run_import("citizens", tmp_path).exit_status == 2


def test_an_unbalanced_quote_is_a_malformed_file(tmp_path):
    path = tmp_path / "quote.csv"
    path.write_text(
        'personal_id,full_name,birth_date,sex\n001090001234,"Nguyễn" Văn,1990,1\n', encoding="utf-8"
    )

    result = run_import("citizens", path)

    assert [(p.code, p.row) for p in result.errors] == [("CSV_MALFORMED", 2)]
    assert not Citizen.objects.exists()


def test_a_line_longer_than_the_limit_is_a_malformed_file_not_a_memory_spike(tmp_path):
    path = tmp_path / "long.csv"
    path.write_bytes(
        b"personal_id,full_name,birth_date,sex\n001090001234," + b"A" * MAX_LINE_BYTES + b",1990,1\n"
    )

    result = run_import("citizens", path)

    assert [(p.code, p.row) for p in result.errors] == [("CSV_MALFORMED", 2)]


def test_blank_lines_are_skipped_and_quoted_line_breaks_keep_line_numbers_physical(tmp_path):
    path = tmp_path / "lines.csv"
    path.write_text(
        "personal_id,full_name,birth_date,sex,address\n"
        "\n"
        '001090001234,Nguyễn Văn An,1990,1,"12 Lê Lợi\nphường Bến Thành"\n'
        ",,,,\n"
        "bad,Trần Thị Bình,1990,2,\n",
        encoding="utf-8",
    )

    result = run_import("citizens", path)

    assert (result.rows, result.created, result.rejected) == (2, 1, 1)
    assert [(p.code, p.row) for p in result.errors] == [("PERSONAL_ID_INVALID", 6)]
    assert Citizen.objects.get().address == "12 Lê Lợi phường Bến Thành"


def test_a_nul_byte_is_refused_before_it_reaches_the_database(tmp_path):
    path = tmp_path / "nul.csv"
    path.write_bytes(b"personal_id,full_name,birth_date,sex\n001090001234,An\x00,1990,1\n")

    result = run_import("citizens", path)

    assert [(p.code, p.row) for p in result.errors] == [("FILE_ENCODING_INVALID", 2)]
