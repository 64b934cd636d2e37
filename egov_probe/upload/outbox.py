"""The outbox on disk: reports waiting to be sent (docs/collector.md, "Outbox").

One report is two files, ``<report_id>.json`` (the report's exact bytes) and
``<report_id>.json.sig`` (its signature). Each is written to a temporary name, fsynced and
renamed (``core/atomic.py``); the ``.sig`` first, the ``.json`` last: a report is pending once
its ``.json`` exists, so a process killed at any point never leaves half a report to send.
Sent: the ``.json`` is deleted first. Refused by the server: moved to ``rejected/`` with a
``<report_id>.reason.txt``. Bounded: beyond the limits the oldest reports go, never a unit's
newest.
"""

from __future__ import annotations

import json
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from ..core.atomic import fsync_dir, write_atomic_with, write_json_atomic, write_text_atomic
from ..core.errors import InputError
from ..core.report_file import check_object
from ..core.signing import ReportSignature, parse_signature, sign_report
from ..core.yamlsource import parse_json_bytes

MAX_REPORTS = 500
MAX_BYTES = 200 * 1024 * 1024
REJECTED = "rejected"
STATE_FILE = "state.json"  # the server's refusals of each key (sender.py)
SIG_SUFFIX = ".sig"
_REPORT_ID = re.compile(r"^[0-9a-f]{32}$")
_STALE_PART_S = 3600  # a temporary file older than this was left by a killed process


@dataclass(frozen=True)
class ReportHeader:
    """What the outbox needs from a report: its id and its unit."""

    report_id: str
    unit_id: Optional[str]


@dataclass(frozen=True)
class PendingReport:
    """A report waiting in the outbox."""

    report_id: str
    path: Path
    size: int
    queued_ns: int

    @property
    def sig_path(self) -> Path:
        return Path(str(self.path) + SIG_SUFFIX)

    def read(self) -> tuple[bytes, ReportSignature]:
        data = self.path.read_bytes()
        signature = parse_signature(self.sig_path.read_bytes(), str(self.sig_path))
        return data, signature

    def header(self) -> ReportHeader:
        return report_header(self.path.read_bytes(), str(self.path))


@dataclass(frozen=True)
class Queued:
    """What queueing did: the report's id, whether it was new, what was evicted for it."""

    report_id: str
    new: bool
    evicted: tuple[str, ...] = ()


def report_header(data: bytes, name: str) -> ReportHeader:
    """The report's id (32 hex digits) and ``host.unit_id`` from its JSON bytes."""
    document = parse_json_bytes(data, name)  # the bounded parser every report goes through
    check_object(document, name, "report")
    report_id = document.get("report_id")
    if not isinstance(report_id, str) or not _REPORT_ID.match(report_id):
        raise InputError(f"expected 32 hex digits, found {report_id!r}", path=name,
                         field="report_id")
    host = document.get("host")
    unit_id = host.get("unit_id") if isinstance(host, dict) else None
    return ReportHeader(report_id, unit_id if isinstance(unit_id, str) else None)


