"""Schema checks for what the store imports: a compiled fast path, full messages on failure.

With the ``jsonschema-rs`` package installed, valid documents are recognised about 15 times
faster (it matters for bulk imports); the messages for an invalid one always come from
``jsonschema`` (``egov_probe.core.report_file.validation_errors`` for reports).
"""

from __future__ import annotations

import functools
import json
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
    """Every way ``data`` breaks the report schema (empty when it is a valid report)."""
    return [] if _passes_fast("report", data) else validation_errors(data)


def mailbox_review_problems(data: Any) -> list[str]:
    """Every way ``data`` breaks the mailbox review schema."""
    return [] if _passes_fast("mailbox", data) else schema_problems(data, mailbox_review_schema())
