"""A TCP relay on loopback that records every byte a client sends to a real server.

Tests put it between the tool and a server to prove what did (or did not) cross the wire,
e.g. that a password is never sent in clear.
"""

from __future__ import annotations

import socket
import threading


class WireRecorder:
    """Listens on 127.0.0.1:``port`` and relays each connection to ``host:upstream_port``."""

    def __init__(self, host: str, upstream_port: int) -> None:
        self.upstream = (host, upstream_port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.sent = bytearray()      # client → server
        self.received = bytearray()  # server → client
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._sockets: list[socket.socket] = []

    def __enter__(self) -> "WireRecorder":
        self._spawn(self._accept)
        return self

    def __exit__(self, *exc: object) -> None:
        self.listener.close()
        for sock in list(self._sockets):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
        for thread in self._threads:
            thread.join(timeout=5)

    def _spawn(self, target, *args) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:  # closed by __exit__
                return
            server = socket.create_connection(self.upstream, timeout=10)
            server.settimeout(None)
            self._sockets += [client, server]
            self._spawn(self._pump, client, server, self.sent)
            self._spawn(self._pump, server, client, self.received)

    def _pump(self, source: socket.socket, sink: socket.socket, record: bytearray) -> None:
        try:
            while chunk := source.recv(65536):
                with self._lock:
                    record.extend(chunk)
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            try:
                sink.shutdown(socket.SHUT_WR)
            except OSError:
                pass
