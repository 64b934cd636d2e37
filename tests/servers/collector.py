"""The collector and its probes as a user runs them: ``egov-probe serve`` over TLS (a TestCA
certificate) and ``egov-probe enroll``/``upload`` processes, each probe in its own folder, on
loopback or inside the namespaces of a :class:`tests.netns.lossy.LossyLink`.

    with CollectorServer(store, workdir, ca).start() as server:
        probe = Probe(workdir / "p1", unit_id, server)
        probe.enroll(server.token(unit_id))
        probe.upload(paths).wait()

The server can be killed (SIGKILL, as a power cut would) and started again on the same port.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Sequence

from tests.netns.lossy import Site
from tests.servers.ca import Issued, TestCA
from tests.servers.ports import free_port, wait_listening
from tests.servers.procs import Server

TOKEN = re.compile(r"egt_[A-Za-z0-9_-]{20,}")


def probe_argv(*args: str) -> list[str]:
    """``egov-probe ARGS`` with this test's interpreter."""
    return [sys.executable, "-m", "egov_probe", *args]


def environment(**extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONIOENCODING": "utf-8", **extra}


def run_command(argv: Sequence[str], timeout: float = 120, **extra_env: str
                ) -> subprocess.CompletedProcess:
    return subprocess.run(list(argv), capture_output=True, text=True, encoding="utf-8",
                          env=environment(**extra_env), timeout=timeout, check=False)


@dataclass
class CollectorServer:
    """``egov-probe serve`` on ``site``'s address (a namespace) or on 127.0.0.1."""

    store: str
    workdir: Path
    ca: TestCA
    site: Optional[Site] = None
    port: int = 0
    server: Optional[Server] = None
    starts: int = 0
    certificate: Optional[Issued] = None

    @property
    def host(self) -> str:
        return self.site.address if self.site else "127.0.0.1"

    @property
    def url(self) -> str:
        return f"https://{self.host}:{self.port}"

    def start(self, timeout: float = 60.0) -> "CollectorServer":
        self.workdir.mkdir(parents=True, exist_ok=True)
        if self.certificate is None:
            self.certificate = self.ca.issue("collector", self.host)
        if not self.port:
            self.port = 8443 if self.site else free_port()
        argv = probe_argv("serve", "--store", self.store, "--listen", f"{self.host}:{self.port}",
                          "--certfile", str(self.certificate.cert),
                          "--keyfile", str(self.certificate.key),
                          "--secret-file", str(self.workdir / "session.secret"))
        if self.site:
            argv = self.site.argv(argv)
        self.starts += 1
        self.server = Server(argv, self.workdir / "serve.log", env=environment()).start()
        try:
            self._wait(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait(self, timeout: float) -> None:
        if not self.site:
            wait_listening(self.host, self.port, timeout)
            return
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if not self.server or not self.server.alive():
                raise RuntimeError(f"egov-probe serve stopped: {self.log()}")
            listening = subprocess.run(
                self.site.argv(["ss", "-Hltn", f"sport = :{self.port}"]),
                capture_output=True, text=True, check=False).stdout
            if listening.strip():
                return
            time.sleep(0.1)
        raise RuntimeError(f"egov-probe serve does not listen after {timeout} s: {self.log()}")

    def kill(self) -> None:
        """SIGKILL: no shutdown, no last commit; then reap it."""
        if self.server and self.server.process:
            os.killpg(self.server.process.pid, signal.SIGKILL)
            self.server.process.wait(timeout=30)
            self.server.process = None

    def stop(self) -> None:
        if self.server:
            self.server.stop()

    def log(self) -> str:
        return self.server.log_text()[-3000:] if self.server else ""

    def token(self, unit_id: str, uses: Optional[int] = None) -> str:
        """A new enrolment token for ``unit_id`` (``egov-probe token create``)."""
        args = ["token", "create", "--store", self.store, "--unit", unit_id]
        if uses is not None:
            args += ["--uses", str(uses)]
        done = run_command(probe_argv(*args))
        found = TOKEN.search(done.stdout)
        if done.returncode or not found:
            raise RuntimeError(f"token create: exit {done.returncode}: {done.stderr[-2000:]}")
        return found.group(0)

    def __enter__(self) -> "CollectorServer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@dataclass
class Probe:
    """One commune's probe: its identity and outbox in ``folder``, its commands run in
    ``site``'s namespace (the far end of the lossy link) or on this host."""

    folder: Path
    unit_id: str
    server: CollectorServer
    site: Optional[Site] = None
    runs: list[subprocess.Popen] = field(default_factory=list)

    @property
    def identity(self) -> Path:
        return self.folder / "identity"

    @property
    def outbox(self) -> Path:
        return self.folder / "outbox"

    def _argv(self, *args: str) -> list[str]:
        argv = probe_argv(*args)
        return self.site.argv(argv) if self.site else argv

    def enroll(self, token: str) -> subprocess.CompletedProcess:
        """``egov-probe enroll`` (the token from the environment, as on a shared machine)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        return run_command(self._argv("enroll", "--server", self.server.url,
                                      "--identity", str(self.identity),
                                      "--ca-file", str(self.server.ca.root.cert)),
                           EGOV_ENROLL_TOKEN=token)

    def upload(self, paths: Sequence[Path] = ()) -> subprocess.Popen:
        """``egov-probe upload PATHS`` started (queue, then send the whole outbox)."""
        log = open(self.folder / f"upload-{len(self.runs)}.log", "wb")  # noqa: SIM115
        process = subprocess.Popen(
            self._argv("upload", "--identity", str(self.identity), "--outbox", str(self.outbox),
                       *map(str, paths)),
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=environment())
        log.close()
        self.runs.append(process)
        return process

    def log(self, run: int = -1) -> str:
        index = run % len(self.runs) if self.runs else 0
        path = self.folder / f"upload-{index}.log"
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""

    def waiting(self) -> list[str]:
        """Report ids still in the outbox (not the rejected ones)."""
        if not self.outbox.is_dir():
            return []
        return sorted(p.name[:-len(".json")] for p in self.outbox.glob("*.json")
                      if p.name != "state.json")

    def rejected(self) -> list[Path]:
        folder = self.outbox / "rejected"
        return sorted(folder.iterdir()) if folder.is_dir() else []

    def kill(self) -> None:
        for process in self.runs:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=30)
