"""One code path for SQLite and PostgreSQL: a thin adapter for placeholders, DDL and URLs.

SQL in this package is written once, with ``?`` placeholders and ``{id_pk}`` / ``{blob}`` type
names in DDL; the adapter turns them into what each database expects.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Sequence
from urllib.parse import urlsplit, urlunsplit

from ..core.errors import InputError

DEFAULT_STORE = "egov-store.sqlite"
BUSY_TIMEOUT_S = 120  # another import writing: wait this long for it, then give up clearly
_DDL = {
    "sqlite": {"id_pk": "INTEGER PRIMARY KEY AUTOINCREMENT"},
    "postgresql": {"id_pk": "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"},
}


@dataclass
class Database:
    """A connection in autocommit mode; ``transaction()`` commits all or nothing."""

    dialect: str
    connection: Any
    location: str
    depth: int = field(default=0, repr=False)

    def sql(self, text: str) -> str:
        text = text.format(**_DDL[self.dialect])
        return text.replace("?", "%s") if self.dialect == "postgresql" else text

    def execute(self, text: str, params: Sequence[Any] = ()) -> Any:
        cursor = self.connection.cursor()
        cursor.execute(self.sql(text), tuple(params))
        return cursor

    def executemany(self, text: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            self.connection.cursor().executemany(self.sql(text), rows)

    def query(self, text: str, params: Sequence[Any] = ()) -> list[tuple]:
        return list(self.execute(text, params).fetchall())

    @contextlib.contextmanager
    def transaction(self) -> Iterator["Database"]:
        """All or nothing; inside another transaction, a savepoint (all or nothing of its own)."""
        name = f"sp{self.depth}"
        # SQLite: IMMEDIATE takes the write lock at once (waiting up to the busy timeout), so
        # two imports queue instead of failing with "database is locked" halfway through.
        first = "BEGIN IMMEDIATE" if self.dialect == "sqlite" else "BEGIN"
        begin, commit, rollback = ((first, "COMMIT", "ROLLBACK") if self.depth == 0 else
                                   (f"SAVEPOINT {name}", f"RELEASE {name}",
                                    f"ROLLBACK TO {name}"))
        self.execute(begin)
        self.depth += 1
        try:
            yield self
        except BaseException:
            self.depth -= 1
            self.execute(rollback)
            if self.depth:
                self.execute(f"RELEASE {name}")
            raise
        self.depth -= 1
        self.execute(commit)

    def close(self) -> None:
        self.connection.close()

    @property
    def document_errors(self) -> tuple[type[BaseException], ...]:
        """What the database raises for one document it cannot hold (a constraint, a value),
        as opposed to the store itself failing."""
        if self.dialect == "sqlite":
            return (sqlite3.IntegrityError, sqlite3.DataError, sqlite3.InterfaceError,
                    ValueError, OverflowError)
        import psycopg

        return (psycopg.IntegrityError, psycopg.DataError, ValueError, OverflowError)


def connect(target: str | Path | None = None) -> Database:
    """``postgresql://...`` for PostgreSQL, else an SQLite file (created if missing), as it is:
    ``egov_probe.store.open_database`` also brings its schema up to date when it is behind."""
    target = str(target or DEFAULT_STORE)
    if target.startswith(("postgresql://", "postgres://")):
        return _open_postgresql(target)
    return _open_sqlite(Path(target.removeprefix("sqlite:///")))


def _use_wal(connection: sqlite3.Connection) -> None:
    """Switch the store to WAL once. SQLite may answer 'database is locked' at once, without
    waiting its busy timeout, while another process opening the same new store switches it:
    try again until the timeout (a store already in WAL is left as it is)."""
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    while True:
        try:
            if connection.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                connection.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _open_sqlite(path: Path) -> Database:
    if path.parent and not path.parent.is_dir():
        raise InputError("the store's folder does not exist", path=str(path.parent),
                         field="--store")
    try:
        connection = sqlite3.connect(str(path), isolation_level=None, timeout=BUSY_TIMEOUT_S)
        connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_S * 1000}")
        _use_wal(connection)
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.execute("PRAGMA foreign_keys=ON")
    except sqlite3.OperationalError as exc:
        raise InputError(f"cannot open the SQLite store: {exc}", path=str(path),
                         field="--store") from exc
    except sqlite3.DatabaseError as exc:
        raise InputError(f"not an SQLite store: {exc}", path=str(path), field="--store") from exc
    return Database("sqlite", connection, str(path))


def _open_postgresql(url: str) -> Database:
    import psycopg  # only a central deployment needs it

    try:
        connection = psycopg.connect(url, autocommit=True)
    except psycopg.OperationalError as exc:
        message = str(exc).replace(url, redact_url(url)).splitlines()[0]
        raise InputError(f"cannot connect to PostgreSQL: {message}", path=redact_url(url),
                         field="--store") from exc
    return Database("postgresql", connection, redact_url(url))


def redact_url(url: str) -> str:
    """The URL with any password replaced by ``***`` (for messages and logs)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    user = netloc[0].split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc[1]}"))
