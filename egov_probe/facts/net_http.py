"""The HTTP step: status, redirects, latency, and the server's Date header (for clock skew)."""

from __future__ import annotations

import http.client
import socket
import time
from email.utils import parsedate_to_datetime
from typing import Callable, Optional
from urllib.parse import urljoin

from .net_tcp import socket_error_code
from .net_types import ServiceUrl, Step, timed

USER_AGENT = "egov-probe (readiness check; Nghe An e-government pilot)"
MAX_REDIRECTS = 5

# Opens a connection (TCP, proxy tunnel, TLS) to a target, for a request; raises OSError.
Opener = Callable[[ServiceUrl], socket.socket]


def exchange(sock: socket.socket, target: ServiceUrl, timeout: float, opener: Opener,
             absolute: bool = False) -> Step:
    """GET the target over ``sock``, follow redirects (new connections from ``opener``)."""
    step = Step("http")
    with timed(step):
        chain: list[dict] = []
        try:
            status, location, date = _request(sock, target, timeout, absolute)
            chain.append({"url": _url(target), "status": status})
            while 300 <= status < 400 and location and len(chain) <= MAX_REDIRECTS:
                target = ServiceUrl.from_url(urljoin(_url(target), location))
                status, location, date = _request(opener(target), target, timeout, absolute)
                chain.append({"url": _url(target), "status": status})
        except (OSError, http.client.HTTPException, ValueError) as exc:
            code = socket_error_code(exc) if isinstance(exc, OSError) else "bad_response"
            return step.fail(code, f"{type(exc).__name__}: {exc}", redirects=chain)
        step.succeed(http_status=status, redirects=chain[1:] and chain, **_clock(date))
    return step


def _url(target: ServiceUrl) -> str:
    default = {"https": 443, "http": 80}.get(target.scheme)
    port = "" if target.port == default else f":{target.port}"
    host = f"[{target.host}]" if ":" in target.host else target.host
    return f"{target.scheme}://{host}{port}{target.path}"


def _request(sock: socket.socket, target: ServiceUrl, timeout: float, absolute: bool
             ) -> tuple[int, Optional[str], Optional[str]]:
    sock.settimeout(timeout)
    connection = http.client.HTTPConnection(target.host, target.port, timeout=timeout)
    connection.sock = sock
    try:
        path = _url(target) if absolute and target.scheme == "http" else target.path
        connection.request("GET", path, headers={"User-Agent": USER_AGENT,
                                                 "Accept": "*/*", "Connection": "close"})
        response = connection.getresponse()
        response.read(65536)
        return response.status, response.getheader("Location"), response.getheader("Date")
    finally:
        connection.close()


def _clock(date: Optional[str]) -> dict:
    """The server's Date header and how far it is from this machine's clock (seconds)."""
    if not date:
        return {}
    try:
        server = parsedate_to_datetime(date).timestamp()
    except (TypeError, ValueError):
        return {"date": date}
    return {"date": date, "skew_s": round(server - time.time(), 1)}
