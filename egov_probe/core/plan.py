"""The pilot plan: two phases, their date windows and their units."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Iterable, Optional

from .errors import InputError
from .spec import Spec, at_least, expect
from .units import Unit
from .yamlsource import load_yaml

PLAN_FILE = "plan.yml"

_TEXT = Spec(keys={"vi": Spec(types=(str,), required=True), "en": Spec(types=(str,), required=True)})
_PHASE = Spec(keys={
    "name": _TEXT,
    "start": Spec(types=(dt.date,), required=True),
    "end": Spec(types=(dt.date,), required=True),
    "source_text": Spec(types=(str,)),
    "units": Spec(types=(list,), required=True, items=Spec(types=(str,))),
})
PLAN_SPEC = Spec(keys={
    "plan_id": Spec(types=(str,), required=True),
    "source": Spec(types=(str,)),
    "phases": Spec(required=True, values=_PHASE,
                   key_check=lambda k: None if isinstance(k, int) and k >= 1
                   else f"expected a phase number, found {k!r}"),
    "monthly_report_day": Spec(types=(int,), check=at_least(1)),
})


@dataclass(frozen=True)
class Phase:
    number: int
    name_vi: str
    name_en: str
    start: dt.date
    end: dt.date
    units: tuple[str, ...]


@dataclass(frozen=True)
class Plan:
    plan_id: str
    phases: tuple[Phase, ...]

    def phase_of(self, unit_id: str) -> Optional[Phase]:
        return next((p for p in self.phases if unit_id in p.units), None)


def shipped_plan_path() -> Path:
    return Path(str(resources.files("egov_probe.data").joinpath(PLAN_FILE)))


def load_plan(path: Optional[Path] = None, units: Optional[Iterable[Unit]] = None) -> Plan:
    """Load and check a plan. Impossible dates (e.g. 31/9) fail naming the file and the field."""
    path = Path(path) if path else shipped_plan_path()
    doc = load_yaml(path)  # an impossible YAML date fails here, with file, line and field
    if not isinstance(doc.data, dict):
        raise doc.error((), "expected a mapping at the top of the plan")
    expect(doc, doc.data, PLAN_SPEC)
    phases = []
    seen: dict[str, int] = {}
    known = {u.unit_id for u in units} if units is not None else None
    for number, raw in sorted(doc.data["phases"].items()):
        if raw["start"] > raw["end"]:
            raise doc.error(("phases", number, "end"),
                            f"phase ends ({raw['end']}) before it starts ({raw['start']})")
        for index, unit_id in enumerate(raw["units"]):
            where = ("phases", number, "units", index)
            if known is not None and unit_id not in known:
                raise doc.error(where, f"unknown unit id {unit_id!r}")
            if unit_id in seen:
                raise doc.error(where, f"unit {unit_id!r} is already in phase {seen[unit_id]}")
            seen[unit_id] = number
        name = raw.get("name", {"vi": f"Giai đoạn {number}", "en": f"Phase {number}"})
        phases.append(Phase(number, name["vi"], name["en"], raw["start"], raw["end"],
                            tuple(raw["units"])))
    if known is not None and known - set(seen):
        missing = ", ".join(sorted(known - set(seen)))
        raise InputError(f"units in no phase: {missing}", path=str(path), field="phases")
    return Plan(plan_id=doc.data["plan_id"], phases=tuple(phases))
