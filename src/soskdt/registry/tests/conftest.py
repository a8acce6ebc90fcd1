"""Fixtures for the registry tests."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from soskdt.registry.tests.helpers import csv_text


@pytest.fixture
def write_csv(tmp_path: Path) -> Callable[..., Path]:
    """Return a function writing ``header`` + ``rows`` to a fresh UTF-8 file and giving its path."""
    counter = iter(range(1_000_000))

    def write(
        header: Sequence[str], rows: Sequence[Sequence[Any]], *, encoding: str = "utf-8", delimiter: str = ","
    ) -> Path:
        path = tmp_path / f"file{next(counter)}.csv"
        path.write_bytes(csv_text(header, rows, delimiter).encode(encoding))
        return path

    return write
