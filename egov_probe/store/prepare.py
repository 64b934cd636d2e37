"""Preparing a document for the store: parse it, judge it, and build the rows to insert.

Needs no database, so it runs in worker processes on large imports. A document that may not
enter the store raises Rejected with the reason written beside it in quarantine: not UTF-8, not
JSON, another ``schema_version``, schema errors, an impossible or future date, an unknown unit,
a workstation with no unit.
"""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import hashlib
import json
from dataclasses import dataclass
from typing import Any, Optional

from ..core.clock import utc_text
from ..core.model import SCHEMA_VERSION
from .validation import mailbox_review_problems, report_problems

FUTURE_TOLERANCE = dt.timedelta(hours=1)
MAILBOX_KIND = "mailbox_review"


class Rejected(Exception):
    """A document that goes to quarantine; the message is the reason written beside it."""


@dataclass(frozen=True)
class Rules:
    """What a document is judged against before it may enter the store."""

    unit_ids: frozenset[str]
    now: dt.datetime

    @functools.cached_property
    def now_text(self) -> str:
        return utc_text(self.now)


@dataclass(frozen=True)
class Prepared:
    """A valid document, ready to insert: its table's row and, for a report, its checks."""

    table: str
    doc_id: str
    digest: str
    row: tuple
    check_rows: tuple[tuple, ...] = ()


@dataclass(frozen=True)
class Document:
    """A parsed file: its data, its text as received (stored as is) and the SHA-256 of its bytes."""

    data: dict[str, Any]
    text: str
    digest: str
    origin: str


def prepare_document(raw: bytes, origin: str, rules: Rules) -> Prepared:
    """Parse and judge one document; raises Rejected with the reason."""
    document = parse_json(raw, origin)
    if document.data.get("kind") == MAILBOX_KIND:
        return _prepare_review(document, rules)
    return _prepare_report(document, rules)


def parse_json(raw: bytes, origin: str = "") -> Document:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Rejected(f"not UTF-8 text (byte {exc.start})") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise Rejected(f"not JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") from exc
    if not isinstance(data, dict):
        raise Rejected("not a report: expected a JSON object at the top")
    return Document(data, text, hashlib.sha256(raw).hexdigest(), origin)


def canonical_form(data: Any) -> str:
    """The document's content whatever its layout (key order, spaces, escapes)."""
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _check_schema_version(data: dict[str, Any], what: str) -> None:
    version = data.get("schema_version")
    if version != SCHEMA_VERSION:
        raise Rejected(f"{what} schema_version {version!r} is not supported: this egov-probe reads "
                       f"{SCHEMA_VERSION} (a newer format needs a newer egov-probe; an older one "
                       f"must be audited again)")


def _check_valid(problems: list[str], what: str) -> None:
    if problems:
        raise Rejected(f"not a valid {what}: " + "; ".join(problems[:5]))


def _check_time(rules: Rules, stamp: str, field_name: str) -> None:
    try:
        moment = dt.datetime.fromisoformat(stamp[:19])
    except ValueError as exc:  # the schema's pattern lets 2015-09-31 through
        raise Rejected(f"{field_name} {stamp} is not a real date and time: {exc}") from exc
    if moment.replace(tzinfo=dt.timezone.utc) > rules.now + FUTURE_TOLERANCE:
        raise Rejected(f"{field_name} {stamp} is in the future (now {rules.now_text}): "
                       f"the machine's clock is wrong; fix it and audit again")


def _check_unit(rules: Rules, unit_id: Optional[str], kind: str) -> None:
    if unit_id is None:
        if kind == "workstation":
            raise Rejected("workstation report without a unit (host.unit_id is null): "
                           "audit again with --unit UNIT_ID")
        return
    if unit_id not in rules.unit_ids:
        near = difflib.get_close_matches(unit_id, sorted(rules.unit_ids), n=3, cutoff=0.5)
        hint = f"; did you mean: {', '.join(near)}?" if near else ""
        raise Rejected(f"unknown unit id {unit_id!r} (not in the inventory){hint}")


def _prepare_report(document: Document, rules: Rules) -> Prepared:
    data = document.data
    _check_schema_version(data, "report")
    _check_valid(report_problems(data), "report")
    _check_time(rules, data["started_at"], "started_at")
    host = data["host"]
    _check_unit(rules, host["unit_id"], host["kind"])
    row = (data["report_id"], document.digest, data["schema_version"], host["kind"],
           host["hostname"], host["unit_id"], host["officer"], data["started_at"], data["outcome"],
           data["summary"]["readiness"], document.origin, rules.now_text, document.text)
    return Prepared("reports", data["report_id"], document.digest, row,
                    tuple(_check_row(check) for check in data["checks"]))


def _check_row(check: dict[str, Any]) -> tuple:
    remedy = check["remedy"] or {}
    return (check["id"], check["category"], check["status"], check["title"]["vi"],
            check["title"]["en"], remedy.get("vi"), remedy.get("en"))


def _prepare_review(document: Document, rules: Rules) -> Prepared:
    data = document.data
    _check_schema_version(data, "mailbox review")
    _check_valid(mailbox_review_problems(data), "mailbox review")
    _check_time(rules, data["generated_at"], "generated_at")
    _check_unit(rules, data["unit_id"], "mailbox_review")
    row = (data["review_id"], document.digest, data["unit_id"], data["generated_at"],
           data["summary"]["officers"], data["summary"]["working_mailbox"], document.origin,
           rules.now_text, document.text)
    return Prepared("mailbox_reviews", data["review_id"], document.digest, row)
