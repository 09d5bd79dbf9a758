"""Streaming, atomic JSON output: files are written next to their final path and renamed into place at the end.

An export is written item by item (never as one dict in memory) into temporary files in the same
directory as the final paths. When the block succeeds every file is flushed, synced and renamed with
``os.replace`` (atomic on one filesystem); when it fails every temporary file is removed. So a failed
export never leaves a partial file at a final path, nor a temporary file behind.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

#: Suffix of the temporary files (hidden, next to the final path) while an export is written.
TEMP_SUFFIX = ".part"
_BUFFER = 1 << 20


@contextlib.contextmanager
def atomic_files(*paths: Path) -> Iterator[list[TextIO]]:
    """Text handles on temporary files beside ``paths``; all renamed into place on success, all removed on failure.

    The first path is renamed last, so a reader who sees the main file also finds its side files.
    """
    handles: list[TextIO] = []
    temps: list[str] = []
    try:
        for path in paths:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=TEMP_SUFFIX)
            temps.append(temp)
            handles.append(os.fdopen(fd, "w", encoding="utf-8", buffering=_BUFFER))
        yield handles
        for fh in handles:
            fh.flush()
            os.fsync(fh.fileno())
            fh.close()
        for temp, path in reversed(list(zip(temps, paths, strict=True))):
            os.replace(temp, path)
    except BaseException:
        for fh in handles:
            with contextlib.suppress(OSError):
                fh.close()
        for temp in temps:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)
        raise


class JsonItems:
    """Writes the items of a JSON array or object one at a time: the separators, never the whole container.

    ``add(text)`` takes an item's JSON text (for an object, ``"key": value``); one item per line.
    """

    def __init__(self, fh: TextIO) -> None:
        self.fh = fh
        self.count = 0

    def add(self, text: str) -> None:
        self.fh.write("\n" if self.count == 0 else ",\n")
        self.fh.write(text)
        self.count += 1

    def end(self) -> None:
        if self.count:
            self.fh.write("\n")
