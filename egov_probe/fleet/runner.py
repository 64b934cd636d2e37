"""Audit many hosts at once: bounded concurrency, one deadline per host, every outcome kept.

Each host's report is written atomically to ``OUT/<inventory name>.json`` as soon as it is
done, so Ctrl-C leaves every finished report whole; a host interrupted mid-audit gets no
report and is audited by the next run. ``since``: a host whose complete report in OUT
finished at or after that time is skipped (unless ``force``).
"""

from __future__ import annotations

import datetime as dt
import threading
import time
import uuid
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from ..audit.section import SectionResult
from ..core.atomic import write_json_atomic
from ..core.errors import InputError
from ..core.model import Outcome, Report
from ..core.report_file import read_report
from ..judge.policy import Policy, load_policy
from .collect import TransportOptions, collect, partial_evidence, unverified_because
from .host import HostFailure, InventoryHost, Job
from .progress import Progress, category
from .probe_bundle import ProbeBundle
from .remote_network import HostSections, not_checked
from .reports import RemoteEvidence, failure_report, host_report
from .ssh import ssh_session


WINDOWS_NOT_CHECKED = ("a Windows host (WinRM): the network checks run on Linux hosts only; "
                       "run egov-probe audit --network on the machine")


@dataclass(frozen=True)
class FleetSettings:
    out: Path
    forks: int = 32
    deadline_s: float = 120.0
    since: Optional[dt.datetime] = None
    force: bool = False
    policy_path: Optional[Path] = None
    transport: TransportOptions = field(default_factory=TransportOptions)
    network: bool = False  # also the network and signature checks, run on each host


@dataclass
class FleetResult:
    reports: dict[str, Path] = field(default_factory=dict)
    categories: dict[str, str] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    not_done: list[str] = field(default_factory=list)
    interrupted: bool = False


def report_path(out: Path, name: str) -> Path:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
    return Path(out) / f"{safe}.json"


def audited_since(path: Path, since: dt.datetime) -> Optional[Report]:
    """The complete report at ``path`` if it finished at or after ``since``."""
    if not path.exists():
        return None
    try:
        report = read_report(path)
    except InputError:
        return None  # not a report of ours (or damaged): audit again, overwrite it
    finished = dt.datetime.strptime(report.finished_at, "%Y-%m-%dT%H:%M:%S.%fZ")
    finished = finished.replace(tzinfo=dt.timezone.utc)
    return report if report.outcome is Outcome.COMPLETE and finished >= since else None


class PolicyCache:
    """One resolved policy per (phase, unit), loaded once."""

    def __init__(self, path: Optional[Path]) -> None:
        self.path = path
        self._cache: dict[tuple, Policy] = {}
        self._lock = threading.Lock()

    def get(self, target: InventoryHost) -> Policy:
        key = (target.unit_phase, target.unit_id)
        with self._lock:
            if key not in self._cache:
                self._cache[key] = load_policy(self.path, phase=target.unit_phase,
                                               unit_id=target.unit_id)
            return self._cache[key]


def run_fleet(targets: list[InventoryHost], settings: FleetSettings,
              progress: Progress) -> FleetResult:
    """Audit ``targets``; returns where each report went. KeyboardInterrupt is handled here."""
    check_names(targets, settings.out)
    policies = PolicyCache(settings.policy_path)
    for target in targets:
        policies.get(target)  # a bad policy stops the run before any host is touched
    result = FleetResult()
    todo = []
    for target in targets:
        if settings.since and not settings.force and \
                audited_since(report_path(settings.out, target.name), settings.since):
            result.skipped.append(target.name)
            progress.record("skipped")
        else:
            todo.append(target)
    _Run(settings, policies, progress, result).audit(todo)
    progress.finish()
    return result


def keep_report(report: Report, target: InventoryHost, out: Path, result: FleetResult,
                progress: Progress) -> None:
    """Write the host's report atomically, count it and show it on the progress bar."""
    count_report(report, target, write_report(report, target, out), result, progress)


def write_report(report: Report, target: InventoryHost, out: Path) -> Path:
    """The host's report, written atomically (the slow part: fsync; no lock needed)."""
    return write_json_atomic(report_path(out, target.name), report.to_dict())


def count_report(report: Report, target: InventoryHost, path: Path, result: FleetResult,
                 progress: Progress) -> None:
    key = category(report)
    result.reports[target.name] = path
    result.categories[target.name] = key
    progress.record(key)


def check_names(targets: list[InventoryHost], out: Path) -> None:
    seen: dict[Path, str] = {}
    for target in targets:
        path = report_path(out, target.name)
        if path in seen:
            raise InputError(f"hosts {seen[path]!r} and {target.name!r} would share the report "
                             f"file {path.name}", field=target.name)
        seen[path] = target.name


