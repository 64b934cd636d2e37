"""The secret that signs viewers' session cookies: ``$EGOV_COLLECTOR_SECRET``, or a file made
once (mode 0600) and read at every start, so sessions outlive a restart."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Mapping

from ..core.errors import InputError, OutputError
from ..core.private_file import create_private, open_to_others

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
        create_private(path, (secrets.token_hex(32) + "\n").encode("ascii"))
    except FileExistsError:
        return  # another start made it just now
    except OSError as exc:
        raise OutputError(f"cannot create the session secret: {exc.strerror}",
                          path=str(path)) from exc


def _read(path: Path) -> bytes:
    mode = open_to_others(path)
    if mode is not None:
        raise InputError(f"others may read the session secret (mode {mode:o}): "
                         f"chmod 600 {path}", path=str(path))
    text = path.read_text(encoding="ascii", errors="replace").strip()
    if len(text) < _SHORTEST:
        raise InputError(f"expected at least {_SHORTEST} characters of secret", path=str(path))
    return text.encode("ascii", errors="replace")
