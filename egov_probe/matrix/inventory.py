"""The units the matrix lists, with how many workstations each is expected to have audited."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import yaml

from ..errors import InputError
from ..units import Unit, _groups_with_vars, load_units_csv, units_from_inventory
from ..yamlsource import load_yaml

DEFAULT_INVENTORY = Path("inventory")
EXPECTED_VAR = "unit_expected_workstations"


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
    if inventory is None and not path.exists():
        return [UnitInfo(unit, unit.planned_trainees) for unit in load_units_csv()]
    units = units_from_inventory(path)
    expected = _expected_overrides(path)
    return [UnitInfo(unit, expected.get(unit.unit_id, unit.planned_trainees)) for unit in units]


def _fast_yaml(file: Path) -> object:
    """The file's data with libyaml when present: units_from_inventory has already checked it
    (syntax errors there name the line)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return yaml.load(file.read_text(encoding="utf-8"), Loader=loader)
    except yaml.YAMLError:
        return load_yaml(file).data  # the line-aware loader raises InputError with the line


def _expected_overrides(path: Path) -> dict[str, int]:
    files = sorted(p for p in path.rglob("*") if p.suffix in (".yml", ".yaml")) if path.is_dir() \
        else [path]
    found: dict[str, int] = {}
    for file in files:
        if "group_vars" in file.parts or "host_vars" in file.parts:
            continue
        for group, gvars in _groups_with_vars(_fast_yaml(file)):
            if "unit_id" in gvars and EXPECTED_VAR in gvars:
                value = gvars[EXPECTED_VAR]
                if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                    raise InputError(f"expected a whole number >= 0, found {value!r}",
                                     path=str(file), field=f"{group}.vars.{EXPECTED_VAR}")
                found[gvars["unit_id"]] = value
    return found
