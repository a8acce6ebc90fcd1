"""The raw archive: every submission stored as received, gzip-compressed, addressed by SHA-256."""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from django.conf import settings

CHUNK = 1024 * 1024


def archive_root() -> Path:
    root = Path(settings.ARCHIVE_ROOT)
    root.mkdir(parents=True, exist_ok=True)
    return root


def store(stream: BinaryIO, *, max_bytes: int | None = None) -> tuple[str, str, int]:
    """Copy ``stream`` into the archive; return (relative path, sha256 hex, size in bytes).

    Raises ``ValueError("FILE_TOO_LARGE")`` past ``max_bytes`` and leaves nothing behind.
    """
    root = archive_root()
    digest = hashlib.sha256()
    size = 0
    fd, tmp_name = tempfile.mkstemp(dir=root, suffix=".part")
    try:
        with os.fdopen(fd, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=5) as gz:
            while chunk := stream.read(CHUNK):
                size += len(chunk)
                if max_bytes is not None and size > max_bytes:
                    raise ValueError("FILE_TOO_LARGE")
                digest.update(chunk)
                gz.write(chunk)
        sha = digest.hexdigest()
        relative = Path(sha[:2]) / f"{sha}.xml.gz"
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            os.unlink(tmp_name)
        else:
            os.replace(tmp_name, target)
        return str(relative), sha, size
    except BaseException:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)
        raise


@contextmanager
def open_archived(relative_path: str) -> Iterator[BinaryIO]:
    """Open an archived submission for reading, decompressed."""
    with gzip.open(archive_root() / relative_path, "rb") as handle:
        yield handle  # type: ignore[misc]


def copy_out(relative_path: str, destination: Path) -> None:
    with open_archived(relative_path) as src, open(destination, "wb") as dst:
        shutil.copyfileobj(src, dst, CHUNK)
