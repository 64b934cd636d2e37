"""The audit policy: what the DIC expects of a workstation, kept in a YAML file it can edit.

The file is validated on load (unknown keys, wrong types, impossible versions give an error
naming file, line and key); overrides per phase and per unit are merged over the defaults.
"""

from __future__ import annotations

import copy
import hashlib
import ipaddress
import re
from importlib import resources
from pathlib import Path
from typing import Any, Callable, Optional

from ..core.errors import InputError
from ..core.spec import Spec, at_least, between, expect, one_of
from ..core.versions import policy_version_problem
from ..core.yamlsource import (DATA_LIMITS, YamlDocument, decode_text, load_yaml, parse_yaml,
                               read_limited)
from ..facts.browser_types import BROWSER_NAMES
from .effective_policy import Policy

DEFAULT_POLICY = "policy.yml"

_NUMBER = (int, float)
_TEXT = Spec(types=(dict,), keys={"vi": Spec(types=(str,), required=True),
                                  "en": Spec(types=(str,), required=True)})


def _threshold(*keys: str) -> Spec:
    return Spec(keys={k: Spec(types=_NUMBER, check=at_least(0)) for k in keys})


def _browser_id(value: Any) -> Optional[str]:
    if value not in BROWSER_NAMES:
        return f"unknown browser {value!r}; expected one of: {', '.join(BROWSER_NAMES)}"
    return None


def _utc_offset(value: Any) -> Optional[str]:
    ok = isinstance(value, str) and re.match(r"^[+-](0\d|1[0-4]):[0-5]\d$", value)
    return None if ok else f"expected a UTC offset like \"+07:00\", found {value!r}"


def _url(value: Any) -> Optional[str]:
    ok = isinstance(value, str) and re.match(r"^(https?|smtp|imaps|ldaps?|tcp|wss?)://[^\s/]+", value)
    return None if ok else f"expected a URL like https://host/path, found {value!r}"


def _unit_id_problem(value: Any) -> Optional[str]:
    from ..core.units import load_units_csv, unknown_unit_message  # the shipped pilot units

    known = [unit.unit_id for unit in load_units_csv()]
    return None if value in known else unknown_unit_message(value, known)


def _text_matching(pattern: str, wanted: str) -> Callable[[Any], Optional[str]]:
    """A value check: text matching ``pattern``, else "expected <wanted>, found ..."."""
    def check(value: Any) -> Optional[str]:
        ok = isinstance(value, str) and re.match(pattern, value)
        return None if ok else f"expected {wanted}, found {value!r}"
    return check


_server_address = _text_matching(r"^(\[[0-9a-fA-F:.]+\]|[^\s:/\[\]]+)(:\d{1,5})?$",
                                 "a server as host, host:port or [IPv6]:port")
_env_name = _text_matching(r"^[A-Za-z_][A-Za-z0-9_]*$", "an environment variable name")


_BROWSER_RULE = Spec(keys={
    "min_version": Spec(types=(str,), check=policy_version_problem),
    "supported": Spec(types=(bool,)),
})

def _readable_file(value: Any) -> Optional[str]:
    ok = isinstance(value, str) and Path(value).is_file()
    return None if ok else f"expected a readable PEM file on this machine, found {value!r}"


def _server(value: Any, *, address_only: bool = False) -> Optional[str]:
    """host, host:port or [IPv6]:port, with a real port and, where it is one, a real address."""
    from ..facts.net_types import split_server

    problem = _server_address(value)
    if problem:
        return problem
    try:
        host, _ = split_server(value, 53)
    except ValueError as exc:
        return f"expected a port from 1 to 65535 ({exc})"
    try:
        ipaddress.ip_address(host)
    except ValueError:
        if address_only or re.fullmatch(r"[\d.]+", host):
            return f"expected an IP address (like 10.0.0.53 or [2001:db8::53]), found {value!r}"
    return None


_SERVERS = Spec(types=(list,), items=Spec(types=(str,), check=_server))
_RESOLVERS = Spec(types=(list,), items=Spec(types=(str,),
                                            check=lambda v: _server(v, address_only=True)))
_TIMEOUT = Spec(types=_NUMBER, check=between(0.1, 3600))


def _fingerprint(value: Any) -> Optional[str]:
    from ..facts.cert_stores import normalise_fingerprint

    if normalise_fingerprint(value) is None:
        return ("expected the certificate's SHA-256 fingerprint: 64 hexadecimal digits, "
                f"colons allowed (AB:CD:...), or null until it is known; found {value!r}")
    return None


