"""Sending the outbox to the collector over HTTPS (docs/collector.md, "Upload").

The standard library only (``http.client`` over ``ssl``): it runs from the Windows kit too.
TLS is verified against the system's store or ``--ca-file``; ``--insecure`` turns that off and
says so loudly on every run. Each answer is handled as the doc's table says: 2xx removes
the report, 400/403/409/413/415/422 moves it to ``rejected/``, 401 keeps it (re-enrollment
only after ``unknown_key``/``key_revoked`` 3 times in a row over at least 10 minutes,
counted in the outbox's ``state.json``), 429/503 waits at least ``Retry-After``, network errors and 5xx back
off with full jitter. A run stops at its time limit; what is left waits for the next.
"""

from __future__ import annotations

import datetime as dt
import gzip
import http.client
import json
import ssl
import sys
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional, TextIO

from .. import __version__
from ..core.errors import InputError
from .backoff import Backoff, Timing, parse_retry_after
from .outbox import Outbox, PendingReport

REENROLL_ERRORS = ("unknown_key", "key_revoked")
REENROLL_TIMES = 3
REENROLL_SPAN = dt.timedelta(minutes=10)
REJECTED_STATUSES = (400, 403, 409, 413, 415, 422)
RETRY_AFTER_STATUSES = (429, 503)
EXIT_REENROLL = 3
REQUEST_TIMEOUT_S = 60.0
INSECURE_WARNING = (
    "\n!!! CẢNH BÁO: KHÔNG kiểm tra chứng chỉ TLS của máy chủ thu thập (--insecure): kẻ gian "
    "trên đường truyền có thể mạo danh máy chủ và nhận báo cáo.\n"
    "!!! WARNING: the collector's TLS certificate is NOT verified (--insecure): anyone on the "
    "path can impersonate the server and receive the reports.\n\n")
_LOOPBACK = ("127.0.0.1", "::1", "localhost")


class TlsVerifyError(OSError):
    """The server's certificate did not verify: not retried (it will not fix itself)."""


@dataclass(frozen=True)
class ServerUrl:
    """Where the collector answers: ``https://host[:port][/prefix]``."""

    scheme: str
    host: str
    port: int
    prefix: str

    def __str__(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}{self.prefix}"


def parse_server(url: str) -> ServerUrl:
    """An ``https://`` URL (plain ``http://`` only to this machine's loopback)."""
    parts = urllib.parse.urlsplit((url or "").strip())
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise InputError(f"expected https://SERVER[:PORT], found {url!r}", field="--server")
    if parts.scheme == "http" and parts.hostname not in _LOOPBACK:
        raise InputError("reports travel over HTTPS only (plain http:// is for 127.0.0.1)",
                         field="--server")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise InputError(f"bad port in {url!r}: {exc}", field="--server") from exc
    return ServerUrl(parts.scheme, parts.hostname, port, parts.path.rstrip("/"))


@dataclass(frozen=True)
class ServerTls:
    ca_file: Optional[Path] = None
    insecure: bool = False

    def context(self) -> ssl.SSLContext:
        if self.insecure:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            return context
        if self.ca_file is not None:
            if not Path(self.ca_file).is_file():
                raise InputError("no such file (expected the CA certificate, PEM)",
                                 path=str(self.ca_file), field="--ca-file")
            try:
                return ssl.create_default_context(cafile=str(self.ca_file))
            except (ssl.SSLError, OSError) as exc:
                raise InputError(f"not a PEM CA certificate: {exc}", path=str(self.ca_file),
                                 field="--ca-file") from exc
        return ssl.create_default_context()


@dataclass(frozen=True)
class ServerReply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict[str, Any]:
        try:
            data = json.loads(self.body or b"{}")
        except (ValueError, UnicodeDecodeError):
            return {}
        return data if isinstance(data, dict) else {}

    def error(self) -> str:
        return str(self.json().get("error") or f"HTTP {self.status}")


