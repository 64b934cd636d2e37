"""Files only their owner may read: a probe's signing key, the collector's session secret."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path
from typing import Optional


def create_private(path: Path, data: bytes) -> None:
    """Create ``path`` readable by its owner only (0600 from the first byte: ``O_EXCL``, so an
    existing file raises ``FileExistsError`` and is never overwritten), ``data`` synced."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    descriptor = os.open(path, flags, 0o600)
    try:
        os.write(descriptor, data)
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def open_to_others(path: Path) -> Optional[int]:
    """The mode of ``path`` when its group or others may use it, else None (and always None on
    Windows, whose files have no such mode)."""
    if sys.platform == "win32":
        return None
    mode = stat.S_IMODE(os.stat(path).st_mode)
    return mode if mode & (stat.S_IRWXG | stat.S_IRWXO) else None
