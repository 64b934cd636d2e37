"""Preparing a document for the store: parse it, judge it, and build the rows to insert.

Needs no database, so it runs in worker processes on large imports. A document that may not
enter the store raises Rejected with the reason written beside it in quarantine: not UTF-8, not
JSON, another ``schema_version``, schema errors, an impossible or future date, an unknown unit,
a workstation with no unit.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
from dataclasses import dataclass
from typing import Any, Optional

from ..core.clock import utc_text
from ..core.errors import InputError
from ..core.report_file import (check_object, check_report, check_schema_version, check_time,
                                check_unit)
from ..core.yamlsource import DOCUMENT_LIMITS, check_size, decode_text, parse_json_text
from .signatures import KeyTable, checked_signature
from .validation import mailbox_review_problems, mailbox_review_schema, report_problems

MAILBOX_KIND = "mailbox_review"


class Rejected(Exception):
    """A document that goes to quarantine; the message is the reason written beside it."""


@dataclass(frozen=True)
class Rules:
    """What a document is judged against before it may enter the store."""

    unit_ids: frozenset[str]
    now: dt.datetime
    keys: KeyTable = KeyTable()  # the store's probe keys (import checks .sig sidecars)

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
    key_id: Optional[str] = None  # a report signed by a key the store knows, verified
    signature: Optional[str] = None


@dataclass(frozen=True)
class Document:
    """A parsed file: its data, its text as received (stored as is) and the SHA-256 of its bytes."""

    data: dict[str, Any]
    text: str
    digest: str
    origin: str


def prepare_document(raw: bytes, origin: str, rules: Rules,
                     sidecar: Optional[bytes] = None) -> Prepared:
    """Parse and judge one document; raises Rejected with the reason. ``sidecar``: the
    content of the report's ``.sig`` file, if it has one (see ``signatures``)."""
    try:
        document = parse_json(raw, origin)
        if document.data.get("kind") == MAILBOX_KIND:
            return _prepare_review(document, rules)
        return _prepare_report(document, rules, raw, sidecar)
    except InputError as exc:
        raise Rejected(exc.detail()) from exc


def parse_json(raw: bytes, origin: str = "") -> Document:
    """The document in ``raw`` (the project's one JSON loader, with its limits)."""
    check_size(len(raw), DOCUMENT_LIMITS, origin)
    text = decode_text(raw, origin)  # decoded once: parsed, then stored as received
    data = parse_json_text(text, origin, DOCUMENT_LIMITS, utf8=True)
    check_object(data, origin, "report")
    return Document(data, text, hashlib.sha256(raw).hexdigest(), origin)


def canonical_form(data: Any) -> str:
    """The document's content whatever its layout (key order, spaces, escapes)."""
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _prepare_report(document: Document, rules: Rules, raw: bytes,
                    sidecar: Optional[bytes]) -> Prepared:
    data = document.data
    check_report(data, document.origin, now=rules.now, unit_ids=rules.unit_ids,
                 problems=report_problems)
    host = data["host"]
    key_id, signature = checked_signature(raw, host, sidecar, rules.keys,
                                          document.origin) or (None, None)
    row = (data["report_id"], document.digest, data["schema_version"], host["kind"],
           host["hostname"], host["unit_id"], host["officer"], data["started_at"], data["outcome"],
           data["summary"]["readiness"], document.origin, rules.now_text,
           _lower(host.get("machine_id")), _lower(host.get("smbios_uuid")), document.text)
    return Prepared("reports", data["report_id"], document.digest, row,
                    tuple(_check_row(check) for check in data["checks"]), key_id, signature)


def _lower(value: Optional[str]) -> Optional[str]:
    """Ids compare without case (a 1.0 report has none: None)."""
    return value.strip().lower() or None if value else None


def _check_row(check: dict[str, Any]) -> tuple:
    remedy = check["remedy"] or {}
    return (check["id"], check["category"], check["status"], check["title"]["vi"],
            check["title"]["en"], remedy.get("vi"), remedy.get("en"))


def _prepare_review(document: Document, rules: Rules) -> Prepared:
    data, name = document.data, document.origin
    readable = (mailbox_review_schema()["properties"]["schema_version"]["const"],)
    check_schema_version(data, name, "mailbox review", readable)
    problems = mailbox_review_problems(data)
    if problems:
        raise Rejected("not a valid mailbox review: " + "; ".join(problems[:5]))
    check_time(data["generated_at"], "generated_at", name, rules.now)
    check_unit(data["unit_id"], "mailbox_review", rules.unit_ids, name)
    for key in ("officers", "working_mailbox"):
        if not 0 <= data["summary"][key] < 2 ** 31:
            raise Rejected(f"summary.{key}: expected a count below {2 ** 31}")
    row = (data["review_id"], document.digest, data["unit_id"], data["generated_at"],
           data["summary"]["officers"], data["summary"]["working_mailbox"], document.origin,
           rules.now_text, document.text)
    return Prepared("mailbox_reviews", data["review_id"], document.digest, row)
