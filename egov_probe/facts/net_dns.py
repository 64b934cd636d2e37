"""The DNS step: A and AAAA records of a host name, and which resolver answered."""

from __future__ import annotations

import ipaddress
import socket
from typing import Optional, Sequence

import dns.exception
import dns.resolver

from .net_types import Step, split_server, timed


def literal_addresses(host: str) -> Optional[dict[str, list[str]]]:
    """The addresses of a host written as an IP literal, else None."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    family = "ipv6" if address.version == 6 else "ipv4"
    return {"ipv4": [], "ipv6": [], family: [str(address)]}


def make_resolver(servers: Sequence[str], timeout: float) -> dns.resolver.Resolver:
    """The system's resolver, or the servers given as ``address`` or ``address:port``/``[v6]:port``."""
    resolver = dns.resolver.Resolver(configure=not servers)
    if servers:
        resolver.nameservers = []
        for server in servers:
            address, port = split_server(server, 53)
            resolver.nameservers.append(address)
            resolver.nameserver_ports[address] = port
    resolver.lifetime = timeout
    resolver.timeout = timeout
    return resolver


def resolve(host: str, servers: Sequence[str], timeout: float) -> Step:
    """Look up A and AAAA; ``ok`` when at least one address came back."""
    step = Step("dns")
    literal = literal_addresses(host)
    if literal is not None:
        step.data.update(addresses=literal, literal=True)
        return step
    with timed(step):
        resolver = make_resolver(servers, timeout)
        answers, errors, resolvers = {"ipv4": [], "ipv6": []}, [], set()
        for family, rdtype in (("ipv4", "A"), ("ipv6", "AAAA")):
            found, error, server = _query(resolver, host, rdtype)
            answers[family] = found
            if server:
                resolvers.add(server)
            if error:
                errors.append(error)
        step.data.update(addresses=answers, resolver=", ".join(sorted(resolvers)) or
                         ", ".join(f"{a}:{resolver.nameserver_ports.get(a, 53)}"
                                   for a in resolver.nameservers))
        if answers["ipv4"] or answers["ipv6"]:
            return step.succeed()
        if not servers:
            return _system_fallback(step, host, errors)
        return step.fail(*_worst(errors))


def _query(resolver: dns.resolver.Resolver, host: str, rdtype: str
           ) -> tuple[list[str], Optional[tuple[str, str]], Optional[str]]:
    try:
        answer = resolver.resolve(host, rdtype, search=False)
    except dns.resolver.NXDOMAIN:
        return [], ("nxdomain", f"{host}: no such name (NXDOMAIN)"), None
    except dns.resolver.NoAnswer:
        return [], ("no_address", f"{host}: no {rdtype} record"), None
    except dns.resolver.NoNameservers as exc:
        code = "refused" if "REFUSED" in str(exc) else "servfail"
        return [], (code, f"{host}: the resolver failed to answer ({exc})"), None
    except dns.exception.Timeout:
        return [], ("timeout", f"{host}: no answer from the resolver in time"), None
    except dns.exception.DNSException as exc:
        return [], ("dns_error", f"{host}: {exc}"), None
    server = f"{answer.nameserver}:{answer.port}"
    return [r.address for r in answer], None, server


_SEVERITY = ("timeout", "refused", "servfail", "dns_error", "nxdomain", "no_address")


def _worst(errors: list[tuple[str, str]]) -> tuple[str, str]:
    return min(errors, key=lambda e: _SEVERITY.index(e[0])) if errors else (
        "no_address", "no address")


def _system_fallback(step: Step, host: str, errors: list[tuple[str, str]]) -> Step:
    """Names in the hosts file are not in DNS: ask the operating system before failing."""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except socket.gaierror:
        return step.fail(*_worst(errors))
    found = {"ipv4": [], "ipv6": []}
    for family, _type, _proto, _name, sockaddr in infos:
        key = "ipv6" if family == socket.AF_INET6 else "ipv4"
        if sockaddr[0] not in found[key]:
            found[key].append(sockaddr[0])
    return step.succeed(addresses=found, resolver="system (hosts file / getaddrinfo)")
