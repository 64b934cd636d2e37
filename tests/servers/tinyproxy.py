"""tinyproxy from Debian as a real HTTP proxy (CONNECT included) on a loopback port."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from .ports import free_port, wait_listening
from .procs import Managed, Server


class Tinyproxy(Managed):
    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.server: Optional[Server] = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Tinyproxy:
        if self.server is not None:
            return self
        conf = self.folder / "tinyproxy.conf"
        conf.write_text("\n".join([
            "User root", "Group root", f"Port {self.port}", "Listen 127.0.0.1",
            "Timeout 30", "Allow 127.0.0.1", "MaxClients 20",
            f"LogFile \"{self.folder / 'tinyproxy.log'}\"", "LogLevel Info",
            f"PidFile \"{self.folder / 'tinyproxy.pid'}\""]) + "\n")
        self.server = Server(["tinyproxy", "-d", "-c", str(conf)],
                             self.folder / "stdout.log").start()
        wait_listening("127.0.0.1", self.port)
        return self

    def log_text(self) -> str:
        path = self.folder / "tinyproxy.log"
        return path.read_text(errors="replace") if path.exists() else ""
