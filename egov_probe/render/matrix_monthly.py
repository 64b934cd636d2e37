"""The monthly progress report as HTML (one self-contained file) and XLSX."""

from __future__ import annotations

import functools
from typing import Any

from ..matrix.build import STATUSES
from ..matrix.monthly import MonthlyReport
from .matrix_html import environment, stacked_bars
from .matrix_table import district_label, item_line, label
from .matrix_xlsx import add_table, add_todo_sheet, new_workbook


def render_monthly_html(report: MonthlyReport, lang: str) -> str:
    return environment().get_template("monthly.html.j2").render(
        r=report, lang=lang, L=functools.partial(label, lang=lang), statuses=STATUSES,
        chart=_progress_chart(report, lang), trend_chart=stacked_bars(report.trend, lang))


def _progress_chart(report: MonthlyReport, lang: str) -> Any:
    bars = []
    for progress in report.phases:
        name = f"{label('phase', lang)} {progress.phase.number}"
        bars += [(f"{name} · {report.previous_text}", progress.before),
                 (f"{name} · {report.month_text}", progress.now)]
    return stacked_bars(bars, lang)


def monthly_workbook(report: MonthlyReport, lang: str) -> Any:
    workbook = new_workbook()
    headers = [label("phase", lang), label("monthly.deadline", lang),
               label("monthly.units_total", lang),
               label("monthly.ready_before", lang, month=report.previous_text),
               label("monthly.ready_now", lang, month=report.month_text),
               label("monthly.change", lang), *[label(s, lang) for s in STATUSES]]
    rows = [[p.phase.name_en if lang == "en" else p.phase.name_vi, p.phase.end, p.total,
             p.ready(p.before), p.ready(p.now), p.change, *[p.now[s] for s in STATUSES]]
            for p in report.phases]
    sheet = add_table(workbook, label("monthly.progress", lang), headers, rows,
                      widths=(60, 12, 10, 18, 18, 10, 12, 12, 12, 12))
    for cell in sheet["B"][1:]:
        cell.number_format = "DD/MM/YYYY"
    behind = [(row, days) for p in report.phases for row, days in p.behind]
    add_table(workbook, label("monthly.behind", lang),
              [label(c, lang) for c in ("phase", "unit_id", "unit_name", "district",
                                        "monthly.days_late", "status", "blocking_items")],
              [[row.phase, row.unit.unit_id, row.unit.name_vi, district_label(row, lang), days,
                label(row.status, lang),
                " | ".join(item_line(i, lang) for i in row.items if i.severity == "block")]
               for row, days in behind],
              [[None] * 5 + [row.status] for row, _ in behind], widths=(8, 24, 26, 18, 10, 18, 80))
    add_todo_sheet(workbook, [row for row, _ in behind], lang)
    add_table(workbook, label("monthly.trend", lang),
              [label("monthly.month", lang), *[label(s, lang) for s in STATUSES]],
              [[month, *[counts[s] for s in STATUSES]] for month, counts in report.trend],
              widths=(12, 12, 12, 12, 12))
    return workbook
