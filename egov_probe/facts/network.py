"""Network facts: every endpoint of the policy probed step by step (DNS, TCP v4/v6, TLS, HTTP).

All endpoints are probed at once; each step has its own timeout and the whole run is bounded
by one overall timeout (an endpoint still running then is reported as cut off, not waited for).
"""

from __future__ import annotations

import concurrent.futures
import copy
import os
import socket
import ssl
import sys
import time
from dataclasses import dataclass, field
from typing import Iterable, Mapping, Optional

from ..core.errors import InputError
from .net_dns import resolve
from .net_http import exchange
from .net_ntp import query_ntp
from .net_proxy import NO_PROXY, ProxySettings, from_environment, redact
from .net_tcp import connect, socket_error_code
from .net_tls import client_context, handshake
from .net_types import ProbeResult, ServiceUrl, Step, timed

FAMILIES = ("ipv4", "ipv6")


@dataclass(frozen=True)
class ProbeSettings:
    """How to probe: step timeout, resolvers (empty: the system's), extra CA file, proxies."""

    step_timeout: float = 5.0
    resolvers: tuple[str, ...] = ()
    ca_file: Optional[str] = None
    proxy: ProxySettings = NO_PROXY
    ca_pem: Optional[str] = None  # the CA file's content, where the file is not at hand
    context: ssl.SSLContext = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        try:
            context = client_context(self.ca_file, self.ca_pem)
        except (OSError, ssl.SSLError) as exc:
            raise InputError(f"not a usable CA file: {exc}", path=self.ca_file,
                             field="network.ca_file") from exc
        object.__setattr__(self, "context", context)

    def for_endpoint(self, endpoint: Mapping) -> ProbeSettings:
        """These settings, with the endpoint's own ``resolvers`` when it names some."""
        if not endpoint.get("resolvers"):
            return self
        found = copy.copy(self)  # keeps the TLS context
        object.__setattr__(found, "resolvers", tuple(endpoint["resolvers"]))
        return found

    @classmethod
    def from_policy(cls, section: Mapping, proxy: ProxySettings) -> ProbeSettings:
        return cls(step_timeout=float(section.get("step_timeout_s", 5)),
                   resolvers=tuple(section.get("resolvers", ())),
                   ca_file=section.get("ca_file"), proxy=proxy, ca_pem=section.get("ca_pem"))


def local_proxy_settings(environ: Mapping[str, str] = os.environ) -> ProxySettings:
    """This machine's proxies: the environment, else (Windows) the user's WinINET settings."""
    found = from_environment(environ)
    if found.proxies or sys.platform != "win32":
        return found
    from .net_proxy import windows_user_proxy
    from .winsource import LiveWindowsSource

    return windows_user_proxy(LiveWindowsSource(), environ)


def probe_endpoints(endpoints: Iterable[Mapping], settings: ProbeSettings,
                    overall_timeout: float) -> list[ProbeResult]:
    """Probe every endpoint concurrently; the list keeps the policy's order."""
    endpoints = list(endpoints)
    if not endpoints:
        return []
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=min(32, len(endpoints)),
                                                 thread_name_prefix="egov-net")
    futures = [pool.submit(probe_endpoint, e, settings) for e in endpoints]
    concurrent.futures.wait(futures, timeout=overall_timeout)
    pool.shutdown(wait=False, cancel_futures=True)
    return [f.result() if f.done() else _cut_off(e, overall_timeout)
            for f, e in zip(futures, endpoints)]


def _cut_off(endpoint: Mapping, overall_timeout: float) -> ProbeResult:
    step = Step("overall", ms=overall_timeout * 1000).fail(
        "section_timeout", f"not finished within the section's {overall_timeout} s")
    return ProbeResult(endpoint["id"], endpoint["url"], endpoint["kind"], [step])


def probe_endpoint(endpoint: Mapping, settings: ProbeSettings) -> ProbeResult:
    """Every step for one endpoint, stopping at the first that leaves nothing to go on."""
    target, settings = ServiceUrl.from_url(endpoint["url"]), settings.for_endpoint(endpoint)
    result = ProbeResult(endpoint["id"], endpoint["url"], endpoint["kind"])
    proxy = settings.proxy.proxy_for(target.scheme, target.host) if target.uses_http else None
    first_hop = ServiceUrl.from_url(proxy) if proxy else target
    if proxy:
        result.route = f"proxy {redact(proxy)} ({settings.proxy.source})"
    elif settings.proxy.pac_url:
        result.route = f"direct (PAC {settings.proxy.pac_url} not evaluated)"
    sock = _connect_steps(result, first_hop, settings)
    if sock is None:
        return result
    if proxy and target.scheme == "https":
        sock = _tunnel_step(result, sock, target, settings.step_timeout)
    if sock is not None and target.uses_tls:
        step, sock = handshake(sock, target.host, settings.context, settings.step_timeout,
                               lambda: _reconnect(first_hop, target, settings, proxy))
        result.steps.append(step)
    if sock is not None and target.uses_http:
        result.steps.append(exchange(sock, target, settings.step_timeout,
                                     lambda t: open_connection(t, settings),
                                     absolute=bool(proxy)))
    elif sock is not None:
        sock.close()
    return result


