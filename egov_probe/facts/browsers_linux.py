"""Browsers on Linux: dpkg and rpm databases, snap, flatpak, and executables in usual places.

Reading and judging what was read are apart: the logic here asks a :class:`LinuxReader` for
file contents, accounts and ``--version`` output. :class:`LocalLinuxReader` reads this machine;
the fleet audit gives a reader over what its collector script printed on a remote host, so
both paths find browsers with the same code.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Iterable, Iterator, Optional, Protocol

from ..core.model import Evidence
from ..core.versions import upstream_version
from .browser_types import BrowserInstall

# Package name -> (browser id, executable).
PACKAGES = {
    "google-chrome-stable": ("chrome", "/opt/google/chrome/chrome"),
    "chromium": ("chromium", "/usr/bin/chromium"),
    "chromium-browser": ("chromium", "/usr/bin/chromium-browser"),
    "firefox": ("firefox", "/usr/bin/firefox"),
    "firefox-esr": ("firefox_esr", "/usr/bin/firefox-esr"),
    "microsoft-edge-stable": ("edge", "/opt/microsoft/msedge/msedge"),
    "coccoc-browser": ("coccoc", "/opt/coccoc/browser/coccoc-browser"),
}
SNAPS = {"chromium": "chromium", "firefox": "firefox"}
FLATPAKS = {
    "com.google.Chrome": "chrome",
    "org.chromium.Chromium": "chromium",
    "org.mozilla.firefox": "firefox",
    "com.microsoft.Edge": "edge",
}
# Executables where a browser lives when no package database knows it (tarballs, /opt).
EXECUTABLES = {
    "/opt/google/chrome/chrome": "chrome",
    "/usr/bin/chromium": "chromium",
    "/usr/bin/firefox": "firefox",
    "/opt/firefox/firefox": "firefox",
    "/usr/bin/firefox-esr": "firefox_esr",
    "/opt/microsoft/msedge/msedge": "edge",
    "/opt/coccoc/browser/coccoc-browser": "coccoc",
}
USER_EXECUTABLES = {".local/share/firefox/firefox": "firefox", "firefox/firefox": "firefox"}
DPKG_STATUS = "/var/lib/dpkg/status"
PASSWD = "/etc/passwd"
_VERSION_IN_OUTPUT = re.compile(r"(\d+(?:\.\d+)+(?:esr|[ab]\d+)?)")
_TRANSITIONAL = re.compile(r"^Transitional package", re.IGNORECASE)


class LinuxReader(Protocol):
    """What the browser logic reads. Paths are absolute paths of the audited machine."""

    def where(self, path: str) -> str:
        """How a path is shown in evidence (the local reader prefixes its root)."""

    def read_text(self, path: str) -> Optional[str]:
        """A file's text, or None when it is absent or unreadable."""

    def package_lists(self) -> dict[str, str]:
        """dpkg's file lists of the browser packages: package name -> text of its .list."""

    def accounts(self) -> list[tuple[str, int, str]]:
        """(name, uid, home) of every account."""

    def is_dir(self, path: str) -> bool: ...

    def is_executable(self, path: str) -> bool: ...

    def realpath(self, path: str) -> str: ...

    def version_output(self, path: str) -> Optional[str]:
        """What ``path --version`` printed, or None when it could not run."""

    def rpm_output(self) -> Optional[str]:
        """``rpm -q --qf '%{NAME} %{VERSION}-%{RELEASE} %{ARCH}\\n' PACKAGES``; None without rpm."""


def collect_linux_browsers(root: Path = Path("/")) -> list[BrowserInstall]:
    """Every browser found on this machine (or the tree under ``root``)."""
    return linux_browsers(LocalLinuxReader(root))


