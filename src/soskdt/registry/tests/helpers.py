"""Helpers for the registry tests: CSV text, rows with sensible defaults, importing."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from soskdt.registry.services import ImportResult, import_register

CITIZEN_HEADER = ["personal_id", "full_name", "birth_date", "sex"]
CARD_HEADER = [
    "code",
    "holder_personal_id",
    "full_name",
    "birth_date",
    "sex",
    "primary_care_facility_code",
    "valid_from",
    "valid_to",
]


def csv_text(header: Sequence[str], rows: Sequence[Sequence[Any]], delimiter: str = ",") -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def run_import(kind: str, path: Path, **options: Any) -> ImportResult:
    return import_register(kind=kind, path=path, **options)


def codes(result: ImportResult) -> list[str]:
    return [p.code for p in result.errors]


def warning_codes(result: ImportResult) -> list[str]:
    return [p.code for p in result.warnings]


def citizen_row(
    personal_id: str = "001090001234",
    full_name: str = "Nguyễn Văn An",
    birth_date: str = "15/03/1990",
    sex: str = "1",
) -> list[str]:
    return [personal_id, full_name, birth_date, sex]


def card_row(
    code: str = "GD4797912345678",
    holder: str = "079090001234",
    valid_from: str = "01/01/2025",
    valid_to: str = "31/12/2025",
    *,
    full_name: str = "Nguyễn Văn An",
    birth_date: str = "15/03/1990",
    sex: str = "1",
    facility: str = "79048",
) -> list[str]:
    return [code, holder, full_name, birth_date, sex, facility, valid_from, valid_to]
