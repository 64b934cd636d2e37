"""Probes run from the machine that runs the checks, towards the audited server."""

from __future__ import annotations

import http.client
import re
import socket
import ssl
import subprocess
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
    return http_request(address, "GET", path, server_name, tls)


def http_request(address: str, method: str, path: str, server_name: str, tls: bool,
                 body: bytes | None = None,
                 headers: dict[str, str] | None = None) -> tuple[int, dict, bytes]:
    """One HTTP(S) request to the proxy for server_name (SNI and Host)."""
    if tls:
        conn = _NamedHTTPSConnection(address, server_name)
    else:
        conn = http.client.HTTPConnection(address, 80, timeout=10)
    try:
        conn.request(method, path, body=body, headers={"Host": server_name, **(headers or {})})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


class _NamedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to an address, with server_name in the TLS handshake (SNI) as a browser sends it."""

    def __init__(self, address: str, server_name: str) -> None:
        super().__init__(address, 443, timeout=10, context=_client_context())
        self._server_name = server_name

    def connect(self) -> None:
        sock = socket.create_connection((self.host, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self._server_name)


def peer_certificate(address: str, server_name: str, cafile: str | None) -> tuple[bool, str]:
    """Whether the served certificate chains to the trusted CAs (system ones, or cafile)."""
    ctx = ssl.create_default_context(cafile=cafile)
    try:
        with socket.create_connection((address, 443), timeout=5) as sock, \
                ctx.wrap_socket(sock, server_hostname=server_name):
            return True, "verified"
    except ssl.SSLCertVerificationError as exc:
        return False, exc.verify_message or str(exc)


def openssl_handshake(address: str, port: int, server_name: str, *options: str) -> str:
    """The output of one `openssl s_client` handshake (no data sent), for suite-level probes."""
    cmd = ["openssl", "s_client", "-connect", f"{address}:{port}", "-servername", server_name,
           "-no_ign_eof", *options]
    done = subprocess.run(cmd, input="", capture_output=True, text=True, timeout=20, check=False)
    return done.stdout + done.stderr


def negotiated_cipher(output: str) -> str | None:
    """The suite a handshake agreed on, or None when it failed."""
    # "New, TLSv1.3, Cipher is X" always; the "Cipher    : X" of the session block only when
    # s_client stayed long enough to print it.
    match = re.search(r"Cipher is (\S+)", output) or re.search(r"^\s*Cipher\s*:\s*(\S+)", output, re.M)
    return match.group(1) if match and match.group(1) not in ("(NONE)", "0000") else None


def client_suites(version: str) -> list[str]:
    """Every suite this machine's OpenSSL can offer for TLS 1.2 ("tls1_2") or 1.3 ("tls1_3")."""
    spec = "ALL:COMPLEMENTOFALL:!PSK:!SRP:@SECLEVEL=0"  # PSK/SRP suites need a shared secret
    out = subprocess.run(["openssl", "ciphers", f"-{version}", "-s", spec], capture_output=True,
                         text=True, check=True).stdout.strip()
    suites = out.split(":")
    if version == "tls1_2":
        tls13 = set(client_suites("tls1_3"))
        return [s for s in suites if s not in tls13]
    # OpenSSL leaves the CCM suites out by default; offer them too.
    extra = ["TLS_AES_128_CCM_SHA256", "TLS_AES_128_CCM_8_SHA256"]
    return [s for s in suites if s.startswith("TLS_")] + [s for s in extra if s not in suites]
