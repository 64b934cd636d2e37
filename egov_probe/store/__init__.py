"""The readiness store: every report and mailbox review in one database (SQLite or PostgreSQL)."""

from __future__ import annotations

from .db import Database, open_database
from .ingest import ImportSummary, import_paths
from .queries import StoredHost, latest_hosts, latest_mailbox_reviews

__all__ = ["Database", "open_database", "ImportSummary", "import_paths", "StoredHost",
           "latest_hosts", "latest_mailbox_reviews"]
