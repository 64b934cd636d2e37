"""One host to audit, as the inventory describes it, and why its audit may fail."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Optional

from ..core.model import Outcome
from ..core.secret import Secret

__all__ = ["Endpoint", "WinrmSettings", "InventoryHost", "HostFailure", "Job"]


@dataclass(frozen=True)
class Endpoint:
    """Where to connect: an address, a port and the account."""

    address: str
    port: int
    user: Optional[str] = None


@dataclass(frozen=True)
class WinrmSettings:
    """Ansible's ``ansible_winrm_*`` variables that decide how to talk to a Windows host."""

    transport: str = "ntlm"
    scheme: str = "https"
    path: str = "/wsman"
    cert_validation: bool = True
    ca_trust_path: Optional[str] = None
    message_encryption: str = "auto"


@dataclass(frozen=True)
class InventoryHost:
    """One inventory host: how to reach it and which unit it belongs to."""

    name: str
    endpoint: Endpoint
    connection: str = "ssh"
    password: Optional[Secret] = None
    key_file: Optional[str] = None
    jump: Optional[Endpoint] = None
    unit_id: Optional[str] = None
    unit_phase: Optional[int] = None
    officer: Optional[str] = None
    winrm: WinrmSettings = field(default_factory=WinrmSettings)

    @property
    def transport(self) -> str:
        return "winrm" if self.connection == "winrm" else "ssh"


class HostFailure(Exception):
    """The audit of one host stopped: its outcome, a message and what was read so far."""

    def __init__(self, outcome: Outcome, message: str, *, fingerprint: Optional[str] = None,
                 partial_output: Optional[str] = None) -> None:
        super().__init__(message)
        self.outcome = outcome
        self.message = message
        self.fingerprint = fingerprint
        self.partial_output = partial_output


class Job:
    """The audit of one host in progress: its deadline, and how to abort what it has open."""

    def __init__(self, target: InventoryHost, deadline_s: float) -> None:
        self.target = target
        self.deadline = time.monotonic() + deadline_s
        self.deadline_s = deadline_s
        self.attempts = 0
        self.aborted: Optional[str] = None  # "timed_out" or "interrupted"
        self.mark: Optional[str] = None  # the collector's record mark sent to this host
        self._closers: list[Callable[[], None]] = []
        self._lock = threading.Lock()

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def on_abort(self, closer: Callable[[], None]) -> None:
        with self._lock:
            self._closers.append(closer)
            aborted = self.aborted
        if aborted:
            closer()

    def abort(self, reason: str) -> None:
        with self._lock:
            if self.aborted:
                return
            self.aborted = reason
            closers = list(self._closers)
        for closer in closers:
            try:
                closer()
            except Exception:  # noqa: BLE001 - closing a broken connection may fail any way
                pass

    def check(self) -> None:
        """Raise when the job was aborted or its deadline passed."""
        if self.aborted == "interrupted":
            raise HostFailure(Outcome.TIMED_OUT, "interrupted")
        if self.aborted or self.remaining() <= 0:
            raise HostFailure(Outcome.TIMED_OUT, f"no answer within {self.deadline_s:g} s")
