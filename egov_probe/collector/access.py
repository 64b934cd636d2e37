"""Who may upload: enrollment tokens, probes' keys and revoked units (docs/collector.md).

A token is ``egt_`` and 32 random bytes (URL-safe base64), shown once; the store keeps only its
SHA-256. It belongs to one unit, expires, may be limited to a number of uses and revoked.
Enrolling spends one use of a token and records the probe's public key for the token's unit.
Revoking a unit is one row in ``unit_revocations``: every token and key of the unit stops.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Optional

from ..core.clock import utc_text
from ..core.errors import InputError
from ..core.signing import key_id_of
from ..store import Database
from ..store.keys import ProbeKey, find_key, unit_revoked

TOKEN_PREFIX = "egt_"
DEFAULT_TTL = dt.timedelta(days=7)
_TTL = re.compile(r"^\s*(\d+)\s*([mhdw])\s*$")
_TTL_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


class AccessDenied(Exception):
    """An answer refusing access: the HTTP status and the protocol's error word."""

    def __init__(self, status: int, error: str) -> None:
        super().__init__(error)
        self.status = status
        self.error = error


@dataclass(frozen=True)
class NewToken:
    """A token just made: the only moment its text exists outside the probe."""

    token_id: int
    token: str
    unit_id: str
    expires_at: str
    uses: Optional[int]


@dataclass(frozen=True)
class TokenInfo:
    """A token as ``token list`` shows it (never its text: the store does not have it)."""

    token_id: int
    unit_id: str
    created_at: str
    expires_at: str
    uses_left: Optional[int]
    revoked_at: Optional[str]
    note: Optional[str]
    keys: int  # probes enrolled with it

    def state(self, now: dt.datetime, revoked_units: frozenset[str]) -> str:
        """``active``, or why it no longer works: ``expired``, ``used_up``, ``revoked``,
        ``unit_revoked`` (the enrollment's 401 without ``token_``)."""
        problem = _token_problem(self.expires_at, self.uses_left, self.revoked_at,
                                 self.unit_id in revoked_units, now)
        return problem.removeprefix("token_") if problem else "active"


@dataclass(frozen=True)
class EnrollmentRequest:
    """What a probe sends to ``POST /v1/enroll`` (checked: see ``api``)."""

    token: str
    public_key: str
    hostname: str
    machine_id: Optional[str]


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def parse_ttl(text: str) -> dt.timedelta:
    """``30m``, ``12h``, ``7d`` or ``2w``."""
    match = _TTL.match(text or "")
    if not match or int(match.group(1)) == 0:
        raise InputError(f"expected a duration like 30m, 12h, 7d or 2w, found {text!r}",
                         field="--ttl")
    return dt.timedelta(**{_TTL_UNITS[match.group(2)]: int(match.group(1))})


def parse_time(text: str) -> dt.datetime:
    """A time the store wrote with ``utc_text``."""
    return dt.datetime.fromisoformat(text.removesuffix("Z")).replace(tzinfo=dt.timezone.utc)


def create_token(database: Database, unit_id: str, now: dt.datetime,
                 ttl: dt.timedelta = DEFAULT_TTL, uses: Optional[int] = None,
                 note: Optional[str] = None) -> NewToken:
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires = utc_text(now + ttl)
    with database.transaction():
        [(token_id,)] = database.query(
            "INSERT INTO collector_tokens (token_sha256, unit_id, created_at, expires_at, "
            "uses_left, note) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
            (token_hash(token), unit_id, utc_text(now), expires, uses, note))
    return NewToken(token_id, token, unit_id, expires, uses)


def list_tokens(database: Database) -> list[TokenInfo]:
    rows = database.query(
        "SELECT t.id, t.unit_id, t.created_at, t.expires_at, t.uses_left, t.revoked_at, t.note, "
        "(SELECT COUNT(*) FROM probe_keys k WHERE k.token_id = t.id) "
        "FROM collector_tokens t ORDER BY t.id")
    return [TokenInfo(*row) for row in rows]


def revoked_units(database: Database) -> frozenset[str]:
    return frozenset(row[0] for row in database.query("SELECT unit_id FROM unit_revocations"))


def revoke_token(database: Database, token_id: int, now: dt.datetime) -> bool:
    """False when there is no such token; revoking twice keeps the first time."""
    with database.transaction():
        found = database.query("SELECT revoked_at FROM collector_tokens WHERE id = ?",
                               (token_id,))
        if found and found[0][0] is None:
            database.execute("UPDATE collector_tokens SET revoked_at = ? WHERE id = ?",
                             (utc_text(now), token_id))
    return bool(found)


