"""The two runs of the mailbox command: a review (rosters in, directory read, the plan written)
and the application of a reviewed plan (``--apply PLAN``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

from ..core.messages import text
from ..core.clock import utc_now
from ..core.errors import InputError
from ..core.atomic import write_json_atomic
from ..core.units import Unit, find_unit
from .config import MailboxConfig
from .credentials import PasswordSource, read_password
from .directory import Directory, DirectoryAddress, TlsSettings, open_directory
from .outputs import UnitFiles, file_stem, summary_lines, write_unit_files
from .plan import ADD_ENTRY, ADD_MAIL, ProvisioningPlan, build_plan, load_plan
from .provision import Applied, apply_plan
from .reservations import DirectoryReservations, Reservations, StoreReservations
from .review import AddressProposer, UnitReview, review_unit
from .roster import Officer, load_rosters

Account = tuple[str, PasswordSource]


@dataclass(frozen=True)
class Connection:
    """Where the directory is and how its certificate is checked."""

    address: DirectoryAddress
    tls: TlsSettings


@dataclass(frozen=True)
class ReviewRequest:
    """Everything one review needs; ``egov_probe.commands.mailboxes`` builds it from the options."""

    rosters: tuple[Path, ...]
    connection: Connection
    read_account: Account
    out_dir: Path
    units: tuple[Unit, ...]
    unit_id: Optional[str]
    config: MailboxConfig
    open_store: Callable[[], Any]   # the store's Database, opened only when used
    reserve_in: str = "store"       # or "directory": then write_account holds the proposals
    write_account: Optional[Account] = None
    lang: str = "vi"


@dataclass(frozen=True)
class ApplyRequest:
    """Applying one reviewed plan with the write account."""

    plan: Path
    connection: Optional[Connection]  # None: the directory the plan was reviewed against
    tls: TlsSettings
    write_account: Account
    out_dir: Path
    units: tuple[Unit, ...]
    config: MailboxConfig
    open_store: Callable[[], Any]
    lang: str = "vi"


@dataclass
class RunOutcome:
    reviews: list[UnitReview] = field(default_factory=list)
    plans: list[ProvisioningPlan] = field(default_factory=list)
    files: list[UnitFiles] = field(default_factory=list)

    @property
    def all_working(self) -> bool:
        return all(r.working == len(r.officers) for r in self.reviews)

    def summary(self, lang: str) -> str:
        lines = []
        for review, plan, files in zip(self.reviews, self.plans, self.files):
            lines += summary_lines(review, lang)
            if plan.changes:
                lines.append("  " + text("mailboxes.plan_summary", entries=plan.count(ADD_ENTRY),
                                         mails=plan.count(ADD_MAIL), text=files.plan_text,
                                         plan=files.plan).get(lang))
            lines += ["  " + text("mailboxes.files", path=p).get(lang)
                      for p in (files.review, files.plan, files.plan_text, files.ldif, files.csv)]
        return "\n".join(lines) + "\n"


@dataclass
class ApplyOutcome:
    plan: Path
    applied: Applied
    review: UnitReview
    review_file: Path

    def summary(self, lang: str) -> str:
        lines = [text("mailboxes.applied", plan=self.plan, added=len(self.applied.added),
                      modified=len(self.applied.modified),
                      already=len(self.applied.already)).get(lang)]
        lines += summary_lines(self.review, lang)
        lines.append("  " + text("mailboxes.files", path=self.review_file).get(lang))
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
        files = ", ".join(str(p) for p in request.rosters)
        if wanted:
            raise InputError(f"danh sách không có cán bộ nào của {wanted} / the rosters list "
                             f"no officer of {wanted}", path=files, field="--unit")
        raise InputError("danh sách không có cán bộ nào / the rosters list no officer "
                         "(only empty sheets or a header row)", path=files)
    units = {unit.unit_id: unit for unit in request.units}
    return [(units[unit_id], group) for unit_id, group in groups.items()]


def run_review(request: ReviewRequest) -> RunOutcome:
    """Review every unit of the rosters; write, per unit, the review and its plan. Addresses
    are proposed once across the run and recorded in ``request.reservations``."""
    groups = officers_by_unit(request)
    config, url = request.config, request.connection.address.url()
    opened: list = []
    outcome = RunOutcome()
    try:
        reader = _open(request.connection, request.read_account, config, False, opened)
        writer = (_open(request.connection, request.write_account, config, True, opened)
                  if request.reserve_in == "directory" else None)
        reservations = _reservations(request.reserve_in, writer, request.open_store, opened)
        proposer = AddressProposer(config.naming, reader,
                                   [o for _, group in groups for o in group], reservations)
        for unit, officers in groups:
            review = review_unit(unit, officers, reader, config, proposer, url, utc_now())
            plan = build_plan(review, officers, config, request.reserve_in)
            outcome.reviews.append(review)
            outcome.plans.append(plan)
            outcome.files.append(write_unit_files(review, plan, config, request.out_dir,
                                                  request.lang))
    finally:
        _close(opened)
    return outcome


def run_apply(request: ApplyRequest) -> ApplyOutcome:
    """Apply the plan (all of it or nothing), then review its unit again and write that review
    (for the store)."""
    plan = load_plan(request.plan)
    connection = request.connection or Connection(_plan_address(plan, request.plan), request.tls)
    url = connection.address.url()
    if url != plan.directory_url:
        raise InputError(f"the plan was reviewed against {plan.directory_url}, not {url}",
                         path=str(request.plan), field="--directory")
    unit = find_unit(request.units, plan.unit_id)
    config = request.config
    opened: list = []
    try:
        writer = _open(connection, request.write_account, config, True, opened)
        reservations = _reservations(plan.reserved_in, writer, request.open_store, opened)
        applied = apply_plan(plan, unit, writer, config)
        for change in plan.changes:
            reservations.consumed(change.local_part)
        proposer = AddressProposer(config.naming, writer, plan.officers, reservations)
        review = review_unit(unit, list(plan.officers), writer, config, proposer, url, utc_now())
    finally:
        _close(opened)
    path = Path(request.out_dir) / f"{file_stem(review)}.json"
    return ApplyOutcome(request.plan, applied, review, write_json_atomic(path, review.to_dict()))


def _plan_address(plan: ProvisioningPlan, path: Path) -> DirectoryAddress:
    try:
        return DirectoryAddress.parse(plan.directory_url)
    except ValueError as exc:
        raise InputError(str(exc), path=str(path), field="directory") from exc


def _reservations(where: str, writer: Optional[Directory], open_store: Callable[[], Any],
                  opened: list) -> Reservations:
    """Where proposals are held: the directory (with the write connection) or the store."""
    if where == "directory" and writer is not None:
        return DirectoryReservations(writer)
    store = StoreReservations(open_store())
    opened.append(store)
    return store


def _open(connection: Connection, account: Optional[Account], config: MailboxConfig,
          write: bool, opened: list) -> Directory:
    """Connect and bind with ``account``; the connection is added to ``opened``."""
    if account is None:
        raise InputError("writing to the directory needs --write-bind-dn",
                         field="--write-bind-dn")
    bind_dn, source = account
    markers = [m.attribute for m in config.disabled_markers]
    directory = open_directory(connection.address, connection.tls, bind_dn,
                               read_password(source), config.directory, write=write,
                               extra_attributes=markers)
    opened.append(directory)
    return directory


def _close(opened: list) -> None:
    for resource in reversed(opened):
        resource.close()
