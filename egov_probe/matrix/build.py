"""Building the matrix: one row per unit, one cell per area, every cell traced to its checks.

A unit's status:

- ``not_surveyed``: no workstation report yet (a host the fleet could not reach has a report but
  is not counted as audited);
- ``not_ready``: a failing (fail/error) check on one of its workstations or on a central server
  (servers with no unit, or with this unit), an audit that did not complete, or one machine id
  seen under two names or units (PCs cloned without sysprep);
- ``ready_with_conditions``: warnings, fewer workstations audited than expected, officers without
  a working official mailbox, or a required area not checked: browsers, machine basics, network
  reachability (from at least one workstation of the unit) and mailboxes;
- ``ready``: none of the above: every required area was checked, nothing warns or fails.

An area is checked on a host when the host has a check of the area that ran (a ``skipped``
check, "not checked", does not count; nor does ``fleet.connection``, which says the host could
not be reached and is the ``matrix.item.outcome`` item).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable, Optional, Sequence

from ..core.messages import text
from ..core.model import Text
from ..core.plan import Plan
from ..store.queries import StoredCheck, StoredHost, StoredMailboxReview
from .inventory import UnitInfo

STATUSES = ("ready", "ready_with_conditions", "not_ready", "not_surveyed")
BLOCKING = frozenset({"fail", "error"})
AUDITED_OUTCOMES = frozenset({"complete", "partial"})
NOT_AREA_CHECKS = frozenset({"fleet.connection"})  # reachability of the host, not of the portal


@dataclass(frozen=True)
class Area:
    """A matrix column fed by the checks of some categories."""

    id: str
    categories: Optional[tuple[str, ...]]  # None: every category
    hosts: str = "workstation"  # or "server"
    required: bool = False


AREAS: tuple[Area, ...] = (
    Area("browsers", ("browser",), required=True),
    Area("network", ("network",), required=True),
    Area("mailbox", ("mailbox",), required=True),
    Area("system", ("system", "clock"), required=True),
    Area("signature", ("signature",)),
    Area("servers", None, hosts="server"),
)


@dataclass(frozen=True)
class Trace:
    """One host and check behind a cell."""

    hostname: str
    report_id: str
    check_id: str
    status: str


@dataclass
class Cell:
    id: str
    status: str  # ok, warn, fail, none
    text: str
    trace: list[Trace] = field(default_factory=list)


@dataclass
class Item:
    """A blocking item or condition of a unit, with its remedy and the hosts concerned."""

    key: str
    severity: str  # block or condition
    title: Text
    remedy: Optional[Text]
    hosts: list[str] = field(default_factory=list)


@dataclass
class Row:
    info: UnitInfo
    phase: int
    status: str
    audited: int
    cells: dict[str, Cell]
    items: list[Item]
    hosts: list[StoredHost]
    last_report_at: Optional[str]
    not_checked: list[str] = field(default_factory=list)  # required area ids nobody checked

    @property
    def unit(self):
        return self.info.unit


@dataclass(frozen=True)
class MatrixFilter:
    phase: Optional[int] = None
    district: Optional[str] = None  # name (Huyện Yên Thành) or GSO code (426)
    as_of: Optional[dt.date] = None
    since: Optional[dt.date] = None

    def keeps(self, info: UnitInfo, phase: int) -> bool:
        unit = info.unit
        if self.phase is not None and phase != self.phase:
            return False
        return self.district is None or self.district.casefold() in (
            (unit.district_vi or "").casefold(), (unit.district_gso or "").casefold())


@dataclass
class Matrix:
    rows: list[Row]
    servers: list[StoredHost]
    filters: MatrixFilter
    generated_at: str

    def status_counts(self, phase: Optional[int] = None) -> dict[str, int]:
        counts = Counter(r.status for r in self.rows if phase in (None, r.phase))
        return {status: counts.get(status, 0) for status in STATUSES}

    def phases(self) -> list[int]:
        return sorted({row.phase for row in self.rows})

    def common_items(self, limit: int = 10) -> list[tuple[Item, int]]:
        """Blocking items by the number of units they block, most common first."""
        counts: Counter[str] = Counter()
        first: dict[str, Item] = {}
        for row in self.rows:
            for item in row.items:
                if item.severity == "block":
                    counts[item.key] += 1
                    first.setdefault(item.key, item)
        return [(first[key], n) for key, n in counts.most_common(limit)]


def build_matrix(infos: Iterable[UnitInfo], plan: Plan, hosts: Iterable[StoredHost],
                 reviews: dict[str, StoredMailboxReview], filters: MatrixFilter,
                 generated_at: str) -> Matrix:
    hosts = list(hosts)
    servers = [h for h in hosts if h.kind == "server"]
    clones = cloned_machines(h for h in hosts if h.kind == "workstation")
    by_unit: dict[str, list[StoredHost]] = {}
    for host in hosts:
        if host.kind == "workstation":
            by_unit.setdefault(host.unit_id, []).append(host)
    rows = []
    for info in infos:
        phase_def = plan.phase_of(info.unit.unit_id)
        phase = phase_def.number if phase_def else info.unit.phase
        if filters.keeps(info, phase):
            unit_servers = [s for s in servers if s.unit_id in (None, info.unit.unit_id)]
            rows.append(build_row(info, phase, by_unit.get(info.unit.unit_id, []), unit_servers,
                                  reviews.get(info.unit.unit_id),
                                  clones.get(info.unit.unit_id, [])))
    rows.sort(key=lambda r: (r.phase, r.unit.district_vi or "", r.unit.name_vi))
    return Matrix(rows, servers, filters, generated_at)


def cloned_machines(workstations: Iterable[StoredHost]) -> dict[str, list[str]]:
    """Per unit, its hosts whose machine id other machines share (another name, another unit,
    or the same name on other hardware): cloned from one image without sysprep.

    One machine id on one SMBIOS UUID is one machine (renamed, or moved): not a clone."""
    by_id: dict[str, list[StoredHost]] = {}
    for host in workstations:
        if host.machine_id:
            by_id.setdefault(host.machine_id, []).append(host)
    found: dict[str, list[str]] = {}
    for machine_id, hosts in sorted(by_id.items()):
        places = {(h.unit_id, h.hostname, h.smbios_uuid) for h in hosts}
        uuids = {h.smbios_uuid for h in hosts}
        if len(places) < 2 or (len(uuids) == 1 and None not in uuids):
            continue
        names = [f"{h.hostname} ({h.unit_id}, {machine_id[:8]})" for h in
                 sorted(hosts, key=lambda h: (h.unit_id or "", h.hostname, h.smbios_uuid or ""))]
        for unit_id in sorted({h.unit_id or "" for h in hosts}):
            found.setdefault(unit_id, []).extend(n for n in names if n not in found[unit_id])
    return found


def build_row(info: UnitInfo, phase: int, workstations: list[StoredHost],
              servers: list[StoredHost], review: Optional[StoredMailboxReview],
              clones: Sequence[str] = ()) -> Row:
    audited = _audited(workstations)
    cells = {"workstations": Cell("workstations", _coverage_status(audited, info),
                                  f"{audited}/{info.expected_workstations}",
                                  [Trace(h.hostname, h.report_id, "", h.readiness)
                                   for h in workstations])}
    items: dict[str, Item] = {}
    for area in AREAS:
        area_hosts = servers if area.hosts == "server" else workstations
        cells[area.id] = _area_cell(area, area_hosts, items)
    if review is not None:
        cells["mailbox"] = _review_cell(review, info, items)
    not_checked: list[str] = []
    if workstations:
        not_checked = _unit_conditions(info, workstations, cells, items)
        if clones:
            items["matrix.item.cloned"] = _own_item("matrix.item.cloned", "block", info,
                                                    len(clones), "")
            items["matrix.item.cloned"].hosts.extend(clones)
    else:  # a unit not surveyed yet is listed as such; its cells still show the servers
        items.clear()
    status = _status(workstations, items.values())
    stamps = [h.started_at for h in workstations + servers]
    return Row(info, phase, status, audited, cells, list(items.values()),
               workstations, max(stamps) if stamps else None, not_checked)


def _audited(workstations: list[StoredHost]) -> int:
    """Workstations whose audit ran (complete or partial); unreachable ones are not counted."""
    return sum(1 for host in workstations if host.outcome in AUDITED_OUTCOMES)


def _coverage_status(audited: int, info: UnitInfo) -> str:
    if audited == 0:
        return "none"
    return "ok" if audited >= info.expected_workstations else "warn"


def _area_cell(area: Area, hosts: list[StoredHost], items: dict[str, Item]) -> Cell:
    trace: list[Trace] = []
    checked = compliant = 0
    worst = "ok"
    for host in hosts:
        in_area = [c for c in host.checks
                   if area.categories is None or c.category in area.categories]
        for check in in_area:  # the host's own item (with its remedy), never the area's
            if check.check_id in NOT_AREA_CHECKS:
                _add_check_item(items, host, check)
        checks = [c for c in in_area if c.check_id not in NOT_AREA_CHECKS]
        if not any(c.status != "skipped" for c in checks):
            trace += [Trace(host.hostname, host.report_id, c.check_id, c.status) for c in checks]
            continue
        checked += 1
        compliant += not any(c.status in BLOCKING for c in checks)
        for check in checks:
            trace.append(Trace(host.hostname, host.report_id, check.check_id, check.status))
            worst = _worse(worst, check.status)
            _add_check_item(items, host, check)
    if not checked:
        return Cell(area.id, "none", "—", trace)
    return Cell(area.id, worst, f"{compliant}/{checked}", trace)


def _worse(current: str, status: str) -> str:
    rank = {"ok": 0, "warn": 1, "fail": 2}
    found = "fail" if status in BLOCKING else "warn" if status == "warn" else "ok"
    return found if rank[found] > rank[current] else current


def _add_check_item(items: dict[str, Item], host: StoredHost, check: StoredCheck) -> None:
    if check.status not in BLOCKING and check.status != "warn":
        return
    severity = "block" if check.status in BLOCKING else "condition"
    item = items.setdefault(check.check_id, Item(check.check_id, severity, check.title,
                                                 check.remedy))
    if severity == "block":
        item.severity = "block"
    if host.hostname not in item.hosts:
        item.hosts.append(host.hostname)


def _review_cell(review: StoredMailboxReview, info: UnitInfo, items: dict[str, Item]) -> Cell:
    complete = review.working_mailbox >= review.officers
    if not complete:
        items["matrix.item.mailbox_review"] = _own_item(
            "matrix.item.mailbox_review", "condition", info, review.working_mailbox,
            review.officers)
    return Cell("mailbox", "ok" if complete else "warn",
                f"{review.working_mailbox}/{review.officers}",
                [Trace("", review.review_id, "mailbox_review", "complete" if complete else "warn")])


def _unit_conditions(info: UnitInfo, workstations: list[StoredHost], cells: dict[str, Cell],
                     items: dict[str, Item]) -> list[str]:
    """Adds the unit's own conditions; returns the required areas nobody checked."""
    audited = _audited(workstations)
    if audited < info.expected_workstations:
        items["matrix.item.coverage"] = _own_item("matrix.item.coverage", "condition", info,
                                                  audited, info.expected_workstations)
    incomplete = [f"{h.hostname} ({h.outcome})" for h in workstations if h.outcome != "complete"]
    if incomplete:
        items["matrix.item.outcome"] = _own_item("matrix.item.outcome", "block", info,
                                                 len(incomplete), "")
        items["matrix.item.outcome"].hosts.extend(incomplete)
    missing = [area.id for area in AREAS if area.required and cells[area.id].status == "none"]
    for area_id in missing:
        label = text(f"matrix.{area_id}")
        title = Text(text("matrix.item.missing", observed=label.vi).vi,
                     text("matrix.item.missing", observed=label.en).en)
        key = f"matrix.item.missing.{area_id}"
        items[key] = Item(key, "condition", title, text(key, "remedy", unit=info.unit.unit_id))
    return missing


def _own_item(key: str, severity: str, info: UnitInfo, observed: object, expected: object) -> Item:
    return Item(key, severity, text(key, observed=observed, expected=expected),
                text(key, "remedy", unit=info.unit.unit_id))


def _status(workstations: list[StoredHost], items: Iterable[Item]) -> str:
    if not workstations:
        return "not_surveyed"
    severities = {item.severity for item in items}
    if "block" in severities:
        return "not_ready"
    return "ready_with_conditions" if severities else "ready"