def _confirmed_needs_fingerprint(value: Any) -> Optional[str]:
    if isinstance(value, dict) and value.get("confirmed") is True and not value.get("sha256"):
        return "confirmed: true needs the root's sha256 fingerprint"
    return None


# A VGCA root, known by its certificate's SHA-256; "confirmed" once the DIC has checked it.
_VGCA_ROOT = Spec(check=_confirmed_needs_fingerprint, keys={
    "name": Spec(types=(str,), required=True),
    "sha256": Spec(types=(str,), required=True, nullable=True, check=_fingerprint),
    "confirmed": Spec(types=(bool,), required=True),
})

def _endpoint_target(value: Any) -> Optional[str]:
    from ..facts.net_types import ServiceUrl

    url = value.get("url") if isinstance(value, dict) else None
    if _url(url) is not None:
        return None  # the url key's own check says what is wrong
    try:
        ServiceUrl.from_url(url)
    except ValueError as exc:
        return f"url: {exc}"
    return None


_ENDPOINT = Spec(check=_endpoint_target, keys={
    "id": Spec(types=(str,), required=True, check=lambda v: None if re.match(r"^[a-z0-9_]+$", v)
               else "expected an id of lower-case letters, digits and _"),
    "name": _TEXT,
    "url": Spec(types=(str,), required=True, check=_url),
    "kind": Spec(types=(str,), required=True,
                 check=one_of("https", "http", "smtp_submission", "imaps", "ldap", "ldaps",
                              "ocsp", "crl", "timestamp", "tcp", "wss")),
    "required": Spec(types=(bool,)),
    "expect_status": Spec(types=(list,), items=Spec(types=(int,), check=between(100, 599))),
    "resolvers": _RESOLVERS,
})

def _iso_date(value: Any) -> Optional[str]:
    ok = isinstance(value, str) and re.match(r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$",
                                             value)
    return None if ok else f"expected a date like \"2025-10-14\" (quoted), found {value!r}"


def _pattern(value: Any) -> Optional[str]:
    try:
        re.compile(value)
    except (re.error, TypeError) as error:
        return f"expected a regular expression, found {value!r}: {error}"
    return None


_WINDOWS_RELEASE = Spec(keys={
    "name": Spec(types=(str,), required=True),
    "build": Spec(types=(int,), required=True, check=at_least(1)),
    "edition": Spec(types=(str,), check=_pattern),
    "end_of_support": Spec(types=(str,), required=True, check=_iso_date),
})

_SECTIONS = {
    "browsers": Spec(keys={
        "require_supported": Spec(types=(int,), check=at_least(0)),
        "rules": Spec(values=_BROWSER_RULE, key_check=_browser_id),
    }),
    "system": Spec(keys={
        "ram_mb": _threshold("warn_below", "fail_below"),
        "disk_free_gb": _threshold("warn_below", "fail_below"),
        "cpu_cores": _threshold("warn_below", "fail_below"),
        "uptime_days": _threshold("warn_above"),
        "utc_offset": Spec(types=(str,), check=_utc_offset),
        "encoding": Spec(types=(str,)),
        "vietnamese_fonts": Spec(keys={
            "required": Spec(types=(bool,)),
            "preferred": Spec(types=(list,), items=Spec(types=(str,))),
        }),
        "windows_releases": Spec(types=(list,), items=_WINDOWS_RELEASE),
    }),
    "network": Spec(keys={
        "overall_timeout_s": _TIMEOUT,
        "step_timeout_s": _TIMEOUT,
        "tls_min_version": Spec(types=(str,), check=one_of("1.2", "1.3")),
        "cert_expiry_warn_days": Spec(types=(int,), check=at_least(0)),
        "ipv6_required": Spec(types=(bool,)),
        "clock_skew_s": _threshold("warn_above", "fail_above"),
        "resolvers": _RESOLVERS,
        "ntp_servers": _SERVERS,
        "ca_file": Spec(types=(str,), check=_readable_file),
        "endpoints": Spec(types=(list,), items=_ENDPOINT),
    }),
    "mailbox": Spec(keys={
        "submission_url": Spec(types=(str,), check=_url),
        "imap_url": Spec(types=(str,), check=_url),
        "password_env": Spec(types=(str,), check=_env_name),
        "timeout_s": _TIMEOUT,
    }),
    "signature": Spec(keys={
        "vgca_root_required": Spec(types=(bool,)),
        "vgca_roots": Spec(types=(list,), items=_VGCA_ROOT),
        "trust_store": Spec(types=(str,), check=_readable_file),
        "signing_service_required": Spec(types=(bool,)),
        "signing_service_port": Spec(types=(int,), check=between(1, 65535)),
    }),
}

