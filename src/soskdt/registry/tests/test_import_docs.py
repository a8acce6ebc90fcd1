from __future__ import annotations

import re
from pathlib import Path

from soskdt.core.errors import catalogue
from soskdt.registry.csvio import IMPORT_CODES
from soskdt.registry.services import IMPORTERS

DOC = Path(__file__).resolve().parents[4] / "docs" / "registry-import.md"


def test_the_import_guide_lists_every_error_code_with_its_exact_message():
    text = DOC.read_text(encoding="utf-8")
    messages = catalogue()
    documented = set(re.findall(r"^\| `([A-Z_]+)` \| (?:file|row|warning) \|", text, flags=re.MULTILINE))

    assert documented == set(IMPORT_CODES)
    for code in IMPORT_CODES:
        assert f"| `{code}` |" in text and f"| {messages[code]} |" in text, code


def test_the_import_guide_documents_every_column_of_every_kind():
    text = DOC.read_text(encoding="utf-8")

    for kind, importer in IMPORTERS.items():
        section = text.split(f"### `{kind}`", 1)[1].split("\n### ", 1)[0]
        for column in importer.known_columns():
            assert f"| `{column}` | {'yes' if column in importer.required else 'no'} |" in section, (
                kind,
                column,
            )
