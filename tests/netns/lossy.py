"""A lossy link: the DIC's collector and the communes' probes in network namespaces, every
packet between them dropped with a given probability (30 % by default).

Layout (root, nothing changed in the host's own network or ruleset): one Linux bridge
``egovbr-lo<tag>`` without an address; a namespace ``egovlo<tag>-dic`` for the server and one
``egovlo<tag>-<i>`` per probe, each with a veth into the bridge and an address of
10.216.0.0/24 (the bridge is the run's own wire: parallel runs may use the same addresses).
Each namespace has its own nft table ``egovloss`` that drops, on its *input* hook,
``numgen random mod 100 < LOSS`` of the packets arriving from the link (loopback is exempt):
a packet crossing the link passes exactly one receiver's input hook, so each packet, in either
direction, is lost with that probability, as on a bad line (a drop on the sender's output hook
would instead be reported to the sender's TCP as local congestion, not a loss).

``set_loss(0)`` makes the link clean (enrolment), ``set_loss(30)`` lossy again.
``close()`` kills every process in the namespaces, deletes them and the bridge.
"""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
import signal
from dataclasses import dataclass, field
from typing import Optional, Sequence

from tests.netns.hosts import run

NETWORK = ipaddress.ip_network("10.216.0.0/24")
TABLE = "egovloss"


@dataclass(frozen=True)
class Site:
    """One end of the link: a namespace and its address on the bridge."""

    namespace: str
    address: str
    veth: str

    def argv(self, command: Sequence[str]) -> list[str]:
        """``command`` run inside this namespace (``ip netns exec`` execs it: same pid)."""
        return ["ip", "netns", "exec", self.namespace, *command]


@dataclass
class LossyLink:
    """``probes`` namespaces and one for the server; always :meth:`close` it."""

    probes: int
    loss_percent: int = 30
    tag: str = field(default_factory=lambda: secrets.token_hex(3))
    bridge: str = ""
    server: Optional[Site] = None
    sites: list[Site] = field(default_factory=list)

    def start(self) -> "LossyLink":
        network = NETWORK  # the bridge is this run's own wire: no clash with another run
        addresses = [str(a) for a in network.hosts()]
        self.bridge = f"egovbr-lo{self.tag}"
        self.server = Site(f"egovlo{self.tag}-dic", addresses[0], f"egovl{self.tag}d")
        self.sites = [Site(f"egovlo{self.tag}-{i}", addresses[i + 1], f"egovl{self.tag}{i}")
                      for i in range(self.probes)]
        try:
            self._network(network.prefixlen)
            self.set_loss(self.loss_percent)
        except BaseException:
            self.close()
            raise
        return self

    def every_site(self) -> list[Site]:
        return ([self.server] if self.server else []) + self.sites

    def _network(self, prefix: int) -> None:
        lines = [f"link add {self.bridge} type bridge", f"link set {self.bridge} up"]
        lines += [f"netns add {site.namespace}" for site in self.every_site()]
        run("ip", "-batch", "-", input="\n".join(lines) + "\n")
        lines = []
        for site in self.every_site():
            lines += [f"link add {site.veth} type veth peer name eth0 netns {site.namespace}",
                      f"link set {site.veth} master {self.bridge} up"]
        run("ip", "-batch", "-", input="\n".join(lines) + "\n")
        for site in self.every_site():
            run("ip", "-n", site.namespace, "-batch", "-",
                 input=f"addr add {site.address}/{prefix} dev eth0\n"
                       "link set eth0 up\nlink set lo up\n")

    def set_loss(self, percent: int) -> None:
        """Drop ``percent`` % of the packets each namespace receives from the link (0: none)."""
        self.loss_percent = percent
        rule = "iifname \"lo\" accept"
        if percent:
            rule += f"\n  numgen random mod 100 < {percent} counter drop"
        ruleset = (f"table inet {TABLE}\ndelete table inet {TABLE}\n"
                   f"table inet {TABLE} {{\n chain input {{\n"
                   f"  type filter hook input priority 0; policy accept;\n  {rule}\n }}\n}}\n")
        for site in self.every_site():
            run("ip", "netns", "exec", site.namespace, "nft", "-f", "-", input=ruleset)

    def dropped(self) -> int:
        """Packets dropped so far by every namespace's rule (since the last ``set_loss``)."""
        total = 0
        for site in self.every_site():
            listed = run("ip", "netns", "exec", site.namespace, "nft", "list", "table", "inet",
                          TABLE).stdout
            total += sum(int(n) for n in re.findall(r"counter packets (\d+)", listed))
        return total

    def pids(self, site: Site) -> list[int]:
        out = run("ip", "netns", "pids", site.namespace, check=False).stdout
        return [int(p) for p in out.split()]

    def close(self) -> None:
        for site in self.every_site():
            for pid in self.pids(site):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        # the host-side veths first: a namespace's deletion frees its veths only later
        lines = [f"link del {site.veth}" for site in self.every_site()]
        lines += [f"netns del {site.namespace}" for site in self.every_site()]
        if self.bridge:
            lines.append(f"link del {self.bridge}")
        run("ip", "-force", "-batch", "-", input="\n".join(lines) + "\n", check=False)

    def __enter__(self) -> "LossyLink":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


def leftovers(tag: str) -> list[str]:
    """Namespaces, veths or the bridge of run ``tag`` still present."""
    found = [n for n in run("ip", "netns", "list", check=False).stdout.split()
             if n.startswith(f"egovlo{tag}-")]
    links = run("ip", "-o", "link", "show", check=False).stdout
    found += sorted({part.split("@")[0] for line in links.splitlines()
                     for part in line.split(": ")[1:2]
                     if part.startswith((f"egovl{tag}", f"egovbr-lo{tag}"))})
    return found
