"""Reports signed by the probe's own Ed25519 key (docs/collector.md, "Signatures").

One signature serves both ways a report travels: uploaded, it goes in the request's headers;
carried on a stick, it sits beside the report as ``<report>.json.sig`` (``ReportSignature``
as JSON). Either way it signs the report file's exact bytes, so nothing is re-serialised.

A key's id is the first 32 hex digits of the SHA-256 of its 32 raw public bytes; public keys
travel as base64 of those bytes. The cryptography is PyCA ``cryptography``'s, never our own.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

from .errors import InputError

SIGNATURE_FORMAT = "egov-report-signature/1"
ALGORITHM = "ed25519"
SIDECAR_SUFFIX = ".sig"
_SIDECAR_LIMIT = 4096  # bytes: a sidecar is a few hundred


@dataclass(frozen=True)
class ReportSignature:
    """Who signed which bytes: the key's id, the bytes' SHA-256 and the signature (base64)."""

    key_id: str
    report_sha256: str
    signature: str
    format: str = SIGNATURE_FORMAT
    algorithm: str = ALGORITHM

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True) + "\n"


def generate_private_key():
    """A new Ed25519 private key (``cryptography``'s object)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    return Ed25519PrivateKey.generate()


def public_key_text(private_key) -> str:
    """The public half of ``private_key``: base64 of its 32 raw bytes."""
    return base64.b64encode(_raw_public(private_key.public_key())).decode("ascii")


def key_id_of(public_key: str) -> str:
    """The id of a public key given as base64 text (see the module's docstring)."""
    return hashlib.sha256(_decode_public(public_key)).hexdigest()[:32]


def sign_report(private_key, data: bytes) -> ReportSignature:
    """Sign a report file's exact bytes."""
    return ReportSignature(key_id=key_id_of(public_key_text(private_key)),
                           report_sha256=hashlib.sha256(data).hexdigest(),
                           signature=base64.b64encode(private_key.sign(data)).decode("ascii"))


def signature_verifies(public_key: str, data: bytes, signature: ReportSignature) -> bool:
    """True only if ``signature`` is ``public_key``'s over exactly ``data``."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    if signature.key_id != key_id_of(public_key):
        return False
    try:
        raw = base64.b64decode(signature.signature, validate=True)
        Ed25519PublicKey.from_public_bytes(_decode_public(public_key)).verify(raw, data)
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True


def sidecar_path(report_path: Path) -> Path:
    """Where a report's signature lies on a stick: ``<report>.json.sig``."""
    return Path(str(report_path) + SIDECAR_SUFFIX)


def parse_signature(text: bytes | str, name: str) -> ReportSignature:
    """A sidecar's content, checked field by field; ``name`` says where it came from."""
    if len(text) > _SIDECAR_LIMIT:
        raise InputError(f"a signature is a few hundred bytes, found {len(text)}", path=name)
    try:
        data = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"expected the JSON of a report signature: {exc}", path=name) from exc
    if not isinstance(data, dict):
        raise InputError("expected a JSON object (a report signature)", path=name)
    for key, expected in (("format", SIGNATURE_FORMAT), ("algorithm", ALGORITHM)):
        if data.get(key) != expected:
            raise InputError(f"expected {expected!r}, found {data.get(key)!r}", path=name,
                             field=key)
    for key in ("key_id", "report_sha256", "signature"):
        if not isinstance(data.get(key), str) or not data[key]:
            raise InputError("expected a non-empty string", path=name, field=key)
    return ReportSignature(key_id=data["key_id"], report_sha256=data["report_sha256"],
                           signature=data["signature"])


def _raw_public(public_key) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _decode_public(public_key: str) -> bytes:
    try:
        raw = base64.b64decode(public_key, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InputError(f"expected base64 of a 32-byte Ed25519 public key: {exc}",
                         field="public_key") from exc
    if len(raw) != 32:
        raise InputError(f"expected 32 bytes of an Ed25519 public key, found {len(raw)}",
                         field="public_key")
    return raw