def linux_browsers(reader: LinuxReader) -> list[BrowserInstall]:
    """Every browser found, package databases first, then executables nothing else knows."""
    found = list(dpkg_browsers(reader.read_text(DPKG_STATUS), reader.where(DPKG_STATUS)))
    found += list(rpm_browsers(reader.rpm_output()))
    found += list(_snap_browsers(reader)) + list(_flatpak_browsers(reader))
    known_paths = {reader.realpath(b.path) for b in found if b.path}
    known_paths |= {reader.realpath(p) for p in _dpkg_owned_files(reader)}
    loose = [(path, browser, scope) for path, browser, scope in _candidate_executables(reader)
             if reader.realpath(path) not in known_paths]
    with ThreadPoolExecutor(max_workers=4) as pool:
        found += [b for b in pool.map(lambda c: _from_executable(reader, *c), loose) if b]
    return found


def dpkg_browsers(status_text: Optional[str], location: str) -> Iterator[BrowserInstall]:
    """Browsers installed according to the text of dpkg's status file."""
    for stanza in (status_text or "").split("\n\n"):
        fields = _stanza_fields(stanza)
        name = fields.get("Package")
        if name not in PACKAGES or fields.get("Status") != "install ok installed":
            continue
        version = fields.get("Version", "")
        if _TRANSITIONAL.search(fields.get("Description", "")):
            continue  # Ubuntu's transitional package: the snap holds the browser
        browser, path = PACKAGES[name]
        yield BrowserInstall(browser, upstream_version(version), "machine", path,
                             fields.get("Architecture"),
                             (Evidence("package-db", f"{location} Package: {name}", version),))


def _dpkg_owned_files(reader: LinuxReader) -> set[str]:
    """Files that the browser packages installed (a wrapper such as /usr/bin/firefox included)."""
    return {reader.where(line) for text in reader.package_lists().values()
            for line in text.splitlines() if line.strip()}


def _stanza_fields(stanza: str) -> dict[str, str]:
    fields = {}
    for line in stanza.splitlines():
        if line and not line[0].isspace() and ":" in line:
            key, value = line.split(":", 1)
            fields[key] = value.strip()
    return fields


def rpm_browsers(output: Optional[str]) -> Iterator[BrowserInstall]:
    """Browsers in the output of the rpm query of :meth:`LinuxReader.rpm_output`."""
    for line in (output or "").splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] in PACKAGES:
            browser, path = PACKAGES[parts[0]]
            yield BrowserInstall(browser, upstream_version(parts[1]), "machine", path, parts[2],
                                 (Evidence("package-db", f"rpm -q {parts[0]}", parts[1]),))


def snap_meta_path(snap: str) -> str:
    return f"/snap/{snap}/current/meta/snap.yaml"


def flatpak_metainfo_path(base: str, app_id: str) -> str:
    return f"{base}/{app_id}/current/active/files/share/metainfo/{app_id}.metainfo.xml"


MACHINE_FLATPAKS = "/var/lib/flatpak/app"
USER_FLATPAKS = ".local/share/flatpak/app"


def _snap_browsers(reader: LinuxReader) -> Iterator[BrowserInstall]:
    for snap, browser in SNAPS.items():
        meta = snap_meta_path(snap)
        version = yaml_scalar(reader.read_text(meta), "version")
        if version:
            yield BrowserInstall(browser, version, "machine", f"/snap/bin/{snap}", None,
                                 (Evidence("package-db", reader.where(meta), version),))


def _flatpak_browsers(reader: LinuxReader) -> Iterator[BrowserInstall]:
    installs = [(MACHINE_FLATPAKS, "machine")]
    installs += [(f"{home}/{USER_FLATPAKS}", f"user:{user}") for user, home in homes(reader)]
    for base, scope in installs:
        for app_id, browser in FLATPAKS.items():
            metainfo = flatpak_metainfo_path(base, app_id)
            version = metainfo_version(reader.read_text(metainfo))
            if version:
                yield BrowserInstall(browser, version, scope, f"flatpak run {app_id}", None,
                                     (Evidence("package-db", reader.where(metainfo), version),))


def yaml_scalar(text: Optional[str], key: str) -> Optional[str]:
    match = re.search(rf"^{key}:\s*['\"]?([^'\"\n]+)", text or "", re.MULTILINE)
    return match.group(1).strip() if match else None


