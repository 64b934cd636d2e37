"""Digital-signature facts: the certificate stores browsers trust, and the local signing service.

The stores (``cert_stores``): the system's (on Windows the machine's root stores in the
registry; elsewhere OpenSSL's bundle, or a PEM file named in the policy) and, on Linux, every
NSS database Firefox and Chromium use. The VGCA signing service is looked for on 127.0.0.1.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Iterable, Optional

from .cert_stores import (SYSTEM_NSSDB, CertStore, nss_locations, openssl_store, read_nss_store,
                          unreadable_homes, windows_store)
from .net_tcp import connect
from .net_types import Step

SIGNING_SERVICE_HOST = "127.0.0.1"


def read_cert_stores(trust_store: Optional[str] = None,
                     homes: Optional[Iterable[tuple[str, str]]] = None,
                     system_nssdb: str = SYSTEM_NSSDB) -> list[CertStore]:
    """Every store a browser on this machine may trust: the system store (``trust_store``, a
    PEM file, stands in for it), then on Linux the NSS databases of ``homes`` (default: every
    person's home) and the system-wide one."""
    if sys.platform == "win32" and trust_store is None:
        from .winsource import LiveWindowsSource
        return [windows_store(LiveWindowsSource())]
    stores = [openssl_store(trust_store, None, kind="file") if trust_store else openssl_store()]
    if sys.platform.startswith("linux"):
        from .browsers_linux import LocalLinuxReader, homes as people_homes

        homes = list(people_homes(LocalLinuxReader()) if homes is None else homes)
        stores += [read_nss_store(folder, used_by, user)
                   for folder, used_by, user in nss_locations(homes, system_nssdb)]
        stores += unreadable_homes(homes)
    return stores


def probe_signing_service(port: int, timeout: float) -> Step:
    """Whether something accepts connections on 127.0.0.1:``port``."""
    step, sock = connect("signing_service", [SIGNING_SERVICE_HOST], port, timeout)
    if sock is not None:
        sock.close()
    return step


@dataclass
class SignatureFacts:
    stores: list[CertStore]
    signing_service: Step
    endpoints: list  # ProbeResult of the CRL, OCSP and timestamp endpoints

    def as_dict(self) -> dict:
        return {"cert_stores": [store.as_dict() for store in self.stores],
                "signing_service": self.signing_service.as_dict(),
                "endpoints": [e.as_dict() for e in self.endpoints]}


def collect_signature(rules: dict, network_rules: dict, proxy) -> SignatureFacts:
    """The certificate stores, the local signing service and the policy's CRL/OCSP/timestamp
    URLs."""
    from .network import collect_signature_endpoints

    timeout = float(network_rules.get("step_timeout_s", 5))
    return SignatureFacts(
        stores=read_cert_stores(rules.get("trust_store")) if rules.get("vgca_roots") else [],
        signing_service=probe_signing_service(int(rules.get("signing_service_port", 8987)),
                                              timeout),
        endpoints=collect_signature_endpoints(network_rules, proxy))
