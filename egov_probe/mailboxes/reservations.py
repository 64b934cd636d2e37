"""Addresses proposed but not yet applied: recorded so that a later run does not propose them
to someone else (issue 18). Two places can hold them: the readiness store (SQLite or PostgreSQL,
the default) or the directory itself (entries under ``directory.reservations_dn``).

An officer is known by ``officer_key``: unit, name and position. A reservation belongs to one
officer; proposing to the same officer again gives him the same address.
"""

from __future__ import annotations

from typing import Optional, Protocol

from ..core.clock import utc_now, utc_text
from ..core.errors import InputError
from .directory import Directory, DirectoryError, NewEntry, escape_filter
from .roster import Officer


def officer_key(officer: Officer) -> str:
    return f"{officer.unit_id}|{officer.full_name.casefold()}|{officer.position.casefold()}"


class Reservations(Protocol):
    def holder(self, local_part: str) -> Optional[str]:
        """The officer key that holds ``local_part``, if any."""

    def held_by(self, key: str) -> Optional[str]:
        """The local part reserved for the officer ``key``, if any."""

    def reserve(self, local_part: str, officer: Officer, reference: str) -> bool:
        """Reserve ``local_part`` for ``officer`` (dropping his earlier one); False if another
        officer holds it (a run in parallel took it first)."""

    def release(self, key: str) -> None:
        """The officer has a mailbox now: his reservation, if any, is no longer needed."""

    def consumed(self, local_part: str) -> None:
        """The address was applied to the directory: the directory itself now holds it."""


class StoreReservations:
    """Reservations in the store's ``mailbox_reservations`` table (one row per local part)."""

    def __init__(self, database) -> None:
        self._db = database

    def holder(self, local_part: str) -> Optional[str]:
        rows = self._db.query("SELECT officer_key FROM mailbox_reservations WHERE local_part = ?",
                              (local_part,))
        return rows[0][0] if rows else None

    def held_by(self, key: str) -> Optional[str]:
        rows = self._db.query("SELECT local_part FROM mailbox_reservations WHERE officer_key = ?",
                              (key,))
        return rows[0][0] if rows else None

    def reserve(self, local_part: str, officer: Officer, reference: str) -> bool:
        key = officer_key(officer)
        with self._db.transaction():
            self._db.execute("DELETE FROM mailbox_reservations WHERE officer_key = ? AND "
                             "local_part <> ?", (key, local_part))
            self._db.execute(
                "INSERT INTO mailbox_reservations (local_part, officer_key, unit_id, full_name, "
                "position, reference, reserved_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (local_part) DO NOTHING",
                (local_part, key, officer.unit_id, officer.full_name, officer.position,
                 reference, utc_text(utc_now())))
        return self.holder(local_part) == key

    def release(self, key: str) -> None:
        self._db.execute("DELETE FROM mailbox_reservations WHERE officer_key = ?", (key,))

    def consumed(self, local_part: str) -> None:
        self._db.execute("DELETE FROM mailbox_reservations WHERE local_part = ?", (local_part,))

    def close(self) -> None:
        self._db.close()


class DirectoryReservations:
    """Reservations as entries ``uid=<local part>,<reservations_dn>`` (objectClass account, the
    officer key in ``description``), written with the write account. The directory then answers
    for every machine that reviews, store or no store."""

    OBJECT_CLASSES = ("account",)

    def __init__(self, directory: Directory) -> None:
        if not directory.layout.reservations_dn:
            raise InputError("--reserve-in directory needs directory.reservations_dn in the "
                             "configuration (an organizational unit for proposed addresses)",
                             field="--reserve-in")
        self._directory = directory
        self._base = directory.layout.reservations_dn

    def holder(self, local_part: str) -> Optional[str]:
        found = self._find(f"(uid={escape_filter(local_part)})")
        return found[0][1] if found else None

    def held_by(self, key: str) -> Optional[str]:
        found = self._find(f"(description={escape_filter(key)})")
        return found[0][0] if found else None

    def reserve(self, local_part: str, officer: Officer, reference: str) -> bool:
        key = officer_key(officer)
        for local, _ in self._find(f"(description={escape_filter(key)})"):
            if local != local_part:
                self._delete(local)
        if self.holder(local_part) is None:
            entry = NewEntry(self._dn(local_part), self.OBJECT_CLASSES,
                             {"uid": local_part, "description": key})
            if not self._directory.add(entry) and self.holder(local_part) is None:
                raise DirectoryError(f"{self._directory.last_error} (--reserve-in directory: "
                                     f"does {self._base} exist, and may the write account add "
                                     f"entries under it?)")
        return self.holder(local_part) == key

    def release(self, key: str) -> None:
        for local, _ in self._find(f"(description={escape_filter(key)})"):
            self._delete(local)

    def consumed(self, local_part: str) -> None:
        self._delete(local_part)

    def close(self) -> None:
        """The directory connection is the caller's to close."""

    def _dn(self, local_part: str) -> str:
        from ldap3.utils.dn import escape_rdn

        return f"uid={escape_rdn(local_part)},{self._base}"

    def _find(self, ldap_filter: str) -> list[tuple[str, str]]:
        """(local part, officer key) of the reservations matching ``ldap_filter``."""
        entries = self._directory.search_under(self._base, f"(&(objectClass=account){ldap_filter})",
                                               ("uid", "description"))
        return [(e.first("uid") or "", e.first("description") or "") for e in entries]

    def _delete(self, local_part: str) -> None:
        if not self._directory.delete(self._dn(local_part)):
            raise DirectoryError(self._directory.last_error)

