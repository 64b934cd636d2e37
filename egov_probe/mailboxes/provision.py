"""New directory entries for the officers who lack a mailbox, and adding them (``--apply``)."""

from __future__ import annotations

from typing import Sequence

from ..core.units import Unit
from .config import MailboxConfig
from .directory import Directory, NewEntry
from .naming import NameParts
from .review import MailboxOutcome, OfficerReview


def new_entries(unit: Unit, reviews: Sequence[OfficerReview], config: MailboxConfig
                ) -> list[NewEntry]:
    """One entry per officer found missing, at the proposed address."""
    return [new_entry(unit, r, config) for r in reviews
            if r.outcome is MailboxOutcome.MISSING and r.proposed_address]


def new_entry(unit: Unit, review: OfficerReview, config: MailboxConfig) -> NewEntry:
    layout, officer = config.directory, review.officer
    local_part = review.proposed_address.split("@", 1)[0]
    parts = NameParts.split(officer.full_name, config.naming.given_words)
    attributes = {
        layout.name_attribute: officer.full_name,
        "sn": parts.family or officer.full_name,
        "givenName": " ".join(parts.given),
        layout.uid_attribute: local_part,
        layout.mail_attribute: review.proposed_address,
        "title": officer.position,
    }
    if layout.unit_attribute:
        attributes[layout.unit_attribute] = getattr(unit, layout.unit_value)
    if officer.phone:
        attributes["telephoneNumber"] = officer.phone
    return NewEntry(dn=f"{layout.uid_attribute}={local_part},{layout.people_dn}",
                    object_classes=layout.object_classes, attributes=attributes)


def apply_entries(directory: Directory, entries: Sequence[NewEntry]) -> list[str]:
    """Add the entries in order; the DNs added. Stops at the first refusal, whose reason is
    ``directory.last_error``."""
    added = []
    for entry in entries:
        if not directory.add(entry):
            break
        added.append(entry.dn)
    return added