_OVERRIDE = Spec(keys=dict(_SECTIONS))

POLICY_SPEC = Spec(keys={
    "policy_id": Spec(types=(str,), required=True),
    "version": Spec(types=(int,), required=True, check=at_least(1)),
    "title": _TEXT,
    **{name: Spec(keys=spec.keys, required=True) if name in ("browsers", "system") else spec
       for name, spec in _SECTIONS.items()},
    "phases": Spec(values=_OVERRIDE, key_check=lambda k: None if k in (1, 2)
                   else f"unknown phase {k!r}; expected 1 or 2"),
    "units": Spec(values=_OVERRIDE, key_check=lambda k: _unit_id_problem(k)),
})


def default_policy_path() -> Path:
    return Path(str(resources.files("egov_probe.data").joinpath(DEFAULT_POLICY)))


def load_policy(path: Optional[Path] = None, *, phase: Optional[int] = None,
                unit_id: Optional[str] = None) -> Policy:
    """Load, validate and resolve a policy for ``phase`` and ``unit_id``."""
    path = Path(path) if path else default_policy_path()
    raw = read_limited(path, DATA_LIMITS, "policy file")
    doc = parse_yaml(decode_text(raw, str(path)), str(path))
    return resolve_policy(doc, hashlib.sha256(raw).hexdigest(), phase=phase, unit_id=unit_id)


def resolve_policy(doc: YamlDocument, sha256: str, *, phase: Optional[int] = None,
                   unit_id: Optional[str] = None) -> Policy:
    if not isinstance(doc.data, dict):
        raise doc.error((), "expected a mapping at the top of the policy")
    expect(doc, doc.data, POLICY_SPEC)
    _check_rules(doc, doc.data, ())
    for key in ("phases", "units"):
        for name, override in (doc.data.get(key) or {}).items():
            expect(doc, override, _OVERRIDE, (key, name), partial=True)
            merged = {section: copy.deepcopy(doc.data.get(section, {})) for section in _SECTIONS}
            _merge(merged, override)  # the override as it applies: over the defaults
            _check_rules(doc, merged, (key, name))
    sections = {name: copy.deepcopy(doc.data.get(name, {})) for name in _SECTIONS}
    for override in _overrides(doc.data, phase, unit_id):
        _merge(sections, override)
    return Policy(policy_id=doc.data["policy_id"], version=doc.data["version"],
                  path=str(doc.path), sha256=sha256, sections=sections)


# Thresholds whose warning must come before their failure: (section, key, warn, fail, lower).
_THRESHOLD_PAIRS = (("system", "ram_mb", "warn_below", "fail_below", True),
                    ("system", "disk_free_gb", "warn_below", "fail_below", True),
                    ("system", "cpu_cores", "warn_below", "fail_below", True),
                    ("network", "clock_skew_s", "warn_above", "fail_above", False))


def _check_rules(doc: YamlDocument, sections: dict, prefix: tuple) -> None:
    """What types cannot say: unique endpoint ids, warnings inside failures."""
    for section, key, warn, fail, lower in _THRESHOLD_PAIRS:
        pair = (sections.get(section) or {}).get(key) or {}
        if warn in pair and fail in pair:
            inside = pair[warn] >= pair[fail] if lower else pair[warn] <= pair[fail]
            if not inside:
                sign = ">=" if lower else "<="
                raise doc.error(prefix + (section, key, warn),
                                f"{warn} ({pair[warn]}) must be {sign} {fail} ({pair[fail]}): "
                                f"a warning comes before the failure")
    seen: dict[str, int] = {}
    for index, endpoint in enumerate((sections.get("network") or {}).get("endpoints") or []):
        endpoint_id = endpoint.get("id")
        if endpoint_id in seen:
            raise doc.error(prefix + ("network", "endpoints", index, "id"),
                            f"endpoint id {endpoint_id!r} is used twice (first at item "
                            f"{seen[endpoint_id]}): each endpoint needs its own id")
        seen[endpoint_id] = index


def _overrides(data: dict, phase: Optional[int], unit_id: Optional[str]) -> list[dict]:
    found = []
    if phase is not None and phase in (data.get("phases") or {}):
        found.append(data["phases"][phase])
    if unit_id is not None and unit_id in (data.get("units") or {}):
        found.append(data["units"][unit_id])
    return found


def _merge(base: dict, override: dict) -> None:
    """Deep-merge ``override`` into ``base``: mappings merge, anything else replaces."""
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = copy.deepcopy(value)


__all__ = ["Policy", "load_policy", "resolve_policy", "default_policy_path", "POLICY_SPEC",
           "load_yaml"]
