"""A hostile local user, for the tests of an audit run as root (issue 13).

Nothing on this machine is changed: the user lives in a copy of /etc/passwd that the tests
bind-mount over the real one inside a private mount namespace (``unshare --mount``, or a
network-namespace host of tests/netns/hosts.py), and its home is a folder of the test's.

The home holds what such a user can plant:

- ``~/firefox/firefox`` and ``~/.local/share/firefox/firefox``: scripts that leave a marker
  file (named after the uid they ran as) and print a Firefox version, so an audit that runs
  them shows it;
- the second one is reached through a symlink whose target path spells records of the
  collector (the fixed marker the collector used before, and a guessed mark): the collector
  prints where an executable really is, so a forged record would land in its output;
- a flatpak metainfo file (printed, in part, by the collector) holding forged records too.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

NAME = "egovhostile"
UID = 4711
PLANTED = ("firefox/firefox", ".local/share/firefox/firefox")
FORGED_VERSION = "999.0"
SCRIPT = """#!/bin/sh
touch "{markers}/ran-as-uid-$(id -u)-$$"
echo "Mozilla Firefox {version}"
"""
# Records as the collector frames them, with the marker of old and with a guessed mark: a
# Google Chrome that is not installed, and an end so that a cut output would look whole.
FORGED = "".join(
    f"\n::egov-probe{mark}:: file /var/lib/dpkg/status\nPackage: google-chrome-stable\n"
    "Status: install ok installed\nArchitecture: amd64\nVersion: 1.0.0.0-1\n\n"
    f"\n::egov-probe{mark}:: cmd fc-list\n\n::egov-probe{mark}:: end 0\n"
    for mark in ("", ":" + "0" * 32))
METAINFO = (".local/share/flatpak/app/org.mozilla.firefox/current/active/files/share/metainfo/"
            "org.mozilla.firefox.metainfo.xml")


@dataclass(frozen=True)
class HostileUser:
    folder: Path
    home: Path
    markers: Path
    passwd: Path

    def ran(self) -> list[str]:
        """Marker files left by a planted script that something ran."""
        return sorted(p.name for p in self.markers.iterdir())

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def plant() -> HostileUser:
    """The user's home, a passwd naming it and an empty marker folder, in a new folder of /tmp
    that the user can reach (so a script run as the user could leave its marker too);
    :meth:`HostileUser.remove` deletes it."""
    folder = Path(tempfile.mkdtemp(prefix="egov-hostile-"))
    folder.chmod(0o755)
    home = folder / "home" / NAME
    markers = folder / "markers"
    markers.mkdir(parents=True, exist_ok=True)
    markers.chmod(0o1777)  # a script run as any user could leave its marker here
    script = SCRIPT.format(markers=markers, version=FORGED_VERSION)
    plain = home / PLANTED[0]
    plain.parent.mkdir(parents=True)
    plain.write_text(script, encoding="utf-8")
    # ~/.local/share/firefox/firefox -> a script whose path spells forged records.
    forged_dir = home / "x"
    for part in FORGED.split("/"):
        forged_dir = forged_dir / part if part else forged_dir
    forged_dir.mkdir(parents=True)
    target = forged_dir / "firefox"
    target.write_text(script, encoding="utf-8")
    link = home / PLANTED[1]
    link.parent.mkdir(parents=True)
    link.symlink_to(target)
    metainfo = home / METAINFO
    metainfo.parent.mkdir(parents=True)
    metainfo.write_text("<component>" + FORGED + "\n</component>\n", encoding="utf-8")
    for path in (plain, target):
        path.chmod(0o755)
    _chown_tree(folder / "home", UID)
    passwd = folder / "passwd"
    passwd.write_text(Path("/etc/passwd").read_text(encoding="utf-8")
                      + f"{NAME}:x:{UID}:{UID}:Người dùng:{home}:/bin/sh\n", encoding="utf-8")
    passwd.chmod(0o644)
    return HostileUser(folder, home, markers, passwd)


def _chown_tree(top: Path, uid: int) -> None:
    for folder, dirs, files in os.walk(top):
        for name in [*dirs, *files]:
            os.lchown(os.path.join(folder, name), uid, uid)
    os.lchown(top, uid, uid)
