"""Versioned schema migrations, applied in order and recorded in ``schema_migrations``."""

from __future__ import annotations

from dataclasses import dataclass

from ..core.clock import utc_now, utc_text
from ..core.errors import InputError
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
    # Machines told apart by their own id, not only by name (issue 14): NULL for 1.0 reports.
    Migration(4, "host machine id and SMBIOS UUID (report schema 1.1)", (
        "ALTER TABLE reports ADD COLUMN machine_id TEXT",
        "ALTER TABLE reports ADD COLUMN smbios_uuid TEXT",
        "CREATE INDEX reports_machine ON reports (machine_id)",
    )),
    # The collector (issue 16, docs/collector.md): enrollment tokens (hashed), probe keys, one
    # row that revokes a whole unit, viewer accounts of the live page, and per report how it
    # came (signature key, outbox depth the probe announced).
    Migration(5, "collector: tokens, probe keys, unit revocations, viewers (issue 16)", (
        """CREATE TABLE collector_tokens (
            id {id_pk},
            token_sha256 TEXT NOT NULL UNIQUE,
            unit_id TEXT NOT NULL,
            created_at TEXT NOT NULL,
            expires_at TEXT NOT NULL,
            uses_left INTEGER,
            revoked_at TEXT,
            note TEXT)""",
        "CREATE INDEX collector_tokens_unit ON collector_tokens (unit_id)",
        """CREATE TABLE probe_keys (
            key_id TEXT PRIMARY KEY,
            unit_id TEXT NOT NULL,
            public_key TEXT NOT NULL UNIQUE,
            hostname TEXT NOT NULL,
            machine_id TEXT,
            token_id BIGINT REFERENCES collector_tokens (id),
            enrolled_at TEXT NOT NULL,
            revoked_at TEXT,
            last_seen_at TEXT,
            outbox_waiting INTEGER)""",
        "CREATE INDEX probe_keys_unit ON probe_keys (unit_id)",
        """CREATE TABLE unit_revocations (
            unit_id TEXT PRIMARY KEY,
            revoked_at TEXT NOT NULL,
            reason TEXT)""",
        """CREATE TABLE viewers (
            name TEXT PRIMARY KEY,
            password_hash TEXT NOT NULL,
            created_at TEXT NOT NULL,
            disabled_at TEXT)""",
        "ALTER TABLE reports ADD COLUMN key_id TEXT",
        "ALTER TABLE reports ADD COLUMN signature TEXT",
    )),
)


def pending(database: Database, migrations: tuple[Migration, ...] = MIGRATIONS) -> list[int]:
    """Versions the store lacks, found by reading only (nothing created)."""
    return [m.version for m in migrations if m.version not in _recorded(database)]


def _recorded(database: Database) -> set[int]:
    try:  # autocommit: a failed read leaves no transaction behind
        return {row[0] for row in database.query("SELECT version FROM schema_migrations")}
    except Exception as exc:  # noqa: BLE001 - no table yet: a new store
        if _missing_table(exc):
            return set()
        raise


def _missing_table(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "no such table" in text or "does not exist" in text


def ensure_current(database: Database, apply: bool = True,
                   migrations: tuple[Migration, ...] = MIGRATIONS) -> list[int]:
    """Migrate only when the store is behind; ``apply=False`` (or a migration the account may
    not run) turns a store that is behind into an error saying what to do."""
    missing = pending(database, migrations)
    if not missing:
        return []
    if not apply:
        raise _behind(database, missing, "this command does not change the store's schema")
    try:
        return migrate(database, migrations)
    except Exception as exc:  # noqa: BLE001 - e.g. a read-only role: say what to do
        if "permission denied" in str(exc).lower() or "readonly" in str(exc).lower():
            raise _behind(database, missing, str(exc).splitlines()[0]) from exc
        raise


def _behind(database: Database, missing: list[int], why: str) -> InputError:
    return InputError(f"the store lacks schema migrations {', '.join(map(str, missing))} "
                      f"({why}): run `egov-probe store migrate --store ...` once with an account "
                      f"that may change the schema", path=database.location, field="--store")


def migrate(database: Database, migrations: tuple[Migration, ...] = MIGRATIONS) -> list[int]:
    """Apply the migrations the database has not seen yet; returns their versions.

    Each migration is checked again inside its own transaction, so two processes migrating a
    new store at once apply each migration once (the second waits, then finds it done).
    """
    with database.transaction():
        database.execute("CREATE TABLE IF NOT EXISTS schema_migrations ("
                         "version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)")
    applied = []
    for migration in sorted(migrations, key=lambda m: m.version):
        with database.transaction():
            if database.query("SELECT 1 FROM schema_migrations WHERE version = ?",
                              (migration.version,)):
                continue
            for statement in migration.statements:
                database.execute(statement)
            database.execute("INSERT INTO schema_migrations (version, name, applied_at) "
                             "VALUES (?, ?, ?)",
                             (migration.version, migration.name, utc_text(utc_now())))
        applied.append(migration.version)
    return applied


def applied_versions(database: Database) -> list[int]:
    return [row[0] for row in database.query("SELECT version FROM schema_migrations ORDER BY version")]
