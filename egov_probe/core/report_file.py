"""A report on disk: its file name, reading it back validated against the schema, writing it."""

from __future__ import annotations

import functools
import json
from importlib import resources
from pathlib import Path
from typing import Any

from .atomic import write_json_atomic
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
