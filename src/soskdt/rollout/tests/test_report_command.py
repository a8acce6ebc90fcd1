"""``soskdt report appendix1``: each format is written and reads back; a wrong argument exits with status 2."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connections
from docx import Document
from openpyxl import load_workbook

from soskdt import cli
from soskdt.rollout.tests.export_data import PERIOD, ExportCase, make_export_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(org_tree, unit_reporter) -> ExportCase:
    return make_export_case(org_tree, unit_reporter)


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("report", "appendix1", *args, stdout=out)
    return out.getvalue()


@pytest.mark.parametrize("fmt", ["json", "xlsx", "docx", "pdf"])
def test_each_format_is_written_for_a_unit(case, tmp_path, fmt):
    target = tmp_path / f"bao-cao.{fmt}"
    code = case.tree.departments[0].code
    said = run("--unit", code, "--period", PERIOD.key, "--format", fmt, "-o", str(target))
    assert f"Đã ghi {target}" in said
    data = target.read_bytes()
    expected = case.unit_report().to_json()
    if fmt == "json":
        written = json.loads(data.decode("utf-8"))
        assert written["rows"] == expected["rows"] and written["totals"] == expected["totals"]
        assert "Khoa Khám bệnh" in data.decode("utf-8")  # ensure_ascii=False: readable Vietnamese
    elif fmt == "xlsx":
        assert load_workbook(io.BytesIO(data))["I.1 Kết quả"]["B7"].value == expected["rows"][0]["department"]
    elif fmt == "docx":
        text = "\n".join(p.text for p in Document(io.BytesIO(data)).paragraphs)
        assert "BÁO CÁO" in text
    else:
        assert data.startswith(b"%PDF-")


def test_consolidated_report_of_the_centre_and_the_format_taken_from_the_file_name(case, tmp_path):
    target = tmp_path / "tong-hop.json"
    run("--unit", case.tree.centre.code, "--consolidated", "--period", PERIOD.key, "-o", str(target))
    written = json.loads(target.read_text(encoding="utf-8"))
    assert written["scope"] == "consolidated"
    assert [u["code"] for u in written["units"]] == [
        case.tree.departments[0].code,
        case.tree.departments[1].code,
        case.tree.station.code,
    ]
    assert written["totals"] == case.consolidated().to_json()["totals"]


def test_an_unknown_unit_is_a_clear_vietnamese_error_with_status_2(db, tmp_path):
    with pytest.raises(CommandError, match="Không tìm thấy đơn vị có mã “KHONG-CO”") as raised:
        run("--unit", "KHONG-CO", "--period", "2025-01", "--format", "json", "-o", str(tmp_path / "x.json"))
    assert raised.value.returncode == 2
    assert not (tmp_path / "x.json").exists()


def test_the_console_command_exits_2_for_an_unknown_unit_and_0_when_written(
    case, tmp_path, capsys, monkeypatch
):
    # run_from_argv closes the database connections when the command ends, as a process would; the test's
    # transaction lives on that connection, so keep it open here.
    monkeypatch.setattr(connections, "close_all", lambda: None)
    status = cli.main(
        ["report", "appendix1", "--unit", "KHONG-CO", "--period", "2025-01", "--format", "json"]
    )
    assert status == 2
    assert "Không tìm thấy đơn vị có mã “KHONG-CO”" in capsys.readouterr().err
    target = tmp_path / "ok.docx"
    code = case.tree.departments[0].code
    assert cli.main(["report", "appendix1", "--unit", code, "--period", PERIOD.key, "-o", str(target)]) == 0
    assert target.stat().st_size > 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--period", "2025-13", "--format", "json"], "không hợp lệ: dùng dạng YYYY-MM"),
        (["--period", "2025-01", "-o", "bao-cao.txt"], "Chọn định dạng bằng --format"),
    ],
)
def test_a_bad_month_or_no_format_exits_2(case, tmp_path, args, message):
    code = case.tree.departments[0].code
    with pytest.raises(CommandError, match=message) as raised:
        run("--unit", code, *args)
    assert raised.value.returncode == 2


def test_a_centre_without_consolidated_is_refused(case):
    with pytest.raises(CommandError, match="thêm --consolidated") as raised:
        run("--unit", case.tree.centre.code, "--period", PERIOD.key, "--format", "json", "-o", "-")
    assert raised.value.returncode == 2
