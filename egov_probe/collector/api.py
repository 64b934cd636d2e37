"""The probes' API (docs/collector.md): ``POST /v1/enroll`` and
``PUT /v1/reports/{report_id}``.

The event loop only reads bodies and applies the limits (``limits``: 429 per key, 503 when
too many requests wait on the store); the store's work runs in the worker threads
(``workers``), and a request is answered only after its transaction is committed.
"""

from __future__ import annotations

import functools
import json
import logging
import re
from typing import Callable, Optional

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..core.clock import utc_now
from ..core.errors import InputError
from ..core.signing import key_id_of
from ..store import Database
from .access import AccessDenied, EnrollmentRequest, enroll
from .answers import ApiAnswer, error
from .body import BodyRefused, check_declared, read_limited
from .context import CollectorContext
from .limits import RateLimiter, StoreGate
from .reports import UploadedReport, store_upload
from .workers import StoreWorkers

LOG = logging.getLogger("egov_probe.collector")
ENROLL_LIMIT = 16 * 1024  # bytes: an enrollment is a few hundred
_KEY_ID = re.compile(r"^[0-9a-f]{32}$")
_REPORT_ID = re.compile(r"^[A-Za-z0-9._-]{1,200}$")
_OUTBOX_MAX = 10 ** 6
Job = Callable[[Database], ApiAnswer]


class ProbeApi:
    """The API's routes and what they share: the store's workers and the limits."""

    def __init__(self, ctx: CollectorContext) -> None:
        self.ctx = ctx
        self.workers = StoreWorkers(ctx.open_database, ctx.limits.store_workers)
        self.rate = RateLimiter(ctx.limits.rate_per_key, ctx.limits.burst_per_key)
        self.gate = StoreGate(ctx.limits.store_waiting)

    def routes(self) -> list[Route]:
        return [Route("/v1/enroll", self.enroll, methods=["POST"]),
                Route("/v1/reports/{report_id}", self.put_report, methods=["PUT"])]

    async def enroll(self, request: Request) -> Response:
        client = request.client.host if request.client else "?"
        return await self._handle(request, f"enroll:{client}", ENROLL_LIMIT, self._enroll_job)

    async def put_report(self, request: Request) -> Response:
        headers = request.headers
        key_id = headers.get("x-egov-key-id", "").strip().lower()
        if not _KEY_ID.match(key_id):
            return error(401, "unknown_key").response()
        if not headers.get("x-egov-signature"):
            return error(401, "bad_signature").response()
        report_id = request.path_params["report_id"]
        if not _REPORT_ID.match(report_id):
            return error(400, "invalid", "not a report id").response()
        make_job = functools.partial(self._upload_job, report_id, key_id,
                                     headers["x-egov-signature"].strip(),
                                     _outbox(headers.get("x-egov-outbox")))
        return await self._handle(request, f"key:{key_id}", self.ctx.max_report_bytes, make_job)

    async def _handle(self, request: Request, rate_key: str, limit: int,
                      make_job: Callable[[bytes], Job | ApiAnswer]) -> Response:
        wait = self.rate.retry_after(rate_key)
        if wait is not None:
            return error(429, "rate_limited", retry_after=wait).response()
        try:
            check_declared(request.headers.get("content-length"), limit)
            body = await read_limited(request.stream(), request.headers.get("content-encoding"),
                                      limit)
        except BodyRefused as exc:
            word = "too_large" if exc.status == 413 else "invalid"
            return error(exc.status, word, exc.detail).response()
        job = make_job(body)
        answer = job if isinstance(job, ApiAnswer) else await self._in_store(job)
        if answer.unit_id is not None:
            self.ctx.bus.publish(answer.unit_id)
        return answer.response()

    async def _in_store(self, job: Job) -> ApiAnswer:
        if not self.gate.try_enter():
            return error(503, "busy", retry_after=self.ctx.limits.busy_retry_after)
        try:
            return await self.workers.run(job)
        except Exception:  # noqa: BLE001 - the probe retries later; the log says why
            LOG.exception("the store failed")
            return error(500, "internal")
        finally:
            self.gate.leave()

    def _enroll_job(self, body: bytes) -> Job | ApiAnswer:
        try:
            enrollment = parse_enrollment(body)
        except InputError as exc:
            return error(400, "invalid", exc.detail())
        return functools.partial(_store_enrollment, self.ctx, enrollment)

    def _upload_job(self, report_id: str, key_id: str, signature: str,
                    outbox: Optional[int], body: bytes) -> Job:
        upload = UploadedReport(report_id, key_id, signature, body, outbox)
        return functools.partial(store_upload, self.ctx, upload)


def _store_enrollment(ctx: CollectorContext, enrollment: EnrollmentRequest,
                      database: Database) -> ApiAnswer:
    try:
        key = enroll(database, enrollment, utc_now())
    except AccessDenied as exc:
        return error(exc.status, exc.error)
    except database.document_errors:  # the same key enrolled by another request just now
        return error(409, "key_already_enrolled")
    return ApiAnswer(201, {"key_id": key.key_id, "unit_id": key.unit_id,
                        "unit_name": ctx.unit_name(key.unit_id)})


def parse_enrollment(body: bytes) -> EnrollmentRequest:
    """The enrollment's JSON, checked field by field (InputError names the field)."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"expected JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise InputError("expected a JSON object")
    token = _text(data, "token", 200)
    public_key = _text(data, "public_key", 100)
    key_id_of(public_key)  # InputError when it is not an Ed25519 public key
    machine_id = data.get("machine_id")
    if machine_id is not None:
        machine_id = _text(data, "machine_id", 200).lower()
    return EnrollmentRequest(token, public_key, _text(data, "hostname", 255), machine_id)


def _text(data: dict, name: str, longest: int) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value.strip() or len(value) > longest:
        raise InputError(f"expected a non-empty string of at most {longest} characters",
                         field=name)
    return value.strip()


def _outbox(value: Optional[str]) -> Optional[int]:
    """``X-Egov-Outbox``: reports still waiting on the probe (ignored when not a count)."""
    if value is None or not value.strip().isdigit():
        return None
    return min(int(value), _OUTBOX_MAX)
