"""Import reports and mailbox reviews: validated, idempotent, one transaction per document.

What happens to each document:

- ``imported``: new, valid, stored with its checks in one transaction;
- ``duplicate``: the same document (same id and content hash) is already stored: counted once;
- ``quarantined``: moved (a zip member: copied) to the quarantine folder with
  ``<name>.reason.txt``: not JSON, not UTF-8, another ``schema_version``, schema errors, an
  impossible or future date, an unknown unit, a workstation with no unit, or an id already stored
  with other content. Nothing is deleted; fix the file and import it again.

Preparing a document (parse, validate, hash) needs no database and runs in worker processes on
large imports; storing it runs in this process, in order.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import difflib
import functools
import hashlib
import json
import multiprocessing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Optional

from ..clock import utc_now, utc_text
from ..model import SCHEMA_VERSION
from .db import Database
from .quarantine import Quarantine
from .sources import BadArchive, Item, discover, ignored_files
from .validation import mailbox_review_problems, report_problems

FUTURE_TOLERANCE = dt.timedelta(hours=1)
MAILBOX_KIND = "mailbox_review"
PARALLEL_FROM = 400  # documents; below this, worker processes cost more than they save
BATCH = 500  # documents per commit; each document is a savepoint of its own inside
_CHUNK = 32


class Rejected(Exception):
    """A document that goes to quarantine; the message is the reason written beside it."""


@dataclass
class ImportSummary:
    imported: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    quarantined: list[tuple[str, str, str]] = field(default_factory=list)  # origin, reason, target
    ignored: list[str] = field(default_factory=list)


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


def import_paths(database: Database, paths: Iterable[Path], unit_ids: Iterable[str],
                 quarantine_dir: Path, now: Optional[dt.datetime] = None,
                 parallel_from: int = PARALLEL_FROM) -> ImportSummary:
    """Import every document under ``paths`` (files, folders, zip files).

    From ``parallel_from`` documents on, they are prepared by one worker process per core.
    """
    paths = [Path(p) for p in paths]
    quarantine = Quarantine(Path(quarantine_dir))
    summary = ImportSummary(ignored=[str(p) for p in ignored_files(paths, quarantine.folder)])
    rules = Rules(frozenset(unit_ids), now or utc_now())
    items = list(discover(paths, skip=quarantine.folder))
    with contextlib.closing(_prepare_all(items, rules, parallel_from)) as outcomes:
        for start in range(0, len(items), BATCH):
            with database.transaction():
                for item in items[start:start + BATCH]:
                    _store_one(database, item, next(outcomes), quarantine, summary)
    return summary


def _store_one(database: Database, item: Item | BadArchive, outcome: Prepared | str,
               quarantine: Quarantine, summary: ImportSummary) -> None:
    try:
        if not isinstance(outcome, Prepared):
            raise Rejected(outcome)
        stored = store_document(database, outcome)
    except Rejected as exc:
        target, reason = quarantine.put(item, str(exc))
        summary.quarantined.append((item.origin, reason, str(target)))
        return
    (summary.imported if stored == "imported" else summary.duplicates).append(item.origin)


def _prepare_all(items: list[Item | BadArchive], rules: Rules,
                 parallel_from: int) -> Iterator[Prepared | str]:
    """Each item prepared, or the reason it is rejected (a string), in the items' order."""
    prepare = functools.partial(_prepare_item, rules=rules)
    if len(items) < parallel_from:
        yield from map(prepare, items)
        return
    context = multiprocessing.get_context("fork" if "fork" in
                                          multiprocessing.get_all_start_methods() else "spawn")
    with context.Pool() as pool:
        yield from pool.imap(prepare, items, chunksize=_CHUNK)


def _prepare_item(item: Item | BadArchive, rules: Rules) -> Prepared | str:
    try:
        if isinstance(item, BadArchive):
            return item.reason
        return prepare_document(item.read(), item.origin, rules)
    except Rejected as exc:
        return str(exc)
    except OSError as exc:
        return f"cannot read: {exc}"


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


_INSERTS = {
    "reports": "INSERT INTO reports (report_id, content_sha256, schema_version, host_kind, "
               "hostname, unit_id, officer, started_at, outcome, readiness, source, imported_at, "
               "document) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
               "ON CONFLICT DO NOTHING RETURNING id",
    "mailbox_reviews": "INSERT INTO mailbox_reviews (review_id, content_sha256, unit_id, "
                       "generated_at, officers, working_mailbox, source, imported_at, document) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id",
}
_ID_COLUMNS = {"reports": "report_id", "mailbox_reviews": "review_id"}
_INSERT_CHECKS = ("INSERT INTO checks (report_pk, check_id, category, status, title_vi, title_en, "
                  "remedy_vi, remedy_en) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")


def store_document(database: Database, prepared: Prepared) -> str:
    """Insert in one transaction: ``imported``, or ``duplicate`` if the same document is stored
    already; Rejected if its id is stored with other content."""
    with database.transaction() as db:
        inserted = db.execute(_INSERTS[prepared.table], prepared.row).fetchone()
        if inserted is not None:
            db.executemany(_INSERT_CHECKS, [(inserted[0], *row) for row in prepared.check_rows])
    if inserted is not None:
        return "imported"
    return _classify_conflict(database, prepared)


def _classify_conflict(database: Database, prepared: Prepared) -> str:
    """The same bytes, or the same content in another layout, is a duplicate."""
    id_column = _ID_COLUMNS[prepared.table]
    rows = database.query(f"SELECT content_sha256, document FROM {prepared.table} "
                          f"WHERE {id_column} = ? OR content_sha256 = ?",
                          (prepared.doc_id, prepared.digest))
    if any(row[0] == prepared.digest for row in rows):
        return "duplicate"
    new = canonical_form(json.loads(prepared.row[-1]))
    if any(canonical_form(json.loads(row[1])) == new for row in rows):
        return "duplicate"
    raise Rejected(f"{id_column} {prepared.doc_id} is already stored with other content "
                   f"(an edited copy?): the stored one is kept")
