"""Every QĐ 130 field has a place: the map names only real fields, and line tables give nearly all a column."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from soskdt.healthbook import fieldmap as fm

CATALOGUE = Path(__file__).resolve().parents[2] / "ingestion" / "data" / "qd130-fields.json"
TABLES = [fm.VISIT, *(t for _a, t in fm.LINE_TABLES), *(t for _a, t in fm.DOCUMENT_TABLES)]

# Fields kept in the JSON ``extra`` of line tables instead of a column (decision 0004).
LINE_EXTRAS = {
    "XML2": {"MA_PP_CHEBIEN", "MA_CSKCB_THUOC", "VET_THUONG_TP", "DU_PHONG"},
    "XML3": {"VET_THUONG_TP", "DU_PHONG"},
    "XML4": {"DU_PHONG"},
    "XML5": {"DU_PHONG"},
}


def _catalogue_fields(table: str) -> set[str]:
    tables = json.loads(CATALOGUE.read_text(encoding="utf-8"))["tables"]
    return {f["name"] for f in tables[table]["fields"]}


@pytest.mark.parametrize("table", TABLES, ids=lambda t: t.table)
def test_the_map_names_only_fields_of_the_standard(table: fm.TableMap) -> None:
    unknown = {src for src, _col in table.pairs} - _catalogue_fields(table.table)
    assert not unknown


@pytest.mark.parametrize("table", [t for _a, t in fm.LINE_TABLES], ids=lambda t: t.table)
def test_line_tables_give_every_meaningful_field_a_column(table: fm.TableMap) -> None:
    without_column = _catalogue_fields(table.table) - table.known
    assert without_column == LINE_EXTRAS[table.table]


@pytest.mark.parametrize("table", TABLES, ids=lambda t: t.table)
def test_each_field_maps_to_one_column(table: fm.TableMap) -> None:
    sources = [src for src, _col in table.pairs]
    columns = [col for _src, col in table.pairs]
    assert len(set(sources)) == len(sources)
    assert len(set(columns)) == len(columns)
