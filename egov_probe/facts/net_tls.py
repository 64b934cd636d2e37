"""The TLS step: protocol, chain verified against the trust store, host name, days to expiry."""

from __future__ import annotations

import socket
import ssl
import time
import warnings
from typing import Callable, Optional

from .net_tcp import socket_error_code
from .net_types import Step, timed

# OpenSSL X509 verify codes -> stable codes.
_VERIFY_CODES = {10: "cert_expired", 9: "cert_not_yet_valid",
                 62: "hostname_mismatch", 64: "hostname_mismatch",  # 64: an IP address
                 18: "self_signed", 19: "untrusted_chain", 20: "untrusted_chain",
                 21: "untrusted_chain", 2: "untrusted_chain", 23: "cert_revoked",
                 68: "weak_signature"}  # 68: CA signature digest algorithm too weak (SHA-1, MD5)
_OLD_PROTOCOL_MARKS = ("UNSUPPORTED_PROTOCOL", "PROTOCOL_VERSION", "NO_PROTOCOLS_AVAILABLE",
                       "WRONG_SSL_VERSION", "VERSION_TOO_LOW")


def client_context(ca_file: Optional[str] = None, ca_pem: Optional[str] = None) -> ssl.SSLContext:
    """The system's trust store (plus ``ca_file``, or the same certificates as PEM text: the
    fleet sends the policy's CA file's content to the hosts), host names checked, TLS 1.2+."""
    context = ssl.create_default_context()
    if ca_file:
        context.load_verify_locations(cafile=ca_file)
    if ca_pem:
        context.load_verify_locations(cadata=ca_pem)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def legacy_context() -> ssl.SSLContext:
    """Only to learn what an old server speaks: nothing verified, nothing trusted."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with warnings.catch_warnings():  # TLS 1.0 is deprecated: that is what we look for
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = ssl.TLSVersion.TLSv1
    context.set_ciphers("ALL:@SECLEVEL=0")
    return context


def handshake(sock: socket.socket, host: str, context: ssl.SSLContext, timeout: float,
              reconnect: Callable[[], socket.socket]) -> tuple[Step, Optional[ssl.SSLSocket]]:
    """TLS over ``sock``; on an old-protocol refusal, ``reconnect`` for a look at what it speaks."""
    step = Step("tls")
    with timed(step):
        sock.settimeout(timeout)
        try:
            tls = context.wrap_socket(sock, server_hostname=host)
        except ssl.SSLCertVerificationError as exc:
            sock.close()
            code = _VERIFY_CODES.get(exc.verify_code, "cert_invalid")
            step.fail(code, exc.verify_message or str(exc), verify_code=exc.verify_code)
            return step, None
        except ssl.SSLError as exc:
            sock.close()
            _classify_ssl_error(step, exc, host, timeout, reconnect)
            return step, None
        except OSError as exc:
            sock.close()
            step.fail(socket_error_code(exc), str(exc))
            return step, None
        step.succeed(protocol=tls.version(), cipher=(tls.cipher() or ("?",))[0],
                     **_certificate_facts(tls.getpeercert() or {}))
    return step, tls


def _classify_ssl_error(step: Step, exc: ssl.SSLError, host: str, timeout: float,
                        reconnect: Callable[[], socket.socket]) -> None:
    text = f"{exc.reason or ''} {exc}"
    if any(mark in text.upper() for mark in _OLD_PROTOCOL_MARKS):
        step.fail("protocol_too_old", str(exc), server_protocol=_legacy_protocol(
            host, timeout, reconnect))
    else:
        step.fail("handshake_failed", str(exc))


def _legacy_protocol(host: str, timeout: float, reconnect: Callable[[], socket.socket]
                     ) -> Optional[str]:
    try:
        sock = reconnect()
        sock.settimeout(timeout)
        with legacy_context().wrap_socket(sock, server_hostname=host) as tls:
            return tls.version()
    except (OSError, ValueError):
        return None


def _certificate_facts(cert: dict) -> dict:
    facts: dict = {}
    if "notAfter" in cert:
        expires = ssl.cert_time_to_seconds(cert["notAfter"])
        facts["not_after"] = cert["notAfter"]
        facts["days_left"] = int((expires - time.time()) // 86400)
    subject = dict(item[0] for item in cert.get("subject", ()) if item)
    issuer = dict(item[0] for item in cert.get("issuer", ()) if item)
    facts["subject"] = subject.get("commonName")
    facts["issuer"] = issuer.get("commonName") or issuer.get("organizationName")
    return facts
