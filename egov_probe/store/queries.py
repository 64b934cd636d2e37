"""Reading the store: the latest report per host (and review per unit) at a moment in time.

History is never overwritten: asking for an earlier moment gives the state at that moment.
Moments are passed as UTC text ``YYYY-MM-DDTHH:MM:SS``; ``before`` is exclusive, ``since``
inclusive, so a month's end is ``before=<first second of the next month>``.

A host is its kind, unit, hostname and machine (``machine_id``, ``smbios_uuid``; schema 1.1):
two PCs cloned from one image under one name ("USER-PC") are two hosts. A report that lacks
an id (schema 1.0, or an SMBIOS UUID unreadable without root) is the same host as a newer one
that has it under the same name: the newer one counts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Optional

from ..core.model import Text
from .db import Database

_LATEST_REPORTS = """WITH latest AS (
    SELECT id, report_id, host_kind, hostname, unit_id, officer, started_at, outcome, readiness,
           machine_id, smbios_uuid,
           ROW_NUMBER() OVER (PARTITION BY host_kind, COALESCE(unit_id, ''), hostname,
                                           COALESCE(machine_id, ''), COALESCE(smbios_uuid, '')
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
    machine_id: Optional[str] = None
    smbios_uuid: Optional[str] = None
    checks: list[StoredCheck] = field(default_factory=list)

    @property
    def place(self) -> tuple[str, str, str]:
        return (self.kind, self.unit_id or "", self.hostname)


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
        "started_at, outcome, readiness, machine_id, smbios_uuid FROM latest WHERE rn = 1 "
        "ORDER BY unit_id, hostname, started_at", (before, since))}
    superseded = _superseded(hosts.values())
    hosts = {pk: host for pk, host in hosts.items() if pk not in superseded}
    for row in database.query(
            _LATEST_REPORTS + "SELECT c.report_pk, c.check_id, c.category, c.status, c.title_vi, "
            "c.title_en, c.remedy_vi, c.remedy_en FROM checks c JOIN latest l "
            "ON c.report_pk = l.id WHERE l.rn = 1 ORDER BY c.report_pk, c.check_id",
            (before, since)):
        if row[0] not in hosts:
            continue
        remedy = Text(row[6], row[7]) if row[6] is not None else None
        hosts[row[0]].checks.append(StoredCheck(row[1], row[2], row[3], Text(row[4], row[5]),
                                                remedy))
    return list(hosts.values())


def _superseded(hosts: Iterable[StoredHost]) -> set[int]:
    """Reports that lack an id which a newer report of the same name has: one machine, known
    better since (a 1.0 report then a 1.1 one; an audit without root then one with it)."""
    by_place: dict[tuple[str, str, str], list[StoredHost]] = {}
    for host in hosts:
        by_place.setdefault(host.place, []).append(host)
    gone = set()
    for same_name in by_place.values():
        for host in same_name:
            if any(_knows_more(other, host) for other in same_name):
                gone.add(host.report_pk)
    return gone


def _knows_more(other: StoredHost, host: StoredHost) -> bool:
    """``other`` is newer and names the same machine with what ``host`` lacks."""
    if (other.started_at, other.report_pk) <= (host.started_at, host.report_pk):
        return False
    if host.machine_id is None:
        return other.machine_id is not None
    return other.machine_id == host.machine_id and host.smbios_uuid is None \
        and other.smbios_uuid is not None


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
