"""Machine basics: OS, CPU, memory, disk, uptime, time zone, locale and Vietnamese fonts.

``SYSTEM_COLLECTORS`` maps each fact name to the function that reads it.
"""

from __future__ import annotations

import locale
import os
import platform
import sys
import time
from pathlib import Path
from typing import Callable, Optional

import psutil

from ..model import Evidence
from .base import Fact
from .fonts import vietnamese_fonts


def os_fact() -> Fact:
    if sys.platform.startswith("linux"):
        return _linux_os()
    release, version, build = platform.release(), platform.version(), ""
    if sys.platform == "win32":
        release, version, build = _windows_version()
    return Fact({"name": platform.system(), "version": release, "build": build or version},
                (Evidence("platform", "platform.uname()", f"{platform.system()} {version}"),))


def _linux_os() -> Fact:
    info = platform.freedesktop_os_release()
    name = info.get("NAME", "Linux")
    return Fact({"name": name, "version": info.get("VERSION_ID", info.get("VERSION", "")),
                 "build": f"kernel {platform.release()}"},
                (Evidence("file", "/etc/os-release", info.get("PRETTY_NAME")),
                 Evidence("platform", "uname -r", platform.release())))


def _windows_version() -> tuple[str, str, str]:
    release, version, _csd, _ptype = platform.win32_ver()
    build = version.rsplit(".", 1)[-1] if version else ""
    if release == "10" and build.isdigit() and int(build) >= 22000:
        release = "11"  # Windows 11 still reports itself as 10.0 with a build from 22000
    return release, version, build


def arch_fact() -> Fact:
    return Fact(platform.machine(), (Evidence("platform", "platform.machine()", platform.machine()),))


def cpu_cores_fact() -> Fact:
    cores = psutil.cpu_count(logical=True) or 0
    return Fact(cores, (Evidence("platform", "psutil.cpu_count(logical=True)", str(cores)),))


def cpu_model_fact() -> Optional[Fact]:
    if sys.platform.startswith("linux"):
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                return Fact(model, (Evidence("proc", "/proc/cpuinfo model name", model),))
        return None
    model = platform.processor()
    return Fact(model, (Evidence("platform", "platform.processor()", model),)) if model else None


def ram_mb_fact() -> Fact:
    total = psutil.virtual_memory().total
    where = "/proc/meminfo MemTotal" if sys.platform.startswith("linux") else "GlobalMemoryStatusEx"
    return Fact(total // (1024 * 1024), (Evidence("proc", where, str(total)),))


def system_drive() -> str:
    return (os.environ.get("SystemDrive", "C:") + "\\") if sys.platform == "win32" else "/"


def disk_free_gb_fact() -> Fact:
    drive = system_drive()
    free = psutil.disk_usage(drive).free
    return Fact(round(free / 1024 ** 3, 1), (Evidence("platform", f"disk_usage({drive}).free", str(free)),))


def uptime_days_fact() -> Fact:
    boot = psutil.boot_time()
    return Fact(round((time.time() - boot) / 86400, 2),
                (Evidence("proc", "boot time", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(boot))),))


def utc_offset_fact() -> Fact:
    offset = time.localtime().tm_gmtoff
    text = format_offset(offset)
    return Fact(text, (Evidence("platform", "time.localtime().tm_gmtoff", str(offset)),))


def format_offset(seconds: int) -> str:
    sign = "+" if seconds >= 0 else "-"
    minutes = abs(seconds) // 60
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def timezone_fact() -> Optional[Fact]:
    if os.environ.get("TZ"):
        return Fact(os.environ["TZ"], (Evidence("environment", "TZ", os.environ["TZ"]),))
    localtime = Path("/etc/localtime")
    if localtime.is_symlink():
        target = os.readlink(localtime)
        name = target.split("zoneinfo/", 1)[-1]
        return Fact(name, (Evidence("file", "/etc/localtime", target),))
    timezone_file = Path("/etc/timezone")
    if timezone_file.exists():
        name = timezone_file.read_text(encoding="utf-8").strip()
        return Fact(name, (Evidence("file", "/etc/timezone", name),))
    name = time.tzname[0]
    return Fact(name, (Evidence("platform", "time.tzname", name),))


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
}
