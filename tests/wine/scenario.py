"""The Windows machine the Wine tests plant: browsers as their installers leave them.

Each :class:`Install` is an executable with a real version resource plus the registry keys
its installer writes (Uninstall in the view the installer uses, App Paths, StartMenuInternet,
the updater's client key, BLBeacon for a user who ran it). :func:`expected` derives from the
same data what the probe must report, so the tests compare the probe with what was planted.

Users: the Wine account (logged on: ``HKCU``), and three more in ProfileList whose hives are
files: ``lan`` (a hive saved by Wine: loads), ``hoa`` (loads; only a leftover registration and
a BLBeacon of the machine's Chrome), ``minh`` (a binary regf ``NTUSER.DAT``, which Wine cannot
load, as a damaged or locked hive: reported unreadable, his per-user Chrome still found).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

from .exes import Exe

RegData = Union[str, int, tuple]  # str: REG_SZ; int: REG_DWORD; ("expand", str): REG_EXPAND_SZ
Keys = dict[str, dict[str, RegData]]  # key below its root -> values ("" is the default)

SOFTWARE = "SOFTWARE"
WOW = r"SOFTWARE\WOW6432Node"  # the 32-bit view of HKLM\SOFTWARE, as a 64-bit regedit writes it
UNINSTALL = r"Microsoft\Windows\CurrentVersion\Uninstall"
APP_PATHS = r"Microsoft\Windows\CurrentVersion\App Paths"
GOOGLE_UPDATE = r"Google\Update\Clients\{8A69D345-D564-463C-AFF1-A69D9E530F96}"
EDGE_UPDATE = r"Microsoft\EdgeUpdate\Clients\{56EB18F8-B008-4CBD-B6D2-8C97FE7E9062}"
WEBVIEW2 = r"Microsoft\EdgeUpdate\Clients\{F3017226-FE2A-4295-8BDF-00C3A9A7E4C5}"
PROFILE_LIST = r"SOFTWARE\Microsoft\Windows NT\CurrentVersion\ProfileList"
CURRENT_VERSION = r"SOFTWARE\Microsoft\Windows NT\CurrentVersion"

CHROME_X64 = r"C:\Program Files\Google\Chrome\Application"
CHROME_X86 = r"C:\Program Files (x86)\Google\Chrome\Application"
EDGE = r"C:\Program Files (x86)\Microsoft\Edge\Application"
FIREFOX = r"C:\Program Files\Mozilla Firefox"
FIREFOX_ESR = r"C:\Program Files (x86)\Mozilla Firefox"


@dataclass(frozen=True)
class User:
    name: str
    sid: str
    hive: str  # "loaded" (the Wine account), "file" (saved by Wine), "regf" (cannot load)

    @property
    def folder(self) -> str:
        return "C:\\Users\\" + self.name


@dataclass(frozen=True)
class Install:
    """A browser as an installer leaves it: its executable (None: a leftover) and keys."""

    browser: str
    path: str
    exe: Exe | None
    scope: str = "machine"
    machine_keys: Keys = field(default_factory=dict)  # below HKLM
    user_keys: Keys = field(default_factory=dict)  # below the user's hive
    user: str = ""  # whose hive holds user_keys
    version: str = ""  # what the probe must report (default: the executable's)


LAN = User("lan", "S-1-5-21-3623811015-3361044348-30300820-1001", "file")
MINH = User("minh", "S-1-5-21-3623811015-3361044348-30300820-1003", "regf")
HOA = User("hoa", "S-1-5-21-3623811015-3361044348-30300820-1004", "file")
OTHER_USERS = (LAN, MINH, HOA)


def chrome(folder: str, arch: str, file_version: str, registry_version: str) -> Install:
    """Chrome per machine: Google Update registers under WOW6432Node in every architecture."""
    exe_path = folder + r"\chrome.exe"
    return Install("chrome", exe_path, Exe("chrome.exe", arch, file_version, "Google Chrome",
                                           "Google LLC"), machine_keys={
        rf"{WOW}\{UNINSTALL}\Google Chrome": {
            "DisplayName": "Google Chrome", "DisplayVersion": registry_version,
            "DisplayIcon": exe_path + ",0", "InstallLocation": folder, "Publisher": "Google LLC",
            "UninstallString": rf'"{folder}\{registry_version}\Installer\setup.exe" '
                               "--uninstall --channel=stable --system-level",
            "NoModify": 1, "NoRepair": 1},
        rf"{WOW}\{GOOGLE_UPDATE}": {"pv": registry_version, "name": "Google Chrome"},
        rf"{SOFTWARE}\{APP_PATHS}\chrome.exe": {"": exe_path, "Path": folder},
        r"SOFTWARE\Clients\StartMenuInternet\Google Chrome\shell\open\command": {
            "": f'"{exe_path}"'},
    })


def user_chrome(user: User, version: str, keys: bool = True) -> Install:
    folder = user.folder + r"\AppData\Local\Google\Chrome\Application"
    exe_path = folder + r"\chrome.exe"
    user_keys = {
        rf"Software\{UNINSTALL}\Google Chrome": {
            "DisplayName": "Google Chrome", "DisplayVersion": version,
            "DisplayIcon": exe_path + ",0", "InstallLocation": folder},
        rf"Software\{GOOGLE_UPDATE}": {"pv": version},
        r"Software\Google\Chrome\BLBeacon": {"version": version, "state": 1},
    } if keys else {}
    return Install("chrome", exe_path, Exe("chrome.exe", "x64", version, "Google Chrome",
                                           "Google LLC"),
                   scope="user:" + user.name, user_keys=user_keys, user=user.name)


def edge(version: str) -> Install:
    """64-bit Edge lives in Program Files (x86) and registers under WOW6432Node."""
    exe_path = EDGE + r"\msedge.exe"
    return Install("edge", exe_path, Exe("msedge.exe", "x64", version, "Microsoft Edge",
                                         "Microsoft Corporation"), machine_keys={
        rf"{WOW}\{UNINSTALL}\Microsoft Edge": {
            "DisplayName": "Microsoft Edge", "DisplayVersion": version,
            "DisplayIcon": exe_path + ",0", "InstallLocation": EDGE},
        rf"{WOW}\{EDGE_UPDATE}": {"pv": version, "location": EDGE, "name": "Microsoft Edge"},
        rf"{SOFTWARE}\{APP_PATHS}\msedge.exe": {"": exe_path, "Path": EDGE},
        r"SOFTWARE\Clients\StartMenuInternet\Microsoft Edge\shell\open\command": {
            "": f'"{exe_path}"'},
    })


def firefox(folder: str, arch: str, version: str, esr: bool) -> Install:
    """Mozilla's NSIS installer: CurrentVersion, <that>\\Main\\PathToExe, Uninstall."""
    root = SOFTWARE if arch == "x64" else WOW
    label = f"{version}{' ESR' if esr else ''} ({arch} vi)"
    exe_path = folder + r"\firefox.exe"
    name = f"Mozilla Firefox{' ESR' if esr else ''} ({arch} vi)"
    return Install("firefox_esr" if esr else "firefox", exe_path,
                   Exe("firefox.exe", arch, version, "Firefox", "Mozilla Corporation"),
                   machine_keys={
        rf"{root}\Mozilla\Mozilla Firefox": {"CurrentVersion": label},
        rf"{root}\Mozilla\Mozilla Firefox\{label}\Main": {
            "PathToExe": exe_path, "Install Directory": folder},
        rf"{root}\{UNINSTALL}\{name}": {
            "DisplayName": name, "DisplayVersion": version, "DisplayIcon": exe_path + ",0",
            "InstallLocation": folder, "Publisher": "Mozilla"},
    })


