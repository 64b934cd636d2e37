"""Machine basics: OS, CPU, memory, disk, uptime, time zone, locale, Vietnamese fonts, and the
machine's own identity (machine id, SMBIOS UUID: what tells cloned PCs apart).

``SYSTEM_COLLECTORS`` maps each fact name to the function that reads it. Reading and parsing
are apart: the ``*_from_*`` functions turn text or numbers into facts, so that the fleet audit
builds the same facts from what its collector script printed on a remote host.
"""

from __future__ import annotations

import locale
import os
import platform
import shlex
import sys
import time
from pathlib import Path
from typing import Callable, Optional

from ..core.clock import format_offset
from ..core.model import Evidence
from .base import Fact
from .fonts import vietnamese_fonts

# Linux: systemd's (or D-Bus's) machine id, and the firmware's UUID (readable by root only).
MACHINE_ID_FILES = ("/etc/machine-id", "/var/lib/dbus/machine-id")
SMBIOS_UUID_FILE = "/sys/class/dmi/id/product_uuid"
# Windows: the id Windows setup (and sysprep /generalize) writes, and the firmware's UUID as
# the last hardware configuration recorded it ("{4C4C4544-...}").
MACHINE_GUID = ("SOFTWARE\\Microsoft\\Cryptography", "MachineGuid")
HARDWARE_CONFIG = ("SYSTEM\\HardwareConfig", "LastConfig")
# Firmware that leaves its UUID unset fills it with one repeated digit: not an identity.
_UNSET_UUIDS = {"00000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff",
                "03000200-0400-0500-0006-000700080009"}


def os_fact() -> Fact:
    if sys.platform.startswith("linux"):
        return _linux_os()
    if sys.platform == "win32":
        from .browsers_windows import windows_os_fact
        from .winsource import LiveWindowsSource
        return windows_os_fact(LiveWindowsSource())
    release, version = platform.release(), platform.version()
    return Fact({"name": platform.system(), "version": release, "build": version},
                (Evidence("platform", "platform.uname()", f"{platform.system()} {version}"),))


def _linux_os() -> Fact:
    return linux_os_from(platform.freedesktop_os_release(), platform.release())


def parse_os_release(text: str) -> dict[str, str]:
    """The variables of an os-release file (quoted values unquoted)."""
    info = {}
    for line in text.splitlines():
        key, sep, value = line.strip().partition("=")
        if sep and key and not key.startswith("#"):
            try:
                info[key] = " ".join(shlex.split(value))
            except ValueError:
                info[key] = value
    return info


def linux_os_from(info: dict[str, str], kernel: str) -> Fact:
    name = info.get("NAME", "Linux")
    return Fact({"name": name, "version": info.get("VERSION_ID", info.get("VERSION", "")),
                 "build": f"kernel {kernel}"},
                (Evidence("file", "/etc/os-release", info.get("PRETTY_NAME")),
                 Evidence("platform", "uname -r", kernel)))


def machine() -> str:
    """``platform.machine()``, without its cost on Windows: there Python 3.11's
    ``platform.uname()`` starts ``cmd /c ver`` (a process start, slow on a cold PC and
    under Wine) before giving what it takes from the environment, read here directly."""
    if sys.platform == "win32":
        return (os.environ.get("PROCESSOR_ARCHITEW6432", "")
                or os.environ.get("PROCESSOR_ARCHITECTURE", ""))
    return platform.machine()


def processor() -> str:
    """``platform.processor()``; on Windows from the environment, as Python 3.11 reads it
    (without ``platform.uname()``'s ``cmd /c ver``: see :func:`machine`)."""
    if sys.platform == "win32":
        return os.environ.get("PROCESSOR_IDENTIFIER", machine())
    return platform.processor()


def arch_fact() -> Fact:
    arch = machine()
    return Fact(arch, (Evidence("platform", "platform.machine()", arch),))


def cpu_cores_fact() -> Fact:
    import psutil  # here: the probe sent to a fleet host (fleet/onhost.py) has no psutil
    cores = psutil.cpu_count(logical=True) or 0
    return Fact(cores, (Evidence("platform", "psutil.cpu_count(logical=True)", str(cores)),))


