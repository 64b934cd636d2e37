"""The matrix and the monthly report as one self-contained HTML file (no script, no network).

Charts are inline SVG drawn here; the page prints on A4 landscape.
"""

from __future__ import annotations

import functools
from html import escape
from typing import Any, Sequence

import jinja2
from markupsafe import Markup

from ..matrix.build import STATUSES, Matrix
from .matrix_table import AREA_IDS, district_label, item_line, label, not_checked_labels

STATUS_COLOURS = {"ready": "#1b7f3b", "ready_with_conditions": "#c77c02",
                  "not_ready": "#b3261e", "not_surveyed": "#8a8f98"}
CELL_CLASSES = {"ok": "ok", "warn": "warn", "fail": "fail", "none": "none"}
_BAR_WIDTH = 560
_MIN_LABELLED_WIDTH = 18  # narrower segments carry their number in the tooltip only


@functools.lru_cache(maxsize=4)
def environment(*packages: str) -> jinja2.Environment:
    """The matrix's templates, and before them those of ``packages`` (each a package with a
    ``templates`` folder: the collector's live page extends and imports the matrix's)."""
    loaders = [jinja2.PackageLoader(p, "templates") for p in (*packages, "egov_probe.render")]
    env = jinja2.Environment(loader=jinja2.ChoiceLoader(loaders),
                             autoescape=True, trim_blocks=True, lstrip_blocks=True,
                             undefined=jinja2.StrictUndefined)
    env.globals.update(STATUS_COLOURS=STATUS_COLOURS, AREA_IDS=AREA_IDS, STATUSES=STATUSES,
                       district_label=district_label, item_line=item_line,
                       not_checked_labels=not_checked_labels)
    return env


def render_matrix_html(matrix: Matrix, lang: str) -> str:
    return environment().get_template("matrix.html.j2").render(**matrix_values(matrix, lang))


def matrix_values(matrix: Matrix, lang: str) -> dict[str, Any]:
    """What the matrix's templates (and their macros) are rendered with."""
    return dict(m=matrix, lang=lang, L=functools.partial(label, lang=lang),
                groups=groups(matrix), phase_chart=phase_chart(matrix, lang),
                items_chart=items_chart(matrix, lang), trace_title=trace_title)


def groups(matrix: Matrix) -> list[tuple[int, str, list[Any]]]:
    """(phase, district, rows) in the matrix's order."""
    groups: list[tuple[int, str, list[Any]]] = []
    for row in matrix.rows:
        key = (row.phase, row.unit.district_vi or "")
        if not groups or groups[-1][:2] != key:
            groups.append((key[0], key[1], []))
        groups[-1][2].append(row)
    return groups


def trace_title(cell: Any) -> str:
    """The hosts and checks behind a cell, for its tooltip (and the printed hosts table)."""
    lines = [f"{t.hostname} {t.check_id} {t.status} ({t.report_id[:8]})".replace("  ", " ")
             for t in cell.trace if t.status != "pass"]
    passed = sum(1 for t in cell.trace if t.status == "pass")
    if passed:
        lines.append(f"pass × {passed}")
    return "\n".join(lines)


def stacked_bars(bars: Sequence[tuple[str, dict[str, int]]], lang: str) -> Markup:
    """One horizontal bar per label, split by status, with a legend."""
    height = 34 * len(bars) + 40
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{_BAR_WIDTH + 240}" '
             f'height="{height}" font-family="sans-serif" font-size="12">']
    for index, (name, counts) in enumerate(bars):
        y = 10 + 34 * index
        total = sum(counts.values()) or 1
        x = 200.0
        parts.append(f'<text x="0" y="{y + 16}">{escape(name)}</text>')
        for status in STATUSES:
            width = _BAR_WIDTH * counts.get(status, 0) / total
            if width:
                parts.append(f'<rect x="{x:.1f}" y="{y}" width="{width:.1f}" height="22" '
                             f'fill="{STATUS_COLOURS[status]}"><title>{escape(label(status, lang))}: '
                             f'{counts[status]}</title></rect>')
                if width >= _MIN_LABELLED_WIDTH:
                    parts.append(f'<text x="{x + 4:.1f}" y="{y + 16}" fill="#fff">'
                                 f'{counts[status]}</text>')
            x += width
    legend_y = height - 12
    for index, status in enumerate(STATUSES):
        x = 200 + index * 150
        parts.append(f'<rect x="{x}" y="{legend_y - 10}" width="12" height="12" '
                     f'fill="{STATUS_COLOURS[status]}"/><text x="{x + 16}" y="{legend_y}">'
                     f'{escape(label(status, lang))}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def phase_chart(matrix: Matrix, lang: str) -> Markup:
    bars = [(f"{label('phase', lang)} {phase}", matrix.status_counts(phase))
            for phase in matrix.phases()]
    return stacked_bars(bars, lang)


def items_chart(matrix: Matrix, lang: str) -> Markup:
    items = matrix.common_items()
    if not items:
        return Markup(f"<p>{escape(label('no_blocking', lang))}</p>")
    top = max(n for _, n in items)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{_BAR_WIDTH + 400}" '
             f'height="{26 * len(items) + 10}" font-family="sans-serif" font-size="12">']
    for index, (item, count) in enumerate(items):
        y = 5 + 26 * index
        width = (_BAR_WIDTH - 200) * count / top
        title = item.title.get(lang)
        short = title if len(title) <= 60 else title[:57] + "…"
        parts.append(f'<text x="0" y="{y + 14}"><title>{escape(title)}</title>{escape(short)}</text>'
                     f'<rect x="400" y="{y}" width="{width:.1f}" height="18" fill="#b3261e"/>'
                     f'<text x="{404 + width:.1f}" y="{y + 14}">{count}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
