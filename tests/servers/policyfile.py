"""Policy files for tests: the shipped policy with the test's own network sections."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import yaml

from egov_probe.judge.policy import Policy, default_policy_path, load_policy

from .ports import free_port


def write_policy(folder: Path, *, network: Optional[dict] = None,
                 mailbox: Optional[dict] = None, signature: Optional[dict] = None) -> Path:
    """A policy file whose network/mailbox/signature sections are the ones given (or none)."""
    data: dict[str, Any] = yaml.safe_load(default_policy_path().read_text("utf-8"))
    for name, section in (("network", network), ("mailbox", mailbox),
                          ("signature", signature)):
        data.pop(name, None)
        if section is not None:
            data[name] = section
    path = Path(folder) / "policy.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
    return path


def policy_with(folder: Path, **sections: dict) -> Policy:
    """The loaded (validated) policy of :func:`write_policy`."""
    return load_policy(write_policy(folder, **sections))


def network_rules(endpoints: list[dict], **more: Any) -> dict:
    """A test policy's ``network`` section: ``endpoints`` (and ``more``) with short timeouts."""
    return {"overall_timeout_s": 8, "step_timeout_s": 2, "tls_min_version": "1.2",
            "cert_expiry_warn_days": 30, "ipv6_required": False,
            "clock_skew_s": {"warn_above": 60, "fail_above": 300}, "endpoints": endpoints,
            **more}


def quiet_signature() -> dict:
    """A test policy's ``signature`` section that requires nothing and asks a closed port."""
    return {"vgca_root_required": False, "signing_service_required": False,
            "signing_service_port": free_port()}
