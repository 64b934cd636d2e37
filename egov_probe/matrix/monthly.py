"""The monthly progress report ("báo cáo sơ kết hàng tháng"): each phase at the month's end
against the month before, the units behind their phase's deadline and what blocks them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from ..core.plan import Phase, Plan
from ..store.db import Database
from .build import Matrix, MatrixFilter, Row
from .inventory import UnitInfo
from .periods import month_end, previous_month

TREND_MONTHS = 12
from .service import matrix_from_store

READY = ("ready", "ready_with_conditions")
BEHIND = ("not_ready", "not_surveyed")


@dataclass
class PhaseProgress:
    phase: Phase
    now: dict[str, int]
    before: dict[str, int]
    behind: list[tuple[Row, int]] = field(default_factory=list)  # row, days past the deadline

    @property
    def total(self) -> int:
        return sum(self.now.values())

    def ready(self, counts: dict[str, int]) -> int:
        return sum(counts[s] for s in READY)

    @property
    def change(self) -> int:
        return self.ready(self.now) - self.ready(self.before)


@dataclass
class MonthlyReport:
    month: tuple[int, int]
    previous: tuple[int, int]
    end: dt.date
    previous_end: dt.date
    phases: list[PhaseProgress]
    changed: list[tuple[Row, str]]  # row now, status the month before
    matrix: Matrix
    trend: list[tuple[str, dict[str, int]]] = field(default_factory=list)  # MM/YYYY, statuses

    @property
    def month_text(self) -> str:
        return f"{self.month[1]:02d}/{self.month[0]}"

    @property
    def previous_text(self) -> str:
        return f"{self.previous[1]:02d}/{self.previous[0]}"


def monthly_report(database: Database, infos: list[UnitInfo], plan: Plan, year: int,
                   month: int) -> MonthlyReport:
    """The state at the end of the month (Vietnam time) beside the end of the month before."""
    previous = previous_month(year, month)
    end, previous_end = month_end(year, month), month_end(*previous)
    now = matrix_from_store(database, infos, plan, MatrixFilter(as_of=end))
    before = matrix_from_store(database, infos, plan, MatrixFilter(as_of=previous_end))
    status_before = {row.unit.unit_id: row.status for row in before.rows}
    phases = []
    for phase in plan.phases:
        progress = PhaseProgress(phase, now.status_counts(phase.number),
                                 before.status_counts(phase.number))
        if phase.end <= end:
            progress.behind = [(row, (end - phase.end).days) for row in now.rows
                               if row.phase == phase.number and row.status in BEHIND]
        phases.append(progress)
    changed = [(row, status_before[row.unit.unit_id]) for row in now.rows
               if status_before[row.unit.unit_id] != row.status]
    trend = [(f"{m:02d}/{y}", matrix_from_store(database, infos, plan, MatrixFilter(
        as_of=month_end(y, m))).status_counts())
        for y, m in _trend_months(plan, (year, month))[:-2]]
    trend += [(f"{previous[1]:02d}/{previous[0]}", before.status_counts()),
              (f"{month:02d}/{year}", now.status_counts())]
    return MonthlyReport((year, month), previous, end, previous_end, phases, changed, now, trend)


def _trend_months(plan: Plan, last: tuple[int, int]) -> list[tuple[int, int]]:
    """From the month the first phase starts (at most TREND_MONTHS back) to ``last``."""
    first_start = min(phase.start for phase in plan.phases)
    months = [last]
    while len(months) < TREND_MONTHS and months[0] > (first_start.year, first_start.month):
        months.insert(0, previous_month(*months[0]))
    if len(months) < 2:
        months.insert(0, previous_month(*months[0]))
    return months
