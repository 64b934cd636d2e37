"""Browsers installed on a Windows machine, read through a :class:`WindowsSource`.

Every place a browser leaves a trace is a *sighting*: an Uninstall entry, App Paths,
StartMenuInternet, an updater key, a BLBeacon, Firefox's ``CurrentVersion``, IE's
``svcVersion``, or an executable at a known install path. Sightings of one executable are
merged into one :class:`BrowserInstall`; the executable's own file version overrules what the
registry says, and every value read is kept as evidence. The install scope follows the
executable: under a user's profile folder it is ``user:<name>``, elsewhere ``machine``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from typing import Iterable, Iterator

from ..core.model import Evidence, OsInfo
from .base import Fact
from .browser_types import BrowserInstall
from .winsource import (
    HiveUnavailable,
    Profile,
    WindowsSource,
    fold,
    join_path,
    leaf,
    registry_location,
    version_prefix,
)

UNINSTALL = r"SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall"
APP_PATHS = r"SOFTWARE\Microsoft\Windows\CurrentVersion\App Paths"
START_MENU = r"SOFTWARE\Clients\StartMenuInternet"
GOOGLE_UPDATE = r"SOFTWARE\Google\Update\Clients\{8A69D345-D564-463C-AFF1-A69D9E530F96}"
EDGE_UPDATE = r"SOFTWARE\Microsoft\EdgeUpdate\Clients\{56EB18F8-B008-4CBD-B6D2-8C97FE7E9062}"
WEBVIEW2_APP_ID = "{F3017226-FE2A-4295-8BDF-00C3A9A7E4C5}"  # never read: not a browser
BEACONS = {"chrome": r"SOFTWARE\Google\Chrome\BLBeacon", "edge": r"SOFTWARE\Microsoft\Edge\BLBeacon"}
FIREFOX = r"SOFTWARE\Mozilla\Mozilla Firefox"
INTERNET_EXPLORER = r"SOFTWARE\Microsoft\Internet Explorer"
CURRENT_VERSION = r"SOFTWARE\Microsoft\Windows NT\CurrentVersion"

EXECUTABLES = {
    "chrome": "chrome.exe", "chromium": "chrome.exe", "edge": "msedge.exe",
    "firefox": "firefox.exe", "firefox_esr": "firefox.exe", "coccoc": "browser.exe",
    "ie": "iexplore.exe",
}
BROWSER_EXECUTABLES = frozenset(EXECUTABLES.values())

# Uninstall DisplayName (case and Vietnamese diacritics folded) -> browser id, first match wins.
DISPLAY_NAMES = (
    (r"^google chrome( (beta|dev|canary))?$", "chrome"),
    (r"^chromium$", "chromium"),
    (r"^microsoft edge( (beta|dev|canary))?$", "edge"),
    (r"^mozilla firefox\b.*\besr\b", "firefox_esr"),
    (r"^mozilla firefox\b", "firefox"),
    (r"^coc ?coc( browser)?\b", "coccoc"),
)

# Executable path (folded) -> browser id, first match wins.
EXECUTABLE_PATHS = (
    (r"\\msedge\.exe$", "edge"),
    (r"\\firefox\.exe$", "firefox"),
    (r"\\iexplore\.exe$", "ie"),
    (r"\\chromium\\.*\\chrome\.exe$", "chromium"),
    (r"\\google\\chrome[^\\]*\\.*\\chrome\.exe$", "chrome"),
    (r"\\coccoc\\.*\\browser\.exe$", "coccoc"),
)

# Where installers put each browser: (browser, base folder, path below it). An executable
# found there is an install even if no registry key mentions it (except NOT_PROBED).
KNOWN_PATHS = (
    ("chrome", "programs", r"Google\Chrome\Application\chrome.exe"),
    ("chrome", "programs_x86", r"Google\Chrome\Application\chrome.exe"),
    ("chrome", "local", r"Google\Chrome\Application\chrome.exe"),
    ("chromium", "local", r"Chromium\Application\chrome.exe"),
    ("edge", "programs_x86", r"Microsoft\Edge\Application\msedge.exe"),
    ("edge", "programs", r"Microsoft\Edge\Application\msedge.exe"),
    ("firefox", "programs", r"Mozilla Firefox\firefox.exe"),
    ("firefox", "programs_x86", r"Mozilla Firefox\firefox.exe"),
    ("firefox", "local", r"Mozilla Firefox\firefox.exe"),
    ("coccoc", "programs", r"CocCoc\Browser\Application\browser.exe"),
    ("coccoc", "programs_x86", r"CocCoc\Browser\Application\browser.exe"),
    ("coccoc", "local", r"CocCoc\Browser\Application\browser.exe"),
    ("ie", "programs", r"Internet Explorer\iexplore.exe"),
)
NOT_PROBED = frozenset({"ie"})  # iexplore.exe stays on disk where IE is disabled or removed
REGISTRY_VERSION_FIRST = frozenset({"ie"})  # iexplore.exe's file version lacks the svc update
ONE_PER_MACHINE = frozenset({"ie"})  # a Windows component: its 32- and 64-bit exes are one IE
FAMILIES = {"firefox_esr": "firefox"}
ARCHITECTURES = {"amd64": "x64", "x86": "x86", "arm64": "arm64"}
DEFAULT_FOLDERS = {"programs": r"C:\Program Files", "programs_x86": r"C:\Program Files (x86)"}


@dataclass(frozen=True)
class Root:
    """A registry tree to read: HKLM (both views) or one user's hive (its native view)."""

    hive: str
    mount: str
    sid: str
    scope: str
    views: tuple[int, ...]

    def key(self, path: str) -> str:
        return join_path(self.mount, path)

    def where(self, path: str, name: str, view: int) -> str:
        key = registry_location(self.hive, join_path(self.sid, path), view)
        return join_path(key, name or "(Default)")


