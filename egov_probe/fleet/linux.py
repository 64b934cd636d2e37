"""The Linux collector script and the parsing of what it prints.

The script (``egov_probe/fleet/collectors/linux.sh``) runs in one SSH exec without Python and
prints raw evidence as records; :func:`parse_records` splits them, and :class:`RemoteLinuxReader`
and :func:`system_collectors` turn them into the same facts as the local audit, with the same parse
functions (``facts/system.py``, ``facts/fonts.py``, ``facts/browsers_linux.py``).
"""

from __future__ import annotations

import posixpath
import re
import secrets
import shlex
from dataclasses import dataclass, field
from importlib import resources
from typing import Callable, Optional

from ..core.model import Evidence
from ..facts import browsers_linux as bl
from ..facts import system as sysfacts
from ..facts.base import Fact
from ..facts.fonts import VIETNAMESE_CHARSET, fonts_from_fc_list

SCRIPT_RESOURCE = "linux.sh"
MARK_VARIABLE = "EGOV_MARK"
KERNEL_RELEASE = "/proc/sys/kernel/osrelease"  # what `uname -r` prints
KERNEL_HOSTNAME = "/proc/sys/kernel/hostname"  # the UTS name, what `uname -n` prints
KERNEL_ARCH = "/proc/sys/kernel/arch"  # what `uname -m` prints (Linux 6.1+)
_MARK_LINE = re.compile(rf"^{MARK_VARIABLE}=([0-9a-f]{{32}})$", re.MULTILINE)


@dataclass(frozen=True)
class Collector:
    """The script for one run and the random mark that frames its records: the controller
    generates it, sends it with the script and accepts only records that carry it, so no file
    content printed by the script (a user's file, a crafted path name) can forge a record."""

    script: str
    mark: str


def new_collector() -> Collector:
    """The collector with its lists (from ``facts/browsers_linux.py``) and a new mark at the top."""
    body = resources.files("egov_probe.fleet.collectors").joinpath(SCRIPT_RESOURCE).read_text("utf-8")
    mark = secrets.token_hex(16)
    prelude = f"{MARK_VARIABLE}={mark}\n" + _SETTINGS
    return Collector(prelude + body, mark)


def _settings() -> str:
    files = [*sysfacts.MACHINE_ID_FILES, sysfacts.SMBIOS_UUID_FILE]
    files += [bl.snap_meta_path(s) for s in bl.SNAPS]
    files += [bl.flatpak_metainfo_path(bl.MACHINE_FLATPAKS, a) for a in bl.FLATPAKS]
    home_files = [bl.flatpak_metainfo_path(bl.USER_FLATPAKS, a) for a in bl.FLATPAKS]
    settings = {
        "EGOV_PACKAGES": " ".join(bl.PACKAGES),
        "EGOV_FILES": " ".join(files),
        "EGOV_EXES": " ".join(bl.EXECUTABLES),
        "EGOV_HOME_FILES": " ".join(home_files),
        "EGOV_HOME_EXES": " ".join(bl.USER_EXECUTABLES),
        "EGOV_VERSION_FILES": " ".join(bl.FIREFOX_VERSION_FILES),
        "EGOV_FC_CHARSET": VIETNAMESE_CHARSET,
    }
    return "".join(f"{name}={shlex.quote(value)}\n" for name, value in settings.items())


_SETTINGS = _settings()


def mark_of_script(script: str) -> Optional[str]:
    """The mark a collector script was written with (the Ansible path reads it back)."""
    match = _MARK_LINE.search(script)
    return match.group(1) if match else None


@dataclass
class CollectorOutput:
    """The records the script printed: (kind, argument) -> text; ``complete`` if it ended."""

    records: dict[tuple[str, str], str] = field(default_factory=dict)
    complete: bool = False

    def get(self, kind: str, arg: str) -> Optional[str]:
        return self.records.get((kind, arg))

    def args(self, kind: str) -> list[str]:
        return [arg for (k, arg) in self.records if k == kind]


def parse_records(text: str, mark: str) -> CollectorOutput:
    """Split the script's output into records: only lines carrying this run's ``mark`` start
    one (text before the first record is ignored; a record met twice keeps its first text)."""
    pattern = re.compile(rf"\n::egov-probe:{re.escape(mark)}:: (\S+) ?([^\n]*)\n")
    parts = pattern.split("\n" + text.replace("\r\n", "\n"))
    output = CollectorOutput()
    last = None
    for index in range(1, len(parts) - 2, 3):
        kind, arg, content = parts[index], parts[index + 1], parts[index + 2]
        if kind == "end":
            output.complete = True
            break
        last = (kind, arg) if (kind, arg) not in output.records else None
        output.records.setdefault((kind, arg), content)
    if not output.complete and last:
        del output.records[last]  # cut off: the last record may be incomplete, trust none of it
    return output