def coccoc_current_user(folder: str, version: str) -> Install:
    """Cốc Cốc installed for the logged-on user only (its keys in HKCU)."""
    app = folder + r"\AppData\Local\CocCoc\Browser\Application"
    exe_path = app + r"\browser.exe"
    return Install("coccoc", exe_path, Exe("browser.exe", "x64", version, "Coc Coc",
                                           "Coc Coc Company Limited"),
                   scope="user:CURRENT", user="CURRENT", user_keys={
        rf"Software\{UNINSTALL}\CocCocBrowser": {
            "DisplayName": "Cốc Cốc", "DisplayVersion": version, "DisplayIcon": exe_path + ",0",
            "InstallLocation": app, "Publisher": "Công ty TNHH Cốc Cốc"},
        rf"Software\{APP_PATHS}\browser.exe": {"": exe_path},
    })


def hoa_leftovers() -> Install:
    """A per-user Firefox uninstalled with its folder, its Uninstall key left behind."""
    folder = HOA.folder + r"\AppData\Local\Mozilla Firefox"
    return Install("firefox", folder + r"\firefox.exe", None, scope="user:hoa", user="hoa",
                   version="102.0", user_keys={
        rf"Software\{UNINSTALL}\Mozilla Firefox (x64 vi)": {
            "DisplayName": "Mozilla Firefox (x64 vi)", "DisplayVersion": "102.0",
            "DisplayIcon": folder + r"\firefox.exe,0", "InstallLocation": folder},
        r"Software\Google\Chrome\BLBeacon": {"version": "131.0.6778.86", "state": 1},
    })


