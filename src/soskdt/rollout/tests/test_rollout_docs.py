"""docs/rollout.md lists every error code of the roll-out tracker and the JSON keys of Appendix 1."""

from __future__ import annotations

from pathlib import Path

import pytest

from soskdt.core.errors import catalogue
from soskdt.rollout import services, xlsx
from soskdt.rollout.periods import Period

DOCS = Path(__file__).resolve().parents[4] / "docs" / "rollout.md"


def test_every_rollout_error_code_is_documented():
    text = DOCS.read_text(encoding="utf-8")
    declared = set(catalogue())
    codes = list(xlsx.IMPORT_CODES) + sorted(
        value for value in vars(services).values() if isinstance(value, str) and value.startswith("ROLLOUT_")
    )
    assert len(codes) > 20 and set(codes) <= declared
    assert [code for code in codes if f"`{code}`" not in text] == []


@pytest.mark.django_db
def test_every_json_key_of_a_report_is_documented(exam_unit):
    from soskdt.rollout.report import build_unit_report
    from soskdt.rollout.tests.conftest import add_staff

    add_staff(exam_unit)
    data = build_unit_report(exam_unit, Period(2024, 12)).to_json()
    text = DOCS.read_text(encoding="utf-8")
    keys = (
        set(data)
        | set(data["rows"][0])
        | set(data["reception"])
        | set(data["training"])
        | set(data["units"][0])
    )
    assert sorted(k for k in keys if k not in text) == []


@pytest.mark.django_db
def test_every_json_key_of_the_coverage_indicator_is_documented(org_tree):
    from soskdt.rollout.report import build_consolidated

    data = build_consolidated(org_tree.centre, Period(2024, 12)).to_json()
    text = DOCS.read_text(encoding="utf-8")
    keys = set(data["coverage"]) | set(data["coverage"]["system"])
    assert "coverage" in data and sorted(k for k in keys if k not in text) == []
