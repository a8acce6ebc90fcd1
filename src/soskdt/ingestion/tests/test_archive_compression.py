"""The archive compresses on several threads and still holds one gzip file, byte for byte what was received."""

from __future__ import annotations

import gzip
import hashlib
import io
import random
from pathlib import Path
from typing import Any

import pytest

from soskdt.ingestion import archive


@pytest.fixture(autouse=True)
def isolated_archive(tmp_path: Path, settings: Any) -> Path:
    settings.ARCHIVE_ROOT = tmp_path / "archive"
    return Path(settings.ARCHIVE_ROOT)


def _content(size: int) -> bytes:
    rng = random.Random(7)
    words = [b"<MA_LK>", b"</MA_LK>", b"PD94bWwgdmVyc2lvbj0i", b"\n", b"Nguy\xe1\xbb\x85n", b"79048"]
    out = bytearray()
    while len(out) < size:
        out += rng.choice(words) + str(rng.randint(0, 10**6)).encode()
    return bytes(out[:size])


def test_a_file_of_many_chunks_comes_back_whole(isolated_archive: Path) -> None:
    data = _content(5 * archive.CHUNK + 12345)
    relative, sha, size = archive.store(io.BytesIO(data))
    stored = isolated_archive / relative
    assert (sha, size) == (hashlib.sha256(data).hexdigest(), len(data))
    assert gzip.decompress(stored.read_bytes()) == data
    with archive.open_archived(relative) as handle:
        assert handle.read() == data
    assert stored.stat().st_size < len(data) / 2
    assert not list(isolated_archive.glob("*.part"))


def test_an_empty_file_is_archived_as_an_empty_gzip_file(isolated_archive: Path) -> None:
    relative, _sha, size = archive.store(io.BytesIO(b""))
    assert size == 0
    assert gzip.decompress((isolated_archive / relative).read_bytes()) == b""


class _Broken(io.RawIOBase):
    def __init__(self) -> None:
        self.calls = 0

    def read(self, n: int = -1) -> bytes:
        self.calls += 1
        if self.calls > 3:
            raise OSError("connection reset")
        return b"x" * archive.CHUNK


def test_a_stream_that_fails_midway_leaves_nothing_behind(isolated_archive: Path) -> None:
    with pytest.raises(OSError, match="connection reset"):
        archive.store(_Broken())  # type: ignore[arg-type]
    assert not [p for p in isolated_archive.rglob("*") if p.is_file()]


def test_a_file_over_the_limit_is_refused_and_leaves_nothing_behind(isolated_archive: Path) -> None:
    with pytest.raises(ValueError, match="FILE_TOO_LARGE"):
        archive.store(io.BytesIO(_content(3 * archive.CHUNK)), max_bytes=2 * archive.CHUNK)
    assert not [p for p in isolated_archive.rglob("*") if p.is_file()]