def revoke_key(database: Database, key_id: str, now: dt.datetime) -> bool:
    """One probe's key (a stolen or cloned machine); False when there is no such key."""
    with database.transaction():
        found = find_key(database, key_id)
        if found is not None and found.revoked_at is None:
            database.execute("UPDATE probe_keys SET revoked_at = ? WHERE key_id = ?",
                             (utc_text(now), key_id))
    return found is not None


def revoke_unit(database: Database, unit_id: str, now: dt.datetime,
                reason: Optional[str] = None) -> bool:
    """False when the unit was revoked already."""
    with database.transaction():
        if unit_revoked(database, unit_id):
            return False
        database.execute("INSERT INTO unit_revocations (unit_id, revoked_at, reason) "
                         "VALUES (?, ?, ?)", (unit_id, utc_text(now), reason))
    return True


def restore_unit(database: Database, unit_id: str) -> bool:
    """False when the unit was not revoked."""
    with database.transaction():
        return database.execute("DELETE FROM unit_revocations WHERE unit_id = ?",
                                (unit_id,)).rowcount > 0


def enroll(database: Database, request: EnrollmentRequest, now: dt.datetime) -> ProbeKey:
    """Record the probe's key for the token's unit; AccessDenied (401, 409) otherwise."""
    key_id = key_id_of(request.public_key)
    with database.transaction():
        token_id, unit_id = _usable_token(database, request.token, now)
        if database.query("SELECT 1 FROM probe_keys WHERE key_id = ? OR public_key = ?",
                          (key_id, request.public_key)):
            raise AccessDenied(409, "key_already_enrolled")
        if not _spend(database, token_id):
            raise AccessDenied(401, "token_used_up")  # another enrollment took the last use
        database.execute(
            "INSERT INTO probe_keys (key_id, unit_id, public_key, hostname, machine_id, "
            "token_id, enrolled_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (key_id, unit_id, request.public_key, request.hostname, request.machine_id,
             token_id, utc_text(now)))
    return ProbeKey(key_id, unit_id, request.public_key, request.hostname, request.machine_id,
                    None, False)


def _usable_token(database: Database, token: str, now: dt.datetime) -> tuple[int, str]:
    rows = database.query("SELECT id, unit_id, expires_at, uses_left, revoked_at "
                          "FROM collector_tokens WHERE token_sha256 = ?", (token_hash(token),))
    if not rows:
        raise AccessDenied(401, "token_invalid")
    token_id, unit_id, expires_at, uses_left, revoked_at = rows[0]
    problem = _token_problem(expires_at, uses_left, revoked_at,
                             unit_revoked(database, unit_id), now)
    if problem:
        raise AccessDenied(401, problem)
    return token_id, unit_id


def _token_problem(expires_at: str, uses_left: Optional[int], revoked_at: Optional[str],
                   unit_is_revoked: bool, now: dt.datetime) -> Optional[str]:
    """In the order of docs/collector.md's table."""
    if parse_time(expires_at) <= now:
        return "token_expired"
    if uses_left is not None and uses_left <= 0:
        return "token_used_up"
    if revoked_at is not None:
        return "token_revoked"
    if unit_is_revoked:
        return "unit_revoked"
    return None


def _spend(database: Database, token_id: int) -> bool:
    """One use of the token, atomically (two enrollments racing for the last use: one wins)."""
    cursor = database.execute("UPDATE collector_tokens SET uses_left = uses_left - 1 "
                              "WHERE id = ? AND (uses_left IS NULL OR uses_left > 0)",
                              (token_id,))
    return cursor.rowcount > 0


def upload_key(database: Database, key_id: str) -> ProbeKey:
    """The key an upload names, if it may upload; AccessDenied (401) otherwise."""
    key = find_key(database, key_id)
    if key is None:
        raise AccessDenied(401, "unknown_key")
    if key.revoked_at is not None:
        raise AccessDenied(401, "key_revoked")
    if key.unit_revoked:
        raise AccessDenied(401, "unit_revoked")
    return key


def record_upload(database: Database, key_id: str, now: dt.datetime,
                  outbox_waiting: Optional[int]) -> None:
    """When the key last sent, and how many reports its probe said still wait."""
    database.execute("UPDATE probe_keys SET last_seen_at = ?, "
                     "outbox_waiting = COALESCE(?, outbox_waiting) WHERE key_id = ?",
                     (utc_text(now), outbox_waiting, key_id))