def cpu_model_fact() -> Optional[Fact]:
    if sys.platform.startswith("linux"):
        return cpu_model_from_cpuinfo(Path("/proc/cpuinfo").read_text(encoding="utf-8",
                                                                      errors="replace"))
    model = processor()
    return Fact(model, (Evidence("platform", "platform.processor()", model),)) if model else None


def cpu_model_from_cpuinfo(text: str) -> Optional[Fact]:
    for line in text.splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            return Fact(model, (Evidence("proc", "/proc/cpuinfo model name", model),))
    return None


def cpu_cores_from_cpuinfo(text: str) -> Fact:
    """Logical processors: the ``processor`` lines of /proc/cpuinfo."""
    cores = sum(1 for line in text.splitlines() if line.split(":")[0].strip() == "processor")
    return Fact(cores, (Evidence("proc", "/proc/cpuinfo processor", str(cores)),))


def ram_mb_fact() -> Fact:
    import psutil  # here: the probe sent to a fleet host (fleet/onhost.py) has no psutil
    total = psutil.virtual_memory().total
    where = "/proc/meminfo MemTotal" if sys.platform.startswith("linux") else "GlobalMemoryStatusEx"
    return ram_mb_from_bytes(total, where)


def ram_mb_from_bytes(total: int, where: str) -> Fact:
    return Fact(total // (1024 * 1024), (Evidence("proc", where, str(total)),))


def ram_mb_from_meminfo(text: str) -> Optional[Fact]:
    for line in text.splitlines():
        if line.startswith("MemTotal:"):
            return ram_mb_from_bytes(int(line.split()[1]) * 1024, "/proc/meminfo MemTotal")
    return None


def system_drive() -> str:
    return (os.environ.get("SystemDrive", "C:") + "\\") if sys.platform == "win32" else "/"


def disk_free_gb_fact() -> Fact:
    drive = system_drive()
    import psutil  # here: the probe sent to a fleet host (fleet/onhost.py) has no psutil
    return disk_free_gb_from(psutil.disk_usage(drive).free, f"disk_usage({drive}).free")


def disk_free_gb_from(free: int, where: str) -> Fact:
    return Fact(round(free / 1024 ** 3, 1), (Evidence("platform", where, str(free)),))


def uptime_days_fact() -> Fact:
    import psutil  # here: the probe sent to a fleet host (fleet/onhost.py) has no psutil
    return uptime_days_from(time.time(), psutil.boot_time())


def uptime_days_from(now: float, boot: float) -> Fact:
    return Fact(round((now - boot) / 86400, 2),
                (Evidence("proc", "boot time", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(boot))),))


def utc_offset_fact() -> Fact:
    offset = time.localtime().tm_gmtoff
    return utc_offset_from(offset, "time.localtime().tm_gmtoff")


def utc_offset_from(offset: int, where: str) -> Fact:
    return Fact(format_offset(offset), (Evidence("platform", where, str(offset)),))


def offset_seconds(text: str) -> int:
    """Seconds east of UTC from ``date +%z`` output (``+0700``)."""
    text = text.strip()
    sign = -1 if text.startswith("-") else 1
    digits = text.lstrip("+-")
    return sign * (int(digits[:2]) * 3600 + int(digits[2:4]) * 60)


def timezone_fact() -> Optional[Fact]:
    localtime = Path("/etc/localtime")
    timezone_file = Path("/etc/timezone")
    return timezone_from(
        os.environ.get("TZ"), os.readlink(localtime) if localtime.is_symlink() else None,
        timezone_file.read_text(encoding="utf-8") if timezone_file.exists() else None,
        time.tzname[0])


def timezone_from(tz_env: Optional[str], localtime_target: Optional[str],
                  timezone_text: Optional[str], tzname: Optional[str]) -> Optional[Fact]:
    """The time zone from $TZ, the /etc/localtime link, /etc/timezone, else the C library's."""
    if tz_env:
        return Fact(tz_env, (Evidence("environment", "TZ", tz_env),))
    if localtime_target:
        name = localtime_target.split("zoneinfo/", 1)[-1]
        return Fact(name, (Evidence("file", "/etc/localtime", localtime_target),))
    if timezone_text is not None:
        name = timezone_text.strip()
        return Fact(name, (Evidence("file", "/etc/timezone", name),))
    return Fact(tzname, (Evidence("platform", "time.tzname", tzname),)) if tzname else None


