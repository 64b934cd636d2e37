"""What a network probe records: service URLs parsed from the policy, and timed steps."""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Iterator, Optional
from urllib.parse import urlsplit

DEFAULT_PORTS = {"https": 443, "http": 80, "smtp": 587, "imaps": 993, "ldaps": 636,
                 "ldap": 389, "wss": 443}
TLS_SCHEMES = frozenset({"https", "imaps", "ldaps", "wss"})
HTTP_SCHEMES = frozenset({"https", "http"})


def split_server(server: str, default_port: int) -> tuple[str, int]:
    """``host``, ``host:port``, ``[v6]`` or ``[v6]:port`` as (host, port)."""
    if server.startswith("["):
        address, _, port = server[1:].partition("]")
        return address, _port(port.lstrip(":") or default_port, server)
    if server.count(":") == 1:
        address, port = server.split(":")
        return address, _port(port, server)
    return server, default_port


def _port(value: object, server: str) -> int:
    port = int(value)
    if not 1 <= port <= 65535:
        raise ValueError(f"{server}: port {port} is outside 1-65535")
    return port


@dataclass(frozen=True)
class ServiceUrl:
    """Where a service the policy names lives, from its URL: scheme, host, port and path."""

    scheme: str
    host: str
    port: int
    path: str

    @classmethod
    def from_url(cls, url: str) -> ServiceUrl:
        parts = urlsplit(url)
        port = parts.port  # ValueError beyond 65535
        if port == 0:
            raise ValueError(f"{url}: port 0 is not a port a server listens on (1-65535)")
        port = port or DEFAULT_PORTS.get(parts.scheme)
        if port is None:
            raise ValueError(f"{url}: no port given and none known for {parts.scheme}://")
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        return cls(parts.scheme, parts.hostname or "", port, path)

    @property
    def uses_tls(self) -> bool:
        return self.scheme in TLS_SCHEMES

    @property
    def uses_http(self) -> bool:
        return self.scheme in HTTP_SCHEMES


@dataclass
class Step:
    """One timed step of a probe. ``ok`` None means the step was skipped."""

    step: str
    ok: Optional[bool] = None
    ms: float = 0.0
    error: Optional[str] = None
    message: Optional[str] = None
    data: dict[str, Any] = field(default_factory=dict)

    def fail(self, error: str, message: str = "", **data: Any) -> Step:
        self.ok, self.error, self.message = False, error, message or None
        self.data.update(data)
        return self

    def succeed(self, **data: Any) -> Step:
        self.ok = True
        self.data.update(data)
        return self

    def as_dict(self) -> dict[str, Any]:
        status = "skipped" if self.ok is None else ("pass" if self.ok else "fail")
        found: dict[str, Any] = {"step": self.step, "status": status, "ms": round(self.ms, 1)}
        if self.error:
            found["error"] = self.error
        if self.message:
            found["message"] = self.message
        return {**found, **self.data}


@contextmanager
def timed(step: Step) -> Iterator[Step]:
    """Time the block into ``step.ms``."""
    started = time.perf_counter()
    try:
        yield step
    finally:
        step.ms = (time.perf_counter() - started) * 1000


@dataclass
class ProbeResult:
    """Every step of one endpoint's probe, in order, and the route it took."""

    endpoint_id: str
    url: str
    kind: str
    steps: list[Step] = field(default_factory=list)
    route: str = "direct"

    def step(self, name: str) -> Optional[Step]:
        return next((s for s in self.steps if s.step == name), None)

    def as_dict(self) -> dict[str, Any]:
        return {"endpoint": self.endpoint_id, "url": self.url, "kind": self.kind,
                "route": self.route, "steps": [s.as_dict() for s in self.steps]}
