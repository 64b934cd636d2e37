"""dnsmasq from Debian as a real DNS server on a loopback address and a free port.

Names under ``local_domain`` that are not listed get NXDOMAIN; domains listed in ``forward``
are sent to another DNS server (``address#port``); any other name is REFUSED (no upstream).
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Optional, Sequence

from .ports import free_port
from .procs import Managed, Server


class Dnsmasq(Managed):
    def __init__(self, folder: Path, records: Mapping[str, Sequence[str]], *,
                 local_domain: str = "egov.test", forward: Mapping[str, str] = {},
                 address: str = "127.0.0.1") -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.address, self.port = address, free_port(address)
        self.records, self.local_domain, self.forward = records, local_domain, forward
        self.server: Optional[Server] = None

    @property
    def resolver(self) -> str:
        """How a policy names this server: ``address:port``."""
        return f"{self.address}:{self.port}"

    def config(self) -> str:
        lines = ["no-resolv", "no-hosts", "bind-interfaces", "user=root",
                 f"listen-address={self.address}", f"port={self.port}",
                 f"local=/{self.local_domain}/", "log-queries", "no-poll"]
        for name, addresses in self.records.items():
            lines += [f"host-record={name},{a}" for a in addresses]
        lines += [f"server=/{name}/{upstream}" for name, upstream in self.forward.items()]
        return "\n".join(lines) + "\n"

    def start(self) -> Dnsmasq:
        if self.server is not None:
            return self
        conf = self.folder / "dnsmasq.conf"
        conf.write_text(self.config())
        self.server = Server(["dnsmasq", "--keep-in-foreground", f"--conf-file={conf}",
                              f"--pid-file={self.folder / 'dnsmasq.pid'}", "--log-facility=-"],
                             self.folder / "dnsmasq.log").start()
        self._wait()
        return self

    def _wait(self) -> None:
        import time

        import dns.message
        import dns.query

        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                dns.query.udp(dns.message.make_query("probe." + self.local_domain, "A"),
                              self.address, port=self.port, timeout=0.3)
                return
            except Exception:  # not up yet
                if not self.server or not self.server.alive():
                    raise RuntimeError(f"dnsmasq died:\n{self.server and self.server.log_text()}")
                time.sleep(0.05)
        raise RuntimeError("dnsmasq did not answer")