class _Run:
    def __init__(self, settings: FleetSettings, policies: PolicyCache, progress: Progress,
                 result: FleetResult) -> None:
        self.settings = settings
        self.policies = policies
        self.progress = progress
        self.result = result
        self.run_id = uuid.uuid4().hex
        self.active: set[Job] = set()
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        # With --network: the probe's zip, built once, before any host's clock starts.
        self.probe = ProbeBundle() if settings.network else None

    def audit(self, targets: list[InventoryHost]) -> None:
        watchdog = threading.Thread(target=self._watch_deadlines, daemon=True)
        watchdog.start()
        pool = ThreadPoolExecutor(max_workers=max(1, self.settings.forks),
                                  thread_name_prefix="egov-fleet")
        futures: dict[Future, InventoryHost] = {pool.submit(self._one, t): t for t in targets}
        try:
            pending = set(futures)
            while pending:
                _done, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
        except KeyboardInterrupt:
            self.result.interrupted = True
            self.stopping.set()
            pool.shutdown(wait=False, cancel_futures=True)
            with self.lock:
                jobs = list(self.active)
            for job in jobs:
                job.abort("interrupted")
        finally:
            pool.shutdown(wait=True)
            self.stopping.set()
        self.result.not_done = [t.name for t in targets if t.name not in self.result.reports]

    def _watch_deadlines(self) -> None:
        while not self.stopping.wait(0.2):
            with self.lock:
                late = [job for job in self.active if job.remaining() <= 0]
            for job in late:
                job.abort("timed_out")

    def _one(self, target: InventoryHost) -> None:
        if self.stopping.is_set():
            return
        job = Job(target, self.settings.deadline_s)
        with self.lock:
            self.active.add(job)
        try:
            report = self._report(target, job)
        finally:
            with self.lock:
                self.active.discard(job)
        if report is None or job.aborted == "interrupted":
            return  # cut short by Ctrl-C: no report, the next run audits it
        path = write_report(report, target, self.settings.out)  # hosts' fsyncs overlap
        with self.lock:
            count_report(report, target, path, self.result, self.progress)

    def _report(self, target: InventoryHost, job: Job) -> Optional[Report]:
        policy = self.policies.get(target)
        started = time.monotonic()
        unverified = unverified_because(target, self.settings.transport)
        run = lambda: {"run_id": self.run_id, "attempts": job.attempts,  # noqa: E731
                       "duration_s": round(time.monotonic() - started, 3),
                       "deadline_s": self.settings.deadline_s,
                       "host_key_checked": unverified is None,
                       **({"host_key_not_checked_by": unverified} if unverified else {})}
        failure: Optional[HostFailure] = None
        evidence = None
        extra: list[SectionResult] = []
        try:
            evidence, extra = self._collect(target, policy, job)
        except HostFailure as exc:
            failure = self._timed_out(exc) if job.aborted == "timed_out" else exc
        except Exception as exc:  # noqa: BLE001 - a host's surprise must not drop the host
            failure = HostFailure(Outcome.PARTIAL, f"probe error: {type(exc).__name__}: {exc}")
        if job.aborted == "interrupted":
            return None
        try:
            evidence = evidence if failure is None else partial_evidence(target, failure, job)
            if evidence is not None:
                return host_report(policy, target, evidence, target.transport, run(), failure,
                                   extra)
        except Exception as exc:  # noqa: BLE001 - judged what could be judged; keep the host
            failure = HostFailure(failure.outcome if failure else Outcome.PARTIAL,
                                  f"probe error while judging: {type(exc).__name__}: {exc}")
        return failure_report(policy, target, failure, target.transport, run())

    def _collect(self, target: InventoryHost, policy: Policy,
                 job: Job) -> tuple[RemoteEvidence, list[SectionResult]]:
        """The collector's evidence; with ``network``, also the network sections run on the
        host over the same session (their own step, on their own channel while the collector
        runs: the collection itself is untouched)."""
        options = self.settings.transport
        if not self.settings.network:
            return collect(target, options, job), []
        if target.connection == "winrm":
            return collect(target, options, job), not_checked(WINDOWS_NOT_CHECKED)
        with ssh_session(target, options.ssh, job) as session:
            network = HostSections(session, policy, self.probe)  # own channel, meanwhile
            evidence = collect(target, options, job, session)
            return evidence, network.result()

    def _timed_out(self, failure: HostFailure) -> HostFailure:
        if failure.outcome is Outcome.TIMED_OUT:
            return failure
        return HostFailure(Outcome.TIMED_OUT, f"no answer within {self.settings.deadline_s:g} s "
                                              f"({failure.message})",
                           partial_output=failure.partial_output)
