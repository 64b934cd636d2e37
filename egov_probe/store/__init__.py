"""The readiness store: every report and mailbox review in one database (SQLite or PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

from .db import Database, connect
from .ingest import ImportSummary, import_paths
from .migrations import migrate
from .queries import StoredHost, latest_hosts, latest_mailbox_reviews

__all__ = ["Database", "open_database", "ImportSummary", "import_paths", "StoredHost",
           "latest_hosts", "latest_mailbox_reviews"]


def open_database(target: str | Path | None = None) -> Database:
    """``postgresql://...`` for PostgreSQL, else an SQLite file (created if missing).

    Migrations are applied on opening, in order, and recorded in the database.
    """
    database = connect(target)
    migrate(database)
    return database
