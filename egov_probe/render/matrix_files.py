"""Writing the matrix outputs: each file whole or not at all, named by what it shows."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterable

from ..matrix.build import Matrix
from ..report_io import _fsync_dir, write_json_atomic, write_text_atomic

FORMATS = ("html", "xlsx", "csv", "json")


def write_atomic(path: Path, write: Callable[[Path], None]) -> Path:
    """``write`` (e.g. a workbook's ``save``) a temporary file beside ``path``, then rename it
    over ``path``. Text goes through ``report_io.write_text_atomic``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(f".{path.name}.part")
    try:
        write(part)
        part.replace(path)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)
    return path


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
            written.append(write_atomic(path, workbook.save))
    return written
