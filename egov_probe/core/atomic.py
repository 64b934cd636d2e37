"""Atomic output: a reader sees the old file or the whole new one, never a part; a device, a
FIFO or ``-`` (standard output) is written through, never replaced."""

from __future__ import annotations

import json
import os
import shutil
import stat
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable

from .errors import OutputError


def write_json_atomic(path: Path, data: Any) -> Path:
    """Write JSON so that ``path`` holds either the old file or the whole new one, never a part."""
    return write_text_atomic(Path(path), json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def write_text_atomic(path: Path, text: str) -> Path:
    """Write UTF-8 text atomically (see ``write_atomic_with``)."""
    def write(part: Path) -> None:
        with open(part, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
    return write_atomic_with(path, write)


def write_atomic_with(path: Path, write: Callable[[Path], None]) -> Path:
    """Let ``write`` fill a temporary file beside ``path`` (e.g. a workbook's ``save``), fsync
    it, then rename it over ``path``: readers see the old file or the whole new one, never a
    part, even if the process is killed.

    Only a regular file (or a new path) is replaced. ``-`` means standard output, and a path
    that is a device, a FIFO or a socket (``/dev/null``, ``/dev/stdout``, a pipe) is written
    through, never replaced: ``--out /dev/null`` in a root shell must not destroy the
    machine's ``/dev/null``."""
    path = Path(path)
    if writes_through(path):
        return _write_through(path, write)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    except OSError as exc:
        raise _cannot_write(path, exc) from exc
    os.close(fd)
    part = Path(tmp)
    try:
        write(part)
        _fsync_file(part)
        os.replace(part, path)
    except BaseException as exc:
        part.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise _cannot_write(path, exc) from exc
        raise
    fsync_dir(path.parent)
    return path


def _cannot_write(path: Path, exc: OSError) -> OutputError:
    reason = exc.strerror or str(exc)
    return OutputError(f"cannot write here: {reason} (nothing was half-written; free some "
                       f"space or choose another folder with --out)", path=str(path))


STDOUT = "-"


def writes_through(path: Path) -> bool:
    """Whether ``path`` is standard output or an existing file that is not a regular one."""
    if str(path) == STDOUT:
        return True
    try:
        mode = os.stat(path).st_mode
    except OSError:  # absent (or unreachable): the atomic path creates it or says why not
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def _write_through(path: Path, write: Callable[[Path], None]) -> Path:
    """Let ``write`` fill a private temporary file, then copy its bytes into ``path`` (or
    standard output) without replacing it."""
    with tempfile.TemporaryDirectory(prefix="egov-out-") as folder:
        part = Path(folder) / f"out{path.suffix}"
        write(part)
        with open(part, "rb") as source:
            if str(path) == STDOUT:
                sys.stdout.flush()
                shutil.copyfileobj(source, sys.stdout.buffer)
                sys.stdout.buffer.flush()
            else:
                with open(path, "wb") as target:
                    shutil.copyfileobj(source, target)
    return path


def _fsync_file(path: Path) -> None:
    with open(path, "rb+") as handle:
        os.fsync(handle.fileno())


def fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # Windows cannot open a directory
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
