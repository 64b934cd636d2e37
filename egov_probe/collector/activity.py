"""What the live page shows beside a unit's matrix row: when the unit last sent, and how many
reports wait in its probes' outboxes (as the probes announced them, ``X-Egov-Outbox``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from ..store import Database


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
