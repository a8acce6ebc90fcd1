"""The raw archive: every submission stored as received, gzip-compressed, addressed by SHA-256."""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import tempfile
import zlib
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from django.conf import settings

CHUNK = 1024 * 1024
# Level 1: QĐ 130 files (base64 inside XML) still shrink to about a third, at several times the speed of the
# default; archiving sits on the path of every submission.
COMPRESS_LEVEL = 1
#: Chunks are compressed on this many threads at once (zlib releases the GIL), each chunk into a gzip member of
#: its own: a file of several members is one gzip file for gzip, zcat and Python's gzip module alike, and
#: members of 1 MiB compress as well as one stream to within a few bytes each.
COMPRESS_THREADS = max(1, min(4, os.cpu_count() or 1))


def archive_root() -> Path:
    root = Path(settings.ARCHIVE_ROOT)
    root.mkdir(parents=True, exist_ok=True)
    return root


def store(stream: BinaryIO, *, max_bytes: int | None = None) -> tuple[str, str, int]:
    """Copy ``stream`` into the archive; return (relative path, sha256 hex, size in bytes).

    The file is on disk (fsync'ed) before this returns, so a submission row never points at a file a power
    cut could lose. Compression runs on other threads while this one reads and hashes (zlib and hashlib
    release the GIL). Raises ``ValueError("FILE_TOO_LARGE")`` past ``max_bytes`` and leaves nothing behind.
    """
    root = archive_root()
    digest = hashlib.sha256()
    size = 0
    fd, tmp_name = tempfile.mkstemp(dir=root, suffix=".part")
    try:
        with os.fdopen(fd, "wb") as raw:
            with _Compressor(raw) as compressor:
                while chunk := stream.read(CHUNK):
                    size += len(chunk)
                    if max_bytes is not None and size > max_bytes:
                        raise ValueError("FILE_TOO_LARGE")
                    compressor.write(chunk)
                    digest.update(chunk)
            raw.flush()
            os.fsync(raw.fileno())
        sha = digest.hexdigest()
        relative = Path(sha[:2]) / f"{sha}.xml.gz"
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            os.unlink(tmp_name)
        else:
            os.replace(tmp_name, target)
            _fsync_directory(target.parent)
        return str(relative), sha, size
    except BaseException:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)
        raise


def _member(chunk: bytes) -> bytes:
    return zlib.compress(chunk, COMPRESS_LEVEL, wbits=31)  # 31: with a gzip header and trailer


class _Compressor:
    """gzip-compress chunks into ``raw`` on COMPRESS_THREADS threads, in order; errors surface on ``write`` or exit."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self._pool = ThreadPoolExecutor(max_workers=COMPRESS_THREADS, thread_name_prefix="archive-gzip")
        self._pending: deque[Future[bytes]] = deque()
        self._members = 0

    def __enter__(self) -> _Compressor:
        return self

    def write(self, chunk: bytes) -> None:
        self._pending.append(self._pool.submit(_member, chunk))
        # Bounded memory: a few chunks in flight per thread.
        while len(self._pending) > 2 * COMPRESS_THREADS:
            self._write_next()

    def _write_next(self) -> None:
        self._raw.write(self._pending.popleft().result())
        self._members += 1

    def __exit__(self, *exc: object) -> None:
        try:
            if exc[0] is None:
                if not self._pending and not self._members:
                    self.write(b"")  # an empty file is still a gzip file
                while self._pending:
                    self._write_next()
        finally:
            for future in self._pending:
                future.cancel()
            self._pool.shutdown(wait=True)


def _fsync_directory(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextmanager
def open_archived(relative_path: str) -> Iterator[BinaryIO]:
    """Open an archived submission for reading, decompressed."""
    with gzip.open(archive_root() / relative_path, "rb") as handle:
        yield handle  # type: ignore[misc]


def copy_out(relative_path: str, destination: Path) -> None:
    with open_archived(relative_path) as src, open(destination, "wb") as dst:
        shutil.copyfileobj(src, dst, CHUNK)
