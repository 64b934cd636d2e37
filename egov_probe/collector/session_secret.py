"""The secret that signs viewers' session cookies: ``$EGOV_COLLECTOR_SECRET``, or a file made
once (mode 0600) and read at every start, so sessions outlive a restart."""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path
from typing import Mapping

from ..core.errors import InputError, OutputError

SECRET_ENV = "EGOV_COLLECTOR_SECRET"
SECRET_FILE = "egov-collector.secret"
_SHORTEST = 32  # characters


def session_secret(path: Path, environ: Mapping[str, str] = os.environ) -> bytes:
    """From the environment if set there, else from ``path`` (created when missing)."""
    given = environ.get(SECRET_ENV, "").strip()
    if given:
        if len(given) < _SHORTEST:
            raise InputError(f"expected at least {_SHORTEST} characters (e.g. `openssl rand "
                             f"-hex 32`)", field=f"${SECRET_ENV}")
        return given.encode("utf-8")
    if not path.exists():
        _create(path)
    return _read(path)


def _create(path: Path) -> None:
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return  # another start made it just now
    except OSError as exc:
        raise OutputError(f"cannot create the session secret: {exc.strerror}",
                          path=str(path)) from exc
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(secrets.token_hex(32) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def _read(path: Path) -> bytes:
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise InputError(f"others may read the session secret (mode {stat.S_IMODE(mode):o}): "
                         f"chmod 600 {path}", path=str(path))
    text = path.read_text(encoding="ascii", errors="replace").strip()
    if len(text) < _SHORTEST:
        raise InputError(f"expected at least {_SHORTEST} characters of secret", path=str(path))
    return text.encode("ascii", errors="replace")