MACHINE = Root("HKLM", "", "", "machine", (64, 32))


@dataclass(frozen=True)
class Sighting:
    """One trace of a browser. ``trace``: left by a user running it, whatever its scope."""

    browser: str
    path: str | None
    version: str | None
    scope: str
    evidence: tuple[Evidence, ...]
    trace: bool = False


@dataclass(frozen=True)
class UnreadableProfile:
    """A profile whose hive was not loaded and could not be loaded: its registry is unknown."""

    sid: str
    user: str
    path: str
    reason: str


@dataclass(frozen=True)
class WindowsBrowserScan:
    """Browsers found; registrations whose executable is gone; profiles not read."""

    browsers: tuple[BrowserInstall, ...]
    leftovers: tuple[BrowserInstall, ...]
    unreadable_profiles: tuple[UnreadableProfile, ...]

    def as_fact(self) -> dict:
        return {
            "browsers": [b.as_fact() for b in self.browsers],
            "leftovers": [b.as_fact() for b in self.leftovers],
            "unreadable_profiles": [vars(p).copy() for p in self.unreadable_profiles],
        }


def collect_windows_browsers(source: WindowsSource) -> list[BrowserInstall]:
    """Browsers whose executable is present, one per (browser, scope, executable)."""
    return list(scan_windows_browsers(source).browsers)


def scan_windows_browsers(source: WindowsSource) -> WindowsBrowserScan:
    """Everything the Windows browser collector found, including what it could not read."""
    profiles = source.profiles()
    folders = _folders(source)
    sightings = list(_registry_sightings(source, MACHINE))
    unreadable = []
    for profile in profiles:
        try:
            with source.user_hive(profile) as mount:
                root = Root("HKU", mount, profile.sid, "user:" + profile.user, (64,))
                sightings += _registry_sightings(source, root)
        except HiveUnavailable as error:
            unreadable.append(UnreadableProfile(profile.sid, profile.user, profile.path,
                                                str(error) or "not readable"))
    sightings += _file_sightings(source, profiles, folders)
    browsers, leftovers = _resolve(source, sightings, profiles, folders)
    return WindowsBrowserScan(tuple(browsers), tuple(leftovers), tuple(unreadable))


# --- reading -----------------------------------------------------------------------------------


def _text(source: WindowsSource, root: Root, path: str, name: str,
          view: int) -> tuple[str | None, tuple[Evidence, ...]]:
    """A registry value as text, with its evidence (none when absent)."""
    raw = source.value(root.hive, root.key(path), name, view)
    if raw is None or raw == "":
        return None, ()
    text = raw if isinstance(raw, str) else str(raw)
    return text, (Evidence("registry", root.where(path, name, view), text),)


