"""The matrix as flat rows with stable column ids: CSV and JSON, and the cells the other formats show."""

from __future__ import annotations

import csv
import io
from dataclasses import asdict
from typing import Any

from ..core.messages import text
from ..matrix.build import AREAS, Item, Matrix, Row

FORMAT_ID = "egov-probe-matrix/1.0"
AREA_IDS = tuple(area.id for area in AREAS)
COLUMN_IDS = (
    "unit_id", "unit_name", "phase", "district", "workstations_audited", "workstations_expected",
    *[c for area in AREA_IDS for c in (area, f"{area}_status")],
    "status", "status_label", "not_checked", "blocking_items", "remedies", "last_report_at",
)
LABELLED_COLUMNS = ("unit_id", "unit_name", "phase", "district", "workstations", *AREA_IDS,
                    "status", "not_checked_areas", "blocking_items", "remedies", "last_report_at")


def label(key: str, lang: str, **values: Any) -> str:
    """A matrix label (``data/messages_matrix.yml``) in ``lang``."""
    prefix = "" if key.startswith(("matrix.", "monthly.")) else "matrix."
    return text(prefix + key, **values).get(lang)


def district_label(row: Row, lang: str) -> str:
    return row.unit.district_vi or label("province_level", lang)


def item_line(item: Item, lang: str) -> str:
    hosts = f" [{', '.join(item.hosts)}]" if item.hosts else ""
    return f"{item.title.get(lang)}{hosts}"


def not_checked_labels(row: Row, lang: str) -> str:
    """The required areas nobody checked, in words (``Mạng, Hộp thư công vụ``)."""
    return ", ".join(label(area, lang) for area in row.not_checked)


def flat_row(row: Row, lang: str) -> dict[str, Any]:
    """One unit under the stable column ids (values in ``lang`` where they are words)."""
    flat: dict[str, Any] = {
        "unit_id": row.unit.unit_id, "unit_name": row.unit.name_vi, "phase": row.phase,
        "district": district_label(row, lang), "workstations_audited": row.audited,
        "workstations_expected": row.info.expected_workstations,
    }
    for area in AREA_IDS:
        cell = row.cells[area]
        flat[area] = cell.text
        flat[f"{area}_status"] = cell.status
    flat.update(status=row.status, status_label=label(row.status, lang),
                not_checked=" ".join(row.not_checked),
                blocking_items=" | ".join(item_line(i, lang) for i in row.items),
                remedies=" | ".join(i.remedy.get(lang) for i in row.items if i.remedy),
                last_report_at=row.last_report_at or "")
    return flat


def matrix_csv(matrix: Matrix, lang: str) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMN_IDS, lineterminator="\r\n")
    writer.writeheader()
    for row in matrix.rows:
        writer.writerow(flat_row(row, lang))
    return "\ufeff" + out.getvalue()  # BOM: Excel opens Vietnamese CSV as UTF-8


def matrix_json(matrix: Matrix, lang: str) -> dict[str, Any]:
    """Everything in the matrix, each cell with the hosts and checks behind it."""
    filters = matrix.filters
    return {
        "format": FORMAT_ID, "lang": lang, "generated_at": matrix.generated_at,
        "filters": {"phase": filters.phase, "district": filters.district,
                    "as_of": filters.as_of.isoformat() if filters.as_of else None,
                    "since": filters.since.isoformat() if filters.since else None},
        "columns": list(COLUMN_IDS),
        "summary": {str(phase): matrix.status_counts(phase) for phase in matrix.phases()},
        "rows": [{**flat_row(row, lang),
                  "items": [{"key": i.key, "severity": i.severity, "title": i.title.get(lang),
                             "remedy": i.remedy.get(lang) if i.remedy else None,
                             "hosts": i.hosts} for i in row.items],
                  "trace": {cid: [asdict(t) for t in cell.trace]
                            for cid, cell in row.cells.items()}}
                 for row in matrix.rows],
        "servers": [{"hostname": s.hostname, "unit_id": s.unit_id, "report_id": s.report_id,
                     "started_at": s.started_at, "readiness": s.readiness}
                    for s in matrix.servers],
    }
