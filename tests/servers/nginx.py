"""nginx with its own config in a folder: TLS servers on loopback ports, for tests.

    web = Nginx(tmp_path / "nginx")
    port = web.add_tls_server(ca.issue("ok", "localhost"), body="ok")   # tls=None: plain HTTP
    with web:                                                           # starts, then stops
        ...

Each ``add_*`` (before the start) returns the port chosen (free at the time); ``add_server``
takes any nginx directives as a server block's body for needs not covered here.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional, Sequence

from .ca import Issued
from .ports import free_port, wait_listening
from .procs import Managed, Server

MODERN = "TLSv1.2 TLSv1.3"


class Nginx(Managed):
    """One nginx master serving every block added before :meth:`start`."""

    def __init__(self, folder: Path, env: Optional[dict] = None) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.blocks: list[str] = []
        self.listens: list[tuple[str, int]] = []
        self.server: Optional[Server] = None
        self.env = env

    def add_server(self, body: str, *, hosts: Sequence[str] = ("127.0.0.1",),
                   tls: Optional[Issued] = None, protocols: str = MODERN,
                   ciphers: Optional[str] = None, port: Optional[int] = None) -> int:
        """A server block answering ``body`` (nginx directives) on one port of ``hosts``."""
        port = port or free_port(hosts[0])
        lines = []
        for host in hosts:
            address = f"[{host}]" if ":" in host else host
            lines.append(f"listen {address}:{port}{' ssl' if tls else ''};")
            self.listens.append((host, port))
        if tls:
            lines += [f"ssl_certificate {tls.cert};", f"ssl_certificate_key {tls.key};",
                      f"ssl_protocols {protocols};"]
            if ciphers:
                lines.append(f"ssl_ciphers {ciphers};")
        self.blocks.append("server {\n  " + "\n  ".join(lines) + "\n  " + body + "\n}\n")
        return port

    def add_tls_server(self, tls: Optional[Issued], *, status: int = 200, body: str = "ok",
                       hosts: Sequence[str] = ("127.0.0.1",), **options) -> int:
        """A server that answers every request with ``status`` and ``body``."""
        return self.add_server(f"location / {{ return {status} '{body}'; }}", hosts=hosts,
                               tls=tls, **options)

    def config(self) -> str:
        folder = self.folder
        return "\n".join([
            "user root;", "worker_processes 1;", "daemon off;", "master_process on;",
            f"pid {folder}/nginx.pid;", f"error_log {folder}/error.log info;",
            "events { worker_connections 256; }",
            "http {",
            f"  access_log {folder}/access.log;",
            f"  client_body_temp_path {folder}/body; proxy_temp_path {folder}/proxy;",
            f"  fastcgi_temp_path {folder}/fcgi; uwsgi_temp_path {folder}/uwsgi;",
            f"  scgi_temp_path {folder}/scgi;",
            "  default_type text/plain;",
            *self.blocks, "}", ""])

    def start(self) -> Nginx:
        if self.server is not None:
            return self
        conf = self.folder / "nginx.conf"
        conf.write_text(self.config())
        self.server = Server(["nginx", "-e", str(self.folder / "error.log"), "-p",
                              str(self.folder), "-c", str(conf)], self.folder / "stdout.log",
                             env=self.env).start()
        for host, port in self.listens:
            try:
                wait_listening(host, port)
            except RuntimeError as exc:
                self.stop()
                raise RuntimeError(f"{exc}\n{self.error_log()}") from None
        return self

    def error_log(self) -> str:
        path = self.folder / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""





def faketime_env(offset: str) -> dict:
    """Environment that runs a server with its clock shifted (libfaketime, e.g. "-600")."""
    lib = next(Path("/usr/lib").glob("*/faketime/libfaketime.so.1"), None)
    if lib is None:
        raise RuntimeError("libfaketime is not installed (Debian package: faketime)")
    return {**os.environ, "LD_PRELOAD": str(lib), "FAKETIME": f"{offset}s",
            "FAKETIME_DONT_FAKE_MONOTONIC": "1"}
