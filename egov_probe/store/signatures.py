"""``import`` checks the signatures that travel with reports on a stick (docs/collector.md).

A report ``x.json`` may have ``x.json.sig`` beside it (``core/signing.py``). When its key is
one the store knows (``probe_keys``), the signature must hold over the file's exact bytes and
the key must be the report's unit's; a report whose machine has an enrolled, usable key of its
unit must be signed. A sidecar of a key the store does not know proves nothing: the report is
judged as if unsigned.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Optional

from ..core.errors import InputError
from ..core.signing import parse_signature, signature_verifies
from .db import Database
from .keys import all_keys

ALTERED = ("đã bị sửa sau khi ký, chữ ký không khớp / altered after signing: the signature "
           "does not match the file's bytes")
UNSIGNED = ("báo cáo không có chữ ký từ máy đã đăng ký / unsigned report from an enrolled "
            "probe: its .sig file is missing")
OTHER_UNIT = "ký bằng khóa của đơn vị khác / signed with the key of another unit"


@dataclass(frozen=True)
class KeyTable:
    """What ``import`` needs of ``probe_keys``, loaded once (it travels to worker processes)."""

    public_keys: Mapping[str, tuple[str, str]] = field(default_factory=dict)  # id: key, unit
    enrolled_machines: frozenset[tuple[str, str]] = frozenset()  # (unit id, machine id)

    @classmethod
    def load(cls, database: Database) -> "KeyTable":
        keys = all_keys(database)
        return cls({k.key_id: (k.public_key, k.unit_id) for k in keys},
                   frozenset((k.unit_id, k.machine_id.strip().lower()) for k in keys
                             if k.usable and k.machine_id))


def checked_signature(raw: bytes, host: dict[str, Any], sidecar: Optional[bytes],
                      keys: KeyTable, origin: str) -> Optional[tuple[str, str]]:
    """``(key_id, signature)`` of a verified signature, None for a report that may be
    unsigned; InputError (the report goes to quarantine) otherwise."""
    if sidecar is not None:
        signature = _parsed(sidecar, origin)
        known = keys.public_keys.get(signature.key_id)
        if known is not None:
            public_key, unit_id = known
            if not signature_verifies(public_key, raw, signature):
                raise InputError(ALTERED)
            if unit_id != host.get("unit_id"):
                raise InputError(f"{OTHER_UNIT} ({unit_id})")
            return signature.key_id, signature.signature
    machine = (host.get("machine_id") or "").strip().lower()
    if machine and (host.get("unit_id"), machine) in keys.enrolled_machines:
        raise InputError(UNSIGNED)
    return None


def _parsed(sidecar: bytes, origin: str):
    try:
        return parse_signature(sidecar, origin + ".sig")
    except InputError as exc:
        raise InputError(f"tệp chữ ký hỏng / unreadable signature file: {exc.detail()}") from exc
