"""The renderer's quick path for plain rows writes exactly the line its general path writes, for any row."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

import pytest
from django.db import models

from soskdt.healthbook import fieldmap as fm
from soskdt.healthbook.tests.factories import make_visit_input

TABLES = {t.table: (attr, t) for attr, t in (("summary", fm.VISIT), *fm.LINE_TABLES, *fm.DOCUMENT_TABLES)}
ODD_VALUES: list[Any] = [
    None,
    "",
    "x",
    "a\tb",
    "a\nb",
    "a\rb",
    "a\\b",
    "\\N",
    "y" * 300,
    0,
    5,
    -1,
    40_000,
    2**40,
    True,
    1.5,
    Decimal("1.50"),
    Decimal("NaN"),
    Decimal("1E+3"),
    dt.datetime(2025, 1, 2, 3, 4),
    dt.datetime(2025, 1, 2, 3, 4, tzinfo=dt.UTC),
    dt.date(2025, 1, 2),
    "202501020304",
    "20250102",
    "04",
    "99999",
    "٣",
    " 4",
    "2147483648",
    ["J15.9", "I10"],
    ["x\ty"],
    ["a" * 300],
    ["A", 1],
    [],
    [dt.date(2025, 1, 1)],
]


def _rows(attr: str, table: fm.TableMap) -> list[dict[str, Any]]:
    visit = make_visit_input(drugs=3, services=4, results=4, notes=2)
    found = getattr(visit, attr)
    rows = [dict(found)] if isinstance(found, dict) else [dict(row) for row in found or ()]
    # And a row of mapped fields only, each of its column's type (the papers repeat fields kept in extra).
    plain: dict[str, Any] = {"MA_LK": "LK000001", **({"STT": 1} if table.numbered else {})}
    for (src, _column), field in zip(table.pairs, table.fields, strict=True):
        if isinstance(field, models.DateTimeField):
            plain[src] = dt.datetime(2025, 3, 10, 8, 30)
        elif isinstance(field, models.DateField):
            plain[src] = dt.date(2025, 3, 10)
        elif isinstance(field, models.DecimalField):
            plain[src] = Decimal("1.5")
        elif isinstance(field, models.PositiveSmallIntegerField | models.PositiveIntegerField):
            plain[src] = 1
        else:
            plain[src] = "1"
    return [*rows, plain]


@pytest.mark.parametrize("name", TABLES)
def test_the_quick_path_renders_every_row_as_the_general_path(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    attr, table = TABLES[name]
    keys = {"MA_LK": "LK000001", "MA_CSKCB": "79048"}
    rng = random.Random(name)
    rows = _rows(attr, table)
    for base in list(rows):
        for _ in range(60):
            row = dict(base)
            for _change in range(rng.randint(1, 3)):
                if rng.random() < 0.8:
                    row[rng.choice([*row, "STT", "MA_LK", "MA_CSKCB", "NEW_FIELD"])] = rng.choice(ODD_VALUES)
                elif row:
                    del row[rng.choice(list(row))]
            rows.append(row)
    quick_lines = 0
    for position, row in enumerate(rows, start=1):
        quick: list[dict[str, Any]] = []
        line = table.render(row, keys=keys, position=position, problems=quick)
        quick_lines += _renders(table, row, keys)
        with monkeypatch.context() as patched:
            patched.setattr(table, "_render_plain", lambda row, keys: None)
            general: list[dict[str, Any]] = []
            assert table.render(row, keys=keys, position=position, problems=general) == line, row
        assert quick == general, row
    assert quick_lines  # the quick path was taken


def _renders(table: fm.TableMap, row: dict[str, Any], keys: dict[str, str]) -> bool:
    try:
        return table._render_plain(row, keys) is not None
    except fm.Unstorable:
        return False
