"""The TCP steps: connect over IPv4 and over IPv6, separately."""

from __future__ import annotations

import errno
import socket
from typing import Optional

from .net_types import Step, timed

_ERRNO_CODES = {errno.ECONNREFUSED: "refused", errno.EHOSTUNREACH: "unreachable",
                errno.ENETUNREACH: "unreachable", errno.ETIMEDOUT: "timeout",
                errno.ECONNRESET: "reset", errno.EADDRNOTAVAIL: "unreachable"}


def socket_error_code(exc: OSError) -> str:
    """A stable code for a socket error: refused, timeout, unreachable, reset, os_error."""
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return "timeout"
    return _ERRNO_CODES.get(exc.errno or 0, "os_error")


def connect(step_name: str, addresses: list[str], port: int, timeout: float
            ) -> tuple[Step, Optional[socket.socket]]:
    """Connect to the first address that answers; the step and the open socket (or None)."""
    step = Step(step_name)
    if not addresses:
        step.data["reason"] = "no address of this family"
        return step, None
    with timed(step):
        last: Optional[OSError] = None
        for address in addresses:
            try:
                sock = socket.create_connection((address, port), timeout=timeout)
            except OSError as exc:
                last = exc
                continue
            step.succeed(address=address, port=port)
            return step, sock
        assert last is not None
        step.fail(socket_error_code(last), f"{addresses[-1]}:{port}: {last}", address=addresses[-1],
                  port=port)
    return step, None
