"""The pilot units: read from the shipped CSV or from an Ansible YAML inventory."""

from __future__ import annotations

import csv
import difflib
import io
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Iterable, Optional

from .errors import InputError
from .yamlsource import load_yaml

UNITS_CSV = "nghean_pilot_units.csv"
CSV_COLUMNS = ("unit_id", "name_vi", "kind", "district_vi", "district_gso", "gso_code", "phase",
               "planned_trainees")
KINDS = ("province-office", "department", "district", "thi-tran", "xa")


@dataclass(frozen=True)
class Unit:
    unit_id: str
    name_vi: str
    kind: str
    district_vi: Optional[str]
    district_gso: Optional[str]
    gso_code: Optional[str]
    phase: int
    planned_trainees: int
    expected_workstations: Optional[int] = None  # inventory's unit_expected_workstations

    @property
    def workstations_expected(self) -> int:
        """Workstations the unit should have audited: as set in the inventory, else one per
        planned trainee."""
        if self.expected_workstations is not None:
            return self.expected_workstations
        return self.planned_trainees

    @property
    def group_name(self) -> str:
        """The unit's Ansible group: ``unit_`` and the id with ``-`` as ``_``."""
        return "unit_" + self.unit_id.replace("-", "_")

    def inventory_vars(self) -> dict:
        return {
            "unit_id": self.unit_id,
            "unit_name_vi": self.name_vi,
            "unit_kind": self.kind,
            "unit_district_vi": self.district_vi,
            "unit_district_gso": self.district_gso,
            "unit_gso_code": self.gso_code,
            "unit_phase": self.phase,
            "unit_planned_trainees": self.planned_trainees,
        }


def shipped_units_csv() -> Path:
    return Path(str(resources.files("egov_probe.data").joinpath(UNITS_CSV)))


def load_units_csv(path: Optional[Path] = None) -> list[Unit]:
    """Read and check the units CSV; errors name the file, line and column."""
    path = Path(path) if path else shipped_units_csv()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read units: {exc.strerror}", path=str(path)) from exc
    reader = csv.DictReader(io.StringIO(text))
    if tuple(reader.fieldnames or ()) != CSV_COLUMNS:
        raise InputError(f"expected the columns {','.join(CSV_COLUMNS)}", path=str(path), line=1)
    units = [_unit_from_row(row, str(path), reader.line_num) for row in reader]
    _check_unique(units, str(path))
    return units


def _unit_from_row(row: dict, path: str, line: int) -> Unit:
    def need(column: str, ok: bool, expected: str) -> None:
        if not ok:
            raise InputError(f"expected {expected}, found {row.get(column)!r}", path=path,
                             line=line, field=column)

    need("unit_id", bool(row["unit_id"]) and row["unit_id"].replace("-", "").isalnum(),
         "an id of lower-case letters, digits and -")
    need("kind", row["kind"] in KINDS, "one of " + ", ".join(KINDS))
    need("phase", row["phase"] in ("1", "2"), "1 or 2")
    need("planned_trainees", row["planned_trainees"].isdigit(), "a whole number")
    return Unit(unit_id=row["unit_id"], name_vi=row["name_vi"], kind=row["kind"],
                district_vi=row["district_vi"] or None, district_gso=row["district_gso"] or None,
                gso_code=row["gso_code"] or None, phase=int(row["phase"]),
                planned_trainees=int(row["planned_trainees"]))


def _check_unique(units: Iterable[Unit], path: str) -> None:
    seen: set[str] = set()
    for unit in units:
        if unit.unit_id in seen:
            raise InputError(f"duplicate unit id {unit.unit_id!r}", path=path, field="unit_id")
        seen.add(unit.unit_id)


def units_from_inventory(path: Path) -> list[Unit]:
    """Units declared as groups with a ``unit_id`` variable in a YAML inventory file or folder."""
    path = Path(path)
    files = sorted(p for p in path.rglob("*") if p.suffix in (".yml", ".yaml")) if path.is_dir() \
        else [path]
    units: dict[str, Unit] = {}
    for file in files:
        if "group_vars" in file.parts or "host_vars" in file.parts:
            continue
        doc = load_yaml(file)
        for group, gvars in _groups_with_vars(doc.data):
            if "unit_id" in gvars:
                units[gvars["unit_id"]] = _unit_from_vars(gvars, str(file), group)
    if not units:
        raise InputError("no unit groups (groups with a unit_id variable) in the inventory",
                         path=str(path))
    return list(units.values())


def _groups_with_vars(node: object) -> Iterable[tuple[str, dict]]:
    if not isinstance(node, dict):
        return
    for name, group in node.items():
        if not isinstance(group, dict):
            continue
        if isinstance(group.get("vars"), dict):
            yield name, group["vars"]
        yield from _groups_with_vars(group.get("children"))


def _unit_from_vars(gvars: dict, path: str, group: str) -> Unit:
    unit_id = gvars.get("unit_id")
    if not isinstance(unit_id, str) or not unit_id.replace("-", "").isalnum() \
            or unit_id != unit_id.lower():
        raise InputError(f"expected an id of lower-case letters, digits and -, found "
                         f"{str(unit_id)[:60]!r}", path=path, field=f"{group}.vars.unit_id")
    for key in ("unit_name_vi", "unit_kind"):
        if key in gvars and not isinstance(gvars[key], str):
            raise InputError(f"expected text, found {str(gvars[key])[:60]!r}", path=path,
                             field=f"{group}.vars.{key}")
    for key in ("unit_phase", "unit_planned_trainees"):
        value = gvars.get(key)
        if key in gvars and (isinstance(value, bool) or not isinstance(value, (int, str))
                             or not str(value).isdigit()):
            raise InputError(f"expected a whole number >= 0, found {str(value)[:60]!r}",
                             path=path, field=f"{group}.vars.{key}")
    expected = gvars.get("unit_expected_workstations")
    if expected is not None and (not isinstance(expected, int) or isinstance(expected, bool)
                                 or expected < 0):
        raise InputError(f"expected a whole number >= 0, found {expected!r}", path=path,
                         field=f"{group}.vars.unit_expected_workstations")
    try:
        return Unit(unit_id=gvars["unit_id"], name_vi=gvars["unit_name_vi"],
                    kind=gvars["unit_kind"], district_vi=gvars.get("unit_district_vi"),
                    district_gso=gvars.get("unit_district_gso"),
                    gso_code=gvars.get("unit_gso_code"), phase=int(gvars["unit_phase"]),
                    planned_trainees=int(gvars["unit_planned_trainees"]),
                    expected_workstations=expected)
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(f"unit group is missing or has a bad variable: {exc}", path=path,
                         field=group) from exc


def find_unit(units: Iterable[Unit], unit_id: str) -> Unit:
    """The unit with ``unit_id``; an unknown id is an error that suggests the nearest ids."""
    by_id = {unit.unit_id: unit for unit in units}
    if unit_id in by_id:
        return by_id[unit_id]
    raise InputError(unknown_unit_message(unit_id, by_id), field="--unit")


def unknown_unit_message(unit_id: object, known_ids: Iterable[str]) -> str:
    """"unknown unit id 'x'; did you mean: a, b?" with the nearest known ids."""
    near = difflib.get_close_matches(str(unit_id), list(known_ids), n=3, cutoff=0.5)
    hint = f"; did you mean: {', '.join(near)}?" if near else "; see `egov-probe units`"
    return f"unknown unit id {unit_id!r}{hint}"
