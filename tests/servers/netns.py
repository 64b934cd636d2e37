"""A network namespace reachable from the host over a veth pair, for black-holed addresses.

Interface names start with ``egovnet`` and addresses come from 10.215.0.0/24 (one /32 each
side, chosen at random so that runs in parallel rarely collide). ``blackhole()`` makes the
namespace drop every packet it receives: connects to it time out, as to a dead host.
"""

from __future__ import annotations

import random
import secrets
import subprocess
from typing import Optional

from tests.netns.hosts import run


class Netns:
    def __init__(self) -> None:
        self.created = False
        self._pick()

    def _pick(self) -> None:
        """A fresh name, interface names and addresses."""
        tag = secrets.token_hex(3)
        self.name = f"egovnet-{tag}"
        self.host_if, self.ns_if = f"egovnet{tag}h", f"egovnet{tag}n"
        a, b = random.sample(range(2, 255), 2)
        self.host_address, self.address = f"10.215.0.{a}", f"10.215.0.{b}"

    def start(self, attempts: int = 5) -> Netns:
        """Create it; on a clash with a parallel run (same address), retry with new ones."""
        if self.created:
            return self
        for attempt in range(attempts):
            try:
                return self._create()
            except RuntimeError:
                self.stop()
                if attempt == attempts - 1:
                    raise
                self._pick()
        return self

    def _create(self) -> Netns:
        run("ip", "netns", "add", self.name)
        self.created = True
        run("ip", "link", "add", self.host_if, "type", "veth", "peer", "name", self.ns_if,
             "netns", self.name)
        run("ip", "addr", "add", f"{self.host_address}/32", "dev", self.host_if)
        run("ip", "link", "set", self.host_if, "up")
        run("ip", "route", "add", f"{self.address}/32", "dev", self.host_if)
        ns = ("ip", "-n", self.name)
        run(*ns, "addr", "add", f"{self.address}/32", "dev", self.ns_if)
        run(*ns, "link", "set", self.ns_if, "up")
        run(*ns, "link", "set", "lo", "up")
        run(*ns, "route", "add", f"{self.host_address}/32", "dev", self.ns_if)
        return self

    def blackhole(self) -> Netns:
        """Drop everything arriving in the namespace (nftables inside it)."""
        nft = ("ip", "netns", "exec", self.name, "nft")
        run(*nft, "add", "table", "inet", "egovnet")
        run(*nft, "add", "chain", "inet", "egovnet", "input",
             "{ type filter hook input priority 0; policy drop; }")
        return self

    def exec(self, *argv: str) -> str:
        return run("ip", "netns", "exec", self.name, *argv).stdout

    def stop(self) -> None:
        if not self.created:
            return
        pids: Optional[str] = subprocess.run(["ip", "netns", "pids", self.name],
                                             capture_output=True, text=True).stdout
        for pid in (pids or "").split():
            subprocess.run(["kill", "-9", pid], check=False)
        subprocess.run(["ip", "link", "del", self.host_if], capture_output=True, check=False)
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True, check=False)
        self.created = False

    def __enter__(self) -> Netns:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
