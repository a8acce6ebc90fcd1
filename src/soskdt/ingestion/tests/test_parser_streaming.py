"""A large file is read HOSO by HOSO: peak memory stays small and does not grow with the file."""

from __future__ import annotations

import random
import tracemalloc
from pathlib import Path

import pytest

from soskdt.ingestion import samples
from soskdt.ingestion.parser import iter_visits
from soskdt.ingestion.records import ParsedVisit
from soskdt.ingestion.validation import validate_visit


def _write(path: Path, count: int) -> None:
    rng = random.Random(8)
    pool = [
        samples.visit_tables(samples.random_visit(rng, kind="chronic_refill", drugs=1, services=0), "79048")
        for _ in range(100)
    ]
    with path.open("wb") as handle:
        # Written visit by visit: the file never exists in memory either.
        samples.write_envelope(handle, "79048", (pool[i % len(pool)] for i in range(count)), count=count)


def _peak_while_reading(path: Path) -> tuple[int, int]:
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        visits = 0
        for item in iter_visits(path):
            assert isinstance(item, ParsedVisit), item
            visits += 1
            if visits % 25 == 0:  # the validator's caches are bounded too
                assert validate_visit(item).is_valid
        return visits, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.slow
def test_peak_memory_is_bounded_and_does_not_grow_with_the_file(tmp_path: Path) -> None:
    small, large = tmp_path / "small.xml", tmp_path / "large.xml"
    _write(small, 2_000)
    _write(large, 20_000)
    assert large.stat().st_size > 9 * small.stat().st_size
    count_small, peak_small = _peak_while_reading(small)
    count_large, peak_large = _peak_while_reading(large)
    assert (count_small, count_large) == (2_000, 20_000)
    assert peak_large < 8 * 1024 * 1024
    assert peak_large < peak_small * 1.5 + 512 * 1024


def test_elements_already_read_are_released(tmp_path: Path) -> None:
    path = tmp_path / "f.xml"
    _write(path, 300)
    stream = iter_visits(path)
    seen = 0
    for item in stream:
        assert isinstance(item, ParsedVisit)
        seen += 1
    assert seen == 300 and stream.envelope.complete
