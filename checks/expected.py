"""The expectations of checks/baseline.yml, loaded once (the checks never read role variables)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

BASELINE = Path(__file__).with_name("baseline.yml")


@lru_cache(maxsize=1)
def baseline() -> dict:
    return yaml.safe_load(BASELINE.read_text(encoding="utf-8"))


def in_container(host) -> bool:
    """Whether the server is a container (the host then owns the kernel's audit and sysctls)."""
    return host.run("systemd-detect-virt --container --quiet").rc == 0
