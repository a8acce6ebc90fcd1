from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

from soskdt import cli
from soskdt.registry.models import Citizen
from soskdt.registry.tests.helpers import CITIZEN_HEADER, citizen_row

pytestmark = pytest.mark.django_db

JSON_KEYS = {
    "file",
    "kind",
    "strict",
    "rows",
    "created",
    "updated",
    "unchanged",
    "rejected",
    "errors",
    "warnings",
}


def run_command(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command("registry", *args, stdout=out)
    except SystemExit as exit_:
        return int(exit_.code or 0), out.getvalue()
    return 0, out.getvalue()


def test_a_good_file_exits_0_with_a_vietnamese_summary(write_csv):
    status, output = run_command("import", "citizens", str(write_csv(CITIZEN_HEADER, [citizen_row()])))

    assert status == 0
    assert "Nhập công dân từ tệp" in output
    assert "thêm mới: 1" in output and "Hoàn tất: mọi dòng đã được nạp." in output


def test_rejected_rows_exit_1_and_are_listed_with_line_and_column(write_csv):
    status, output = run_command(
        "import", "citizens", str(write_csv(CITIZEN_HEADER, [citizen_row(), citizen_row("123")]))
    )

    assert status == 1
    assert (
        "Dòng 3, cột personal_id — [PERSONAL_ID_INVALID] Số định danh cá nhân phải gồm đúng 12 chữ số."
        in output
    )
    assert "bị từ chối: 1" in output


def test_json_output_is_one_object_with_counts_errors_and_warnings(write_csv):
    rows = [citizen_row(), citizen_row("123"), citizen_row("001085009999", birth_date="1990")]
    path = write_csv(CITIZEN_HEADER, rows)

    status, output = run_command("import", "citizens", str(path), "--json")

    assert status == 1
    report = json.loads(output)
    assert set(report) == JSON_KEYS
    assert (report["file"], report["kind"], report["rows"], report["created"], report["rejected"]) == (
        str(path),
        "citizens",
        3,
        2,
        1,
    )
    assert report["errors"] == [
        {
            "line": 3,
            "column": "personal_id",
            "code": "PERSONAL_ID_INVALID",
            "message": "Số định danh cá nhân phải gồm đúng 12 chữ số.",
            "value": "123",
        }
    ]
    assert [w["code"] for w in report["warnings"]] == ["PERSONAL_ID_BIRTH_YEAR_MISMATCH"]


def test_json_of_a_second_import_reports_every_row_unchanged(write_csv):
    path = str(write_csv(CITIZEN_HEADER, [citizen_row()]))
    run_command("import", "citizens", path, "--json")

    status, output = run_command("import", "citizens", path, "--json")

    assert status == 0
    assert json.loads(output) | {"errors": [], "warnings": []} == {
        "file": path, "kind": "citizens", "strict": False, "rows": 1, "created": 0, "updated": 0,
        "unchanged": 1, "rejected": 0, "errors": [], "warnings": [],
    }  # fmt: skip


def test_a_file_in_the_wrong_encoding_exits_2_and_names_the_line(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("personal_id,full_name,birth_date,sex\n001090001234,Lê Văn,1990,1\n".encode("cp1258"))

    status, output = run_command("import", "citizens", str(path), "--json")

    assert status == 2
    [error] = json.loads(output)["errors"]
    assert (error["code"], error["line"]) == ("FILE_ENCODING_INVALID", 2)


def test_a_missing_column_exits_2_with_a_human_message(write_csv):
    status, output = run_command("import", "citizens", str(write_csv(["personal_id"], [["001090001234"]])))

    assert status == 2
    assert "Thiếu cột bắt buộc “full_name” trong dòng tiêu đề." in output
    assert "Không nhập được tệp" in output


def test_strict_flag_loads_nothing_when_a_row_is_bad(write_csv):
    path = str(write_csv(CITIZEN_HEADER, [citizen_row(), citizen_row("123")]))

    status, output = run_command("import", "citizens", path, "--strict")

    assert status == 1
    assert "Chế độ --strict: tệp có lỗi nên không nạp dòng nào." in output
    assert not Citizen.objects.exists()


def test_an_unknown_kind_is_a_usage_error():
    with pytest.raises(CommandError):
        call_command("registry", "import", "people", "x.csv")


def test_the_soskdt_console_command_returns_the_exit_status(write_csv, capsys):
    good = str(write_csv(CITIZEN_HEADER, [citizen_row()]))
    bad = str(write_csv(CITIZEN_HEADER, [citizen_row("123")]))

    # System checks cover other apps' models; they are not what this test is about.
    assert cli.main(["registry", "--skip-checks", "import", "citizens", good, "--batch-size", "1"]) == 0
    assert cli.main(["registry", "--skip-checks", "import", "citizens", bad, "--json"]) == 1
    assert json.loads(capsys.readouterr().out.splitlines()[-1])["rejected"] == 1