def metainfo_version(text: Optional[str]) -> Optional[str]:
    match = re.search(r"<release[^>]*\bversion=\"([^\"]+)\"", text or "")
    return match.group(1) if match else None


def homes(reader: LinuxReader) -> Iterator[tuple[str, str]]:
    """(account, home) of the people (uid 0 or from 1000) whose home exists."""
    for name, uid, home in reader.accounts():
        if (uid >= 1000 or uid == 0) and home not in ("/", "/nonexistent") \
                and reader.is_dir(home):
            yield name, home.rstrip("/")


def accounts_from_passwd(text: Optional[str]) -> list[tuple[str, int, str]]:
    """(name, uid, home) from the text of /etc/passwd."""
    found = []
    for line in (text or "").splitlines():
        parts = line.split(":")
        if len(parts) >= 7 and parts[2].isdigit():
            found.append((parts[0], int(parts[2]), parts[5]))
    return found


def _candidate_executables(reader: LinuxReader) -> Iterable[tuple[str, str, str]]:
    for path, browser in EXECUTABLES.items():
        yield path, browser, "machine"
    for user, home in homes(reader):
        for relative, browser in USER_EXECUTABLES.items():
            yield f"{home}/{relative}", browser, f"user:{user}"


def _from_executable(reader: LinuxReader, path: str, browser: str,
                     scope: str) -> Optional[BrowserInstall]:
    if not reader.is_executable(path):
        return None
    version_output = version_from_output(reader.version_output(path))
    if not version_output:
        return None
    version, printed = version_output
    if browser == "firefox" and version.endswith("esr"):
        browser = "firefox_esr"
    return BrowserInstall(browser, version, scope, reader.where(path), None,
                          (Evidence("command", f"{reader.where(path)} --version", printed),))


def version_from_output(output: Optional[str]) -> Optional[tuple[str, str]]:
    """(version, the line printed) from what ``--version`` printed, or None."""
    printed = output.strip().splitlines()[0] if output and output.strip() else ""
    match = _VERSION_IN_OUTPUT.search(printed)
    return (match.group(1), printed) if match else None


def executable_version(path: str) -> Optional[tuple[str, str]]:
    """(version, the line printed) from ``path --version``, or None."""
    return version_from_output(_run_version(path))


def _run_version(path: str) -> Optional[str]:
    try:
        result = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=10,
                                check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout


class LocalLinuxReader:
    """Reads this machine, or the tree under ``root``."""

    def __init__(self, root: Path = Path("/")) -> None:
        self.root = Path(root)

    def where(self, path: str) -> str:
        return str(self.root / path.lstrip("/"))

    def read_text(self, path: str) -> Optional[str]:
        try:
            return Path(self.where(path)).read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None

    def package_lists(self) -> dict[str, str]:
        lists = {}
        for list_file in (self.root / "var/lib/dpkg/info").glob("*.list"):
            if list_file.stem.split(":")[0] in PACKAGES:
                lists[list_file.stem] = list_file.read_text(encoding="utf-8", errors="replace")
        return lists

    def accounts(self) -> list[tuple[str, int, str]]:
        return [(e.pw_name, e.pw_uid, e.pw_dir) for e in pwd.getpwall()]

    def is_dir(self, path: str) -> bool:
        return Path(self.where(path)).is_dir()

    def is_executable(self, path: str) -> bool:
        executable = Path(self.where(path))
        return executable.is_file() and bool(executable.stat().st_mode & 0o111)

    def realpath(self, path: str) -> str:
        return os.path.realpath(self.where(path)) if path.startswith("/") else path

    def version_output(self, path: str) -> Optional[str]:
        return _run_version(self.where(path))

    def rpm_output(self) -> Optional[str]:
        rpm = shutil.which("rpm")
        if not rpm or not Path("/var/lib/rpm").exists() and not Path("/usr/lib/sysimage/rpm").exists():
            return None
        query = ["-q", "--qf", r"%{NAME} %{VERSION}-%{RELEASE} %{ARCH}\n", *PACKAGES]
        return subprocess.run([rpm, *query], capture_output=True, text=True, timeout=15,
                              check=False).stdout
