"""One mailbox review run: rosters in, directory read, files out (and entries added on --apply)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from ..core.atomic import write_json_atomic
from ..core.clock import utc_now
from ..core.errors import InputError
from ..core.messages import text
from ..core.units import Unit, find_unit
from .config import MailboxConfig
from .credentials import PasswordSource, read_password
from .directory import (Directory, DirectoryAddress, DirectoryError, TlsSettings,
                        open_directory)
from .outputs import UnitFiles, summary_lines, write_unit_files
from .provision import apply_entries, new_entries
from .review import AddressProposer, UnitReview, review_unit, roster_local_parts
from .roster import Officer, load_rosters


@dataclass(frozen=True)
class ReviewRequest:
    """Everything one run needs; ``egov_probe.commands.mailboxes`` builds it from the options."""

    rosters: tuple[Path, ...]
    address: DirectoryAddress
    tls: TlsSettings
    read_account: tuple[str, PasswordSource]
    write_account: Optional[tuple[str, PasswordSource]]
    out_dir: Path
    units: tuple[Unit, ...]
    unit_id: Optional[str]
    config: MailboxConfig


@dataclass
class RunOutcome:
    reviews: list[UnitReview] = field(default_factory=list)
    files: list[UnitFiles] = field(default_factory=list)
    created: int = 0

    @property
    def all_working(self) -> bool:
        return all(r.working == len(r.officers) for r in self.reviews)

    def summary(self, lang: str) -> str:
        lines = []
        for review, files in zip(self.reviews, self.files):
            lines += summary_lines(review, lang)
            lines += ["  " + text("mailboxes.files", path=p).get(lang)
                      for p in (files.review, files.ldif, files.csv)]
        if self.created:
            lines.append(text("mailboxes.applied", count=self.created).get(lang))
        return "\n".join(lines) + "\n"


def officers_by_unit(request: ReviewRequest) -> list[tuple[Unit, list[Officer]]]:
    """The rosters' officers grouped by unit (in roster order), only ``--unit``'s if given."""
    wanted = find_unit(request.units, request.unit_id).unit_id if request.unit_id else None
    officers = load_rosters(request.rosters, request.units, request.config.roster_columns,
                            default_unit=wanted)
    groups: dict[str, list[Officer]] = {}
    for officer in officers:
        if wanted in (None, officer.unit_id):
            groups.setdefault(officer.unit_id, []).append(officer)
    if not groups:
        raise InputError(f"the rosters list no officer of {wanted}", field="--unit")
    units = {unit.unit_id: unit for unit in request.units}
    return [(units[unit_id], group) for unit_id, group in groups.items()]


def run_review(request: ReviewRequest) -> RunOutcome:
    groups = officers_by_unit(request)
    config = request.config
    reader = _open(request, request.read_account, write=False)
    writer: Optional[Directory] = None
    outcome = RunOutcome()
    try:
        if request.write_account:
            writer = _open(request, request.write_account, write=True)
        proposer = AddressProposer(config.naming, reader, roster_local_parts(
            [o for _, group in groups for o in group], config.naming.domain))
        for unit, officers in groups:
            _review_one(request, reader, writer, proposer, unit, officers, outcome)
    finally:
        for directory in (reader, writer):
            if directory is not None:
                directory.close()
    return outcome


def _review_one(request: ReviewRequest, reader: Directory, writer: Optional[Directory],
                proposer: AddressProposer, unit: Unit, officers: list[Officer],
                outcome: RunOutcome) -> None:
    """Review, write the files, then (``--apply``) add the entries and record the review after."""
    url = request.address.url()
    review = review_unit(unit, officers, reader, request.config, proposer, url, utc_now())
    entries = new_entries(unit, review.officers, request.config)
    files = write_unit_files(review, entries, request.out_dir)
    if writer is not None and entries:
        outcome.created += _apply(writer, entries, files)
        review = review_unit(unit, officers, reader, request.config, proposer, url, utc_now())
        write_json_atomic(files.review, review.to_dict())
    outcome.reviews.append(review)
    outcome.files.append(files)


def _apply(writer: Directory, entries: list, files: UnitFiles) -> int:
    added = apply_entries(writer, entries)
    if len(added) < len(entries):
        raise DirectoryError(f"added {len(added)} of the {len(entries)} entries of {files.ldif} "
                             f"({', '.join(added) or 'none'}), then: {writer.last_error}")
    return len(added)


def _open(request: ReviewRequest, account: tuple[str, PasswordSource], write: bool) -> Directory:
    bind_dn, source = account
    markers = [m.attribute for m in request.config.disabled_markers]
    return open_directory(request.address, request.tls, bind_dn, read_password(source),
                          request.config.directory, write=write, extra_attributes=markers)
