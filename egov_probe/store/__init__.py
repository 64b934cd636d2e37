"""The readiness store: every report and mailbox review in one database (SQLite or PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

from .db import Database, connect
from .ingest import ImportSummary, import_paths
from .migrations import ensure_current
from .queries import StoredHost, latest_hosts, latest_mailbox_reviews

__all__ = ["Database", "open_database", "ImportSummary", "import_paths", "StoredHost",
           "latest_hosts", "latest_mailbox_reviews"]


def open_database(target: str | Path | None = None, *, migrate: bool = True) -> Database:
    """``postgresql://...`` for PostgreSQL, else an SQLite file (created if missing).

    Migrations the store lacks are applied on opening (``migrate``), in order, and recorded;
    a store that is up to date is only read, so an account that may not change the schema can
    open it. ``migrate=False``: a store that is behind is an error saying to run
    ``egov-probe store migrate``.
    """
    database = connect(target)
    try:
        ensure_current(database, apply=migrate)
    except BaseException:
        database.close()
        raise
    return database
