"""The provisioning plan of one unit's review: exactly what ``--apply PLAN`` will change.

Two kinds of change only: add an entry for an officer who has none (``add_entry``), or add a
``mail`` to the officer's existing entry that has none (``add_mail``). Each change records what
the directory looked like at the review, so that applying it later can check that nothing it
touches has changed since (``provision``). The plan embeds the unit's officers, so the unit can
be reviewed again right after it is applied.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence, Union

from ..core.errors import InputError
from ..core.units import Unit
from .config import MailboxConfig
from .directory import NewEntry, NewMail
from .naming import NameParts
from .review import MailboxOutcome, OfficerReview, UnitReview
from .roster import Officer

PLAN_VERSION = "1.0"
PLAN_KIND = "mailbox_plan"
PLAN_SUFFIX = ".plan"
ADD_ENTRY, ADD_MAIL = "add_entry", "add_mail"


@dataclass(frozen=True)
class Change:
    action: str                      # ADD_ENTRY or ADD_MAIL
    dn: str
    address: str
    officer: Officer
    object_classes: tuple[str, ...] = ()                # add_entry: the new entry
    attributes: dict[str, str] = field(default_factory=dict)
    seen: dict[str, list[str]] = field(default_factory=dict)  # add_mail: the entry at review
    namesakes: tuple[str, ...] = ()  # add_entry: the unit's entries with his name at review

    @property
    def local_part(self) -> str:
        return self.address.split("@", 1)[0]

    def record(self, config: MailboxConfig) -> Union[NewEntry, NewMail]:
        """What the LDIF and the directory get."""
        if self.action == ADD_ENTRY:
            return NewEntry(self.dn, self.object_classes, dict(self.attributes))
        return NewMail(self.dn, config.directory.mail_attribute, self.address)

    def to_dict(self) -> dict:
        data = {"action": self.action, "dn": self.dn, "address": self.address,
                "officer": self.officer.to_dict()}
        if self.action == ADD_ENTRY:
            data.update(object_classes=list(self.object_classes), attributes=self.attributes,
                        namesakes=list(self.namesakes))
        else:
            data["seen"] = self.seen
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "Change":
        if data["action"] not in (ADD_ENTRY, ADD_MAIL):
            raise KeyError(f"action {data['action']!r}")
        return cls(action=data["action"], dn=data["dn"], address=data["address"],
                   officer=Officer.from_dict(data["officer"]),
                   object_classes=tuple(data.get("object_classes") or ()),
                   attributes=dict(data.get("attributes") or {}),
                   seen={k: list(v) for k, v in (data.get("seen") or {}).items()},
                   namesakes=tuple(data.get("namesakes") or ()))


@dataclass(frozen=True)
class ProvisioningPlan:
    plan_id: str                  # the review's id: one plan per review
    unit_id: str
    directory_url: str
    generated_at: str
    changes: tuple[Change, ...]
    officers: tuple[Officer, ...]  # the unit's roster, to review the unit again after applying
    reserved_in: str = "store"     # where its addresses are held until applied (store|directory)

    def count(self, action: str) -> int:
        return sum(1 for c in self.changes if c.action == action)

    def to_dict(self) -> dict:
        return {"schema_version": PLAN_VERSION, "kind": PLAN_KIND, "plan_id": self.plan_id,
                "unit_id": self.unit_id, "directory": self.directory_url,
                "generated_at": self.generated_at,
                "reserved_in": self.reserved_in,
                "changes": [c.to_dict() for c in self.changes],
                "officers": [o.to_dict() for o in self.officers]}


def build_plan(review: UnitReview, officers: Sequence[Officer], config: MailboxConfig,
               reserved_in: str) -> ProvisioningPlan:
    """One change per officer found missing with a proposed address."""
    changes = tuple(_change(review.unit, item, config) for item in review.officers
                    if item.outcome is MailboxOutcome.MISSING and item.proposed_address)
    return ProvisioningPlan(plan_id=review.review_id, unit_id=review.unit.unit_id,
                directory_url=review.directory_url, generated_at=review.generated_at,
                changes=changes, officers=tuple(officers), reserved_in=reserved_in)


def _change(unit: Unit, item: OfficerReview, config: MailboxConfig) -> Change:
    if item.entry is not None:
        return Change(ADD_MAIL, item.entry.dn, item.proposed_address, item.officer,
                      seen={k: sorted(v) for k, v in item.entry.attributes.items()})
    entry = new_entry(unit, item, config)
    return Change(ADD_ENTRY, entry.dn, item.proposed_address, item.officer,
                  object_classes=entry.object_classes, attributes=entry.attributes,
                  namesakes=item.namesakes)


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


def load_plan(path: Path) -> ProvisioningPlan:
    """A plan file written by a review; anything else is an InputError naming the file."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise InputError("plan file not found", path=str(path), field="--apply") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"expected a plan written by `egov-probe mailboxes` "
                         f"(*{PLAN_SUFFIX}): {exc}", path=str(path), field="--apply") from exc
    if not isinstance(data, dict) or data.get("kind") != PLAN_KIND:
        raise InputError(f"expected a plan written by `egov-probe mailboxes` (*{PLAN_SUFFIX}, "
                         f"kind {PLAN_KIND}), found another file", path=str(path),
                         field="--apply")
    if data.get("schema_version") != PLAN_VERSION:
        raise InputError(f"expected plan format {PLAN_VERSION}, found "
                         f"{data.get('schema_version')!r}", path=str(path), field="--apply")
    try:
        return ProvisioningPlan(plan_id=data["plan_id"], unit_id=data["unit_id"],
                    directory_url=data["directory"], generated_at=data["generated_at"],
                    changes=tuple(Change.from_dict(c) for c in data["changes"]),
                    officers=tuple(Officer.from_dict(o) for o in data["officers"]),
                    reserved_in=data.get("reserved_in", "store"))
    except (KeyError, TypeError, AttributeError) as exc:
        raise InputError(f"the plan is incomplete or was edited by hand ({exc!r}); review the "
                         f"unit again", path=str(path), field="--apply") from exc

