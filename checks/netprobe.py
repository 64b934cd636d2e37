"""Probes run from the machine that runs the checks, towards the audited server."""

from __future__ import annotations

import http.client
import socket
import ssl
import warnings

# Reasons OpenSSL gives when the server refuses the offered protocol version.
REFUSALS = ("PROTOCOL_VERSION", "UNSUPPORTED_PROTOCOL", "WRONG_VERSION_NUMBER", "HANDSHAKE_FAILURE",
            "NO_PROTOCOLS_AVAILABLE_FROM_SERVER")
# Reasons that mean this client cannot even offer the version: the probe proves nothing.
CLIENT_CANNOT = ("NO_PROTOCOLS_AVAILABLE", "NO_CIPHERS_AVAILABLE")


def _client_context(version: ssl.TLSVersion | None = None) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # the protocol is tested here; the certificate elsewhere
    if version is not None:
        with warnings.catch_warnings():  # old versions are deprecated: offering them is the test
            warnings.simplefilter("ignore", DeprecationWarning)
            ctx.minimum_version = ctx.maximum_version = version
        if version < ssl.TLSVersion.TLSv1_2:
            ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    return ctx


def tls_handshake(address: str, port: int, version: ssl.TLSVersion,
                  server_name: str | None = None) -> tuple[str, str]:
    """('accepted', negotiated) | ('refused', reason) | ('untestable', reason)."""
    ctx = _client_context(version)
    try:
        with socket.create_connection((address, port), timeout=5) as sock, \
                ctx.wrap_socket(sock, server_hostname=server_name) as tls:
            return "accepted", tls.version() or ""
    except ssl.SSLError as exc:
        reason = exc.reason or str(exc)
        if any(mark in reason for mark in CLIENT_CANNOT) and "FROM_SERVER" not in reason:
            return "untestable", reason
        return ("refused" if any(mark in reason for mark in REFUSALS) else "untestable"), reason
    except ConnectionResetError as exc:
        return "refused", f"connection reset: {exc}"


def tcp_state(address: str, port: int, timeout: float = 3) -> str:
    """'open', 'refused' (RST) or 'filtered' (no answer)."""
    try:
        with socket.create_connection((address, port), timeout=timeout):
            return "open"
    except ConnectionRefusedError:
        return "refused"
    except (TimeoutError, socket.timeout):
        return "filtered"
    except OSError as exc:
        return f"unreachable: {exc.strerror}"


def http_get(address: str, path: str, server_name: str, tls: bool) -> tuple[int, dict, bytes]:
    """GET through the proxy as a browser would ask for server_name."""
    if tls:
        conn = http.client.HTTPSConnection(address, 443, timeout=10, context=_client_context())
    else:
        conn = http.client.HTTPConnection(address, 80, timeout=10)
    try:
        conn.request("GET", path, headers={"Host": server_name})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def peer_certificate(address: str, server_name: str, cafile: str | None) -> tuple[bool, str]:
    """Whether the served certificate chains to the trusted CAs (system ones, or cafile)."""
    ctx = ssl.create_default_context(cafile=cafile)
    try:
        with socket.create_connection((address, 443), timeout=5) as sock, \
                ctx.wrap_socket(sock, server_hostname=server_name):
            return True, "verified"
    except ssl.SSLCertVerificationError as exc:
        return False, exc.verify_message or str(exc)
