"""Writing the matrix outputs: each file whole or not at all, named by what it shows."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from ..core.atomic import write_atomic_with, write_json_atomic, write_text_atomic

if TYPE_CHECKING:  # the matrix package is imported only when a matrix is written
    from ..matrix.build import Matrix

FORMATS = ("html", "xlsx", "csv", "json")


def write_matrix(matrix: Matrix, out_dir: Path, stem: str, formats: Iterable[str],
                 lang: str) -> list[Path]:
    """The matrix in each of ``formats`` as ``<out_dir>/<stem>.<format>``."""
    from .matrix_html import render_matrix_html
    from .matrix_table import matrix_csv, matrix_json
    from .matrix_xlsx import matrix_workbook

    written = []
    for fmt in formats:
        path = Path(out_dir) / f"{stem}.{fmt}"
        if fmt == "html":
            written.append(write_text_atomic(path, render_matrix_html(matrix, lang)))
        elif fmt == "csv":
            written.append(write_text_atomic(path, matrix_csv(matrix, lang)))
        elif fmt == "json":
            written.append(write_json_atomic(path, matrix_json(matrix, lang)))
        else:
            workbook = matrix_workbook(matrix, lang)
            written.append(write_atomic_with(path, workbook.save))
    return written
