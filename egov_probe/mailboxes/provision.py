"""Applying a reviewed plan (``--apply PLAN``): check every change against the directory first,
then make exactly the plan's changes, or none.

A change already made (by an earlier apply of this plan, or of another plan of the same review
proposals) is skipped, so applying twice changes nothing the second time. A change whose target
has changed since the review (the address taken by someone else, the entry gone, given a mail
or otherwise modified, the officer given an entry meanwhile) refuses the whole plan, each
conflict named: the unit is to be reviewed again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from ..core.messages import text
from ..core.units import Unit
from .config import MailboxConfig
from .directory import Directory, DirectoryEntry, DirectoryError
from .plan import ADD_ENTRY, Change, ProvisioningPlan
from .review import has_name, name_key

TODO, DONE = "todo", "done"


@dataclass(frozen=True)
class Conflict:
    """Why a change cannot be made: a message key of messages_mailboxes.yml and its values."""

    key: str
    values: dict

    def message(self, lang: str) -> str:
        return text(self.key, **self.values).get(lang)


class PlanRefused(Exception):
    """The directory changed since the review: nothing was applied."""

    def __init__(self, conflicts: Sequence[Conflict]) -> None:
        self.conflicts = list(conflicts)
        super().__init__("; ".join(c.message("en") for c in self.conflicts))


@dataclass
class Applied:
    added: list[str] = field(default_factory=list)      # DNs of new entries
    modified: list[str] = field(default_factory=list)   # DNs given a mail
    already: list[str] = field(default_factory=list)    # DNs already as planned


def apply_plan(plan: ProvisioningPlan, unit: Unit, directory: Directory, config: MailboxConfig) -> Applied:
    """Check every change, then make those not made yet; raises PlanRefused (nothing written) or
    DirectoryError (the directory refused a write: what was done is said)."""
    states = check_plan(plan, unit, directory, config)
    done = Applied(already=[c.dn for c, state in states if state == DONE])
    for change, state in states:
        if state == DONE:
            continue
        record = change.record(config)
        written = (directory.add(record) if change.action == ADD_ENTRY
                   else directory.add_mail(change.dn, change.address))
        if not written:
            raise DirectoryError(f"{directory.last_error} (after {len(done.added)} entries "
                                 f"added and {len(done.modified)} mail addresses added; "
                                 f"applying the plan again continues from here)")
        (done.added if change.action == ADD_ENTRY else done.modified).append(change.dn)
    return done


def check_plan(plan: ProvisioningPlan, unit: Unit, directory: Directory, config: MailboxConfig
               ) -> list[tuple[Change, str]]:
    """Each change with TODO or DONE; PlanRefused listing every conflict if any."""
    targets = {c.dn.lower() for c in plan.changes}
    people: dict[str, list[str]] = {}  # name_key → DNs of the unit's entries with that name
    for entry in directory.people_of(unit):
        for name in {name_key(v) for v in entry.values(config.directory.name_attribute)}:
            people.setdefault(name, []).append(entry.dn)
    states, conflicts = [], []
    for change in plan.changes:
        state = (_check_entry(change, directory, config, people, targets)
                 if change.action == ADD_ENTRY else _check_mail(change, directory, config))
        if isinstance(state, Conflict):
            conflicts.append(state)
        else:
            states.append((change, state))
    if conflicts:
        raise PlanRefused(conflicts)
    return states


def _check_entry(change: Change, directory: Directory, config: MailboxConfig,
                 people: dict[str, list[str]], targets: set[str]):
    layout = config.directory
    holders = directory.holders(change.local_part, config.naming.domain)
    ours = [h for h in holders if h.dn.lower() == change.dn.lower()
            and change.address in _mails(h, layout.mail_attribute)
            and has_name(h, change.officer.full_name, layout.name_attribute)]
    if holders and len(ours) == len(holders):
        return DONE
    if holders:
        return _taken(change, holders)
    known = {dn.lower() for dn in change.namesakes} | targets
    for dn in people.get(name_key(change.officer.full_name), []):
        if dn.lower() not in known:
            return Conflict("mailboxes.conflict_new_entry",
                            dict(name=change.officer.full_name, dn=dn))
    return TODO


def _check_mail(change: Change, directory: Directory, config: MailboxConfig):
    mail_attribute = config.directory.mail_attribute
    entry = directory.read(change.dn)
    if entry is None:
        return Conflict("mailboxes.conflict_gone", dict(dn=change.dn))
    others = [h for h in directory.holders(change.local_part, config.naming.domain)
              if h.dn.lower() != change.dn.lower()]
    if others:
        return _taken(change, others)
    mails = _mails(entry, mail_attribute)
    if change.address in mails:  # made already (by this plan, or one with the same proposal)
        return DONE
    if mails:
        return Conflict("mailboxes.conflict_has_mail",
                        dict(dn=change.dn, mail=", ".join(mails), address=change.address))
    changed = _changed_attributes(change.seen, entry)
    if changed:
        return Conflict("mailboxes.conflict_changed",
                        dict(dn=change.dn, attributes=", ".join(changed)))
    return TODO


def _taken(change: Change, holders: Sequence[DirectoryEntry]) -> Conflict:
    return Conflict("mailboxes.conflict_taken",
                    dict(address=change.address, holders=", ".join(h.dn for h in holders),
                         name=change.officer.full_name))


def _changed_attributes(seen: dict[str, list[str]], entry: DirectoryEntry) -> list[str]:
    now = {k: sorted(v) for k, v in entry.attributes.items()}
    return sorted(k for k in set(seen) | set(now) if seen.get(k) != now.get(k))


def _mails(entry: DirectoryEntry, mail_attribute: str) -> list[str]:
    return sorted(m.lower() for m in entry.values(mail_attribute))

