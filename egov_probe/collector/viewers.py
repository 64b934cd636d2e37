"""Viewers of the live page: accounts (``viewers`` table, bcrypt) and their sessions (a cookie
signed with HMAC-SHA256 under the collector's session secret).

A viewer can only look: the session is checked by the page's routes alone, and the upload API
authenticates probe keys by signature, never by this cookie. The cookie carries the viewer's
name and when the session ends; each request checks the account again, so ``viewer disable``
ends a viewer's open sessions at once.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Optional

import bcrypt

from ..core.clock import utc_now, utc_text
from ..core.errors import InputError
from ..store import Database

COOKIE = "egov_viewer"
SESSION_SECONDS = 12 * 3600  # one working day; then log in again
MIN_PASSWORD = 10
MAX_PASSWORD_BYTES = 72  # bcrypt reads no further: refuse rather than cut silently
_SESSION_DOMAIN = b"egov-probe viewer session/1"


@dataclass(frozen=True)
class ViewerAccount:
    name: str
    created_at: str
    disabled_at: Optional[str]

    @property
    def active(self) -> bool:
        return self.disabled_at is None


def check_name(name: str) -> str:
    if not name or len(name) > 64 or not all(c.isalnum() or c in "._-@" for c in name):
        raise InputError("a viewer's name is 1 to 64 letters, digits or . _ - @", field="NAME")
    return name


def check_password(password: str) -> bytes:
    raw = password.encode("utf-8")
    if len(password) < MIN_PASSWORD:
        raise InputError(f"the password is shorter than {MIN_PASSWORD} characters",
                         field="password")
    if len(raw) > MAX_PASSWORD_BYTES:
        raise InputError(f"the password is longer than {MAX_PASSWORD_BYTES} bytes (bcrypt's "
                         f"limit)", field="password")
    return raw


def add_viewer(database: Database, name: str, password: str, replace: bool = False) -> None:
    """A new viewer (or, with ``replace``, a new password for one, enabled again)."""
    hashed = bcrypt.hashpw(check_password(password), bcrypt.gensalt()).decode("ascii")
    with database.transaction():
        exists = database.query("SELECT 1 FROM viewers WHERE name = ?", (check_name(name),))
        if exists and not replace:
            raise InputError(f"viewer {name!r} exists already (--reset gives a new password)",
                             field="NAME")
        if not exists and replace:
            raise InputError(f"no viewer named {name!r}", field="NAME")
        if exists:
            database.execute("UPDATE viewers SET password_hash = ?, disabled_at = NULL "
                             "WHERE name = ?", (hashed, name))
        else:
            database.execute("INSERT INTO viewers (name, password_hash, created_at) "
                             "VALUES (?, ?, ?)", (name, hashed, utc_text(utc_now())))


def disable_viewer(database: Database, name: str) -> None:
    with database.transaction():
        if not database.query("SELECT 1 FROM viewers WHERE name = ?", (name,)):
            raise InputError(f"no viewer named {name!r}", field="NAME")
        database.execute("UPDATE viewers SET disabled_at = ? WHERE name = ? AND disabled_at "
                         "IS NULL", (utc_text(utc_now()), name))


def list_viewers(database: Database) -> list[ViewerAccount]:
    return [ViewerAccount(*row) for row in database.query(
        "SELECT name, created_at, disabled_at FROM viewers ORDER BY name")]


def is_active(database: Database, name: str) -> bool:
    return bool(database.query("SELECT 1 FROM viewers WHERE name = ? AND disabled_at IS NULL",
                               (name,)))


def verify_login(database: Database, name: str, password: str) -> bool:
    """The name is an enabled viewer's and the password is theirs."""
    rows = database.query("SELECT password_hash FROM viewers WHERE name = ? AND disabled_at "
                          "IS NULL", (name,))
    stored = rows[0][0].encode("ascii") if rows else _dummy_hash()
    raw = password.encode("utf-8")[:MAX_PASSWORD_BYTES + 1]
    try:
        matches = bcrypt.checkpw(raw, stored)
    except ValueError:  # bcrypt >= 4.1 refuses more than 72 bytes
        matches = False
    return bool(rows) and matches


@functools.lru_cache(maxsize=1)
def _dummy_hash() -> bytes:
    """Checked when the name is unknown, so a wrong name costs as long as a wrong password."""
    return bcrypt.hashpw(b"no such viewer", bcrypt.gensalt())


@dataclass(frozen=True)
class SessionSigner:
    """Session cookies: ``base64(JSON {"v": name, "exp": unix time}) "." hex(HMAC-SHA256)``."""

    secret: bytes

    def _key(self) -> bytes:
        return hmac.new(self.secret, _SESSION_DOMAIN, hashlib.sha256).digest()

    def _mac(self, payload: bytes) -> str:
        return hmac.new(self._key(), payload, hashlib.sha256).hexdigest()

    def issue(self, name: str, now: float) -> str:
        body = json.dumps({"v": name, "exp": int(now) + SESSION_SECONDS},
                          separators=(",", ":")).encode("utf-8")
        payload = base64.urlsafe_b64encode(body).rstrip(b"=")
        return f"{payload.decode('ascii')}.{self._mac(payload)}"

    def viewer(self, cookie: Optional[str], now: float) -> Optional[str]:
        """The viewer's name if the cookie is ours, unaltered and not expired."""
        if not cookie or cookie.count(".") != 1:
            return None
        payload, mac = cookie.encode("ascii", "replace").split(b".")
        if not hmac.compare_digest(self._mac(payload).encode("ascii"), mac):
            return None
        try:
            body = json.loads(base64.urlsafe_b64decode(payload + b"=" * (-len(payload) % 4)))
        except (ValueError, binascii.Error):
            return None
        if not isinstance(body, dict) or not isinstance(body.get("v"), str) \
                or not isinstance(body.get("exp"), int) or body["exp"] <= now:
            return None
        return body["v"]