@dataclass
class HttpClient:
    """One server: a request per connection (a broken link cannot leave one half-used)."""

    server: ServerUrl
    tls: ServerTls = field(default_factory=ServerTls)
    timeout: float = REQUEST_TIMEOUT_S

    def request(self, method: str, path: str, body: bytes,
                headers: dict[str, str]) -> ServerReply:
        if self.server.scheme == "https":
            connection: http.client.HTTPConnection = http.client.HTTPSConnection(
                self.server.host, self.server.port, timeout=self.timeout,
                context=self.tls.context())
        else:
            connection = http.client.HTTPConnection(self.server.host, self.server.port,
                                                    timeout=self.timeout)
        headers = {"User-Agent": f"egov-probe/{__version__}", **headers}
        try:
            connection.request(method, self.server.prefix + path, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read(1024 * 1024)
            return ServerReply(response.status, {k.lower(): v for k, v in response.getheaders()},
                          data)
        except ssl.SSLCertVerificationError as exc:
            raise TlsVerifyError(
                f"chứng chỉ TLS của máy chủ không hợp lệ / the server's TLS certificate did not "
                f"verify ({exc.verify_message or exc}): give its CA with --ca-file") from exc
        except (http.client.HTTPException, ValueError) as exc:
            raise ConnectionError(f"{type(exc).__name__}: {exc}") from exc
        finally:
            connection.close()


def json_body(data: dict[str, Any]) -> bytes:
    return json.dumps(data).encode("utf-8")


# --- enrollment ------------------------------------------------------------------------


@dataclass(frozen=True)
class EnrollRequest:
    token: str = field(repr=False)
    public_key: str
    hostname: str
    machine_id: Optional[str]


def post_enroll(client: HttpClient, request: EnrollRequest, backoff: Backoff, timing: Timing,
                max_time: float) -> ServerReply:
    """``POST /v1/enroll``; 429/503/5xx and network errors tried again until ``max_time``."""
    body = json_body({"token": request.token, "public_key": request.public_key,
                      "hostname": request.hostname, "machine_id": request.machine_id})
    deadline = timing.monotonic() + max_time
    attempt = 0
    while True:
        retry_after = None
        try:
            answer = client.request("POST", "/v1/enroll", body,
                                    {"Content-Type": "application/json"})
        except TlsVerifyError:
            raise
        except OSError:
            if not _wait(backoff.delay(attempt), deadline, timing):
                raise
            attempt += 1
            continue
        if answer.status not in RETRY_AFTER_STATUSES and answer.status < 500:
            return answer
        retry_after = parse_retry_after(answer.headers.get("retry-after"), timing.now())
        if not _wait(max(backoff.wait(attempt, retry_after), backoff.delay(attempt)),
                     deadline, timing):
            return answer
        attempt += 1


def _wait(seconds: float, deadline: float, timing: Timing) -> bool:
    """Sleep ``seconds`` unless that passes ``deadline`` (then False, no sleep)."""
    if timing.monotonic() + seconds > deadline:
        return False
    timing.sleep(seconds)
    return True


# --- sending the outbox ----------------------------------------------------------------


@dataclass
class SendResult:
    total: int = 0
    sent: int = 0
    rejected: int = 0
    waiting: int = 0
    reenroll: dict[str, str] = field(default_factory=dict)  # unit id -> message
    problems: list[str] = field(default_factory=list)


class _Stop(Exception):
    """End the run here (time limit, a certificate that does not verify)."""


@dataclass
class Sender:
    """Empties an outbox. ``identity_for(unit_id)`` gives a unit's ``Identity`` (or raises
    ``InputError``: no identity, a clone); ``client_for(identity)`` its server's client."""

    outbox: Outbox
    identity_for: Callable[[str], Any]
    client_for: Callable[[Any], HttpClient]
    backoff: Backoff = field(default_factory=Backoff)
    timing: Timing = field(default_factory=Timing)
    max_time: float = 600.0
    stream: TextIO = field(default_factory=lambda: sys.stderr)

    def send_all(self) -> SendResult:
        entries = self.outbox.pending()
        result = SendResult(total=len(entries))
        deadline = self.timing.monotonic() + self.max_time
        blocked: dict[Optional[str], str] = {}
        for index, entry in enumerate(entries):
            sent_before = result.sent
            try:
                self._send_entry(entry, len(entries) - index - 1, deadline, blocked, result)
            except _Stop as stop:
                self._say(str(stop))
                result.waiting += len(entries) - index
                return result
            if result.sent > sent_before:
                self._say(f"đã gửi {result.sent}/{result.total} / sent {result.sent}/"
                          f"{result.total}")
        return result

    def _send_entry(self, entry: PendingReport, after: int, deadline: float,
                    blocked: dict[Optional[str], str], result: SendResult) -> None:
        try:
            unit = entry.header().unit_id
        except InputError as exc:
            self.outbox.reject(entry, f"not a report: {exc}")
            result.rejected += 1
            return
        except OSError:
            return  # gone meanwhile (another process sent it)
        if unit in blocked:
            result.waiting += 1
            return
        try:
            identity = self.identity_for(unit) if unit else None
            if identity is None:
                raise InputError(f"report {entry.report_id} has no unit (host.unit_id)")
        except InputError as exc:
            blocked[unit] = str(exc)
            result.problems.append(str(exc))
            self._say(f"chưa gửi được / not sent ({unit}): {exc}")
            result.waiting += 1
            return
        try:
            data, signature = entry.read()
        except OSError:
            return  # sent meanwhile by another run (the .json goes first, then its .sig)
        except InputError as exc:
            self.outbox.reject(entry, f"unreadable signature: {exc}")
            result.rejected += 1
            return
        outcome = self._send_one(entry, data, signature.signature, identity, after, deadline)
        if outcome == "sent":
            result.sent += 1
        elif outcome == "rejected":
            result.rejected += 1
        else:
            blocked[unit] = outcome
            result.waiting += 1
            if outcome.startswith("reenroll"):
                result.reenroll[unit] = outcome.split(":", 1)[1]

    def _send_one(self, entry: PendingReport, data: bytes, signature: str, identity,
                  after: int, deadline: float) -> str:
        """``sent``, ``rejected``, or why this unit's reports wait (``reenroll:…`` for 3)."""
        body = gzip.compress(data, mtime=0)
        headers = {"Content-Type": "application/json", "Content-Encoding": "gzip",
                   "X-Egov-Key-Id": identity.key_id, "X-Egov-Signature": signature,
                   "X-Egov-Outbox": str(after)}
        client = self.client_for(identity)
        attempt = 0
        while True:
            try:
                answer = client.request("PUT", f"/v1/reports/{entry.report_id}", body, headers)
            except TlsVerifyError as exc:
                raise _Stop(f"dừng / stopped: {exc}") from exc
            except OSError as exc:
                self._retry(self.backoff.delay(attempt), deadline, f"network error: {exc}")
                attempt += 1
                continue
            status = answer.status
            if status in (200, 201):
                self.outbox.mark_sent(entry)
                self._clear_refusals(identity.key_id)
                return "sent"
            if status in REJECTED_STATUSES:
                reason = f"HTTP {status}: {answer.body[:2000].decode('utf-8', 'replace')}"
                self.outbox.reject(entry, reason)
                self._say(f"bị từ chối / rejected {entry.report_id}: {reason} "
                          f"({self.outbox.rejected_folder})")
                return "rejected"
            if status == 401:
                return self._unauthorized(identity, answer.error())
            if status in RETRY_AFTER_STATUSES or status >= 500:
                after_s = parse_retry_after(answer.headers.get("retry-after"),
                                            self.timing.now())
                wait = max(self.backoff.wait(attempt, after_s), self.backoff.delay(attempt))
                self._retry(wait, deadline, f"HTTP {status}")
                attempt += 1
                continue
            raise _Stop(f"máy chủ trả lời bất thường / unexpected answer HTTP {status} from "
                        f"{client.server}: is --server the collector's address?")

    def _retry(self, wait: float, deadline: float, why: str) -> None:
        if not _wait(wait, deadline, self.timing):
            raise _Stop(f"hết thời gian, báo cáo còn chờ gửi lần sau / time limit reached, "
                        f"the reports wait for the next run (last: {why})")

    def _unauthorized(self, identity, error: str) -> str:
        if error not in REENROLL_ERRORS:
            message = (f"máy chủ từ chối khóa / the server refused the key ({error}); the "
                       f"reports of unit {identity.unit_id} wait")
            self._say(message)
            return message
        count, first = self._count_refusal(identity.key_id, error)
        if count >= REENROLL_TIMES and self.timing.now() - first >= REENROLL_SPAN:
            message = (f"máy chủ không còn nhận khóa của đơn vị {identity.unit_id} ({error}, "
                       f"{count} lần từ {first:%Y-%m-%d %H:%M} UTC): cần đăng ký lại bằng mã "
                       f"mới / the server no longer knows this unit's key ({error}, {count} "
                       f"times since {first:%Y-%m-%d %H:%M} UTC): enroll again with a new "
                       f"token (egov-probe enroll --server {identity.record.server}); the "
                       f"identity and the reports are kept")
            self._say(message)
            return "reenroll:" + message
        message = (f"máy chủ chưa nhận khóa / the server refused the key ({error}, {count} "
                   f"time(s)); the reports of unit {identity.unit_id} wait and are tried "
                   f"again next run")
        self._say(message)
        return message

    def _count_refusal(self, key_id: str, error: str) -> tuple[int, dt.datetime]:
        state = self.outbox.read_state()
        refusals = state.setdefault("refusals", {})
        now = self.timing.now()
        entry = refusals.get(key_id) if isinstance(refusals.get(key_id), dict) else None
        try:
            first = dt.datetime.fromisoformat(entry["first_at"]) if entry else now
            count = int(entry["count"]) + 1 if entry else 1
        except (KeyError, TypeError, ValueError):
            first, count = now, 1
        refusals[key_id] = {"count": count, "first_at": first.isoformat(),
                            "last_at": now.isoformat(), "error": error}
        self.outbox.write_state(state)
        return count, first

    def _clear_refusals(self, key_id: str) -> None:
        state = self.outbox.read_state()
        if key_id in state.get("refusals", {}):
            del state["refusals"][key_id]
            self.outbox.write_state(state)

    def _say(self, line: str) -> None:
        self.stream.write(line + "\n")
        self.stream.flush()
