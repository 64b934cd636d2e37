"""An uploaded report, from a signed body to a stored row: the store's side of
``PUT /v1/reports/{report_id}``, run in a store worker thread (``workers``).

The key must be usable, the signature hold over the exact bytes received (uncompressed), the
report pass the same rules as ``import`` (``store/prepare.py``) and belong to the key's unit.
It is stored with its key and signature in one transaction with the key's last contact.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Optional

from ..core.clock import utc_now
from ..core.signing import ReportSignature, signature_verifies
from ..store import Database
from ..store.prepare import Prepared, Rejected, Rules, prepare_document
from ..store.writer import DUPLICATE, IMPORTED, column, store_batch
from .access import AccessDenied, record_upload, upload_key
from .answers import ApiAnswer, error
from .context import CollectorContext


@dataclass(frozen=True)
class UploadedReport:
    """One PUT: the URL's report id, the signature headers, the body (uncompressed)."""

    report_id: str
    key_id: str
    signature: str
    body: bytes
    outbox_waiting: Optional[int]

    @property
    def origin(self) -> str:
        """The ``source`` column of an uploaded report: by network, with which key."""
        return f"upload:{self.key_id}"


def store_upload(ctx: CollectorContext, upload: UploadedReport, database: Database) -> ApiAnswer:
    """The answer to the upload; the report is committed when it says so."""
    try:
        key = upload_key(database, upload.key_id)
    except AccessDenied as exc:
        return error(exc.status, exc.error)
    signature = ReportSignature(upload.key_id, "", upload.signature)
    if not signature_verifies(key.public_key, upload.body, signature):
        return error(401, "bad_signature")
    prepared = _prepared(ctx, upload)
    if isinstance(prepared, ApiAnswer):
        return prepared
    if column(prepared, "unit_id") != key.unit_id:
        return error(403, "wrong_unit")
    signed = replace(prepared, key_id=key.key_id, signature=upload.signature)
    try:
        verdict = _store(database, signed, upload)
    except database.document_errors:  # the same report stored by another request just now
        verdict = _store(database, signed, upload)  # now a duplicate (or a conflict)
    return _verdict_answer(verdict, key.unit_id)


def _store(database: Database, prepared: Prepared, upload: UploadedReport) -> str:
    with database.transaction():
        [verdict] = store_batch(database, [prepared])
        record_upload(database, upload.key_id, utc_now(), upload.outbox_waiting)
    return verdict


def _prepared(ctx: CollectorContext, upload: UploadedReport) -> Prepared | ApiAnswer:
    try:
        prepared = prepare_document(upload.body, upload.origin, Rules(ctx.unit_ids(), utc_now()))
    except Rejected as exc:
        return error(422, "invalid", str(exc))
    if prepared.table != "reports":
        return error(422, "invalid", "only reports are uploaded here (not mailbox reviews)")
    if prepared.doc_id != upload.report_id:
        return error(400, "invalid", f"the URL names report {upload.report_id}, the body is "
                                     f"report {prepared.doc_id}")
    return prepared


def _verdict_answer(verdict: str, unit_id: str) -> ApiAnswer:
    if verdict == IMPORTED:
        return ApiAnswer(201, {"status": "imported"}, unit_id=unit_id)
    if verdict == DUPLICATE:
        return ApiAnswer(200, {"status": "duplicate"}, unit_id=unit_id)
    return ApiAnswer(409, {"error": "conflict", "detail": verdict}, unit_id=unit_id)
