"""Facts about the audited server that several checks share: its groups, address, identity."""

from __future__ import annotations

import datetime as dt
import socket

from checks.record import HostFacts
from egov_probe.core.model import OsInfo
from egov_probe.facts.system import linux_machine_identity


def host_vars(host) -> dict:
    return host.ansible.get_variables()


def host_name(host) -> str:
    return host.backend.host


def host_groups(host) -> set[str]:
    return set(host_vars(host).get("group_names", []))


def host_address(host) -> str:
    """The address the checks reach the server at: ansible_host, else its resolved name."""
    name = host_vars(host).get("ansible_host") or host_name(host)
    return socket.gethostbyname(name)


def module_ports(host) -> dict[str, int]:
    """The core's modules as the inventory declares them: name to port."""
    return {m["name"]: int(m["port"]) for m in host_vars(host).get("egov_stack_modules", [])}


def host_facts(host) -> HostFacts:
    info = host.system_info
    offset = host.run("date +%:z").stdout.strip() or "+00:00"
    os_info = OsInfo(info.distribution or "", info.release or "", info.codename or "",
                     info.arch or "")
    identity = linux_machine_identity(lambda path: _file_text(host, path)).value
    return HostFacts(host_name(host), _safe_address(host), os_info, offset,
                     identity["machine_id"], identity["smbios_uuid"])


def _file_text(host, path: str) -> str | None:
    """A small file's text on the server, None when absent or unreadable."""
    result = host.run(f"cat {path}")
    return result.stdout if result.rc == 0 else None


def _safe_address(host) -> str | None:
    try:
        return host_address(host)
    except OSError:
        return None


def age_hours(epoch_seconds: float) -> float:
    now = dt.datetime.now(dt.timezone.utc).timestamp()
    return (now - epoch_seconds) / 3600
