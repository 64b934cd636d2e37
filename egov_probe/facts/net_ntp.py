"""An SNTP query (RFC 4330): the offset of this machine's clock from an NTP server."""

from __future__ import annotations

import socket
import struct
import time

from .net_tcp import socket_error_code
from .net_types import Step, split_server, timed

NTP_EPOCH_OFFSET = 2208988800  # seconds from 1900-01-01 to 1970-01-01


def _ntp_time(high: int, low: int) -> float:
    return high - NTP_EPOCH_OFFSET + low / 2**32


def query_ntp(server: str, timeout: float) -> Step:
    """Ask ``server`` (``host`` or ``host:port``) for the time; ``offset_s`` = server - local."""
    host, port = split_server(server, 123)
    step = Step("ntp", data={"server": server})
    with timed(step):
        request = b"\x23" + 47 * b"\0"  # LI 0, version 4, mode 3 (client)
        try:
            family = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)[0]
            with socket.socket(family[0], socket.SOCK_DGRAM) as sock:
                sock.settimeout(timeout)
                sock.connect(family[4])  # connected: a closed port is "refused", not a wait
                sent = time.time()
                sock.send(request)
                answer = sock.recv(512)
                received = time.time()
        except OSError as exc:
            return step.fail(socket_error_code(exc), str(exc))
        if len(answer) < 48 or answer[0] & 0x07 not in (4, 5) or answer[1] == 0:
            return step.fail("bad_response", "not a usable NTP answer (mode or stratum)")
        fields = struct.unpack("!12I", answer[:48])
        server_received, server_sent = _ntp_time(*fields[8:10]), _ntp_time(*fields[10:12])
        offset = ((server_received - sent) + (server_sent - received)) / 2
        step.succeed(offset_s=round(offset, 3), stratum=answer[1])
    return step
