"""A small scripted HTTPS server on loopback, for the failures the real collector cannot be
made to produce on demand: a connection reset in the middle of a response, a 503 with
Retry-After, a certificate from another CA.

Origin: written for these tests on the standard library's ``http.server`` (no other code
copied). Why not the real server (``collector/app.py``, tested end to end in
test_collector_e2e.py): it answers each request correctly; these tests need it to misbehave
at a chosen request. Each step of the script is ``(status, headers, body)`` or ``"reset"``
(the connection is closed in the middle of the status line, with an RST).
"""

from __future__ import annotations

import gzip
import http.server
import json
import socket
import ssl
import struct
import threading
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Received:
    method: str
    path: str
    headers: dict
    body: bytes  # decompressed when gzip


@dataclass
class ScriptedServer:
    cert: Path
    key: Path
    script: list = field(default_factory=list)
    received: list = field(default_factory=list)

    def __enter__(self) -> "ScriptedServer":
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                owner.received.append(Received(self.command, self.path,
                                               dict(self.headers), body))
                step = owner.script.pop(0) if owner.script else (201, {}, {"status":
                                                                          "imported"})
                if step == "reset":
                    self.wfile.write(b"HTTP/1.1 2")
                    self.wfile.flush()
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                               struct.pack("ii", 1, 0))
                    self.close_connection = True
                    return
                status, headers, payload = step
                data = json.dumps(payload).encode()
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_PUT = do_POST = _handle

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert, self.key)
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        return self

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.httpd.server_address[1]}"

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=10)
