"""The probe's own identity: its Ed25519 key for one unit, and where it lives (docs/collector.md,
"Enrollment").

A folder holds one identity per unit: ``<unit_id>.key`` (PKCS#8 PEM, created 0600 and never
readable by anyone else) and ``<unit_id>.json`` (server, unit, key id, public key, the machine
id it was made on, when, the CA file if any). An identity made on another machine (a cloned
disk) is refused, never used: the machine must be enrolled with a new token.

The machine id is given by the caller (the commands read it with ``facts``; this layer reads
nothing of the machine).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Mapping, Optional

from ..core.atomic import write_json_atomic
from ..core.clock import utc_now, utc_text
from ..core.errors import InputError
from ..core.private_file import create_private, open_to_others
from ..core.signing import key_id_of, public_key_text

IDENTITY_ENV = "EGOV_IDENTITY"
ROOT_IDENTITY_DIR = Path("/var/lib/egov-probe/identity")
USER_IDENTITY_DIR = Path(".local/share/egov-probe/identity")  # under the home folder
WINDOWS_IDENTITY_DIR = ("egov-probe", "identity")  # under %ProgramData%
KEY_SUFFIX, RECORD_SUFFIX = ".key", ".json"
_UNIT_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,99}$")
_RECORD_FIELDS = ("server", "unit_id", "key_id", "public_key", "machine_id", "enrolled_at")


class CloneError(InputError):
    """The identity was made on another machine (a cloned disk): refused, never used."""


@dataclass(frozen=True)
class IdentityRecord:
    """``<unit_id>.json``: what the server answered at enrollment and where it was made."""

    server: str
    unit_id: str
    key_id: str
    public_key: str
    machine_id: Optional[str]
    enrolled_at: str
    unit_name: Optional[str] = None
    ca_file: Optional[str] = None


@dataclass(frozen=True)
class Identity:
    """A unit's identity, loaded: its record and its private key (never printed)."""

    folder: Path
    record: IdentityRecord
    private_key: Any = field(repr=False, compare=False)

    @property
    def unit_id(self) -> str:
        return self.record.unit_id

    @property
    def key_id(self) -> str:
        return self.record.key_id


def default_identity_dir(environ: Mapping[str, str] = os.environ,
                         platform: str = sys.platform, is_root: Optional[bool] = None,
                         home: Optional[Path] = None) -> Path:
    """``$EGOV_IDENTITY``, else ``%ProgramData%\\egov-probe\\identity`` on Windows,
    ``/var/lib/egov-probe/identity`` as root, ``~/.local/share/egov-probe/identity`` else."""
    if environ.get(IDENTITY_ENV):
        return Path(environ[IDENTITY_ENV])
    if platform == "win32":
        base = environ.get("ProgramData") or environ.get("PROGRAMDATA") or r"C:\ProgramData"
        return Path(base).joinpath(*WINDOWS_IDENTITY_DIR)
    if is_root is None:
        is_root = hasattr(os, "geteuid") and os.geteuid() == 0
    if is_root:
        return ROOT_IDENTITY_DIR
    return (home or Path.home()) / USER_IDENTITY_DIR


def check_unit_id(unit_id: str, where: str = "unit_id") -> str:
    """A unit id safe as a file name (the units' ids: lower case, digits, ``-``)."""
    if not isinstance(unit_id, str) or not _UNIT_ID.match(unit_id):
        raise InputError(f"expected a unit id like xa-ma-thanh, found {unit_id!r}", field=where)
    return unit_id


def key_path(folder: Path, unit_id: str) -> Path:
    return Path(folder) / f"{check_unit_id(unit_id)}{KEY_SUFFIX}"


def record_path(folder: Path, unit_id: str) -> Path:
    return Path(folder) / f"{check_unit_id(unit_id)}{RECORD_SUFFIX}"


def enrolled_units(folder: Path) -> list[str]:
    """The units with an identity (both files) in ``folder``."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    return sorted(p.stem for p in folder.glob(f"*{RECORD_SUFFIX}")
                  if _UNIT_ID.match(p.stem) and (folder / f"{p.stem}{KEY_SUFFIX}").exists())


def has_identity(folder: Path, unit_id: Optional[str]) -> bool:
    return bool(unit_id) and _UNIT_ID.match(unit_id or "") is not None \
        and record_path(folder, unit_id).exists() and key_path(folder, unit_id).exists()


# --- making one --------------------------------------------------------------------------


def private_folder(folder: Path) -> Path:
    """Create ``folder`` (0700 on Linux; on Windows only Administrators, SYSTEM and the
    current user may enter it)."""
    folder = Path(folder)
    existed = folder.is_dir()
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create the identity folder: {exc.strerror or exc} (run as "
                         f"the user who uploads, or choose one with --identity DIR)",
                         path=str(folder)) from exc
    if not existed:
        _restrict(folder)
    return folder


def _restrict(folder: Path) -> None:
    if sys.platform != "win32":
        os.chmod(folder, 0o700)
        return
    user = os.environ.get("USERNAME")
    grants = ["/grant:r", "*S-1-5-32-544:(OI)(CI)F", "/grant:r", "*S-1-5-18:(OI)(CI)F"]
    if user:
        grants += ["/grant:r", f"{user}:(OI)(CI)F"]
    try:  # the ACL of ProgramData lets every user read: cut the inheritance, grant only these
        subprocess.run(["icacls", str(folder), "/inheritance:r", *grants], check=False,
                       capture_output=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        pass


class PendingKey:
    """A new key written (0600, O_EXCL) into the identity folder before the server is asked,
    so a token is never spent on a folder that cannot hold the key. ``commit`` gives it its
    unit's name; ``discard`` removes it."""

    def __init__(self, folder: Path, private_key) -> None:
        self.folder = private_folder(folder)
        self.private_key = private_key
        self.public_key = public_key_text(private_key)
        self.path = self.folder / f".pending-{secrets.token_hex(8)}{KEY_SUFFIX}"
        create_private(self.path, private_key_pem(private_key))

    def commit(self, record: IdentityRecord) -> Identity:
        """Store the key as ``<unit_id>.key`` and the record beside it. An identity the unit
        had here before is kept as ``<unit_id>.key.replaced-<time>`` (never deleted)."""
        target = key_path(self.folder, record.unit_id)
        if target.exists():
            stamp = utc_text(utc_now()).replace(":", "")
            for old in (target, record_path(self.folder, record.unit_id)):
                if old.exists():
                    os.replace(old, old.with_name(f"{old.name}.replaced-{stamp}"))
        os.replace(self.path, target)
        write_json_atomic(record_path(self.folder, record.unit_id), asdict(record))
        return Identity(self.folder, record, self.private_key)

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)


