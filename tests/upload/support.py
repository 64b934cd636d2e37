"""What the upload tests share: reports as bytes, an identity made on disk, a clock that never
sleeps, and a client that answers from a script."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from egov_probe.core.signing import generate_private_key
from egov_probe.upload.backoff import Timing
from egov_probe.upload.identity import Identity, PendingKey, new_record
from egov_probe.upload.sender import ServerReply, ServerUrl

MACHINE = "3d1219c7c4c5404aaa1f6d2a48adfda4"
OTHER_MACHINE = "9e0c5b2a11d74f0c8a6b2f1e7d3c4b5a"
START = dt.datetime(2026, 12, 6, 2, 0, tzinfo=dt.timezone.utc)


def report_bytes(unit_id: Optional[str] = "xa-ma-thanh", report_id: Optional[str] = None,
                 padding: int = 0) -> bytes:
    """A report-shaped JSON document (the outbox reads only its id and unit)."""
    document = {"schema_version": "1.1", "report_id": report_id or uuid.uuid4().hex,
                "host": {"hostname": "ws1", "kind": "workstation", "unit_id": unit_id},
                "padding": "x" * padding}
    return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def make_identity(folder: Path, unit_id: str = "xa-ma-thanh", machine_id: Optional[str] = MACHINE,
                  server: str = "https://127.0.0.1:8443") -> Identity:
    pending = PendingKey(folder, generate_private_key())
    answer = {"unit_id": unit_id, "unit_name": "Xã Mã Thành"}
    return pending.commit(new_record(server, answer, pending.public_key, machine_id, None))


@dataclass
class FakeClock:
    """Monotonic seconds and the wall clock move only when the sender sleeps."""

    seconds: float = 0.0
    sleeps: list[float] = field(default_factory=list)

    def monotonic(self) -> float:
        return self.seconds

    def now(self) -> dt.datetime:
        return START + dt.timedelta(seconds=self.seconds)

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.seconds += seconds

    def timing(self) -> Timing:
        return Timing(monotonic=self.monotonic, now=self.now, sleep=self.sleep)


@dataclass
class ScriptedClient:
    """Answers requests from a list: a ``ServerReply``, or an exception to raise."""

    script: list
    server: ServerUrl = ServerUrl("https", "127.0.0.1", 8443, "")
    requests: list = field(default_factory=list)

    def request(self, method: str, path: str, body: bytes, headers: dict) -> ServerReply:
        self.requests.append((method, path, body, dict(headers)))
        step = self.script.pop(0) if self.script else ServerReply(201, {}, b"{}")
        if isinstance(step, BaseException):
            raise step
        return step


def answer(status: int, body: Optional[dict] = None, **headers: str) -> ServerReply:
    return ServerReply(status, {k.replace("_", "-").lower(): v for k, v in headers.items()},
                  json.dumps(body or {}).encode())
