"""Browsers on Linux: dpkg and rpm databases, snap, flatpak, and executables in usual places.

Reading and judging what was read are apart: the logic here asks a :class:`LinuxReader` for
file contents and accounts. :class:`LocalLinuxReader` reads this machine; the fleet audit gives
a reader over what its collector script printed on a remote host, so both paths find browsers
with the same code.

Safe to run as root on a machine with hostile users: nothing here runs a browser's executable
(a user's ``~/firefox/firefox`` could be anything). Versions come from files that are read:
package databases, snap/flatpak metadata, Firefox's ``application.ini``/``platform.ini`` and
channel prefs beside the executable. An executable with no such file is reported with an
unknown version and evidence saying it was not run. Files are read only when they are regular
files, and only so much of them (a FIFO or ``/dev/zero`` planted in a home cannot hang or
exhaust the audit).
"""

from __future__ import annotations

import os
import posixpath
import pwd
import re
import shutil
import stat
import subprocess
from pathlib import Path
from typing import Iterable, Iterator, Optional, Protocol

from ..core.model import Evidence
from ..core.versions import upstream_version
from .base import SYSTEM_PATH
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
# Files beside a Firefox executable that tell its version without running it.
FIREFOX_VERSION_FILES = ("application.ini", "platform.ini", "defaults/pref/channel-prefs.js")
NOT_RUN = ("không có tệp phiên bản bên cạnh; không chạy (khảo sát không bao giờ chạy tệp "
           "thực thi của trình duyệt, người dùng có thể đã thay nó) / no version file beside it; "
           "not run (the audit never runs a browser's executable, which a local user may have "
           "replaced)")
MAX_FILE_BYTES = 64 << 20  # dpkg's status of a full desktop is a few MiB
MAX_VERSION_FILE_BYTES = 1 << 20
DPKG_STATUS = "/var/lib/dpkg/status"
PASSWD = "/etc/passwd"
_VERSION = re.compile(r"(\d+(?:\.\d+)+(?:esr|[ab]\d+)?)")
_TRANSITIONAL = re.compile(r"^Transitional package", re.IGNORECASE)
_CHANNEL = re.compile(r"[\"']app\.update\.channel[\"']\s*,\s*[\"']([^\"']+)")


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

    def version_files(self, path: str) -> dict[str, tuple[str, Optional[str]]]:
        """For each of ``FIREFOX_VERSION_FILES``: (where it is, its text or None), looked up
        beside the real location of the executable ``path``."""

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
    found += [b for b in (_from_executable(reader, *c) for c in loose) if b]
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
    """A browser executable no package owns, identified by the files beside it (never run)."""
    if not reader.is_executable(path):
        return None
    where = reader.where(path)
    found = firefox_version(reader.version_files(path)) if browser.startswith("firefox") else None
    if found is None:
        return BrowserInstall(browser, "", scope, where, None, (Evidence("file", where, NOT_RUN),))
    version, location = found
    if version.endswith("esr"):
        browser = "firefox_esr"
    return BrowserInstall(browser, version, scope, where, None,
                          (Evidence("file", location, version),))


def firefox_version(files: dict[str, tuple[str, Optional[str]]]) -> Optional[tuple[str, str]]:
    """(version, the file it came from) from Firefox's application.ini (``[App] Version``) or
    platform.ini (``Milestone``); ``esr`` appended when its channel prefs say so, as
    ``firefox --version`` prints it."""
    for name, key in (("application.ini", "Version"), ("platform.ini", "Milestone")):
        location, text = files.get(name, (name, None))
        value = ini_value(text, key)
        if value and _VERSION.fullmatch(value):
            channel = _CHANNEL.search(files.get(FIREFOX_VERSION_FILES[2], ("", None))[1] or "")
            if channel and channel.group(1) == "esr" and not value.endswith("esr"):
                value += "esr"
            return value, location
    return None


def ini_value(text: Optional[str], key: str) -> Optional[str]:
    """The first ``key=value`` of an ini text (``Version=`` does not match ``MinVersion=``)."""
    match = re.search(rf"^{key}=([^\r\n]*)", text or "", re.MULTILINE)
    return match.group(1).strip() if match else None


def read_regular(path: str, limit: int = MAX_FILE_BYTES) -> Optional[str]:
    """A regular file's text (at most ``limit`` bytes); None for anything else (absent,
    unreadable, a FIFO, a device) so that a file planted by a user cannot hang the audit."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        with os.fdopen(fd, "rb", closefd=False) as stream:
            return stream.read(limit).decode("utf-8", errors="replace")
    except OSError:
        return None
    finally:
        os.close(fd)


class LocalLinuxReader:
    """Reads this machine, or the tree under ``root``."""

    def __init__(self, root: Path = Path("/")) -> None:
        self.root = Path(root)

    def where(self, path: str) -> str:
        return str(self.root / path.lstrip("/"))

    def read_text(self, path: str) -> Optional[str]:
        return read_regular(self.where(path))

    def package_lists(self) -> dict[str, str]:
        lists = {}
        for list_file in (self.root / "var/lib/dpkg/info").glob("*.list"):
            if list_file.stem.split(":")[0] in PACKAGES:
                lists[list_file.stem] = read_regular(str(list_file)) or ""
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

    def version_files(self, path: str) -> dict[str, tuple[str, Optional[str]]]:
        folder = posixpath.dirname(os.path.realpath(self.where(path)))
        return {name: (f"{folder}/{name}", read_regular(f"{folder}/{name}", MAX_VERSION_FILE_BYTES))
                for name in FIREFOX_VERSION_FILES}

    def rpm_output(self) -> Optional[str]:
        rpm = shutil.which("rpm", path=SYSTEM_PATH)
        if not rpm or not Path("/var/lib/rpm").exists() and not Path("/usr/lib/sysimage/rpm").exists():
            return None
        query = ["-q", "--qf", r"%{NAME} %{VERSION}-%{RELEASE} %{ARCH}\n", *PACKAGES]
        return subprocess.run([rpm, *query], capture_output=True, text=True, timeout=15,
                              check=False).stdout
