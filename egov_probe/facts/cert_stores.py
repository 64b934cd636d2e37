"""The certificate stores a browser on this machine trusts, and the roots in each.

Every root is identified by the SHA-256 fingerprint of its certificate (never by its name).

- The system store: OpenSSL's bundle and hashed folder (``/etc/ssl/certs``), or a PEM file the
  policy names. System tools use it; on Linux, Firefox and Chromium do not.
- On Linux, the NSS databases: the system-wide ``/etc/pki/nssdb``, each user's Firefox profiles
  (``cert9.db``) and each user's ``~/.pki/nssdb`` (Chromium, Chrome). They are read with NSS's
  own ``certutil -L`` (Debian's libnss3-tools), never by running a browser. When the audit runs
  as root, certutil runs as the database's owner with no extra groups: the files (and the
  ``pkcs11.txt`` that tells NSS which libraries to load) are the user's to write, so whatever
  they make certutil do, they could already do themselves.
- On Windows, the machine's root stores in the registry (``SystemCertificates``), read through
  a :class:`~egov_probe.facts.winsource.WindowsSource`.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import ssl
import stat
import struct
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator, Optional

CERTUTIL = "certutil"
CERTUTIL_TIMEOUT_S = 20
MAX_NICKNAMES = 1000       # a browser profile holds a few dozen; more is not a browser's
MAX_OUTPUT = 4 << 20       # bytes of certutil output read per call
SYSTEM_NSSDB = "/etc/pki/nssdb"
FIREFOX_PROFILE_ROOTS = (".mozilla/firefox", "snap/firefox/common/.mozilla/firefox",
                         ".var/app/org.mozilla.firefox/.mozilla/firefox")
CHROMIUM_NSSDBS = (".pki/nssdb", "snap/chromium/current/.pki/nssdb")
NSS_FILES = ("cert9.db", "key4.db", "pkcs11.txt")
_PEM = re.compile(rb"-----BEGIN CERTIFICATE-----(.+?)-----END CERTIFICATE-----", re.S)
_TRUST = re.compile(r"^(?P<nick>.*\S)\s+(?P<trust>[A-Za-z]*,[A-Za-z]*,[A-Za-z]*)\s*$")


def fingerprint(der: bytes) -> str:
    """SHA-256 of a DER certificate as upper-case hex pairs joined by colons."""
    digest = hashlib.sha256(der).hexdigest().upper()
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))


def normalise_fingerprint(text: str) -> Optional[str]:
    """``AB:CD:...``/``abcd...`` (64 hex digits, colons or spaces allowed) as ``AB:CD:...``."""
    digits = re.sub(r"[\s:]", "", text or "").upper()
    if not re.fullmatch(r"[0-9A-F]{64}", digits):
        return None
    return ":".join(digits[i:i + 2] for i in range(0, 64, 2))


def pem_certificates(data: bytes) -> list[bytes]:
    """The DER certificates of PEM text."""
    return [base64.b64decode(b"".join(block.split())) for block in _PEM.findall(data)]


@dataclass(frozen=True)
class StoreRoot:
    """One certificate in a store: its fingerprint, a name for people, and NSS trust flags
    (``None`` where being in the store is being trusted: OpenSSL, the Windows root stores)."""

    sha256: str
    name: str = ""
    trust: Optional[str] = None

    @property
    def trusted(self) -> bool:
        """Trusted to issue web server certificates (NSS: ``C`` in the SSL field)."""
        return self.trust is None or "C" in self.trust.split(",")[0]


@dataclass
class CertStore:
    """One store: what kind, where, which programs trust it, and what it holds."""

    kind: str                  # openssl, file, nss, windows
    path: str
    used_by: tuple[str, ...]   # system, firefox, chromium, windows
    owner: Optional[str] = None
    read_as: Optional[str] = None
    roots: list[StoreRoot] = field(default_factory=list)
    error: Optional[str] = None

    @property
    def label(self) -> str:
        who = f" ({self.owner})" if self.owner else ""
        return f"{'/'.join(self.used_by)}{who}: {self.path}"

    def find(self, sha256: str) -> Optional[StoreRoot]:
        return next((root for root in self.roots if root.sha256 == sha256), None)

    def trusts(self, sha256: str) -> bool:
        found = self.find(sha256)
        return found is not None and found.trusted

    def as_dict(self) -> dict:
        return {"kind": self.kind, "path": self.path, "used_by": list(self.used_by),
                "owner": self.owner, "read_as": self.read_as, "count": len(self.roots),
                "error": self.error}


# --- the system store (OpenSSL) -----------------------------------------------------------------


def openssl_store(cafile: Optional[str] = None, capath: Optional[str] = None,
                  kind: str = "openssl") -> CertStore:
    """The certificates of a PEM bundle and of a hashed folder, as OpenSSL would load them."""
    paths = ssl.get_default_verify_paths()
    if kind == "openssl":
        cafile = cafile or paths.cafile or paths.openssl_cafile
        capath = capath or paths.capath or paths.openssl_capath
    store = CertStore(kind, ", ".join(p for p in (cafile, capath) if p), ("system",))
    seen: dict[str, StoreRoot] = {}
    try:
        for der, name in _openssl_certificates(cafile, capath):
            seen.setdefault(fingerprint(der), StoreRoot(fingerprint(der), name))
    except (OSError, ssl.SSLError, ValueError) as exc:
        store.error = f"{type(exc).__name__}: {exc}"
    store.roots = list(seen.values())
    return store


def _openssl_certificates(cafile: Optional[str],
                          capath: Optional[str]) -> Iterator[tuple[bytes, str]]:
    if cafile:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.load_verify_locations(cafile=cafile)
        yield from zip(context.get_ca_certs(binary_form=True),
                       map(_subject_name, context.get_ca_certs()))
    if capath and os.path.isdir(capath):
        for entry in sorted(Path(capath).iterdir()):
            if re.fullmatch(r"[0-9a-f]{8}\.\d+", entry.name):  # what OpenSSL looks up
                for der in pem_certificates(entry.read_bytes()):
                    yield der, ""


def _subject_name(cert: dict) -> str:
    subject = dict(item[0] for item in cert.get("subject", ()) if item)
    return subject.get("commonName") or subject.get("organizationName") or ""


# --- NSS databases (Linux) ----------------------------------------------------------------------


def nss_locations(homes: Iterable[tuple[str, str]], system_db: str = SYSTEM_NSSDB
                  ) -> Iterator[tuple[str, tuple[str, ...], Optional[str]]]:
    """(database folder, programs using it, account) of every NSS database present."""
    if _is_nssdb(system_db):
        yield system_db, ("chromium", "firefox"), None
    for user, home in homes:
        for profiles in FIREFOX_PROFILE_ROOTS:
            for profile in _subfolders(os.path.join(home, profiles)):
                if _is_nssdb(profile):
                    yield profile, ("firefox",), user
        for relative in CHROMIUM_NSSDBS:
            if _is_nssdb(f"{home}/{relative}"):
                yield f"{home}/{relative}", ("chromium",), user


def unreadable_homes(homes: Iterable[tuple[str, str]]) -> list[CertStore]:
    """The homes this process cannot look into (not run as root): their browsers' databases
    were not checked, and the report says so."""
    return [CertStore("nss", home, ("firefox", "chromium"), user,
                      error=f"PermissionError: {home} cannot be read as uid {os.geteuid()}; "
                            "its browsers' databases were not checked")
            for user, home in homes if not os.access(home, os.R_OK | os.X_OK)]


def _subfolders(folder: str) -> list[str]:
    try:
        return sorted(entry.path for entry in os.scandir(folder) if entry.is_dir())
    except OSError:  # absent, or not ours to read
        return []


def _is_nssdb(folder: str) -> bool:
    return os.path.isfile(os.path.join(folder, "cert9.db"))


def read_nss_store(folder: str, used_by: tuple[str, ...], owner: Optional[str] = None,
                   certutil: str = CERTUTIL) -> CertStore:
    """The certificates of one NSS database and their trust flags, read with certutil."""
    store = CertStore("nss", folder, used_by, owner)
    try:
        real, account = _reader(folder)
        store.read_as = account.describe()
        database = f"sql:{real}"
        roots = []
        for nickname, trust in _nicknames(_certutil(certutil, account, ["-L", "-d", database])):
            pem = _certutil(certutil, account, ["-L", "-d", database, "-n", nickname, "-a"])
            roots += [StoreRoot(fingerprint(der), nickname, trust)
                      for der in pem_certificates(pem.encode("utf-8"))]
        store.roots = roots
    except FileNotFoundError as exc:
        store.error = (f"{exc.filename or certutil} not found: install libnss3-tools (NSS tools) "
                       "to read the browsers' databases"
                       if exc.filename in (certutil, None) else f"FileNotFoundError: {exc}")
    except (OSError, RuntimeError, subprocess.SubprocessError, ValueError) as exc:
        store.error = f"{type(exc).__name__}: {exc}"
    return store


def _nicknames(listing: str) -> list[tuple[str, str]]:
    """(nickname, trust flags) from ``certutil -L``, at most MAX_NICKNAMES."""
    found = []
    for line in listing.splitlines():
        match = _TRUST.match(line)
        if match and match["nick"] != "Certificate Nickname":
            found.append((match["nick"], match["trust"]))
    return found[:MAX_NICKNAMES]


@dataclass(frozen=True)
class _Account:
    uid: int
    gid: int

    def describe(self) -> str:
        try:
            import pwd
            return f"{pwd.getpwuid(self.uid).pw_name} (uid {self.uid})"
        except (ImportError, KeyError):
            return f"uid {self.uid}"

    def switch(self) -> dict:
        """subprocess arguments that drop to this account (only root can, only root must)."""
        if os.geteuid() != 0 or self.uid == 0:
            return {}
        return {"user": self.uid, "group": self.gid, "extra_groups": []}


def _reader(folder: str) -> tuple[str, _Account]:
    """The database's real folder and who reads it. As root: its owner. Root's own database
    only when no other account can change it or the way to it (else that account could make
    root's certutil load a library of its choosing)."""
    real = os.path.realpath(folder)
    info = os.stat(real)
    if os.geteuid() != 0:
        return real, _Account(os.geteuid(), os.getegid())
    if info.st_uid == 0:
        files = [os.path.join(real, name) for name in NSS_FILES]
        for path in files + [real, *map(str, Path(real).parents)]:
            if os.path.lexists(path):
                path_info = os.lstat(path)
                if path_info.st_uid != 0 or path_info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
                    raise RuntimeError(f"{path} belongs to root's database but another account "
                                       "can change it; not read as root")
    return real, _Account(info.st_uid, info.st_gid)


def _certutil(certutil: str, account: _Account, arguments: list[str]) -> str:
    result = subprocess.run([certutil, *arguments], capture_output=True, timeout=CERTUTIL_TIMEOUT_S,
                            check=False, cwd="/", stdin=subprocess.DEVNULL,
                            env={"PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8"}, **account.switch())
    if result.returncode != 0:
        message = result.stderr.decode("utf-8", "replace").strip().splitlines()
        raise RuntimeError(f"certutil as {account.describe()}: "
                           f"{message[-1] if message else f'exit {result.returncode}'}")
    return result.stdout[:MAX_OUTPUT].decode("utf-8", "replace")


# --- Windows: the machine's root stores in the registry ----------------------------------------

# Where Windows keeps the machine's trusted roots (each certificate a subkey named by its SHA-1
# thumbprint, its value "Blob" a list of properties, one of them the certificate itself).
WINDOWS_ROOT_KEYS = (
    "SOFTWARE\\Microsoft\\SystemCertificates\\ROOT\\Certificates",
    "SOFTWARE\\Microsoft\\SystemCertificates\\AuthRoot\\Certificates",
    "SOFTWARE\\Policies\\Microsoft\\SystemCertificates\\Root\\Certificates",
    "SOFTWARE\\Microsoft\\EnterpriseCertificates\\Root\\Certificates",
)
_CERT_CERT_PROP_ID = 32
_CERT_FRIENDLY_NAME_PROP_ID = 11


def windows_store(source) -> CertStore:
    """The machine's root stores (HKLM) of a WindowsSource, as one store."""
    store = CertStore("windows", "HKLM\\" + " + ".join(WINDOWS_ROOT_KEYS), ("windows",))
    seen: dict[str, StoreRoot] = {}
    for key in WINDOWS_ROOT_KEYS:
        for thumbprint in source.subkeys("HKLM", key):
            blob = source.value("HKLM", f"{key}\\{thumbprint}", "Blob")
            try:
                der, name = certificate_from_blob(bytes.fromhex(blob or ""))
            except ValueError:
                continue
            if der:
                seen.setdefault(fingerprint(der), StoreRoot(fingerprint(der), name))
    store.roots = list(seen.values())
    return store


def certificate_from_blob(blob: bytes) -> tuple[Optional[bytes], str]:
    """(DER certificate, friendly name) from a SystemCertificates ``Blob`` value: properties,
    each ``id (u32) · reserved (u32) · length (u32) · data``."""
    der, name, offset = None, "", 0
    while offset + 12 <= len(blob):
        prop_id, _reserved, length = struct.unpack_from("<III", blob, offset)
        data = blob[offset + 12:offset + 12 + length]
        if len(data) != length:
            raise ValueError("truncated certificate blob")
        if prop_id == _CERT_CERT_PROP_ID:
            der = data
        elif prop_id == _CERT_FRIENDLY_NAME_PROP_ID:
            name = data.decode("utf-16-le", "replace").rstrip("\0")
        offset += 12 + length
    return der, name
