"""The units the matrix lists, with how many workstations each is expected to have audited."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from ..core.units import Unit, load_units_csv, units_from_inventory

DEFAULT_INVENTORY = Path("inventory")


@dataclass(frozen=True)
class UnitInfo:
    unit: Unit
    expected_workstations: int


def load_unit_infos(inventory: Optional[Path] = None) -> list[UnitInfo]:
    """Units of the inventory (default ``./inventory`` if present, else the shipped CSV).

    Expected workstations: the group variable ``unit_expected_workstations`` if set, else
    ``unit_planned_trainees``.
    """
    path = Path(inventory) if inventory else DEFAULT_INVENTORY
    units = load_units_csv() if inventory is None and not path.exists() \
        else units_from_inventory(path)
    return [UnitInfo(unit, unit.workstations_expected) for unit in units]
