"""The catalogue of problem codes: complete, documented, Vietnamese, and each code exercised by a test."""

from __future__ import annotations

import re
from pathlib import Path

from django.utils import translation

from soskdt.core.errors import catalogue
from soskdt.ingestion import errors
from soskdt.ingestion.tests import test_parser_error_codes, test_validation_error_codes

DOC = Path(__file__).resolve().parents[4] / "docs" / "ingestion-errors.md"
VIETNAMESE_LETTERS = re.compile(
    r"[ăâđêôơưáàảãạấầẩẫậắằẳẵặéèẻẽẹếềểễệíìỉĩịóòỏõọốồổỗộớờởỡợúùủũụứừửữựýỳỷỹỵ]", re.IGNORECASE
)


def test_every_code_has_a_test_that_triggers_exactly_it() -> None:
    covered = set(test_validation_error_codes.CASES) | test_parser_error_codes.COVERED
    assert covered == set(errors.CODES)


def test_every_code_is_declared_with_a_vietnamese_message_and_an_english_meaning() -> None:
    declared = catalogue()
    with translation.override("vi"):
        for code, entry in errors.CODES.items():
            assert code in declared
            assert entry.severity in ("error", "warning")
            assert entry.scope in ("file", "visit", "record")
            assert entry.meaning and entry.example
            assert VIETNAMESE_LETTERS.search(entry.text()), code


def test_the_documentation_page_is_in_sync_with_the_catalogue() -> None:
    assert DOC.read_text(encoding="utf-8") == errors.render_markdown() + "\n", (
        "run: python -m soskdt.ingestion.errors > docs/ingestion-errors.md"
    )


def test_problem_messages_are_formatted_with_the_location() -> None:
    with translation.override("vi"):
        problem = errors.make_problem(
            "FIELD_TOO_LONG", table="XML1", row=1, field="HO_TEN", value="x" * 300, length=300, max=255
        )
    assert "HO_TEN" in problem.message and "255" in problem.message
    assert problem.value is not None and len(problem.value) <= 201
    assert problem.as_dict()["code"] == "FIELD_TOO_LONG"
