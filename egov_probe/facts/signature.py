"""Digital-signature facts: root certificates in the trust store, and the local signing service.

The trust store is the system's (on Windows the ``ROOT`` store, elsewhere OpenSSL's default CA
file) or a PEM file named in the policy. The VGCA signing service is looked for on 127.0.0.1.
"""

from __future__ import annotations

import ssl
import sys
import unicodedata
from dataclasses import dataclass, field
from typing import Optional, Sequence

from .net_tcp import connect
from .net_types import Step

SIGNING_SERVICE_HOST = "127.0.0.1"


@dataclass
class TrustStore:
    """The root certificates found, as (common name, organisation) pairs, and where."""

    source: str
    roots: list[dict] = field(default_factory=list)
    error: Optional[str] = None

    def matching(self, names: Sequence[str]) -> list[dict]:
        """Roots whose common name or organisation contains one of ``names`` (any case)."""
        wanted = [_fold(n) for n in names]
        return [root for root in self.roots
                if any(w in _fold(root.get("cn", "")) or w in _fold(root.get("o", ""))
                       for w in wanted)]

    def as_dict(self) -> dict:
        return {"source": self.source, "count": len(self.roots), "error": self.error}


def _fold(text: str) -> str:
    return unicodedata.normalize("NFC", text).casefold()


def read_trust_store(path: Optional[str] = None) -> TrustStore:
    """The roots of ``path`` (PEM), else of this machine's trust store."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if path is None and sys.platform == "win32":
        source = "Windows certificate store ROOT"
        loader = _windows_roots
    else:
        source = path or ssl.get_default_verify_paths().cafile or \
            ssl.get_default_verify_paths().openssl_cafile
        loader = lambda ctx: ctx.load_verify_locations(cafile=source)  # noqa: E731
    try:
        loader(context)
    except (OSError, ssl.SSLError, ValueError) as exc:
        return TrustStore(source, error=f"{type(exc).__name__}: {exc}")
    return TrustStore(source, [_names(cert) for cert in context.get_ca_certs()])


def _windows_roots(context: ssl.SSLContext) -> None:
    for der, encoding, _trust in ssl.enum_certificates("ROOT"):  # type: ignore[attr-defined]
        if encoding == "x509_asn":
            context.load_verify_locations(cadata=der)


def _names(cert: dict) -> dict:
    subject = dict(item[0] for item in cert.get("subject", ()) if item)
    return {"cn": subject.get("commonName", ""), "o": subject.get("organizationName", "")}


def probe_signing_service(port: int, timeout: float) -> Step:
    """Whether something accepts connections on 127.0.0.1:``port``."""
    step, sock = connect("signing_service", [SIGNING_SERVICE_HOST], port, timeout)
    if sock is not None:
        sock.close()
    return step


@dataclass
class SignatureFacts:
    store: TrustStore
    signing_service: Step
    endpoints: list  # ProbeResult of the CRL, OCSP and timestamp endpoints

    def as_dict(self) -> dict:
        return {"trust_store": self.store.as_dict(),
                "signing_service": self.signing_service.as_dict(),
                "endpoints": [e.as_dict() for e in self.endpoints]}


def collect_signature(rules: dict, network_rules: dict, proxy) -> SignatureFacts:
    """The trust store, the local signing service and the policy's CRL/OCSP/timestamp URLs."""
    from .network import SIGNATURE_KINDS, collect_network

    timeout = float(network_rules.get("step_timeout_s", 5))
    return SignatureFacts(
        store=read_trust_store(rules.get("trust_store")),
        signing_service=probe_signing_service(int(rules.get("signing_service_port", 8987)),
                                              timeout),
        endpoints=collect_network(network_rules, proxy, SIGNATURE_KINDS).endpoints)
