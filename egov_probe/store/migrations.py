"""Versioned schema migrations, applied in order and recorded in ``schema_migrations``."""

from __future__ import annotations

from dataclasses import dataclass

from ..core.clock import utc_now, utc_text
from .db import Database


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    statements: tuple[str, ...]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "reports and their checks", (  # document: the file as received; content_sha256: of its bytes
        """CREATE TABLE reports (
            id {id_pk},
            report_id TEXT NOT NULL UNIQUE,
            content_sha256 TEXT NOT NULL UNIQUE,
            schema_version TEXT NOT NULL,
            host_kind TEXT NOT NULL,
            hostname TEXT NOT NULL,
            unit_id TEXT,
            officer TEXT,
            started_at TEXT NOT NULL,
            outcome TEXT NOT NULL,
            readiness TEXT NOT NULL,
            source TEXT NOT NULL,
            imported_at TEXT NOT NULL,
            document TEXT NOT NULL)""",
        "CREATE INDEX reports_host ON reports (host_kind, unit_id, hostname, started_at)",
        """CREATE TABLE checks (
            report_pk BIGINT NOT NULL REFERENCES reports (id),
            check_id TEXT NOT NULL,
            category TEXT NOT NULL,
            status TEXT NOT NULL,
            title_vi TEXT NOT NULL,
            title_en TEXT NOT NULL,
            remedy_vi TEXT,
            remedy_en TEXT,
            PRIMARY KEY (report_pk, check_id))""",
    )),
    Migration(2, "mailbox reviews (issue 7)", (
        """CREATE TABLE mailbox_reviews (
            id {id_pk},
            review_id TEXT NOT NULL UNIQUE,
            content_sha256 TEXT NOT NULL UNIQUE,
            unit_id TEXT NOT NULL,
            generated_at TEXT NOT NULL,
            officers INTEGER NOT NULL,
            working_mailbox INTEGER NOT NULL,
            source TEXT NOT NULL,
            imported_at TEXT NOT NULL,
            document TEXT NOT NULL)""",
        "CREATE INDEX mailbox_reviews_unit ON mailbox_reviews (unit_id, generated_at)",
    )),
    Migration(3, "mailbox addresses proposed, not yet applied (issue 18)", (
        # one row per proposed local part; officer_key: unit|name|position (casefolded)
        """CREATE TABLE mailbox_reservations (
            local_part TEXT PRIMARY KEY,
            officer_key TEXT NOT NULL,
            unit_id TEXT NOT NULL,
            full_name TEXT NOT NULL,
            position TEXT NOT NULL,
            reference TEXT NOT NULL,
            reserved_at TEXT NOT NULL)""",
        "CREATE INDEX mailbox_reservations_officer ON mailbox_reservations (officer_key)",
    )),
)


def migrate(database: Database, migrations: tuple[Migration, ...] = MIGRATIONS) -> list[int]:
    """Apply the migrations the database has not seen yet; returns their versions."""
    with database.transaction():
        database.execute("CREATE TABLE IF NOT EXISTS schema_migrations ("
                         "version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)")
    done = {row[0] for row in database.query("SELECT version FROM schema_migrations")}
    applied = []
    for migration in sorted(migrations, key=lambda m: m.version):
        if migration.version in done:
            continue
        with database.transaction():
            for statement in migration.statements:
                database.execute(statement)
            database.execute("INSERT INTO schema_migrations (version, name, applied_at) "
                             "VALUES (?, ?, ?)",
                             (migration.version, migration.name, utc_text(utc_now())))
        applied.append(migration.version)
    return applied


def applied_versions(database: Database) -> list[int]:
    return [row[0] for row in database.query("SELECT version FROM schema_migrations ORDER BY version")]
