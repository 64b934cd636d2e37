"""Judging each officer of a unit against the directory: found, missing, disabled, mismatch."""

from __future__ import annotations

import dataclasses
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
from .reservations import Reservations, officer_key
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
    entry: Optional[DirectoryEntry] = None     # the officer's entry (missing: one without mail)
    namesakes: tuple[str, ...] = ()            # DNs of the unit's entries with the same name

    def to_dict(self) -> dict:
        data = {"full_name": self.officer.full_name, "position": self.officer.position,
                "address": self.officer.address, "outcome": self.outcome.value,
                "directory_address": self.directory_address,
                "proposed_address": self.proposed_address}
        if self.officer.corrections:
            data["corrections"] = list(self.officer.corrections)
        return data


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
    """Proposes free addresses: free in the directory, not given to another officer by the
    rosters, not proposed to another officer earlier in this run or (``reservations``) by an
    earlier run. An officer gets, in this order: his own roster address, the address reserved
    for him by an earlier run, the naming rule's first free address."""

    def __init__(self, rule: NamingRule, directory: Directory, officers: Iterable[Officer],
                 reservations: Reservations) -> None:
        self.rule = rule
        self._directory = directory
        self._reservations = reservations
        self._holders = {local: officer_key(o) for o in officers
                         if (local := own_local_part(o, rule.domain))}

    def propose(self, officer: Officer, reference: str) -> str:
        key = officer_key(officer)
        while True:
            local = self._choose(officer, key)
            if self._reservations.reserve(local, officer, reference):
                self._holders[local] = key
                return address(self.rule, local)
            self._holders[local] = self._reservations.holder(local) or "?"  # raced: taken

    def release(self, officer: Officer) -> None:
        self._reservations.release(officer_key(officer))

    def _choose(self, officer: Officer, key: str) -> str:
        for wanted in (own_local_part(officer, self.rule.domain),
                       self._reservations.held_by(key)):
            if wanted and self._free_for(wanted, key):
                return wanted
        return propose_local_part(self.rule, officer.full_name,
                                  lambda local: not self._free_for(local, key))

    def _free_for(self, local_part: str, key: str) -> bool:
        if self._holders.get(local_part, key) != key:
            return False
        if self._reservations.holder(local_part) not in (None, key):
            return False
        return not self._directory.local_part_taken(local_part, self.rule.domain)


def own_local_part(officer: Officer, domain: str) -> Optional[str]:
    """The local part of the officer's roster address when it is in the province's domain."""
    suffix = "@" + domain.lower()
    if officer.address and officer.address.endswith(suffix):
        return officer.address[:-len(suffix)]
    return None


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
    name_attribute = directory.layout.name_attribute
    by_name: dict[str, list[DirectoryEntry]] = {}
    for entry in directory.people_of(unit):  # sorted by DN
        for name in {name_key(v) for v in entry.values(name_attribute)}:
            by_name.setdefault(name, []).append(entry)
    used: set[str] = set()
    reviews = []
    review_id = uuid.uuid4().hex
    for officer in officers:
        namesakes = by_name.get(name_key(officer.full_name), [])
        entry = _match(officer, namesakes, directory, used)
        if entry is not None:
            used.add(entry.dn)
        judged = _judge(officer, entry, config, now.date())
        if judged.outcome is MailboxOutcome.MISSING:
            judged = dataclasses.replace(judged, namesakes=tuple(e.dn for e in namesakes),
                                         proposed_address=proposer.propose(officer, review_id))
        else:
            proposer.release(officer)
        reviews.append(judged)
    return UnitReview(review_id=review_id, unit=unit, generated_at=utc_text(now),
                      directory_url=directory_url, officers=tuple(reviews))


def _match(officer: Officer, namesakes: Sequence[DirectoryEntry], directory: Directory,
           used: set[str]) -> Optional[DirectoryEntry]:
    """The entry with the roster's address if it has the officer's name, else the first entry
    of his name not matched yet."""
    if officer.address:
        by_mail = directory.entry_with_mail(officer.address)
        if by_mail and by_mail.dn not in used and \
                has_name(by_mail, officer.full_name, directory.layout.name_attribute):
            return by_mail
    return next((e for e in namesakes if e.dn not in used), None)


def name_key(name: str) -> str:
    """How names are compared: normalised (NFC, no invisible characters, no look-alike
    letters), without case."""
    return normalise_name(name).casefold()


def has_name(entry: DirectoryEntry, full_name: str, name_attribute: str) -> bool:
    """The entry's name is ``full_name`` (compared by ``name_key``)."""
    wanted = name_key(full_name)
    return any(name_key(v) == wanted for v in entry.values(name_attribute))


def _judge(officer: Officer, entry: Optional[DirectoryEntry], config: MailboxConfig,
           today: dt.date) -> OfficerReview:
    """The outcome; a missing officer's address is proposed by the caller."""
    if entry is None:
        return OfficerReview(officer, MailboxOutcome.MISSING)
    mails = [m.lower() for m in entry.values(config.directory.mail_attribute)]
    marker = disabled_marker(entry, config.disabled_markers, today)
    if not mails and not marker:  # an enabled entry without a mailbox: it gets one (modify)
        return OfficerReview(officer, MailboxOutcome.MISSING, entry=entry)
    shown = (officer.address if officer.address in mails else mails[0]) if mails else None
    if marker:
        return OfficerReview(officer, MailboxOutcome.DISABLED, directory_address=shown,
                             disabled_by=marker)
    if officer.address and officer.address not in mails:
        return OfficerReview(officer, MailboxOutcome.ADDRESS_MISMATCH, directory_address=shown)
    return OfficerReview(officer, MailboxOutcome.FOUND, directory_address=shown)
