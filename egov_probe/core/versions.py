"""Browser version numbers: parsing and comparing dotted versions such as 120.0.6099.224."""

from __future__ import annotations

import re
from typing import Optional

_LEADING_VERSION = re.compile(r"(\d+(?:\.\d+){0,3})")
_POLICY_VERSION = re.compile(r"^\d{1,5}(\.\d{1,6}){0,3}$")


def version_key(version: str) -> tuple[int, ...]:
    """The numeric parts of the first dotted number in ``version`` ("115.3.0esr" -> (115, 3, 0))."""
    match = _LEADING_VERSION.search(version or "")
    if not match:
        return ()
    return tuple(int(part) for part in match.group(1).split("."))


def at_least(observed: str, minimum: str) -> bool:
    """True when ``observed`` is ``minimum`` or newer, comparing missing parts as zero."""
    have, want = version_key(observed), version_key(minimum)
    width = max(len(have), len(want))
    return have + (0,) * (width - len(have)) >= want + (0,) * (width - len(want))


def policy_version_problem(value: object) -> Optional[str]:
    """Why ``value`` cannot be a minimum version in a policy, or None when it can."""
    if not isinstance(value, str) or not _POLICY_VERSION.match(value):
        return f"expected a version like \"109\" or \"115.0.2\" (quoted), found {value!r}"
    if version_key(value)[0] == 0:
        return f"impossible version {value!r}: the major version must be at least 1"
    return None


def upstream_version(package_version: str) -> str:
    """Debian/RPM package version without epoch and revision: "1:115.3.0esr-1~deb12u1" -> "115.3.0esr"."""
    version = package_version.split(":", 1)[-1]
    return version.rsplit("-", 1)[0] if "-" in version else version