class RemoteLinuxReader:
    """A :class:`~egov_probe.facts.browsers_linux.LinuxReader` over the collector's records."""

    def __init__(self, output: CollectorOutput) -> None:
        self.output = output

    def where(self, path: str) -> str:
        return path

    def read_text(self, path: str) -> Optional[str]:
        return self.output.get("file", path)

    def package_lists(self) -> dict[str, str]:
        return {name: self.output.records[("list", name)] for name in self.output.args("list")}

    def accounts(self) -> list[tuple[str, int, str]]:
        return bl.accounts_from_passwd(self.read_text(bl.PASSWD))

    def is_dir(self, path: str) -> bool:
        return self.output.get("dir", path) is not None or \
            self.output.get("dir", path.rstrip("/")) is not None

    def is_executable(self, path: str) -> bool:
        return self.output.get("exe", path) is not None

    def realpath(self, path: str) -> str:
        return self.output.get("exe", path) or path

    def version_files(self, path: str) -> dict[str, tuple[str, Optional[str]]]:
        folder = posixpath.dirname(self.realpath(path))
        return {name: (f"{folder}/{name}", self.read_text(f"{folder}/{name}"))
                for name in bl.FIREFOX_VERSION_FILES}

    def rpm_output(self) -> Optional[str]:
        return self.output.get("cmd", "rpm")


def system_collectors(output: CollectorOutput) -> dict[str, Callable[[], Optional[Fact]]]:
    """The facts of ``SYSTEM_COLLECTORS``, read from the records instead of this machine."""
    cmd = lambda name: _need(output.get("cmd", name), f"command {name}")  # noqa: E731
    clock = lambda: cmd("date").split()  # noqa: E731 - "seconds offset", one `date` call
    return {
        "os": lambda: sysfacts.linux_os_from(sysfacts.parse_os_release(_os_release(output)),
                                             _file(output, KERNEL_RELEASE).strip()),
        "arch": lambda: _arch(output),
        "cpu_model": lambda: sysfacts.cpu_model_from_cpuinfo(_file(output, "/proc/cpuinfo")),
        "cpu_cores": lambda: sysfacts.cpu_cores_from_cpuinfo(_file(output, "/proc/cpuinfo")),
        "ram_mb": lambda: sysfacts.ram_mb_from_meminfo(_file(output, "/proc/meminfo")),
        "disk_free_gb": lambda: _disk_free(cmd("statfs-root")),
        "uptime_days": lambda: sysfacts.uptime_days_from(
            float(clock()[0]),
            float(clock()[0]) - float(_file(output, "/proc/uptime").split()[0])),
        "timezone": lambda: sysfacts.timezone_from(
            output.get("env", "TZ"), (output.get("cmd", "localtime-link") or "").strip() or None,
            output.get("file", "/etc/timezone"), None),
        "utc_offset": lambda: sysfacts.utc_offset_from(sysfacts.offset_seconds(clock()[1]),
                                                       "date +%z"),
        "locale": lambda: _locale(output)[0],
        "encoding": lambda: _locale(output)[1],
        "vietnamese_fonts": lambda: Fact(*fonts_from_fc_list(output.get("cmd", "fc-list"))),
        "machine_identity": lambda: sysfacts.linux_machine_identity(
            lambda path: output.get("file", path)),
    }


def _arch(output: CollectorOutput) -> Fact:
    """The machine type: /proc/sys/kernel/arch (Linux 6.1+), else what `uname -m` printed."""
    if output.get("file", KERNEL_ARCH) is not None:
        value = output.get("file", KERNEL_ARCH).strip()
        return Fact(value, (Evidence("file", KERNEL_ARCH, value),))
    value = _need(output.get("cmd", "uname-m"), "command uname-m").strip()
    return Fact(value, (Evidence("command", "uname -m", value),))


def remote_hostname(output: CollectorOutput) -> Optional[str]:
    name = (output.get("file", KERNEL_HOSTNAME) or "").strip()
    return name or None


def _need(text: Optional[str], what: str) -> str:
    if text is None:
        raise ValueError(f"the collector printed no {what}")
    return text


def _file(output: CollectorOutput, path: str) -> str:
    return _need(output.get("file", path), path)


def _os_release(output: CollectorOutput) -> str:
    text = output.get("file", "/etc/os-release") or output.get("file", "/usr/lib/os-release")
    return _need(text, "/etc/os-release")


def _disk_free(statfs: str) -> Fact:
    available, block_size = (int(v) for v in statfs.split()[:2])
    return sysfacts.disk_free_gb_from(available * block_size, "stat -f / (available blocks)")


def _locale(output: CollectorOutput) -> tuple[Fact, Fact]:
    """The system's configured locale (what a session gets) and its character set."""
    for path in ("/etc/default/locale", "/etc/locale.conf"):
        values = sysfacts.parse_os_release(output.get("file", path) or "")
        name = values.get("LC_ALL") or values.get("LC_CTYPE") or values.get("LANG")
        if name:
            return _locale_facts(name, path)
    return _locale_facts("C", "/etc/default/locale")


def _locale_facts(name: str, where: str) -> tuple[Fact, Fact]:
    encoding = sysfacts.encoding_of_locale(name)
    return (Fact(name, (Evidence("file", where, name),)),
            Fact(encoding, (Evidence("file", where, name),)))
