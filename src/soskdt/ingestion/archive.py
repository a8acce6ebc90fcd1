"""The raw archive: every submission stored as received, gzip-compressed, addressed by SHA-256."""

from __future__ import annotations

import gzip
import hashlib
import os
import queue
import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from django.conf import settings

CHUNK = 1024 * 1024
# Level 1: QĐ 130 files (base64 inside XML) still shrink to about a third, at several times the speed of the
# default; archiving sits on the path of every submission.
COMPRESS_LEVEL = 1


def archive_root() -> Path:
    root = Path(settings.ARCHIVE_ROOT)
    root.mkdir(parents=True, exist_ok=True)
    return root


def store(stream: BinaryIO, *, max_bytes: int | None = None) -> tuple[str, str, int]:
    """Copy ``stream`` into the archive; return (relative path, sha256 hex, size in bytes).

    The file is on disk (fsync'ed) before this returns, so a submission row never points at a file a power
    cut could lose. Compression runs in a second thread while this one reads and hashes (zlib and hashlib
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


class _Compressor:
    """gzip-compress chunks into ``raw`` in a background thread; errors surface on ``write`` or exit."""

    def __init__(self, raw: BinaryIO) -> None:
        self._gz = gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=COMPRESS_LEVEL)
        self._chunks: queue.Queue[bytes | None] = queue.Queue(maxsize=4)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="archive-gzip", daemon=True)

    def _run(self) -> None:
        try:
            while (chunk := self._chunks.get()) is not None:
                self._gz.write(chunk)
            self._gz.close()
        except BaseException as exc:  # reported to the writer
            self._error = exc
            while self._chunks.get() is not None:  # let the writer finish putting
                pass

    def __enter__(self) -> _Compressor:
        self._thread.start()
        return self

    def write(self, chunk: bytes) -> None:
        if self._error is not None:
            raise self._error
        self._chunks.put(chunk)

    def __exit__(self, *exc: object) -> None:
        self._chunks.put(None)
        self._thread.join()
        if self._error is not None and exc[0] is None:
            raise self._error


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
