"""Import reports and mailbox reviews: validated, idempotent, each document all or nothing.

What happens to each document:

- ``imported``: new, valid, stored with its checks (a savepoint of its own, inside commits of up
  to BATCH documents: a failure rolls back, never leaves half a document);
- ``duplicate``: the same document (same bytes, or the same content in another layout) is
  already stored: counted once;
- ``quarantined``: moved (a zip member: copied) to the quarantine folder with
  ``<name>.reason.txt`` (see ``prepare``), or when its id is already stored with other content.
  Nothing is deleted; fix the file and import it again.

Documents are prepared (``prepare``) by worker processes on large imports and stored here, in
order.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
import multiprocessing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator, Optional

from ..clock import utc_now
from .db import Database
from .prepare import Prepared, Rejected, Rules, canonical_form, prepare_document
from .quarantine import Quarantine
from .sources import BadArchive, Item, discover, ignored_files

PARALLEL_FROM = 400  # documents; below this, worker processes cost more than they save
BATCH = 500  # documents per commit; each document is a savepoint of its own inside
_CHUNK = 32


@dataclass
class ImportSummary:
    imported: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    quarantined: list[tuple[str, str, str]] = field(default_factory=list)  # origin, reason, target
    ignored: list[str] = field(default_factory=list)


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