def locale_fact() -> Fact:
    name = locale.setlocale(locale.LC_CTYPE, None)
    lang = os.environ.get("LC_ALL") or os.environ.get("LANG") or ""
    return Fact(name, (Evidence("platform", "setlocale(LC_CTYPE)", name),
                       Evidence("environment", "LC_ALL/LANG", lang or None)))


def encoding_fact() -> Fact:
    encoding = locale.getpreferredencoding(False)
    return Fact(encoding, (Evidence("platform", "locale.getpreferredencoding()", encoding),))


def fonts_fact() -> Fact:
    families, evidence = vietnamese_fonts()
    return Fact(families, evidence)


def machine_identity_fact() -> Fact:
    """``{"machine_id": ..., "smbios_uuid": ...}`` of this machine (None where unreadable)."""
    if sys.platform == "win32":
        from .winsource import LiveWindowsSource
        return windows_machine_identity(LiveWindowsSource())
    return linux_machine_identity(_read_small_file)


def _read_small_file(path: str) -> Optional[str]:
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace")[:4096]
    except OSError:
        return None


def linux_machine_identity(read: Callable[[str], Optional[str]]) -> Fact:
    """From the files (``read(path)``: the text, or None when absent or unreadable)."""
    evidence = []
    machine_id = None
    for path in MACHINE_ID_FILES:
        machine_id = clean_machine_id(read(path))
        evidence.append(Evidence("file", path, machine_id))
        if machine_id:
            break
    smbios = clean_uuid(read(SMBIOS_UUID_FILE))
    evidence.append(Evidence("file", SMBIOS_UUID_FILE, smbios or "unreadable (root only) or unset"))
    return Fact({"machine_id": machine_id, "smbios_uuid": smbios}, tuple(evidence))


def windows_machine_identity(source) -> Fact:
    """From the registry (a ``winsource.WindowsSource``, live or the collector's document)."""
    guid = source.value("HKLM", MACHINE_GUID[0], MACHINE_GUID[1], 64)
    config = source.value("HKLM", HARDWARE_CONFIG[0], HARDWARE_CONFIG[1], 64)
    machine_id = clean_machine_id(guid if isinstance(guid, str) else None)
    smbios = clean_uuid(config if isinstance(config, str) else None)
    return Fact({"machine_id": machine_id, "smbios_uuid": smbios},
                (Evidence("registry", "HKLM\\" + "\\".join(MACHINE_GUID), machine_id),
                 Evidence("registry", "HKLM\\" + "\\".join(HARDWARE_CONFIG), smbios)))


def clean_machine_id(text: Optional[str]) -> Optional[str]:
    """The id in lower case; None for an absent, empty or "uninitialized" id."""
    value = (text or "").strip().strip("{}").lower()
    return value if value and value != "uninitialized" and set(value) - {"0", "-"} else None


def clean_uuid(text: Optional[str]) -> Optional[str]:
    value = clean_machine_id(text)
    return None if value is None or value in _UNSET_UUIDS else value


SYSTEM_COLLECTORS: dict[str, Callable[[], Optional[Fact]]] = {
    "os": os_fact,
    "arch": arch_fact,
    "cpu_model": cpu_model_fact,
    "cpu_cores": cpu_cores_fact,
    "ram_mb": ram_mb_fact,
    "disk_free_gb": disk_free_gb_fact,
    "uptime_days": uptime_days_fact,
    "timezone": timezone_fact,
    "utc_offset": utc_offset_fact,
    "locale": locale_fact,
    "encoding": encoding_fact,
    "vietnamese_fonts": fonts_fact,
    "machine_identity": machine_identity_fact,
}


def encoding_of_locale(name: str) -> str:
    """The character set a locale name selects (``vi_VN.UTF-8`` -> ``UTF-8``; ``C`` -> ASCII)."""
    codeset = name.split(".", 1)[1].split("@", 1)[0] if "." in name else ""
    if codeset.replace("-", "").lower() == "utf8":
        return "UTF-8"
    return codeset or "ANSI_X3.4-1968"
