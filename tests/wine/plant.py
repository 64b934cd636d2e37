"""Plant :mod:`scenario` into a Wine prefix: executables, HKLM, HKCU, ProfileList, hives."""

from __future__ import annotations

import shutil
from pathlib import Path

from . import scenario as sc
from .bed import WineBed
from .exes import build

HKLM, HKCU = "HKEY_LOCAL_MACHINE", "HKEY_CURRENT_USER"
BUILD_KEY = "EgovHiveBuild"  # where other users' hives are put together before SaveKey

SAVE_HIVES = r"""
import sys, winreg
from egov_probe.facts.winsource import _enable_privileges
_enable_privileges(("SeBackupPrivilege",))
for name, path in zip(sys.argv[1::2], sys.argv[2::2]):
    with winreg.OpenKey(winreg.HKEY_CURRENT_USER, "EgovHiveBuild\\" + name) as key:
        winreg.SaveKey(key, path)
"""

# The start of a real binary hive file ("regf" base block): Wine cannot load this format,
# as Windows cannot load a damaged or truncated NTUSER.DAT.
REGF_HEADER = b"regf" + bytes(4) * 2 + bytes(8) + (1).to_bytes(4, "little") + \
    (5).to_bytes(4, "little") + bytes(4096 - 24)


def current_user(bed: WineBed) -> tuple[str, str]:
    """SID and profile folder of the Wine account (the logged-on user, HKCU)."""
    script = ("import winreg\nk = winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, r'%s')\n"
              "sid = [winreg.EnumKey(k, i) for i in range(winreg.QueryInfoKey(k)[0])"
              " if winreg.EnumKey(k, i).startswith('S-1-5-21-')][0]\n"
              "print(sid, winreg.QueryValueEx(winreg.OpenKey(k, sid), 'ProfileImagePath')[0])"
              % sc.PROFILE_LIST)
    sid, folder = bed.python("-c", script, check=True).stdout.split(maxsplit=1)
    return sid, folder.strip()


def place_executables(bed: WineBed, installs: tuple[sc.Install, ...], work: Path) -> None:
    for install in installs:
        if install.exe is None:
            continue
        target = bed.host_path(install.path)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(build(install.exe, work), target)


def machine_sections(installs: tuple[sc.Install, ...]) -> dict:
    sections = {}
    for install in installs:
        for key, values in install.machine_keys.items():
            sections.setdefault(f"{HKLM}\\{key}", {}).update(values)
    sections[f"{HKLM}\\SOFTWARE\\Microsoft\\Internet Explorer"] = {
        "svcVersion": sc.IE_VERSION, "svcUpdateVersion": "11.0.1000", "Version": "9.11.17763.0"}
    sections[f"{HKLM}\\{sc.CURRENT_VERSION}"] = dict(sc.WINDOWS)
    for user in sc.OTHER_USERS:
        sections[f"{HKLM}\\{sc.PROFILE_LIST}\\{user.sid}"] = {
            "ProfileImagePath": ("expand", "%SystemDrive%\\Users\\" + user.name),
            "Flags": 0, "State": 0}
    return sections


def user_sections(installs: tuple[sc.Install, ...]) -> dict:
    """HKCU keys of the logged-on user; other users' keys below the build key."""
    sections = {}
    for install in installs:
        for key, values in install.user_keys.items():
            root = HKCU if install.user == "CURRENT" else f"{HKCU}\\{BUILD_KEY}\\{install.user}"
            sections.setdefault(f"{root}\\{key}", {}).update(values)
    for user in sc.OTHER_USERS:  # every hive has a few keys of its own, as a real one does
        sections[f"{HKCU}\\{BUILD_KEY}\\{user.name}\\Control Panel\\International"] = {
            "LocaleName": "vi-VN", "sShortDate": "dd/MM/yyyy"}
    return sections


def plant(bed: WineBed, installs: tuple[sc.Install, ...], work: Path) -> None:
    """The whole scenario: files, machine and user keys, other users' hive files."""
    place_executables(bed, installs + (sc.WEBVIEW2_EXE,), work)
    bed.regedit(sc.reg_text({**machine_sections(installs + (sc.WEBVIEW2_EXE,)),
                             **user_sections(installs)}))
    saved = []
    for user in sc.OTHER_USERS:
        hive = bed.host_path(user.folder + r"\NTUSER.DAT")
        (hive.parent / "AppData" / "Local").mkdir(parents=True, exist_ok=True)
        hive.unlink(missing_ok=True)
        if user.hive == "regf":
            hive.write_bytes(REGF_HEADER)
        else:
            saved += [user.name, user.folder + r"\NTUSER.DAT"]
    bed.python("-c", SAVE_HIVES, *saved, check=True)
    bed.regedit(sc.deleted([f"{HKCU}\\{BUILD_KEY}"]), "cleanup.reg")


def reinstall_chrome_32_bit(bed: WineBed, work: Path) -> None:
    """The 64-bit machine Chrome replaced by the 32-bit one, as its installer would."""
    shutil.rmtree(bed.host_path(sc.CHROME_X64).parent.parent)
    place_executables(bed, (sc.CHROME_32,), work)
    bed.regedit(sc.reg_text({f"{HKLM}\\{k}": v for k, v in sc.CHROME_32.machine_keys.items()}),
                "chrome32.reg")