def _connect_steps(result: ProbeResult, hop: ServiceUrl, settings: ProbeSettings
                   ) -> Optional[socket.socket]:
    dns = resolve(hop.host, settings.resolvers, settings.step_timeout)
    result.steps.append(dns)
    if dns.ok is False:
        return None
    chosen: Optional[socket.socket] = None
    for family in FAMILIES:
        step, sock = connect(f"tcp_{family}", dns.data["addresses"][family], hop.port,
                             settings.step_timeout)
        result.steps.append(step)
        if sock is not None and chosen is None:
            chosen = sock
        elif sock is not None:
            sock.close()
    return chosen


def _tunnel_step(result: ProbeResult, sock: socket.socket, target: ServiceUrl, timeout: float
                 ) -> Optional[socket.socket]:
    step = Step("proxy")
    with timed(step):
        try:
            status = tunnel(sock, target, timeout)
        except OSError as exc:
            step.fail(socket_error_code(exc), str(exc))
            status = None
        if status == 200:
            step.succeed(http_status=status)
        elif status is not None:
            step.fail("proxy_refused", f"the proxy answered CONNECT with {status}", http_status=status)
    result.steps.append(step)
    if step.ok:
        return sock
    sock.close()
    return None


def tunnel(sock: socket.socket, target: ServiceUrl, timeout: float) -> int:
    """Ask an HTTP proxy for a tunnel to ``target``; its status code."""
    sock.settimeout(timeout)
    authority = f"{target.host}:{target.port}"
    sock.sendall(f"CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n\r\n".encode("ascii"))
    answer = b""
    while b"\r\n\r\n" not in answer:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionResetError("the proxy closed the connection")
        answer += chunk
    try:
        return int(answer.split(b" ", 2)[1])
    except (IndexError, ValueError) as exc:
        raise ConnectionResetError(f"not an HTTP answer from the proxy: {answer[:40]!r}") from exc


def open_connection(target: ServiceUrl, settings: ProbeSettings) -> socket.socket:
    """A ready connection (through the proxy and TLS as needed), for a redirect."""
    proxy = settings.proxy.proxy_for(target.scheme, target.host) if target.uses_http else None
    return _reconnect(ServiceUrl.from_url(proxy) if proxy else target, target, settings, proxy,
                      wrap=True)


def _reconnect(hop: ServiceUrl, target: ServiceUrl, settings: ProbeSettings, proxy: Optional[str],
               wrap: bool = False) -> socket.socket:
    sock = socket.create_connection((_address(hop.host, settings), hop.port),
                                    timeout=settings.step_timeout)
    if proxy and target.scheme == "https" and tunnel(sock, target, settings.step_timeout) != 200:
        sock.close()
        raise ConnectionRefusedError("the proxy refused the tunnel")
    if wrap and target.uses_tls:
        return settings.context.wrap_socket(sock, server_hostname=target.host)
    return sock


SIGNATURE_KINDS = frozenset({"crl", "ocsp", "timestamp"})


@dataclass
class NetworkFacts:
    """The route settings, every endpoint's probe and the NTP answers."""

    proxy: ProxySettings
    endpoints: list[ProbeResult]
    ntp: list[Step] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"proxy": self.proxy.as_dict(),
                "endpoints": [e.as_dict() for e in self.endpoints],
                "ntp": [s.as_dict() for s in self.ntp]}


def collect_network(rules: Mapping, proxy: ProxySettings) -> NetworkFacts:
    """Probe the policy's endpoints (all but the signature services) and its NTP servers at
    once, within ``overall_timeout_s``."""
    settings = ProbeSettings.from_policy(rules, proxy)
    endpoints = [e for e in rules.get("endpoints", []) if e["kind"] not in SIGNATURE_KINDS]
    overall = float(rules.get("overall_timeout_s", 20))
    deadline = time.monotonic() + overall
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="egov-ntp")
    ntp = pool.submit(lambda: [query_ntp(server, settings.step_timeout)
                               for server in rules.get("ntp_servers", [])])
    probes = probe_endpoints(endpoints, settings, overall)
    try:
        answers = ntp.result(timeout=max(0.0, deadline - time.monotonic()))
    except concurrent.futures.TimeoutError:
        answers = []
    pool.shutdown(wait=False, cancel_futures=True)
    return NetworkFacts(proxy, probes, answers)


def collect_signature_endpoints(rules: Mapping, proxy: ProxySettings) -> list[ProbeResult]:
    """Probe the policy's signature services (CRL, OCSP, timestamp) within
    ``overall_timeout_s``; with none, nothing is set up (no trust store loaded, no NTP asked:
    the network section does that)."""
    endpoints = [e for e in rules.get("endpoints", []) if e["kind"] in SIGNATURE_KINDS]
    if not endpoints:
        return []
    return probe_endpoints(endpoints, ProbeSettings.from_policy(rules, proxy),
                           float(rules.get("overall_timeout_s", 20)))


def _address(host: str, settings: ProbeSettings) -> str:
    """The first address of ``host`` from the same resolvers as the DNS step (IPv4 first)."""
    step = resolve(host, settings.resolvers, settings.step_timeout)
    addresses = step.data.get("addresses") or {}
    found = [a for family in FAMILIES for a in addresses.get(family, [])]
    if not found:
        raise OSError(f"{host}: {step.error or 'no address'}")
    return found[0]
