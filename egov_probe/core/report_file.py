"""A report on disk: its file name, reading it back checked by the rules every report meets
(``check_report``, shared by ``validate``, ``import`` and the fleet), writing it."""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import json
from importlib import resources
from pathlib import Path
from typing import Any, Callable, Collection, Optional

from .atomic import write_json_atomic
from .errors import InputError
from .model import READABLE_SCHEMA_VERSIONS, Report, report_from_dict
from .yamlsource import DOCUMENT_LIMITS, load_json

FUTURE_TOLERANCE = dt.timedelta(hours=1)

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
    """``<hostname>_<UTC start>[_<machine id, 8 first>].json``: one file per audit, sortable
    by time; PCs cloned under one name, audited onto one stick, never overwrite each other."""
    stamp = report.started_at[:19].replace(":", "").replace("-", "")
    safe_host = "".join(c if c.isalnum() or c in "-_." else "_" for c in report.host.hostname)
    machine_id = report.host.machine_id or ""
    machine = "".join(c if c.isalnum() or c == "-" else "_" for c in machine_id[:8])
    return f"{safe_host}_{stamp}Z{'_' + machine if machine else ''}.json"


def write_report_atomic(report: Report, out_dir: Path) -> Path:
    """Write ``report`` into ``out_dir`` atomically; returns the file written."""
    return write_json_atomic(Path(out_dir) / report_filename(report), report.to_dict())


def read_report(path: Path, now: Optional[dt.datetime] = None,
                unit_ids: Optional[Collection[str]] = None) -> Report:
    """Load and check a report file (see ``check_report``); InputError names the file."""
    path = Path(path)
    data = load_json(path, DOCUMENT_LIMITS)
    check_report(data, str(path), now=now or dt.datetime.now(dt.timezone.utc), unit_ids=unit_ids)
    return report_from_dict(data)


# The rules every report meets, whoever reads it (``validate``, ``import``, the fleet).


def check_report(data: Any, name: str, *, now: dt.datetime,
                 unit_ids: Optional[Collection[str]] = None,
                 problems: Callable[[Any], list[str]] = validation_errors) -> None:
    """Raise InputError at the first rule ``data`` breaks: the format version, the schema
    (``problems``), dates that exist, finished not before started, nothing in the future,
    unique check ids and, given ``unit_ids``, a known unit (a workstation must have one)."""
    check_object(data, name, "report")
    check_schema_version(data, name, "report", READABLE_SCHEMA_VERSIONS)
    found = problems(data)
    if found:
        raise InputError("not a valid report: " + "; ".join(found[:5]), path=name)
    started = check_time(data["started_at"], "started_at", name, now)
    finished = check_time(data["finished_at"], "finished_at", name, now)
    if finished < started:
        raise InputError(f"finished_at {data['finished_at']} is before started_at "
                         f"{data['started_at']}", path=name, field="finished_at")
    seen: set[str] = set()
    for index, check in enumerate(data["checks"]):
        if check["id"] in seen:
            raise InputError(f"check id {check['id']!r} appears twice in one report", path=name,
                             field=f"checks.{index}.id")
        seen.add(check["id"])
    if unit_ids is not None:
        check_unit(data["host"]["unit_id"], data["host"]["kind"], unit_ids, name)


def check_object(data: Any, name: str, what: str) -> None:
    if not isinstance(data, dict):
        raise InputError(f"not a {what}: expected a JSON object at the top", path=name)


def check_schema_version(data: dict, name: str, what: str, readable: tuple[str, ...]) -> None:
    """The document's ``schema_version`` is one of ``readable`` (newest last)."""
    version = data.get("schema_version")
    if version in readable:
        return
    newest, listed = readable[-1], ", ".join(readable)
    if isinstance(version, (int, float)) and not isinstance(version, bool):
        meant = next((v for v in readable if v in (str(version), f"{version}.0")), newest)
        problem = (f"expected the text \"{meant}\" (in quotes), found the number "
                   f"{version}: a hand-edited file?")
    elif version is None:
        problem = f"missing: a {what} of egov-probe has schema_version \"{newest}\""
    else:
        problem = (f"{what} schema_version {str(version)[:20]!r} is not supported: this "
                   f"egov-probe reads {listed} (a newer format needs a newer egov-probe; "
                   f"an older one must be audited again)")
    raise InputError(problem, path=name, field="schema_version")


def check_time(stamp: str, field_name: str, name: str, now: dt.datetime) -> dt.datetime:
    """The UTC moment of ``stamp`` (schema-checked text), which must exist and not be ahead."""
    try:
        moment = dt.datetime.fromisoformat(stamp[:19]).replace(tzinfo=dt.timezone.utc)
    except ValueError as exc:  # the schema's pattern lets 2015-09-31 and year 0000 through
        raise InputError(f"{stamp} is not a real date and time: {exc}", path=name,
                         field=field_name) from exc
    if moment > now + FUTURE_TOLERANCE:
        raise InputError(f"{stamp} is in the future (now "
                         f"{now.astimezone(dt.timezone.utc):%Y-%m-%dT%H:%M:%SZ}): the machine's "
                         f"clock is wrong; fix it and audit again", path=name, field=field_name)
    return moment


def check_unit(unit_id: Optional[str], kind: str, unit_ids: Collection[str], name: str) -> None:
    if unit_id is None:
        if kind == "workstation":
            raise InputError("workstation report without a unit (host.unit_id is null): "
                             "audit again with --unit UNIT_ID", path=name, field="host.unit_id")
        return
    if unit_id not in unit_ids:
        near = difflib.get_close_matches(unit_id, sorted(unit_ids), n=3, cutoff=0.5)
        hint = f"; did you mean: {', '.join(near)}?" if near else ""
        raise InputError(f"unknown unit id {unit_id!r} (not in the inventory){hint}",
                         path=name, field="host.unit_id")
