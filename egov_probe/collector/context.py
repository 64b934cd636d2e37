"""What every part of the collector's app shares: how to reach the store, the units, the limits
and the update bus. Built once by ``commands/serve.py`` (or a test), handed to the routes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from ..matrix.inventory import UnitInfo
from ..store import Database
from .events import UpdateBus
from .limits import ApiLimits

MAX_REPORT_BYTES = 8 * 1024 * 1024  # uncompressed; a real report is tens of kilobytes


@dataclass
class CollectorContext:
    """``open_database`` gives a new connection (one per worker thread: sqlite3 and psycopg
    connections are not shared between threads); ``session_secret`` signs viewers' cookies."""

    open_database: Callable[[], Database]
    units: list[UnitInfo]
    session_secret: bytes
    bus: UpdateBus = field(default_factory=lambda: UpdateBus())
    max_report_bytes: int = MAX_REPORT_BYTES
    limits: ApiLimits = field(default_factory=ApiLimits)

    def unit_ids(self) -> frozenset[str]:
        return frozenset(info.unit.unit_id for info in self.units)

    def unit_name(self, unit_id: str) -> str:
        """The unit's Vietnamese name (its id when the units no longer list it)."""
        for info in self.units:
            if info.unit.unit_id == unit_id:
                return info.unit.name_vi
        return unit_id
