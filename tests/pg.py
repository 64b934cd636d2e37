"""A real PostgreSQL server for tests: initdb into a private folder, run as ``postgres``.

Root cannot run PostgreSQL, so the cluster belongs to the ``postgres`` user (created by
Debian's postgresql package). It listens on a Unix socket only (no TCP), in its own folder,
and is stopped and deleted by ``stop()``.

    with PostgresServer.start() as server:
        url = server.create_database("t1")
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

PG_USER = "postgres"


def postgres_bin() -> Path:
    """The newest ``/usr/lib/postgresql/<version>/bin`` with initdb and pg_ctl."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"),
                   key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0)
    if not found:
        raise RuntimeError("PostgreSQL is not installed (Debian package postgresql)")
    return found[-1].parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_postgres(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run(["runuser", "-u", PG_USER, "--", *command], capture_output=True,
                          text=True, check=True, timeout=120)


@dataclass
class PostgresServer:
    root: Path
    port: int

    @property
    def socket_dir(self) -> Path:
        return self.root / "sock"

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @classmethod
    def start(cls) -> "PostgresServer":
        root = Path(tempfile.mkdtemp(prefix="egov-pg-"))
        user = pwd.getpwnam(PG_USER)
        os.chown(root, user.pw_uid, user.pw_gid)
        server = cls(root, free_port())
        try:
            server._init_and_start()
        except BaseException:
            shutil.rmtree(root, ignore_errors=True)
            raise
        return server

    def _init_and_start(self) -> None:
        bin_dir = postgres_bin()
        _as_postgres("mkdir", "-m", "700", str(self.socket_dir))
        _as_postgres(str(bin_dir / "initdb"), "-D", str(self.data_dir), "-U", PG_USER,
                     "-A", "trust", "-E", "UTF8", "--no-locale", "--no-sync")
        options = (f"-k {self.socket_dir} -p {self.port} -c listen_addresses='' "
                   f"-c fsync=off -c synchronous_commit=off -c full_page_writes=off")
        _as_postgres(str(bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-o", options,
                     "-l", str(self.root / "server.log"), "-w", "-t", "60", "start")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{PG_USER}@/{database}?host={self.socket_dir}&port={self.port}"

    def create_database(self, name: str) -> str:
        """A new empty database; returns its URL."""
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        try:
            _as_postgres(str(postgres_bin() / "pg_ctl"), "-D", str(self.data_dir), "-m",
                         "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> "PostgresServer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
