"""Browsers on Linux: dpkg and rpm databases, snap, flatpak, and executables in usual places."""

from __future__ import annotations

import os
import pwd
import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Iterable, Iterator, Optional

from ..model import Evidence
from ..versions import upstream_version
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
_VERSION_IN_OUTPUT = re.compile(r"(\d+(?:\.\d+)+(?:esr|[ab]\d+)?)")
_TRANSITIONAL = re.compile(r"^Transitional package", re.IGNORECASE)


def collect_linux_browsers(root: Path = Path("/")) -> list[BrowserInstall]:
    """Every browser found, package databases first, then executables nothing else knows."""
    found = list(_dpkg_browsers(root)) + list(_rpm_browsers()) + list(_snap_browsers(root))
    found += list(_flatpak_browsers(root))
    known_paths = {os.path.realpath(b.path) for b in found if b.path}
    known_paths |= {os.path.realpath(p) for p in _dpkg_owned_files(root)}
    loose = [(path, browser, scope) for path, browser, scope in _candidate_executables(root)
             if os.path.realpath(path) not in known_paths]
    with ThreadPoolExecutor(max_workers=4) as pool:
        found += [b for b in pool.map(lambda c: _from_executable(*c), loose) if b]
    return found


def _dpkg_browsers(root: Path) -> Iterator[BrowserInstall]:
    status = root / "var/lib/dpkg/status"
    if not status.exists():
        return
    for stanza in status.read_text(encoding="utf-8", errors="replace").split("\n\n"):
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
                             (Evidence("package-db", f"{status} Package: {name}", version),))


def _dpkg_owned_files(root: Path) -> set[str]:
    """Files that the browser packages installed (a wrapper such as /usr/bin/firefox included)."""
    owned: set[str] = set()
    for list_file in (root / "var/lib/dpkg/info").glob("*.list"):
        if list_file.stem.split(":")[0] in PACKAGES:
            owned.update(str(root / line.lstrip("/")) for line in
                         list_file.read_text(encoding="utf-8", errors="replace").splitlines())
    return owned


def _stanza_fields(stanza: str) -> dict[str, str]:
    fields = {}
    for line in stanza.splitlines():
        if line and not line[0].isspace() and ":" in line:
            key, value = line.split(":", 1)
            fields[key] = value.strip()
    return fields


def _rpm_browsers() -> Iterator[BrowserInstall]:
    rpm = shutil.which("rpm")
    if not rpm or not Path("/var/lib/rpm").exists() and not Path("/usr/lib/sysimage/rpm").exists():
        return
    query = ["-q", "--qf", r"%{NAME} %{VERSION}-%{RELEASE} %{ARCH}\n", *PACKAGES]
    output = subprocess.run([rpm, *query], capture_output=True, text=True, timeout=15,
                            check=False).stdout
    for line in output.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] in PACKAGES:
            browser, path = PACKAGES[parts[0]]
            yield BrowserInstall(browser, upstream_version(parts[1]), "machine", path, parts[2],
                                 (Evidence("package-db", f"rpm -q {parts[0]}", parts[1]),))


def _snap_browsers(root: Path) -> Iterator[BrowserInstall]:
    for snap, browser in SNAPS.items():
        meta = root / "snap" / snap / "current/meta/snap.yaml"
        version = _yaml_scalar(meta, "version")
        if version:
            yield BrowserInstall(browser, version, "machine", f"/snap/bin/{snap}", None,
                                 (Evidence("package-db", str(meta), version),))


def _flatpak_browsers(root: Path) -> Iterator[BrowserInstall]:
    installs = [(root / "var/lib/flatpak/app", "machine")]
    installs += [(home / ".local/share/flatpak/app", f"user:{user}") for user, home in _homes(root)]
    for base, scope in installs:
        for app_id, browser in FLATPAKS.items():
            metainfo = base / app_id / "current/active/files/share/metainfo" / f"{app_id}.metainfo.xml"
            version = _metainfo_version(metainfo)
            if version:
                yield BrowserInstall(browser, version, scope, f"flatpak run {app_id}", None,
                                     (Evidence("package-db", str(metainfo), version),))


def _yaml_scalar(path: Path, key: str) -> Optional[str]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return None
    match = re.search(rf"^{key}:\s*['\"]?([^'\"\n]+)", text, re.MULTILINE)
    return match.group(1).strip() if match else None


def _metainfo_version(path: Path) -> Optional[str]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return None
    match = re.search(r"<release[^>]*\bversion=\"([^\"]+)\"", text)
    return match.group(1) if match else None


def _homes(root: Path) -> Iterator[tuple[str, Path]]:
    for entry in pwd.getpwall():
        home = root / entry.pw_dir.lstrip("/")
        if entry.pw_uid >= 1000 or entry.pw_uid == 0:
            if entry.pw_dir not in ("/", "/nonexistent") and home.is_dir():
                yield entry.pw_name, home


def _candidate_executables(root: Path) -> Iterable[tuple[str, str, str]]:
    for path, browser in EXECUTABLES.items():
        yield str(root / path.lstrip("/")), browser, "machine"
    for user, home in _homes(root):
        for relative, browser in USER_EXECUTABLES.items():
            yield str(home / relative), browser, f"user:{user}"


def _from_executable(path: str, browser: str, scope: str) -> Optional[BrowserInstall]:
    executable = Path(path)
    if not executable.is_file() or not executable.stat().st_mode & 0o111:
        return None
    version_output = executable_version(path)
    if not version_output:
        return None
    version, printed = version_output
    if browser == "firefox" and version.endswith("esr"):
        browser = "firefox_esr"
    return BrowserInstall(browser, version, scope, path, None,
                          (Evidence("command", f"{path} --version", printed),))


def executable_version(path: str) -> Optional[tuple[str, str]]:
    """(version, the line printed) from ``path --version``, or None."""
    try:
        result = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=10,
                                check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    printed = result.stdout.strip().splitlines()[0] if result.stdout.strip() else ""
    match = _VERSION_IN_OUTPUT.search(printed)
    return (match.group(1), printed) if match else None
