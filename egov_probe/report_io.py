"""Reading, validating and atomically writing reports."""

from __future__ import annotations

import functools
import json
import os
import shutil
import stat
import sys
import tempfile
from importlib import resources
from pathlib import Path
from typing import Any, Callable

from .errors import InputError
from .model import SCHEMA_VERSION, Report, report_from_dict

SCHEMA_RESOURCE = "report.schema.json"


@functools.lru_cache(maxsize=1)
def report_schema() -> dict[str, Any]:
    """The published JSON Schema of the report."""
    text = resources.files("egov_probe.schema").joinpath(SCHEMA_RESOURCE).read_text("utf-8")
    return json.loads(text)


def validation_errors(data: Any) -> list[str]:
    """Every way ``data`` breaks the report schema, as 'path: message' lines."""
    return schema_problems(data, report_schema())


def schema_problems(data: Any, schema: dict[str, Any]) -> list[str]:
    """Every way ``data`` breaks ``schema`` (JSON Schema 2020-12), as 'path: message' lines."""
    import jsonschema  # imported here: validation is not on the audit's hot path

    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    return [f"{'/'.join(str(p) for p in e.absolute_path) or '(root)'}: {e.message}" for e in errors]


def write_json_atomic(path: Path, data: Any) -> Path:
    """Write JSON so that ``path`` holds either the old file or the whole new one, never a part."""
    return write_text_atomic(Path(path), json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def write_text_atomic(path: Path, text: str) -> Path:
    """Write UTF-8 text atomically (see ``write_atomic_with``)."""
    def write(part: Path) -> None:
        with open(part, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
    return write_atomic_with(path, write)


def write_atomic_with(path: Path, write: Callable[[Path], None]) -> Path:
    """Let ``write`` fill a temporary file beside ``path`` (e.g. a workbook's ``save``), fsync
    it, then rename it over ``path``: readers see the old file or the whole new one, never a
    part, even if the process is killed.

    Only a regular file (or a new path) is replaced. ``-`` means standard output, and a path
    that is a device, a FIFO or a socket (``/dev/null``, ``/dev/stdout``, a pipe) is written
    through, never replaced: ``--out /dev/null`` in a root shell must not destroy the
    machine's ``/dev/null``."""
    path = Path(path)
    if writes_through(path):
        return _write_through(path, write)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(fd)
    part = Path(tmp)
    try:
        write(part)
        _fsync_file(part)
        os.replace(part, path)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)
    return path


STDOUT = "-"


def writes_through(path: Path) -> bool:
    """Whether ``path`` is standard output or an existing file that is not a regular one."""
    if str(path) == STDOUT:
        return True
    try:
        mode = os.stat(path).st_mode
    except OSError:  # absent (or unreachable): the atomic path creates it or says why not
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def _write_through(path: Path, write: Callable[[Path], None]) -> Path:
    """Let ``write`` fill a private temporary file, then copy its bytes into ``path`` (or
    standard output) without replacing it."""
    with tempfile.TemporaryDirectory(prefix="egov-out-") as folder:
        part = Path(folder) / f"out{path.suffix}"
        write(part)
        with open(part, "rb") as source:
            if str(path) == STDOUT:
                sys.stdout.flush()
                shutil.copyfileobj(source, sys.stdout.buffer)
                sys.stdout.buffer.flush()
            else:
                with open(path, "wb") as target:
                    shutil.copyfileobj(source, target)
    return path


def _fsync_file(path: Path) -> None:
    with open(path, "rb+") as handle:
        os.fsync(handle.fileno())


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # Windows cannot open a directory
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def report_filename(report: Report) -> str:
    """``<hostname>_<UTC start>.json``: one file per audit, sortable by time."""
    stamp = report.started_at[:19].replace(":", "").replace("-", "")
    safe_host = "".join(c if c.isalnum() or c in "-_." else "_" for c in report.host.hostname)
    return f"{safe_host}_{stamp}Z.json"


def write_report_atomic(report: Report, out_dir: Path) -> Path:
    """Write ``report`` into ``out_dir`` atomically; returns the file written."""
    return write_json_atomic(Path(out_dir) / report_filename(report), report.to_dict())


def read_report(path: Path) -> Report:
    """Load and validate a report file; InputError names the file and what is wrong."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read report: {exc}", path=str(path)) from exc
    except json.JSONDecodeError as exc:
        raise InputError(f"not JSON: {exc.msg}", path=str(path), line=exc.lineno) from exc
    version = data.get("schema_version") if isinstance(data, dict) else None
    if version != SCHEMA_VERSION:
        raise InputError(f"report schema_version {version!r} is not supported "
                         f"(this version of egov-probe reads {SCHEMA_VERSION!r})",
                         path=str(path), field="schema_version")
    problems = validation_errors(data)
    if problems:
        raise InputError("not a valid report: " + "; ".join(problems[:5]), path=str(path))
    return report_from_dict(data)
