"""Writing prepared documents: a batch at a time, in the caller's transaction.

Per document the verdict is ``imported``, ``duplicate`` (the same bytes, or the same content in
another layout, already stored or earlier in the batch) or the reason it is refused (its id is
stored with other content). Rows are inserted with one statement per table for the whole
batch; the caller's transaction makes the batch all or nothing, so no document is ever half
stored. Two imports racing to store the same new report fail one batch on the unique key
(nothing is lost: run the import again).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Sequence

from .db import Database
from .prepare import Prepared, canonical_form

ID_COLUMNS = {"reports": "report_id", "mailbox_reviews": "review_id"}
_COLUMNS = {
    "reports": ("report_id", "content_sha256", "schema_version", "host_kind", "hostname",
                "unit_id", "officer", "started_at", "outcome", "readiness", "source",
                "imported_at", "machine_id", "smbios_uuid", "document"),
    "mailbox_reviews": ("review_id", "content_sha256", "unit_id", "generated_at", "officers",
                        "working_mailbox", "source", "imported_at", "document"),
}
_SIGNATURE_COLUMNS = ("key_id", "signature")  # reports only: who signed it, if verified
_CHECK_COLUMNS = ("report_pk", "check_id", "category", "status", "title_vi", "title_en",
                  "remedy_vi", "remedy_en")
IMPORTED, DUPLICATE = "imported", "duplicate"


@dataclass
class _Known:
    """What the table and the batch so far hold, by id and by digest."""

    digests: set[str] = field(default_factory=set)
    documents: dict[str, str | None] = field(default_factory=dict)  # id: text (None: not loaded)


def column(document: Prepared, name: str):
    """One column of a prepared document's row (``unit_id``, ``hostname``...)."""
    return document.row[_COLUMNS[document.table].index(name)]


def store_batch(database: Database, documents: Sequence[Prepared]) -> list[str]:
    """The verdict of each document, in order; new ones are inserted."""
    verdicts: list[str] = []
    new: dict[str, list[Prepared]] = {table: [] for table in _COLUMNS}
    known = {table: _stored(database, table, [d for d in documents if d.table == table])
             for table in _COLUMNS}
    for document in documents:
        verdict = _verdict(database, document, known[document.table])
        if verdict == IMPORTED:
            new[document.table].append(document)
            known[document.table].digests.add(document.digest)
            known[document.table].documents[document.doc_id] = document.row[-1]
        verdicts.append(verdict)
    for table, rows in new.items():
        _insert(database, table, rows)
    return verdicts


def _stored(database: Database, table: str, documents: list[Prepared]) -> _Known:
    known = _Known()
    if not documents:
        return known
    marks = ", ".join("?" * len(documents))
    rows = database.query(
        f"SELECT {ID_COLUMNS[table]}, content_sha256 FROM {table} "
        f"WHERE {ID_COLUMNS[table]} IN ({marks}) OR content_sha256 IN ({marks})",
        [d.doc_id for d in documents] + [d.digest for d in documents])
    for doc_id, digest in rows:
        known.digests.add(digest)
        known.documents[doc_id] = None
    return known


def _verdict(database: Database, document: Prepared, known: _Known) -> str:
    if document.digest in known.digests:
        return DUPLICATE
    if document.doc_id not in known.documents:
        return IMPORTED
    stored = known.documents[document.doc_id]
    if stored is None:
        stored = database.query(f"SELECT document FROM {document.table} "
                                f"WHERE {ID_COLUMNS[document.table]} = ?", (document.doc_id,))[0][0]
    if canonical_form(json.loads(stored)) == canonical_form(json.loads(document.row[-1])):
        return DUPLICATE
    return (f"{ID_COLUMNS[document.table]} {document.doc_id} is already stored with other "
            f"content (an edited copy?): the stored one is kept")


def _insert(database: Database, table: str, documents: list[Prepared]) -> None:
    if not documents:
        return
    if table != "reports":
        _insert_rows(database, table, _COLUMNS[table], [d.row for d in documents])
        return
    _insert_rows(database, table, _COLUMNS[table] + _SIGNATURE_COLUMNS,
                 [(*d.row, d.key_id, d.signature) for d in documents])
    marks = ", ".join("?" * len(documents))
    ids = dict(database.query(f"SELECT report_id, id FROM reports WHERE report_id IN ({marks})",
                              [d.doc_id for d in documents]))
    database.executemany(
        f"INSERT INTO checks ({', '.join(_CHECK_COLUMNS)}) "
        f"VALUES ({', '.join('?' * len(_CHECK_COLUMNS))})",
        [(ids[d.doc_id], *row) for d in documents for row in d.check_rows])


def _insert_rows(database: Database, table: str, columns: tuple[str, ...],
                 rows: list[tuple]) -> None:
    database.executemany(f"INSERT INTO {table} ({', '.join(columns)}) "
                         f"VALUES ({', '.join('?' * len(columns))})", rows)
