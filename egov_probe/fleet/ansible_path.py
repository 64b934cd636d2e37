"""The Ansible path: ``playbooks/audit_workstations.yml`` runs the same collector through
Ansible (so AWX can spread it over many controllers) and leaves each host's output in
``DIR/<host>.out`` (or why it failed in ``DIR/<host>.failed``); this module judges them into
the same reports as the SSH path, with ``transport`` "ansible"."""

from __future__ import annotations

from pathlib import Path

from ..core.errors import InputError
from ..core.model import Outcome
from .collect import linux_evidence
from .host import HostFailure, InventoryHost
from .linux import mark_of_script
from .progress import Progress
from .reports import failure_report, host_report
from .runner import FleetResult, FleetSettings, PolicyCache, check_names, keep_report

TRANSPORT = "ansible"
COLLECTOR = "collector.sh"  # the script the playbook ran, as --print-collector wrote it
# Words in Ansible's message for a failed host -> the outcome they mean.
FAILURE_WORDS = (
    ("host key verification failed", Outcome.HOST_KEY_MISMATCH),
    ("remote host identification has changed", Outcome.HOST_KEY_MISMATCH),
    ("permission denied", Outcome.AUTH_FAILED),
    ("authentication", Outcome.AUTH_FAILED),
    ("in the expected time frame", Outcome.TIMED_OUT),
)


def import_evidence(targets: list[InventoryHost], settings: FleetSettings, progress: Progress,
                    evidence_dir: Path) -> FleetResult:
    """One report per target from what the playbook fetched; a host without output is kept
    with the failure Ansible reported (unreachable when it reported nothing)."""
    check_names(targets, settings.out)
    mark = collector_mark(evidence_dir)
    policies = PolicyCache(settings.policy_path)
    result = FleetResult()
    for target in targets:
        policy = policies.get(target)
        run = {"evidence": str(evidence_dir / f"{target.name}.out")}
        output = _read(evidence_dir / f"{target.name}.out")
        if output is not None:
            report = host_report(policy, target, linux_evidence(output, mark), TRANSPORT, run)
        else:
            failure = classify(_read(evidence_dir / f"{target.name}.failed"))
            report = failure_report(policy, target, failure, TRANSPORT, run)
        keep_report(report, target, settings.out, result, progress)
    progress.finish()
    return result


def collector_mark(evidence_dir: Path) -> str:
    """The record mark of the collector that the playbook sent (``DIR/collector.sh``, written
    by ``egov-probe fleet --print-collector``): only records carrying it are taken."""
    script_path = evidence_dir / COLLECTOR
    mark = mark_of_script(_read(script_path) or "")
    if mark is None:
        raise InputError("expected the collector that the playbook ran, with its EGOV_MARK "
                         "line (written by `egov-probe fleet --print-collector`)",
                         path=str(script_path))
    return mark


def classify(message: str | None) -> HostFailure:
    if not message:
        return HostFailure(Outcome.UNREACHABLE, "Ansible brought back no output for this host")
    lowered = message.lower()
    outcome = next((o for word, o in FAILURE_WORDS if word in lowered), Outcome.UNREACHABLE)
    return HostFailure(outcome, "Ansible: " + message.strip()[:500])


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return None
