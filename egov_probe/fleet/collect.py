"""From a target to its remote evidence: the transport moves the collector's bytes, the
parsers turn them into facts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from ..audit.sections import BrowserScan
from ..facts.browsers_linux import LinuxReader, linux_browsers
from .host import HostFailure, InventoryHost, Job
from .linux import RemoteLinuxReader, new_collector, parse_records, remote_hostname, \
    system_collectors
from .reports import RemoteEvidence
from .ssh import SshOptions, SshSession, run_ssh

SSH_COMMAND = "/bin/sh -s"


@dataclass(frozen=True)
class TransportOptions:
    ssh: SshOptions = field(default_factory=SshOptions)
    winrm_ca_trust_path: Optional[str] = None
    winrm_insecure: bool = False  # --insecure-skip-winrm-cert-check, for every WinRM host


def unverified_because(target: InventoryHost, options: TransportOptions) -> Optional[str]:
    """Why the host's identity is not verified (the switch that turned it off), or None."""
    if target.connection == "winrm":
        if options.winrm_insecure:
            return "--insecure-skip-winrm-cert-check"
        if not target.winrm.cert_validation:
            return "ansible_winrm_server_cert_validation: ignore"
        return None
    return None if options.ssh.check_host_keys else "--insecure-skip-host-key-check"


def collect(target: InventoryHost, options: TransportOptions, job: Job,
            session: Optional[SshSession] = None) -> RemoteEvidence:
    """Run the collector on the target (over ``session`` when one is open for an SSH target);
    raises HostFailure (with any partial output)."""
    if target.connection == "winrm":
        from .winrm import collect_windows
        return collect_windows(target, options, job)
    collector = new_collector()
    job.mark = collector.mark
    if session is not None:
        text = session.run(SSH_COMMAND, collector.script)
    else:
        text = run_ssh(target, SSH_COMMAND, collector.script, options.ssh, job)
    return linux_evidence(text, collector.mark)


def linux_evidence(text: str, mark: str) -> RemoteEvidence:
    """Evidence from what the Linux collector printed (whole, or cut short); only records
    framed with ``mark``, the one sent with the script, count."""
    output = parse_records(text, mark)
    reader = RemoteLinuxReader(output)
    return RemoteEvidence(system=system_collectors(output),
                          browsers=lambda: linux_scan(reader),
                          hostname=remote_hostname(output), complete=output.complete)


def linux_scan(reader: LinuxReader) -> BrowserScan:
    browsers = linux_browsers(reader)
    return BrowserScan(browsers, {"browsers": [b.as_fact() for b in browsers]})


def partial_evidence(target: InventoryHost, failure: HostFailure,
                     job: Job) -> Optional[RemoteEvidence]:
    """What can still be judged after a failure that came with some output."""
    if target.connection == "winrm" or not failure.partial_output or not job.mark:
        return None
    return linux_evidence(failure.partial_output, job.mark)
