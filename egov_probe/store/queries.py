"""Reading the store: the latest report per host (and review per unit) at a moment in time.

History is never overwritten: asking for an earlier moment gives the state at that moment.
Moments are passed as UTC text ``YYYY-MM-DDTHH:MM:SS``; ``before`` is exclusive, ``since``
inclusive, so a month's end is ``before=<first second of the next month>``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from ..core.model import Text
from .db import Database

_LATEST_REPORTS = """WITH latest AS (
    SELECT id, report_id, host_kind, hostname, unit_id, officer, started_at, outcome, readiness,
           ROW_NUMBER() OVER (PARTITION BY host_kind, COALESCE(unit_id, ''), hostname
                              ORDER BY started_at DESC, id DESC) AS rn
    FROM reports WHERE started_at < ? AND started_at >= ?)
"""


@dataclass(frozen=True)
class StoredCheck:
    check_id: str
    category: str
    status: str
    title: Text
    remedy: Optional[Text]


@dataclass
class StoredHost:
    """A host as its latest report (up to the moment asked) describes it."""

    report_pk: int
    report_id: str
    kind: str
    hostname: str
    unit_id: Optional[str]
    officer: Optional[str]
    started_at: str
    outcome: str
    readiness: str
    checks: list[StoredCheck] = field(default_factory=list)


@dataclass(frozen=True)
class StoredMailboxReview:
    review_id: str
    unit_id: str
    generated_at: str
    officers: int
    working_mailbox: int


def latest_hosts(database: Database, before: str = "9999", since: str = "") -> list[StoredHost]:
    """The latest report of every host started in [since, before), with its checks."""
    hosts = {row[0]: StoredHost(*row) for row in database.query(
        _LATEST_REPORTS + "SELECT id, report_id, host_kind, hostname, unit_id, officer, "
        "started_at, outcome, readiness FROM latest WHERE rn = 1 ORDER BY unit_id, hostname",
        (before, since))}
    for row in database.query(
            _LATEST_REPORTS + "SELECT c.report_pk, c.check_id, c.category, c.status, c.title_vi, "
            "c.title_en, c.remedy_vi, c.remedy_en FROM checks c JOIN latest l "
            "ON c.report_pk = l.id WHERE l.rn = 1 ORDER BY c.report_pk, c.check_id",
            (before, since)):
        remedy = Text(row[6], row[7]) if row[6] is not None else None
        hosts[row[0]].checks.append(StoredCheck(row[1], row[2], row[3], Text(row[4], row[5]),
                                                remedy))
    return list(hosts.values())


def latest_mailbox_reviews(database: Database, before: str = "9999",
                           since: str = "") -> dict[str, StoredMailboxReview]:
    """The latest mailbox review of every unit generated in [since, before)."""
    rows = database.query(
        "SELECT review_id, unit_id, generated_at, officers, working_mailbox FROM ("
        "SELECT review_id, unit_id, generated_at, officers, working_mailbox, ROW_NUMBER() OVER "
        "(PARTITION BY unit_id ORDER BY generated_at DESC, id DESC) AS rn FROM mailbox_reviews "
        "WHERE generated_at < ? AND generated_at >= ?) latest WHERE rn = 1", (before, since))
    return {row[1]: StoredMailboxReview(*row) for row in rows}


def count_reports(database: Database) -> int:
    return database.query("SELECT COUNT(*) FROM reports")[0][0]
