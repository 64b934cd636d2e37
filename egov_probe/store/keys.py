"""Probes' keys as the store holds them (migration 5): who signed a report, is it still valid.

Written by the collector (``collector/access.py``: enrollment, revocation); read here by both
the collector (an upload's key) and ``import`` (a stick's ``.sig`` sidecars).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from .db import Database

_SELECT = ("SELECT k.key_id, k.unit_id, k.public_key, k.hostname, k.machine_id, k.revoked_at, "
           "r.unit_id FROM probe_keys k LEFT JOIN unit_revocations r ON r.unit_id = k.unit_id")


@dataclass(frozen=True)
class ProbeKey:
    """An enrolled public key; ``unit_revoked``: its whole unit is revoked (one row)."""

    key_id: str
    unit_id: str
    public_key: str
    hostname: str
    machine_id: Optional[str]
    revoked_at: Optional[str]
    unit_revoked: bool

    @property
    def usable(self) -> bool:
        return self.revoked_at is None and not self.unit_revoked


def _key(row: tuple) -> ProbeKey:
    return ProbeKey(row[0], row[1], row[2], row[3], row[4], row[5], row[6] is not None)


def find_key(database: Database, key_id: str) -> Optional[ProbeKey]:
    rows = database.query(f"{_SELECT} WHERE k.key_id = ?", (key_id,))
    return _key(rows[0]) if rows else None


def all_keys(database: Database) -> list[ProbeKey]:
    return [_key(row) for row in database.query(f"{_SELECT} ORDER BY k.key_id")]


def unit_revoked(database: Database, unit_id: str) -> bool:
    return bool(database.query("SELECT 1 FROM unit_revocations WHERE unit_id = ?", (unit_id,)))
