"""One mailbox review run: rosters in, directory read, files out (and entries added on --apply)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from ..checks.messages import text
from ..clock import utc_now
from ..errors import InputError
from ..units import Unit, find_unit
from .config import MailboxConfig, load_config
from .credentials import PasswordSource, read_password
from .directory import Directory, DirectoryAddress, TlsSettings, open_directory
from .outputs import UnitFiles, summary_lines, write_unit_files
from .provision import apply_entries, new_entries
from .review import AddressProposer, UnitReview, review_unit, roster_local_parts
from .roster import Officer, load_rosters


@dataclass(frozen=True)
class ReviewRequest:
    rosters: tuple[Path, ...]
    address: DirectoryAddress
    tls: TlsSettings
    read_account: tuple[str, PasswordSource]
    write_account: Optional[tuple[str, PasswordSource]]
    out_dir: Path
    units: tuple[Unit, ...]
    unit_id: Optional[str]
    config: MailboxConfig

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> "ReviewRequest":
        from ..cli import load_units
        from ..commands_mailboxes import READ_PASSWORD_ENV, WRITE_PASSWORD_ENV

        try:
            address = DirectoryAddress.parse(args.directory)
        except ValueError as exc:
            raise InputError(str(exc), field="--directory") from exc
        if args.ca_file and not args.ca_file.is_file():
            raise InputError("CA file not found", path=str(args.ca_file), field="--ca-file")

        def source(dn: str, env_var: str, key: str) -> tuple[str, PasswordSource]:
            return dn, PasswordSource(label=dn, env_var=env_var, vault_file=args.vault_file,
                                      vault_key=key,
                                      vault_password_file=args.vault_password_file)

        return cls(rosters=tuple(args.rosters), address=address,
                   tls=TlsSettings(ca_file=str(args.ca_file) if args.ca_file else None,
                                   verify=not args.no_verify_tls),
                   read_account=source(args.bind_dn, READ_PASSWORD_ENV, args.vault_key),
                   write_account=source(args.write_bind_dn, WRITE_PASSWORD_ENV,
                                        args.write_vault_key) if args.apply else None,
                   out_dir=args.out, units=tuple(load_units(args.inventory)),
                   unit_id=args.unit, config=load_config(args.config))


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
    officers = load_rosters(request.rosters, request.units, request.config.roster_columns)
    wanted = find_unit(request.units, request.unit_id).unit_id if request.unit_id else None
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
    writer = _open(request, request.write_account, write=True) if request.write_account else None
    outcome = RunOutcome()
    try:
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
    url = request.address.url()
    before = review_unit(unit, officers, reader, request.config, proposer, url, utc_now())
    entries = new_entries(unit, before.officers, request.config)
    after = before
    if writer is not None and entries:
        outcome.created += len(apply_entries(writer, entries))
        after = review_unit(unit, officers, reader, request.config, proposer, url, utc_now())
    outcome.reviews.append(after)
    outcome.files.append(write_unit_files(after, before, entries, request.out_dir))


def _open(request: ReviewRequest, account: tuple[str, PasswordSource], write: bool) -> Directory:
    bind_dn, source = account
    markers = [m.attribute for m in request.config.disabled_markers]
    return open_directory(request.address, request.tls, bind_dn, read_password(source),
                          request.config.directory, write=write, extra_attributes=markers)
