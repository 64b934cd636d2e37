"""What the live page reads from the store: the matrix (built again only when the store
changed), beside each unit's row when it last sent and how many reports wait in its probes'
outboxes (as the probes announced them, ``X-Egov-Outbox``), and the store's version."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Optional

from ..core.plan import Plan
from ..matrix import Matrix, MatrixFilter
from ..matrix.service import matrix_from_store
from ..store import Database
from .context import CollectorContext


@dataclass(frozen=True)
class UnitActivity:
    """``last_sent_at``: the latest of a report stored for the unit (by network or stick) and
    a probe key of the unit heard from; ``outbox_waiting``: the sum over its probes that said,
    None when none of them did (not known)."""

    unit_id: str
    last_sent_at: Optional[str] = None
    last_report_at: Optional[str] = None
    outbox_waiting: Optional[int] = None
    probes: int = 0


def unit_activity(database: Database, unit_id: Optional[str] = None) -> dict[str, UnitActivity]:
    """Per unit id (only ``unit_id`` when given)."""
    where, params = (("WHERE unit_id = ?", (unit_id,)) if unit_id
                     else ("WHERE unit_id IS NOT NULL", ()))
    imported = {row[0]: row[1] for row in database.query(
        f"SELECT unit_id, MAX(imported_at) FROM reports {where} GROUP BY unit_id", params)}
    keys = {row[0]: row[1:] for row in database.query(
        f"SELECT unit_id, MAX(last_seen_at), SUM(outbox_waiting), COUNT(*) FROM probe_keys "
        f"{where} AND revoked_at IS NULL GROUP BY unit_id", params)}
    found = {}
    for unit in sorted(set(imported) | set(keys)):
        seen, waiting, probes = keys.get(unit, (None, None, 0))
        moments = [m for m in (imported.get(unit), seen) if m]
        found[unit] = UnitActivity(unit, max(moments) if moments else None, imported.get(unit),
                                   None if waiting is None else int(waiting), int(probes))
    return found


def matrix_key(database: Database) -> tuple:
    """What the matrix is built from changes when this changes (reports are never deleted)."""
    return tuple(database.query(
        "SELECT (SELECT COUNT(*) FROM reports), (SELECT MAX(id) FROM reports), "
        "(SELECT COUNT(*) FROM mailbox_reviews), (SELECT MAX(id) FROM mailbox_reviews)")[0])


def store_version(database: Database) -> str:
    """What the page shows changes when this changes: the matrix, or a probe heard from (a
    duplicate upload changes only when the unit last sent, and its outbox)."""
    seen = database.query("SELECT MAX(last_seen_at), SUM(outbox_waiting), COUNT(*) "
                          "FROM probe_keys")[0]
    return "-".join(str(part) for part in (*matrix_key(database), *seen))


@dataclass
class MatrixCache:
    """The matrix is built again only when the store holds other reports or reviews than when
    it was last built (many pages redrawing one row after one upload build it once)."""

    plan: Plan
    lock: threading.Lock = field(default_factory=threading.Lock)
    key: Optional[tuple] = None
    matrix: Optional[Matrix] = None

    def get(self, database: Database, ctx: CollectorContext) -> Matrix:
        key = matrix_key(database)
        with self.lock:
            if key != self.key or self.matrix is None:
                self.matrix = matrix_from_store(database, ctx.units, self.plan, MatrixFilter())
                self.key = key
            return self.matrix


@dataclass
class Snapshot:
    matrix: Matrix
    activity: dict[str, UnitActivity]
    version: str


def take_snapshot(ctx: CollectorContext, cache: MatrixCache,
                  unit_id: Optional[str] = None) -> Snapshot:
    """The matrix, the activity (of ``unit_id`` only, when given) and the version, read on
    one connection; the version first, so a change meanwhile shows as another version."""
    database = ctx.open_database()
    try:
        version = store_version(database)
        return Snapshot(cache.get(database, ctx), unit_activity(database, unit_id), version)
    finally:
        database.close()
