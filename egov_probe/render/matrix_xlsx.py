"""The matrix (and the monthly report) as an XLSX workbook: colours, frozen header, filters.

Sheets: the matrix, one per phase, the audited hosts, and the to-do list of remedies by unit.
"""

from __future__ import annotations

from typing import Any, Iterable, Sequence

from ..matrix.build import Matrix, Row
from .matrix_table import AREA_IDS, district_label, flat_row, label, not_checked_labels

FILLS = {"ok": "D8F0DF", "warn": "FDEBC8", "fail": "F8D3CF", "none": "FFFFFF",
         "ready": "1B7F3B", "ready_with_conditions": "C77C02", "not_ready": "B3261E",
         "not_surveyed": "8A8F98"}
STATUS_FILLS = frozenset({"ready", "ready_with_conditions", "not_ready", "not_surveyed"})
HEADER_FILL = "E8EAED"
MAX_SHEET_TITLE = 31
WRAP_FROM_WIDTH = 40


def new_workbook() -> Any:
    from openpyxl import Workbook  # optional dependency (the "report" extra)

    workbook = Workbook()
    workbook.remove(workbook.active)
    return workbook


def add_table(workbook: Any, title: str, headers: Sequence[str],
              rows: Iterable[Sequence[Any]], fills: Iterable[Sequence[str | None]] = (),
              widths: Sequence[int] = ()) -> Any:
    """A sheet with a bold coloured header, frozen, filtered, cells coloured by ``fills``."""
    from openpyxl.styles import Alignment

    sheet = workbook.create_sheet(title[:MAX_SHEET_TITLE])
    sheet.append(list(headers))
    styles = _Styles()
    for cell in sheet[1]:
        cell.font = styles.bold
        cell.fill = styles.fill(HEADER_FILL)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    fill_rows = list(fills)
    for index, values in enumerate(rows):
        sheet.append(list(values))
        for column, colour in enumerate(fill_rows[index] if index < len(fill_rows) else ()):
            if colour:
                target = sheet.cell(row=index + 2, column=column + 1)
                target.fill = styles.fill(FILLS[colour])
                if colour in STATUS_FILLS:
                    target.font = styles.white_bold
    sheet.freeze_panes = "B2"
    sheet.auto_filter.ref = sheet.dimensions
    wrap = Alignment(wrap_text=True, vertical="top")
    for column, width in enumerate(widths, start=1):
        letter = sheet.cell(row=1, column=column).column_letter
        sheet.column_dimensions[letter].width = width
        if width >= WRAP_FROM_WIDTH:  # long texts (blocking items, remedies) wrap in their cell
            for cell in sheet[letter][1:]:
                cell.alignment = wrap
    return sheet


class _Styles:
    """One style object per colour, shared by every cell that has it (openpyxl is slow otherwise)."""

    def __init__(self) -> None:
        from openpyxl.styles import Font

        self.bold = Font(bold=True)
        self.white_bold = Font(bold=True, color="FFFFFF")
        self._fills: dict[str, Any] = {}

    def fill(self, colour: str) -> Any:
        from openpyxl.styles import PatternFill

        if colour not in self._fills:
            self._fills[colour] = PatternFill("solid", fgColor=colour)
        return self._fills[colour]


def _matrix_headers(lang: str) -> list[str]:
    return [label(c, lang) for c in ("unit_id", "unit_name", "phase", "district",
                                     "workstations", *AREA_IDS, "status", "not_checked_areas",
                                     "blocking_items", "remedies", "last_report_at")]


def _matrix_values(row: Row, lang: str) -> list[Any]:
    flat = flat_row(row, lang)
    return [flat["unit_id"], flat["unit_name"], flat["phase"], flat["district"],
            row.cells["workstations"].text, *[flat[a] for a in AREA_IDS], flat["status_label"],
            not_checked_labels(row, lang), flat["blocking_items"], flat["remedies"],
            flat["last_report_at"]]


def _matrix_fills(row: Row) -> list[str | None]:
    return [None, None, None, None, row.cells["workstations"].status,
            *[row.cells[a].status for a in AREA_IDS], row.status]


MATRIX_WIDTHS = (24, 28, 8, 18, 12, 11, 11, 11, 11, 11, 11, 20, 24, 50, 60, 22)


def add_matrix_sheet(workbook: Any, title: str, rows: list[Row], lang: str) -> Any:
    return add_table(workbook, title, _matrix_headers(lang),
                     [_matrix_values(r, lang) for r in rows], [_matrix_fills(r) for r in rows],
                     MATRIX_WIDTHS)


def matrix_workbook(matrix: Matrix, lang: str) -> Any:
    workbook = new_workbook()
    add_matrix_sheet(workbook, label("matrix_sheet", lang), matrix.rows, lang)
    for phase in matrix.phases():
        add_matrix_sheet(workbook, label("phase_sheet", lang, phase=phase),
                         [r for r in matrix.rows if r.phase == phase], lang)
    _hosts_sheet(workbook, matrix, lang)
    add_todo_sheet(workbook, matrix.rows, lang)
    return workbook


def _hosts_sheet(workbook: Any, matrix: Matrix, lang: str) -> None:
    headers = [label(c, lang) for c in ("unit_id", "hostname", "machine_id", "kind", "officer",
                                        "started_at", "outcome", "readiness", "problems",
                                        "report_id")]
    values = []
    hosts = [(r.unit.unit_id, h) for r in matrix.rows for h in r.hosts]
    hosts += [(s.unit_id or label("province_level", lang), s) for s in matrix.servers]
    for unit_id, host in hosts:
        problems = ", ".join(f"{c.check_id}={c.status}" for c in host.checks
                             if c.status in ("fail", "error", "warn"))
        values.append([unit_id, host.hostname, host.machine_id or "", label(host.kind, lang),
                       host.officer or "",
                       host.started_at, host.outcome, host.readiness, problems, host.report_id])
    add_table(workbook, label("hosts", lang), headers, values,
              widths=(24, 20, 34, 10, 22, 22, 12, 20, 60, 34))


def add_todo_sheet(workbook: Any, rows: list[Row], lang: str) -> None:
    headers = [label(c, lang) for c in ("unit_id", "unit_name", "district", "severity", "item",
                                        "affected_hosts", "remedies")]
    values, fills = [], []
    for row in rows:
        for item in row.items:
            values.append([row.unit.unit_id, row.unit.name_vi, district_label(row, lang),
                           label(item.severity, lang), item.title.get(lang),
                           ", ".join(item.hosts), item.remedy.get(lang) if item.remedy else ""])
            fills.append([None, None, None, "fail" if item.severity == "block" else "warn"])
    add_table(workbook, label("todo", lang), headers, values, fills,
              widths=(24, 26, 18, 10, 50, 30, 80))
