"""Judging each officer of a unit against the directory: found, missing, disabled, mismatch."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from dataclasses import dataclass
from typing import Iterable, Optional, Sequence

from ..core.clock import utc_text
from ..core.units import Unit
from .config import DisabledMarker, MailboxConfig, NamingRule
from .directory import Directory, DirectoryEntry
from .naming import address, normalise_name, propose_local_part
from .roster import Officer

SCHEMA_VERSION = "1.0"
KIND = "mailbox_review"
EPOCH = dt.date(1970, 1, 1)


class MailboxOutcome(str, enum.Enum):
    FOUND = "found"
    MISSING = "missing"
    DISABLED = "disabled"
    ADDRESS_MISMATCH = "address_mismatch"


# An officer whose entry is enabled has a working mailbox, even if the roster's address is wrong.
WORKING = frozenset({MailboxOutcome.FOUND, MailboxOutcome.ADDRESS_MISMATCH})


@dataclass(frozen=True)
class OfficerReview:
    officer: Officer
    outcome: MailboxOutcome
    directory_address: Optional[str] = None
    proposed_address: Optional[str] = None
    disabled_by: Optional[str] = None

    def to_dict(self) -> dict:
        return {"full_name": self.officer.full_name, "position": self.officer.position,
                "address": self.officer.address, "outcome": self.outcome.value,
                "directory_address": self.directory_address,
                "proposed_address": self.proposed_address}


@dataclass(frozen=True)
class UnitReview:
    review_id: str
    unit: Unit
    generated_at: str
    directory_url: str
    officers: tuple[OfficerReview, ...]

    @property
    def working(self) -> int:
        return sum(1 for o in self.officers if o.outcome in WORKING)

    def with_outcome(self, outcome: MailboxOutcome) -> list[OfficerReview]:
        return [o for o in self.officers if o.outcome is outcome]

    def to_dict(self) -> dict:
        """The mailbox review document (the store imports it; the format is fixed)."""
        return {"schema_version": SCHEMA_VERSION, "kind": KIND, "review_id": self.review_id,
                "unit_id": self.unit.unit_id, "generated_at": self.generated_at,
                "directory": self.directory_url,
                "officers": [o.to_dict() for o in self.officers],
                "summary": {"officers": len(self.officers), "working_mailbox": self.working}}


class AddressProposer:
    """Proposes free addresses: free in the directory, in the rosters and in earlier proposals."""

    def __init__(self, rule: NamingRule, directory: Directory, reserved: Iterable[str]) -> None:
        self.rule = rule
        self._directory = directory
        self._taken = set(reserved)

    def propose(self, full_name: str) -> str:
        local = propose_local_part(self.rule, full_name, self._is_taken)
        self._taken.add(local)
        return address(self.rule, local)

    def _is_taken(self, local_part: str) -> bool:
        return local_part in self._taken or \
            self._directory.local_part_taken(local_part, self.rule.domain)


def roster_local_parts(officers: Iterable[Officer], domain: str) -> set[str]:
    """Addresses the rosters already give out in the province's domain: not to be proposed."""
    suffix = "@" + domain.lower()
    return {o.address[:-len(suffix)] for o in officers if o.address and o.address.endswith(suffix)}


def disabled_marker(entry: DirectoryEntry, markers: Sequence[DisabledMarker],
                    today: dt.date) -> Optional[str]:
    """The first marker that says ``entry`` is disabled, as 'attribute: value', else None."""
    for marker in markers:
        for value in entry.values(marker.attribute):
            if _marks(marker, value.strip(), today):
                return f"{marker.attribute}: {value}"
    return None


def _marks(marker: DisabledMarker, value: str, today: dt.date) -> bool:
    if marker.when == "present":
        return True
    if marker.when == "equals":
        return value.casefold() in {v.casefold() for v in marker.values}
    if marker.when == "days_since_epoch_past":
        return value.lstrip("-").isdigit() and 0 <= int(value) < (today - EPOCH).days
    if marker.when == "bits_set":
        return value.lstrip("-").isdigit() and int(value) & marker.mask == marker.mask
    moment = _generalized_time(value)
    return moment is not None and moment < today


def _generalized_time(value: str) -> Optional[dt.date]:
    try:
        return dt.datetime.strptime(value[:8], "%Y%m%d").date()
    except ValueError:
        return None


def review_unit(unit: Unit, officers: Sequence[Officer], directory: Directory,
                config: MailboxConfig, proposer: AddressProposer, directory_url: str,
                now: dt.datetime) -> UnitReview:
    """Match each officer to at most one directory entry (each entry to at most one officer)."""
    people = directory.people_of(unit)
    used: set[str] = set()
    reviews = []
    for officer in officers:
        entry = _match(officer, people, directory, used)
        if entry is not None:
            used.add(entry.dn)
        reviews.append(_judge(officer, entry, config, proposer, now.date()))
    return UnitReview(review_id=uuid.uuid4().hex, unit=unit, generated_at=utc_text(now),
                      directory_url=directory_url, officers=tuple(reviews))


def _match(officer: Officer, people: Sequence[DirectoryEntry], directory: Directory,
           used: set[str]) -> Optional[DirectoryEntry]:
    name_attribute = directory.layout.name_attribute
    if officer.address:
        by_mail = directory.entry_with_mail(officer.address)
        if by_mail and by_mail.dn not in used and _named(by_mail, officer, name_attribute):
            return by_mail
    return next((e for e in people if e.dn not in used and _named(e, officer, name_attribute)),
                None)


def _named(entry: DirectoryEntry, officer: Officer, name_attribute: str) -> bool:
    wanted = officer.full_name.casefold()
    return any(normalise_name(v).casefold() == wanted for v in entry.values(name_attribute))


def _judge(officer: Officer, entry: Optional[DirectoryEntry], config: MailboxConfig,
           proposer: AddressProposer, today: dt.date) -> OfficerReview:
    mails = [m.lower() for m in entry.values(config.directory.mail_attribute)] if entry else []
    if not mails:  # no entry, or an entry without a mailbox
        return OfficerReview(officer, MailboxOutcome.MISSING,
                             proposed_address=proposer.propose(officer.full_name))
    shown = officer.address if officer.address in mails else mails[0]
    marker = disabled_marker(entry, config.disabled_markers, today)
    if marker:
        return OfficerReview(officer, MailboxOutcome.DISABLED, directory_address=shown,
                             disabled_by=marker)
    if officer.address and officer.address not in mails:
        return OfficerReview(officer, MailboxOutcome.ADDRESS_MISMATCH, directory_address=shown)
    return OfficerReview(officer, MailboxOutcome.FOUND, directory_address=shown)
