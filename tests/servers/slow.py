"""A slow HTTP upstream (Python's http.server that waits before answering), for nginx to proxy."""

from __future__ import annotations

import http.server
import threading
import time
from typing import Optional

from .ports import free_port


class SlowUpstream:
    def __init__(self, delay_s: float) -> None:
        self.delay_s, self.port = delay_s, free_port()
        self.httpd: Optional[http.server.ThreadingHTTPServer] = None

    def start(self) -> SlowUpstream:
        delay = self.delay_s

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                time.sleep(delay)
                self.send_response(200)
                self.send_header("Content-Length", "4")
                self.end_headers()
                self.wfile.write(b"slow")

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.httpd:
            self.httpd.shutdown()
            self.httpd.server_close()
