"""What each server check is: its stable id, its title and remedy in Vietnamese and English,
and the server groups it applies to."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class CheckMeta:
    id: str
    title: tuple[str, str]
    remedy: tuple[str, str]
    groups: tuple[str, ...] = ()


def check(check_id: str, title: tuple[str, str], remedy: tuple[str, str],
          groups: tuple[str, ...] = ()) -> Callable:
    """Attach a check's identity to a testinfra test function."""

    def attach(fn: Callable) -> Callable:
        fn.egov_check = CheckMeta(check_id, title, remedy, groups)
        return fn

    return attach


def meta_of(fn: Callable | None) -> CheckMeta | None:
    return getattr(fn, "egov_check", None)


CONVERGE = ("Chạy lại playbook: ansible-playbook playbooks/site.yml (xem docs/servers.md).",
            "Run the playbook again: ansible-playbook playbooks/site.yml (see docs/servers.md).")
