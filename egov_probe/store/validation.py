"""Schema checks for what the store imports: a compiled fast path, full messages on failure.

With the ``jsonschema-rs`` package installed, valid documents are recognised about 15 times
faster (it matters for bulk imports); the messages for an invalid one always come from
``jsonschema`` (``egov_probe.core.report_file.validation_errors`` for reports).
"""

from __future__ import annotations

import functools
import itertools
import json
import re
from importlib import resources
from typing import Any, Callable, Optional

from ..core.report_file import report_schema, schema_problems, validation_errors

MAILBOX_SCHEMA = "mailbox_review.schema.json"


@functools.lru_cache(maxsize=1)
def mailbox_review_schema() -> dict[str, Any]:
    """The published JSON Schema of a mailbox review (issue 7 validates against it too)."""
    text = resources.files("egov_probe.schema").joinpath(MAILBOX_SCHEMA).read_text("utf-8")
    return json.loads(text)


@functools.lru_cache(maxsize=4)
def _fast_check(schema_name: str) -> Optional[Callable[[Any], bool]]:
    """``is_valid`` of jsonschema-rs's compiled validator, when the package is installed."""
    try:
        import jsonschema_rs
    except ImportError:
        return None
    schema = report_schema() if schema_name == "report" else mailbox_review_schema()
    return jsonschema_rs.validator_for(schema).is_valid


def _passes_fast(schema_name: str, data: Any) -> bool:
    check = _fast_check(schema_name)
    return check is not None and check(data)


def report_problems(data: Any) -> list[str]:
    """Every way ``data`` breaks the report schema (empty when it is a valid report).

    A large report with a bad check far down: jsonschema-rs finds the bad checks, and
    ``jsonschema`` words the messages for a copy holding only those (seconds, not minutes)."""
    if _passes_fast("report", data):
        return []
    bad = _bad_checks(data)
    if not bad:
        return validation_errors(data)
    reduced = dict(data, checks=[data["checks"][i] for i in bad])
    return [_renumber(problem, bad) for problem in validation_errors(reduced)]


def _bad_checks(data: Any) -> list[int]:
    """Indexes of the checks that break the schema (a few), when jsonschema-rs can tell."""
    if _fast_check("report") is None or not isinstance(data, dict) \
            or not isinstance(data.get("checks"), list) or len(data["checks"]) < 100:
        return []
    import jsonschema_rs

    validator = jsonschema_rs.validator_for(report_schema())
    found: set[int] = set()
    for error in itertools.islice(validator.iter_errors(data), 20):
        path = list(error.instance_path)
        if len(path) > 1 and path[0] == "checks" and isinstance(path[1], int):
            found.add(path[1])
    return sorted(found)


def _renumber(problem: str, bad: list[int]) -> str:
    """``checks/1/...`` of the reduced copy as ``checks/<index in the report>/...``."""
    match = re.match(r"checks/(\d+)(/|:)", problem)
    if not match:
        return problem
    return f"checks/{bad[int(match.group(1))]}{problem[match.end(1):]}"


def mailbox_review_problems(data: Any) -> list[str]:
    """Every way ``data`` breaks the mailbox review schema."""
    return [] if _passes_fast("mailbox", data) else schema_problems(data, mailbox_review_schema())
