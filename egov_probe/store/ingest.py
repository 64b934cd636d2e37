"""Import reports and mailbox reviews: validated, idempotent, one transaction per document.

What happens to each document:

- ``imported``: new, valid, stored with its checks in one transaction;
- ``duplicate``: the same document (same id and content hash) is already stored: counted once;
- ``quarantined``: moved (a zip member: copied) to the quarantine folder with
  ``<name>.reason.txt``: not JSON, not UTF-8, another ``schema_version``, schema errors, dated in
  the future, an unknown unit, a workstation with no unit, or an id already stored with other
  content. Nothing is deleted; fix the file and import it again.
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Optional

from ..clock import utc_now, utc_text
from ..model import SCHEMA_VERSION
from .db import Database
from .quarantine import Quarantine
from .sources import BadArchive, Item, discover, ignored_files
from .validation import mailbox_review_problems, report_problems

FUTURE_TOLERANCE = dt.timedelta(hours=1)
MAILBOX_KIND = "mailbox_review"


class Rejected(Exception):
    """A document that goes to quarantine; the message is the reason written beside it."""


@dataclass
class ImportSummary:
    imported: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    quarantined: list[tuple[str, str, str]] = field(default_factory=list)  # origin, reason, target
    ignored: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ImportContext:
    database: Database
    unit_ids: frozenset[str]
    now: dt.datetime
    source: str = ""


def import_paths(database: Database, paths: Iterable[Path], unit_ids: Iterable[str],
                 quarantine_dir: Path, now: Optional[dt.datetime] = None) -> ImportSummary:
    """Import every document under ``paths`` (files, folders, zip files)."""
    paths = [Path(p) for p in paths]
    quarantine = Quarantine(Path(quarantine_dir))
    summary = ImportSummary(ignored=[str(p) for p in ignored_files(paths, quarantine.folder)])
    context = ImportContext(database, frozenset(unit_ids), now or utc_now())
    for item in list(discover(paths, skip=quarantine.folder)):
        try:
            if isinstance(item, BadArchive):
                raise Rejected(item.reason)
            outcome = import_document(context, item.read(), item.origin)
        except Rejected as exc:
            target = quarantine.put(item, str(exc))
            summary.quarantined.append((item.origin, str(exc), str(target)))
            continue
        except OSError as exc:
            target = quarantine.put(item, f"cannot read: {exc}")
            summary.quarantined.append((item.origin, f"cannot read: {exc}", str(target)))
            continue
        (summary.imported if outcome == "imported" else summary.duplicates).append(item.origin)
    return summary


def import_document(context: ImportContext, raw: bytes, origin: str) -> str:
    """``imported`` or ``duplicate``; raises Rejected with the reason otherwise."""
    data = parse_json(raw)
    if data.get("kind") == MAILBOX_KIND:
        return _import_mailbox_review(context, data, origin)
    return _import_report(context, data, origin)


def parse_json(raw: bytes) -> dict[str, Any]:
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
    return data


def content_hash(data: dict[str, Any]) -> tuple[str, str]:
    """The canonical text of a document and its SHA-256 (formatting does not change it)."""
    canonical = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return canonical, hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _check_schema_version(data: dict[str, Any], what: str) -> None:
    version = data.get("schema_version")
    if version != SCHEMA_VERSION:
        raise Rejected(f"{what} schema_version {version!r} is not supported: this egov-probe reads "
                       f"{SCHEMA_VERSION} (a newer format needs a newer egov-probe; an older one "
                       f"must be audited again)")


def _check_valid(problems: list[str], what: str) -> None:
    if problems:
        raise Rejected(f"not a valid {what}: " + "; ".join(problems[:5]))


def _check_time(context: ImportContext, stamp: str, field_name: str) -> None:
    moment = dt.datetime.strptime(stamp[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=dt.timezone.utc)
    if moment > context.now + FUTURE_TOLERANCE:
        raise Rejected(f"{field_name} {stamp} is in the future (now {utc_text(context.now)}): "
                       f"the machine's clock is wrong; fix it and audit again")


def _check_unit(context: ImportContext, unit_id: Optional[str], kind: str) -> None:
    if unit_id is None:
        if kind == "workstation":
            raise Rejected("workstation report without a unit (host.unit_id is null): "
                           "audit again with --unit UNIT_ID")
        return
    if unit_id not in context.unit_ids:
        near = difflib.get_close_matches(unit_id, sorted(context.unit_ids), n=3, cutoff=0.5)
        hint = f"; did you mean: {', '.join(near)}?" if near else ""
        raise Rejected(f"unknown unit id {unit_id!r} (not in the inventory){hint}")


def _import_report(context: ImportContext, data: dict[str, Any], origin: str) -> str:
    _check_schema_version(data, "report")
    _check_valid(report_problems(data), "report")
    _check_time(context, data["started_at"], "started_at")
    host = data["host"]
    _check_unit(context, host["unit_id"], host["kind"])
    canonical, digest = content_hash(data)
    if _already_stored(context.database, "reports", "report_id", data["report_id"], digest):
        return "duplicate"
    row = (data["report_id"], digest, data["schema_version"], host["kind"], host["hostname"],
           host["unit_id"], host["officer"], data["started_at"], data["outcome"],
           data["summary"]["readiness"], origin, utc_text(context.now), canonical)
    with context.database.transaction() as db:
        report_pk = db.execute(
            "INSERT INTO reports (report_id, content_sha256, schema_version, host_kind, hostname, "
            "unit_id, officer, started_at, outcome, readiness, source, imported_at, document) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id", row).fetchone()[0]
        db.executemany(
            "INSERT INTO checks (report_pk, check_id, category, status, title_vi, title_en, "
            "remedy_vi, remedy_en) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [_check_row(report_pk, check) for check in data["checks"]])
    return "imported"


def _check_row(report_pk: int, check: dict[str, Any]) -> tuple:
    remedy = check["remedy"] or {}
    return (report_pk, check["id"], check["category"], check["status"], check["title"]["vi"],
            check["title"]["en"], remedy.get("vi"), remedy.get("en"))


def _import_mailbox_review(context: ImportContext, data: dict[str, Any], origin: str) -> str:
    _check_schema_version(data, "mailbox review")
    _check_valid(mailbox_review_problems(data), "mailbox review")
    _check_time(context, data["generated_at"], "generated_at")
    _check_unit(context, data["unit_id"], "mailbox_review")
    canonical, digest = content_hash(data)
    if _already_stored(context.database, "mailbox_reviews", "review_id", data["review_id"], digest):
        return "duplicate"
    with context.database.transaction() as db:
        db.execute(
            "INSERT INTO mailbox_reviews (review_id, content_sha256, unit_id, generated_at, "
            "officers, working_mailbox, source, imported_at, document) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (data["review_id"], digest, data["unit_id"], data["generated_at"],
             data["summary"]["officers"], data["summary"]["working_mailbox"], origin,
             utc_text(context.now), canonical))
    return "imported"


def _already_stored(database: Database, table: str, id_column: str, doc_id: str,
                    digest: str) -> bool:
    """True for the same document; Rejected when the id is stored with other content."""
    rows = database.query(f"SELECT content_sha256 FROM {table} WHERE {id_column} = ? "
                          f"OR content_sha256 = ?", (doc_id, digest))
    if not rows:
        return False
    if any(row[0] == digest for row in rows):
        return True
    raise Rejected(f"{id_column} {doc_id} is already stored with other content "
                   f"(an edited copy?): the stored one is kept")