def _registry_sightings(source: WindowsSource, root: Root) -> list[Sighting]:
    readers = (_uninstall, _app_paths, _start_menu, _updaters, _firefox, _beacons, _ie)
    return [s for read in readers for view in root.views for s in read(source, root, view)]


def _uninstall(source: WindowsSource, root: Root, view: int) -> Iterator[Sighting]:
    for name in source.subkeys(root.hive, root.key(UNINSTALL), view):
        key = join_path(UNINSTALL, name)
        display, evidence = _text(source, root, key, "DisplayName", view)
        browser = _browser_for_name(display)
        if browser is None:
            continue
        version, version_evidence = _text(source, root, key, "DisplayVersion", view)
        icon, _ = _text(source, root, key, "DisplayIcon", view)
        folder, _ = _text(source, root, key, "InstallLocation", view)
        path = _executable(icon, browser) or (folder and join_path(folder, EXECUTABLES[browser]))
        yield Sighting(browser, path or None, version, root.scope, evidence + version_evidence)


def _app_paths(source: WindowsSource, root: Root, view: int) -> Iterator[Sighting]:
    for name in source.subkeys(root.hive, root.key(APP_PATHS), view):
        if name.casefold() in BROWSER_EXECUTABLES:
            yield from _located(*_text(source, root, join_path(APP_PATHS, name), "", view), root)


def _start_menu(source: WindowsSource, root: Root, view: int) -> Iterator[Sighting]:
    for name in source.subkeys(root.hive, root.key(START_MENU), view):
        command = join_path(START_MENU, name, r"shell\open\command")
        yield from _located(*_text(source, root, command, "", view), root)


def _located(command: str | None, evidence: tuple[Evidence, ...], root: Root) -> list[Sighting]:
    """A sighting from a value naming the executable (App Paths, a shell command)."""
    path = _executable(command)
    browser = _browser_for_executable(path)
    return [Sighting(browser, path, None, root.scope, evidence)] if browser else []


def _updaters(source: WindowsSource, root: Root, view: int) -> Iterator[Sighting]:
    chrome, evidence = _text(source, root, GOOGLE_UPDATE, "pv", view)
    if chrome:
        yield Sighting("chrome", None, chrome, root.scope, evidence)
    edge, evidence = _text(source, root, EDGE_UPDATE, "pv", view)
    folder, folder_evidence = _text(source, root, EDGE_UPDATE, "location", view)
    if edge or folder:
        path = join_path(folder, "msedge.exe") if folder else None
        yield Sighting("edge", path, edge, root.scope, evidence + folder_evidence)


def _firefox(source: WindowsSource, root: Root, view: int) -> Iterator[Sighting]:
    current, evidence = _text(source, root, FIREFOX, "CurrentVersion", view)
    if not current:
        return
    path, path_evidence = _text(source, root, join_path(FIREFOX, current, "Main"), "PathToExe",
                                view)
    browser = "firefox_esr" if "esr" in current.casefold() else "firefox"
    yield Sighting(browser, path, version_prefix(current), root.scope, evidence + path_evidence)


def _beacons(source: WindowsSource, root: Root, view: int) -> Iterator[Sighting]:
    if root is MACHINE:
        return
    for browser, key in BEACONS.items():
        version, evidence = _text(source, root, key, "version", view)
        if version:
            yield Sighting(browser, None, version, root.scope, evidence, trace=True)


def _ie(source: WindowsSource, root: Root, view: int) -> Iterator[Sighting]:
    if root is not MACHINE or view != 64:
        return
    for name in ("svcVersion", "Version"):
        version, evidence = _text(source, root, INTERNET_EXPLORER, name, view)
        if version:
            yield Sighting("ie", None, version, root.scope, evidence)
            return


def _file_sightings(source: WindowsSource, profiles: list[Profile],
                    folders: dict[str, str]) -> Iterator[Sighting]:
    """Executables at the known install paths, machine-wide and in every profile."""
    for browser, path in _known_paths(profiles, folders):
        if browser not in NOT_PROBED and source.exists(path):
            evidence = (Evidence("file", path, "present"),)
            yield Sighting(browser, path, None, _scope_of(path, profiles), evidence)


