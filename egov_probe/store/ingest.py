"""Import reports and mailbox reviews: validated, idempotent, each document all or nothing.

What happens to each document:

- ``imported``: new, valid, stored with its checks (``writer``: up to BATCH documents per
  transaction; a failure rolls the batch back, never leaves half a document);
- ``duplicate``: the same document (same bytes, or the same content in another layout) is
  already stored: counted once;
- ``quarantined``: copied (a zip member: extracted) to the quarantine folder with
  ``<name>.reason.txt`` (see ``prepare``), or when its id is already stored with other content.
  The file given is never deleted, moved or modified; fix the copy and import it again.
  A report signed on the probe (``<report>.json.sig`` beside it) is quarantined when altered
  after signing, and one from an enrolled machine when unsigned (``signatures``).
- ``skipped``: JSON that is not a report (see ``sources``) and files that are neither ``.json``
  nor ``.zip``: listed, left alone.

A bad file is its own failure, never its batch's: when the store refuses a batch for one
document (a constraint, a value the database cannot hold), the batch is stored document by
document and only the one refused goes to quarantine.

Documents are prepared (``prepare``) by worker processes on large imports and stored here, in
order.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import multiprocessing
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator, Optional

from ..core.clock import utc_now
from .db import Database
from .prepare import Prepared, Rejected, Rules, prepare_document
from .quarantine import Quarantine
from .signatures import KeyTable
from .sources import BadArchive, BadItem, Skipped, Source, TooLarge, discover, origin_text
from .writer import DUPLICATE, IMPORTED, store_batch

PARALLEL_FROM = 400  # documents; below this, worker processes cost more than they save
BATCH = 500  # documents per transaction
_CHUNK = 32


@dataclass
class ImportSummary:
    imported: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    quarantined: list[tuple[str, str, str]] = field(default_factory=list)  # origin, reason, target
    ignored: list[str] = field(default_factory=list)  # neither .json nor .zip
    not_reports: list[str] = field(default_factory=list)  # JSON that is no report: left alone


def import_paths(database: Database, paths: Iterable[Path], unit_ids: Iterable[str],
                 quarantine_dir: Path, now: Optional[dt.datetime] = None,
                 parallel_from: int = PARALLEL_FROM) -> ImportSummary:
    """Import every document under ``paths`` (files, folders, zip files).

    From ``parallel_from`` documents on, they are prepared by one worker process per core.
    """
    paths = [Path(p) for p in paths]
    quarantine = Quarantine(Path(quarantine_dir))
    rules = Rules(frozenset(unit_ids), now or utc_now(), KeyTable.load(database))
    skipped = Skipped([], [])
    items = list(discover(paths, skip=quarantine.folder, skipped=skipped))
    summary = ImportSummary(ignored=[origin_text(p) for p in skipped.other],
                            not_reports=skipped.not_reports)
    with contextlib.closing(_prepare_all(items, rules, parallel_from)) as outcomes:
        for start in range(0, len(items), BATCH):
            batch = [(item, next(outcomes)) for item in items[start:start + BATCH]]
            _import_batch(database, batch, quarantine, summary)
    return summary


def _import_batch(database: Database, batch: list[tuple[Source, Prepared | str]],
                  quarantine: Quarantine, summary: ImportSummary) -> None:
    """Store the batch's valid documents in one transaction, then quarantine the rest."""
    valid = [(item, outcome) for item, outcome in batch if isinstance(outcome, Prepared)]
    try:
        with database.transaction():
            verdicts = dict(zip((id(item) for item, _ in valid),
                                store_batch(database, [outcome for _, outcome in valid])))
    except database.document_errors:
        verdicts = _one_by_one(database, valid)
    for item, outcome in batch:
        verdict = verdicts.get(id(item), outcome)
        if verdict == IMPORTED:
            summary.imported.append(item.origin)
        elif verdict == DUPLICATE:
            summary.duplicates.append(item.origin)
        else:
            target, reason = quarantine.put(item, str(verdict))
            summary.quarantined.append((item.origin, reason, str(target)))


def _one_by_one(database: Database, valid: list[tuple[Source, Prepared]]) -> dict[int, str]:
    """Each document in its own transaction: one the store refuses is refused alone."""
    verdicts = {}
    for item, prepared in valid:
        try:
            with database.transaction():
                [verdicts[id(item)]] = store_batch(database, [prepared])
        except database.document_errors as exc:
            verdicts[id(item)] = f"the store refused it: {str(exc).splitlines()[0][:300]}"
    return verdicts


def _prepare_all(items: list[Source], rules: Rules,
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


def _prepare_item(item: Source, rules: Rules) -> Prepared | str:
    """Never raises: whatever goes wrong with one document is that document's reason."""
    try:
        if isinstance(item, (BadArchive, BadItem)):
            return item.reason
        return prepare_document(item.read(), item.origin, rules, item.read_sidecar())
    except (Rejected, TooLarge) as exc:
        return str(exc)
    except OSError as exc:
        return f"cannot read: {exc.strerror or exc}"
    except (zipfile.BadZipFile, EOFError, NotImplementedError, RuntimeError) as exc:
        return f"cannot read from the zip: {exc}"
    except Exception as exc:  # noqa: BLE001 - one bad file never stops the import
        return f"cannot be judged ({type(exc).__name__}): {str(exc)[:200]}"