def new_record(server: str, answer: Mapping[str, Any], public_key: str,
               machine_id: Optional[str], ca_file: Optional[Path]) -> IdentityRecord:
    """The record of an enrollment the server accepted (its 201 ``answer``)."""
    unit_id = check_unit_id(answer.get("unit_id"), "unit_id (the server's answer)")
    key_id = key_id_of(public_key)
    if answer.get("key_id") not in (None, key_id):
        raise InputError(f"the server answered key id {answer.get('key_id')!r}, this key's id "
                         f"is {key_id}", field="key_id")
    name = answer.get("unit_name")
    return IdentityRecord(server=server, unit_id=unit_id, key_id=key_id, public_key=public_key,
                          machine_id=machine_id, enrolled_at=utc_text(utc_now()),
                          unit_name=name if isinstance(name, str) else None,
                          ca_file=str(Path(ca_file).resolve()) if ca_file else None)


def private_key_pem(private_key) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return private_key.private_bytes(serialization.Encoding.PEM,
                                     serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption())


# --- loading one -------------------------------------------------------------------------


def load_identity(folder: Path, unit_id: str, machine_id: Optional[str]) -> Identity:
    """The identity of ``unit_id`` in ``folder``, checked: the key file private, the key the
    record's, made on this machine (``machine_id``; a clone raises ``CloneError``)."""
    folder = Path(folder)
    key_file, record_file = key_path(folder, unit_id), record_path(folder, unit_id)
    if not key_file.exists() or not record_file.exists():
        raise InputError(f"no identity for unit {unit_id!r} here: enroll this machine first "
                         f"(egov-probe enroll --server URL) / chưa đăng ký máy này cho đơn vị "
                         f"{unit_id}", path=str(folder))
    check_private(key_file)
    record = read_record(record_file)
    private_key = read_private_key(key_file)
    if public_key_text(private_key) != record.public_key or key_id_of(record.public_key) \
            != record.key_id:
        raise InputError("the key does not match its record (key_id/public_key): enroll this "
                         "machine again with a new token", path=str(key_file))
    refuse_clone(record, machine_id, record_file)
    return Identity(folder, record, private_key)


def check_private(path: Path) -> None:
    """Refuse a key file that its group or others may read or write (Linux)."""
    mode = open_to_others(path)
    if mode is not None:
        raise InputError(f"the key file is readable by others (mode {mode:04o}): anyone on "
                         f"this machine could sign as it. Run: chmod 600 {path} (then ask the "
                         f"DIC whether to revoke the key) / tệp khóa để người khác đọc được",
                         path=str(path))


def refuse_clone(record: IdentityRecord, machine_id: Optional[str], where: Path) -> None:
    if record.machine_id and machine_id and record.machine_id != machine_id:
        raise CloneError(
            f"this identity was made on another machine (machine id {record.machine_id[:8]}…, "
            f"this one {machine_id[:8]}…): a cloned disk. It is not used. Enroll this machine "
            f"with a new token: egov-probe enroll --server {record.server} / danh tính này "
            f"thuộc máy khác (ổ đĩa sao chép): hãy đăng ký máy này bằng mã mới",
            path=str(where))


def read_record(path: Path) -> IdentityRecord:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"expected the JSON of an identity: {exc}", path=str(path)) from exc
    if not isinstance(data, dict):
        raise InputError("expected a JSON object (an identity)", path=str(path))
    for name in _RECORD_FIELDS:
        if name == "machine_id":
            if data.get(name) is not None and not isinstance(data[name], str):
                raise InputError("expected a string or null", path=str(path), field=name)
        elif not isinstance(data.get(name), str) or not data[name]:
            raise InputError("expected a non-empty string", path=str(path), field=name)
    known = {k: data.get(k) for k in IdentityRecord.__dataclass_fields__}
    return IdentityRecord(**known)


def read_private_key(path: Path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    try:
        key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise InputError(f"expected an Ed25519 private key (PKCS#8 PEM): {exc}",
                         path=str(path)) from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise InputError("expected an Ed25519 private key", path=str(path))
    return key