class Outbox:
    """The outbox folder (created on first use) and its limits."""

    def __init__(self, folder: Path, max_reports: int = MAX_REPORTS,
                 max_bytes: int = MAX_BYTES) -> None:
        self.folder = Path(folder)
        self.max_reports = max_reports
        self.max_bytes = max_bytes

    @property
    def rejected_folder(self) -> Path:
        return self.folder / REJECTED

    @property
    def state_path(self) -> Path:
        return self.folder / STATE_FILE

    # -- queueing ------------------------------------------------------------------------

    def queue(self, data: bytes, private_key, name: str,
              unit_id: Optional[str] = None) -> Queued:
        """Queue a report's exact ``data`` signed with ``private_key``. ``unit_id``: the
        identity's unit, which the report's must equal. ``name`` says where it came from."""
        header = report_header(data, name)
        if unit_id is not None and header.unit_id != unit_id:
            raise InputError(f"a report of unit {header.unit_id!r} cannot be signed with the "
                             f"identity of unit {unit_id!r}", path=name, field="host.unit_id")
        target = self.folder / f"{header.report_id}.json"
        if target.exists() and Path(str(target) + SIG_SUFFIX).exists() \
                and target.read_bytes() == data:
            return Queued(header.report_id, new=False)
        self._ensure()
        signature = sign_report(private_key, data)
        write_text_atomic(Path(str(target) + SIG_SUFFIX), signature.to_json())
        write_bytes_atomic(target, data)
        evicted = self.enforce_bounds(keep=header.report_id)
        return Queued(header.report_id, new=True, evicted=tuple(evicted))

    def _ensure(self) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError(f"cannot create the outbox: {exc.strerror or exc} (choose one "
                             f"with --outbox DIR)", path=str(self.folder)) from exc

    # -- reading ---------------------------------------------------------------------------

    def pending(self) -> list[PendingReport]:
        """The reports waiting, oldest queued first (then by id). Leftovers of a killed
        process (temporary files, a ``.sig`` without its report) are cleared on the way."""
        if not self.folder.is_dir():
            return []
        found = []
        for path in self.folder.iterdir():
            name = path.name
            if name.endswith(".part") and name.startswith("."):
                self._clear_stale(path)
                continue
            if name.endswith(".json" + SIG_SUFFIX) and not Path(str(path)[:-len(SIG_SUFFIX)]
                                                                  ).exists():
                self._clear_stale(path)
                continue
            stem = name[:-len(".json")] if name.endswith(".json") else ""
            if not _REPORT_ID.match(stem):
                continue
            try:
                info = path.stat()
            except OSError:
                continue  # sent or rejected meanwhile by another process
            if not Path(str(path) + SIG_SUFFIX).exists():
                self.reject_file(path, stem, "no signature beside it (.sig missing)")
                continue
            found.append(PendingReport(stem, path, info.st_size, info.st_mtime_ns))
        return sorted(found, key=lambda p: (p.queued_ns, p.report_id))

    @staticmethod
    def _clear_stale(path: Path) -> None:
        try:
            if time.time() - path.stat().st_mtime > _STALE_PART_S:
                path.unlink()
        except OSError:
            pass

    def rejected(self) -> list[str]:
        folder = self.rejected_folder
        if not folder.is_dir():
            return []
        return sorted(p.name[:-len(".json")] for p in folder.glob("*.json"))

    # -- bounds ---------------------------------------------------------------------------

    def enforce_bounds(self, keep: Optional[str] = None) -> list[str]:
        """Delete the oldest reports while over a limit; never a unit's newest report (nor
        ``keep``, just queued). Returns the ids deleted."""
        entries = self.pending()
        count, size = len(entries), sum(e.size for e in entries)
        if count <= self.max_reports and size <= self.max_bytes:
            return []
        protected = self._newest_per_unit(entries) | ({keep} if keep else set())
        evicted = []
        for entry in entries:
            if count <= self.max_reports and size <= self.max_bytes:
                break
            if entry.report_id in protected:
                continue
            self.mark_sent(entry)
            evicted.append(entry.report_id)
            count, size = count - 1, size - entry.size
        return evicted

    @staticmethod
    def _newest_per_unit(entries: list[PendingReport]) -> set[str]:
        newest: dict[Optional[str], str] = {}
        for entry in entries:  # oldest first: the last one seen per unit is its newest
            try:
                unit = entry.header().unit_id
            except (OSError, InputError):
                continue
            newest[unit] = entry.report_id
        return set(newest.values())

    # -- leaving ---------------------------------------------------------------------------

    def mark_sent(self, entry: PendingReport) -> None:
        """Remove a report (sent, or evicted): its ``.json`` first, so it is never half."""
        entry.path.unlink(missing_ok=True)
        entry.sig_path.unlink(missing_ok=True)
        fsync_dir(self.folder)

    def reject(self, entry: PendingReport, reason: str) -> Path:
        return self.reject_file(entry.path, entry.report_id, reason)

    def reject_file(self, path: Path, report_id: str, reason: str) -> Path:
        """Move a report (and its ``.sig``) to ``rejected/`` with ``<id>.reason.txt``."""
        folder = self.rejected_folder
        folder.mkdir(parents=True, exist_ok=True)
        write_text_atomic(folder / f"{report_id}.reason.txt", reason.rstrip() + "\n")
        target = folder / path.name
        try:
            os.replace(path, target)
        except FileNotFoundError:
            pass
        try:
            os.replace(Path(str(path) + SIG_SUFFIX), Path(str(target) + SIG_SUFFIX))
        except FileNotFoundError:
            pass
        fsync_dir(folder)
        fsync_dir(self.folder)
        return target

    # -- the sender's state ------------------------------------------------------------------

    def read_state(self) -> dict[str, Any]:
        try:
            data = json.loads(self.state_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def write_state(self, state: dict[str, Any]) -> None:
        self._ensure()
        write_json_atomic(self.state_path, state)


def write_bytes_atomic(path: Path, data: bytes) -> Path:
    """``data`` into ``path``: a temporary file, fsynced, renamed."""
    def write(part: Path) -> None:
        part.write_bytes(data)
    return write_atomic_with(path, write)