def _known_paths(profiles: list[Profile], folders: dict[str, str]) -> Iterator[tuple[str, str]]:
    seen = set()
    for browser, base, below in KNOWN_PATHS:
        bases = [join_path(p.path, r"AppData\Local") for p in profiles] if base == "local" \
            else [folders[base]]
        for folder in bases:
            path = join_path(folder, below)
            if fold(path) not in seen:
                seen.add(fold(path))
                yield browser, path


def _folders(source: WindowsSource) -> dict[str, str]:
    """Program Files folders; ProgramW6432 is the 64-bit one even for a 32-bit probe."""
    programs = source.environ("ProgramW6432") or source.environ("ProgramFiles")
    return {
        "programs": programs or DEFAULT_FOLDERS["programs"],
        "programs_x86": source.environ("ProgramFiles(x86)") or DEFAULT_FOLDERS["programs_x86"],
    }


def windows_arch(source: WindowsSource) -> str | None:
    """The OS architecture (x64, x86, arm64), even when the probe runs as a 32-bit process."""
    name = source.environ("PROCESSOR_ARCHITEW6432") or source.environ("PROCESSOR_ARCHITECTURE")
    return ARCHITECTURES.get((name or "").casefold())


# --- naming ------------------------------------------------------------------------------------


def _plain(text: str) -> str:
    """Casefolded, without Vietnamese diacritics: "Cốc Cốc" -> "coc coc"."""
    decomposed = unicodedata.normalize("NFKD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold().strip()


def _first_match(rules: Iterable[tuple[str, str]], text: str) -> str | None:
    return next((browser for pattern, browser in rules if re.search(pattern, text)), None)


def _browser_for_name(display_name: str | None) -> str | None:
    return _first_match(DISPLAY_NAMES, _plain(display_name)) if display_name else None


def _browser_for_executable(path: str | None) -> str | None:
    return _first_match(EXECUTABLE_PATHS, fold(path)) if path else None


def _executable(command: str | None, browser: str | None = None) -> str | None:
    """The executable a command line, App Paths value or DisplayIcon names."""
    if not command:
        return None
    match = re.match(r'\s*"([^"]+)"|\s*(.+?\.exe)\b', command, re.IGNORECASE)
    path = (match.group(1) or match.group(2)) if match else None
    if not path or not fold(path).endswith(".exe"):
        return None
    if browser and fold(leaf(path)) != EXECUTABLES[browser]:
        return None
    return path


# --- merging -----------------------------------------------------------------------------------

GroupKey = tuple[str, str, str]  # family, scope, folded executable path ("" when unknown)


def _resolve(source: WindowsSource, sightings: list[Sighting], profiles: list[Profile],
             folders: dict[str, str]) -> tuple[list[BrowserInstall], list[BrowserInstall]]:
    """Installs whose executable is present, and registrations whose executable is not."""
    groups: dict[GroupKey, list[Sighting]] = {}
    for s in [s for s in sightings if s.path]:
        groups.setdefault(_group_key(s, profiles), []).append(s)
    for s in [s for s in sightings if not s.path]:
        placed = _placed(source, s, groups, profiles, folders)
        groups.setdefault(_group_key(placed, profiles), []).append(placed)
    present: list[BrowserInstall] = []
    leftovers: list[BrowserInstall] = []
    for group in groups.values():
        install = _install(source, group, profiles)
        (present if install.path and source.exists(install.path) else leftovers).append(install)
    return present, leftovers


def _group_key(sighting: Sighting, profiles: list[Profile]) -> GroupKey:
    path = sighting.path or ""
    scope = _scope_of(path, profiles) if path else sighting.scope
    family = _family(sighting.browser)
    return family, scope, "" if family in ONE_PER_MACHINE else fold(path)


def _placed(source: WindowsSource, sighting: Sighting, groups: dict[GroupKey, list[Sighting]],
            profiles: list[Profile], folders: dict[str, str]) -> Sighting:
    """A sighting without a path, given the executable of the install it belongs to: one of
    its browser and scope already found (for a user's BLBeacon, else the machine's), else a
    known install path present on disk; unchanged when there is none."""
    family = _family(sighting.browser)
    scopes = [sighting.scope] + (["machine"] if sighting.trace else [])
    for scope in scopes:
        for (group_family, group_scope, path), members in groups.items():
            if (group_family, group_scope) == (family, scope) and path:
                return replace(sighting, path=members[0].path)
    for browser, path in _known_paths(profiles, folders):
        if _family(browser) == family and _scope_of(path, profiles) == sighting.scope \
                and source.exists(path):
            return replace(sighting, path=path)
    return sighting


def _install(source: WindowsSource, group: list[Sighting],
             profiles: list[Profile]) -> BrowserInstall:
    browser = _refined(group)
    path = next((s.path for s in group if s.path), None)
    evidence = [e for s in group for e in s.evidence]
    registry_version = next((s.version for s in group if s.version), None)
    file_version = machine = None
    if path and source.exists(path):
        file_version = source.file_version(path)
        machine = source.file_machine(path)
        evidence += _file_evidence(path, file_version, machine)
    elif path:
        evidence.append(Evidence("file", path, "missing"))
    version = _version(browser, registry_version, version_prefix(file_version))
    return BrowserInstall(
        browser=browser,
        version=version or "unknown",
        scope=_scope_of(path, profiles) if path else group[0].scope,
        path=path,
        arch=machine or _arch_from_path(source, browser, path),
        evidence=tuple(dict.fromkeys(evidence)),
    )


def _file_evidence(path: str, version: str | None, machine: str | None) -> list[Evidence]:
    found = [Evidence("file-version", path, version)] if version else []
    return found + ([Evidence("file", path, "PE machine " + machine)] if machine else [])


def _version(browser: str, registry: str | None, file: str | None) -> str | None:
    if browser in REGISTRY_VERSION_FIRST:
        return registry or file
    return file or registry


def _refined(group: list[Sighting]) -> str:
    """Firefox ESR when any sighting of that executable says ESR."""
    browsers = [s.browser for s in group]
    return "firefox_esr" if "firefox_esr" in browsers else browsers[0]


def _family(browser: str) -> str:
    return FAMILIES.get(browser, browser)


def _scope_of(path: str, profiles: list[Profile]) -> str:
    """``user:<name>`` for an executable inside a profile folder, else ``machine``."""
    for profile in profiles:
        if fold(path).startswith(fold(profile.path) + "\\"):
            return "user:" + profile.user
    return "machine"


def _arch_from_path(source: WindowsSource, browser: str, path: str | None) -> str | None:
    """Without the PE header: Program Files (x86) holds 32-bit builds (not Edge's, which
    lives there in every architecture); Program Files holds the OS's own."""
    if not path:
        return None
    folders = _folders(source)
    if fold(path).startswith(fold(folders["programs_x86"]) + "\\"):
        return None if browser == "edge" else "x86"
    if fold(path).startswith(fold(folders["programs"]) + "\\"):
        return windows_arch(source)
    return None


# --- the operating system ----------------------------------------------------------------------


def windows_os_facts(source: WindowsSource) -> OsInfo:
    """Name, release, build and architecture from ``...\\Windows NT\\CurrentVersion``.

    Windows 11 still writes "Windows 10 ..." in ProductName: build 22000 and later is 11.
    """
    def read(name: str) -> str:
        found = source.value("HKLM", CURRENT_VERSION, name, 64)
        return "" if found is None else str(found)

    name = read("ProductName") or "Windows"
    build = read("CurrentBuild") or read("CurrentBuildNumber")
    if build.isdigit() and int(build) >= 22000 and name.startswith("Windows 10"):
        name = "Windows 11" + name[len("Windows 10"):]
    update = read("UBR")
    return OsInfo(
        name=name,
        version=read("DisplayVersion") or read("ReleaseId"),
        build=f"{build}.{update}" if build and update else build,
        arch=windows_arch(source) or "",
    )


def windows_os_fact(source: WindowsSource) -> Fact:
    """The ``os`` fact of a Windows machine: product, release (DisplayVersion), build.UBR,
    each value read as evidence (the local audit and the fleet's collector share it)."""
    info = windows_os_facts(source)
    evidence = []
    for name in ("ProductName", "DisplayVersion", "ReleaseId", "CurrentBuild", "UBR"):
        found = source.value("HKLM", CURRENT_VERSION, name, 64)
        if found is not None:
            evidence.append(Evidence("registry", f"HKLM\\{CURRENT_VERSION}\\{name}", str(found)))
    return Fact({"name": info.name, "version": info.version, "build": info.build},
                tuple(evidence))
