"""Starting a server process for a test and stopping it, its children included."""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
from pathlib import Path
from typing import Optional, Sequence

PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the child: SIGTERM when the test process dies, even killed (no orphan servers)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


class Server:
    """A foreground server process in its own process group, logging to ``log``."""

    def __init__(self, argv: Sequence[str], log: Path, env: Optional[dict] = None) -> None:
        self.argv, self.log = list(argv), Path(log)
        self.env = env
        self.process: Optional[subprocess.Popen] = None

    def start(self) -> Server:
        handle = open(self.log, "ab")
        self.process = subprocess.Popen(self.argv, stdout=handle, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, env=self.env,
                                        start_new_session=True, preexec_fn=_die_with_parent)
        handle.close()
        return self

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self.process = None

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


class Managed:
    """A helper owning one :class:`Server`: ``with`` starts it (once) and always stops it."""

    server: Optional[Server] = None

    def start(self) -> "Managed":
        raise NotImplementedError

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()

    def __enter__(self):  # -> the subclass
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