CHROME_64 = chrome(CHROME_X64, "x64", "131.0.6778.86", "130.0.6723.117")  # stale registry
CHROME_32 = chrome(CHROME_X86, "x86", "131.0.6778.86", "131.0.6778.86")
INSTALLS = (
    CHROME_64,
    edge("131.0.2903.70"),
    firefox(FIREFOX, "x64", "133.0.3", esr=False),
    firefox(FIREFOX_ESR, "x86", "128.5.1", esr=True),
    user_chrome(LAN, "131.0.6778.86"),
    user_chrome(MINH, "120.0.6099.225", keys=False),  # his hive cannot be read: disk only
    hoa_leftovers(),
)
WEBVIEW2_EXE = Install(
    "webview2", r"C:\Program Files (x86)\Microsoft\EdgeWebView\Application\131.0.2903.70"
                r"\msedgewebview2.exe",
    Exe("msedgewebview2.exe", "x64", "131.0.2903.70", "Microsoft Edge WebView2",
        "Microsoft Corporation"),
    machine_keys={rf"{WOW}\{WEBVIEW2}": {"pv": "131.0.2903.70",
                                         "name": "Microsoft Edge WebView2 Runtime"}})
IE_VERSION = "11.1790.17763.0"
WINDOWS = {"ProductName": "Windows 10 Pro", "DisplayVersion": "22H2", "ReleaseId": "2009",
           "CurrentBuild": "19045", "CurrentBuildNumber": "19045", "UBR": 5131,
           "EditionID": "Professional"}


def with_current_user(installs: tuple[Install, ...], folder: str) -> tuple[Install, ...]:
    return installs + (coccoc_current_user(folder, "131.0.6778.210"),)


# --- .reg text ---------------------------------------------------------------------------------


def reg_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def reg_value(data: RegData) -> str:
    if isinstance(data, bool) or not isinstance(data, (str, int, tuple)):
        raise TypeError(data)
    if isinstance(data, int):
        return f"dword:{data:08x}"
    if isinstance(data, tuple):  # ("expand", text): REG_EXPAND_SZ, UTF-16LE with its NUL
        raw = (data[1] + "\0").encode("utf-16-le")
        return "hex(2):" + ",".join(f"{b:02x}" for b in raw)
    return reg_quote(data)


def reg_text(sections: dict[str, dict[str, RegData]]) -> str:
    """A regedit 5.00 file: ``{full key: {value name: data}}`` ("" is the default value)."""
    lines = ["Windows Registry Editor Version 5.00", ""]
    for key, values in sections.items():
        lines.append(f"[{key}]")
        lines += [f"{'@' if name == '' else reg_quote(name)}={reg_value(data)}"
                  for name, data in values.items()]
        lines.append("")
    return "\n".join(lines) + "\n"


def deleted(keys: list[str]) -> str:
    return "Windows Registry Editor Version 5.00\n\n" + "".join(f"[-{k}]\n\n" for k in keys)
