"""Parse helpers share one reading of the file: whatever the mix of HOSO, the outcome is the serial one, in order."""

from __future__ import annotations

import multiprocessing
import re
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from soskdt.healthbook.models import Visit
from soskdt.ingestion import samples, services
from soskdt.ingestion.models import SubmissionSource, SubmissionVisit
from soskdt.ingestion.tests.test_pipeline import (  # noqa: F401 - isolated_archive is an autouse fixture
    FACILITY,
    facility,
    isolated_archive,
    specs,
    tables_with,
)

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="needs fork"),
]

_HOSO = re.compile(rb"<HOSO>.*?</HOSO>", re.S)


def mixed_file(path: Path, n: int, embedded: set[int]) -> Path:
    """``n`` visits, base64 except the HOSO at the 1-based positions in ``embedded`` (un-encoded XML)."""
    facility()
    visits: list[Any] = specs(n)
    visits[3] = tables_with(visits[3], "XML1", NGAY_RA="2025")  # one visit is rejected
    plain = samples.build_envelope(FACILITY, visits)
    inline = _HOSO.findall(samples.build_envelope(FACILITY, visits, encoding="embedded"))
    parts: list[bytes] = []
    end = 0
    for position, match in enumerate(_HOSO.finditer(plain), start=1):
        parts += [
            plain[end : match.start()],
            inline[position - 1] if position in embedded else match.group(0),
        ]
        end = match.end()
    path.write_bytes(b"".join([*parts, plain[end:]]))
    return path


def outcome(path: Path, **kw: Any) -> tuple[Any, list[Any]]:
    with path.open("rb") as handle:
        received = services.receive_file(stream=handle, file_name=path.name, source=SubmissionSource.CLI)
    done = services.process_submission(submission_id=received.pk, batch_size=4, **kw)
    rows = list(
        SubmissionVisit.objects.filter(submission=done)
        .order_by("index")
        .values_list("index", "ma_lk", "outcome", "errors", "warnings")
    )
    counts = (done.visits_total, done.visits_accepted, done.visits_unchanged, done.visits_rejected)
    return counts, rows


@pytest.fixture
def deadline() -> Iterator[None]:
    """Fail instead of hanging if the helpers ever wait on each other in a circle."""

    def expired(*_args: Any) -> None:
        raise TimeoutError("the parse helpers stopped making progress")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(120)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.mark.parametrize("helpers", [1, 2, 3])
def test_embedded_and_base64_hoso_give_the_serial_outcome_whatever_the_helpers(
    tmp_path: Path, helpers: int, deadline: None
) -> None:
    path = mixed_file(tmp_path / "mixed.xml", 13, embedded={2, 5, 6, 7, 11})
    serial = outcome(path, helpers=0)
    Visit.objects.all().delete()
    parallel = outcome(path, helpers=helpers)
    assert parallel == serial
    assert serial[0][0] == 13 and serial[0][3] >= 1


def test_a_long_run_of_hoso_read_in_place_never_blocks_the_helpers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, deadline: None
) -> None:
    # Tiny queues, and helper 1's share embedded (read by helper 0) except its first HOSO: helper 0 makes many
    # items of its own while helper 1 still owes HOSO 1, which this process needs first.
    monkeypatch.setattr(services, "_CHUNK", 2)
    monkeypatch.setattr(services, "_QUEUE_CHUNKS", 3)  # > _CHUNK / _HAND_OFF_CHUNK + 1 (see services)
    monkeypatch.setattr(services, "_HAND_OFF_CHUNK", 2)
    monkeypatch.setattr(services, "_HAND_OFF_CHUNKS", 1)
    path = mixed_file(tmp_path / "mixed.xml", 24, embedded=set(range(3, 25, 2)))
    serial = outcome(path, helpers=0)
    Visit.objects.all().delete()
    assert outcome(path, helpers=2) == serial
