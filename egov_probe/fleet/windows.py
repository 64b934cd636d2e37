"""The Windows collector script (PowerShell) and the parsing of the JSON it prints.

The document is in the Windows evidence format, so the local Windows collector's code
(``facts/browsers_windows.py`` over a ``FixtureWindowsSource``) finds the browsers; its
``system`` section becomes the same facts as the local audit's, with the same parse functions.
"""

from __future__ import annotations

import base64
from importlib import resources
from typing import Any, Callable, Optional

from ..audit.sections import BrowserScan
from ..core.errors import InputError
from ..core.model import Evidence
from ..core.yamlsource import COLLECTOR_LIMITS, parse_json_text
from ..facts import browsers_windows as bw
from ..facts import system as sysfacts
from ..facts.base import Fact
from ..facts.fonts import fonts_from_windows_files
from ..facts.winsource import FORMAT, FixtureWindowsSource, pe_machine
from .reports import RemoteEvidence

SCRIPT_RESOURCE = "windows.ps1"
KEY_DEPTHS = {bw.UNINSTALL: 1, bw.APP_PATHS: 1, bw.START_MENU: 4, bw.GOOGLE_UPDATE: 0,
              bw.EDGE_UPDATE: 0, bw.FIREFOX: 2, bw.INTERNET_EXPLORER: 0,
              bw.BEACONS["chrome"]: 0, bw.BEACONS["edge"]: 0}
ENVIRONMENT = ("ProgramFiles", "ProgramW6432", "ProgramFiles(x86)", "PROCESSOR_ARCHITECTURE",
               "PROCESSOR_ARCHITEW6432", "SystemDrive", "SystemRoot", "windir")


def windows_script() -> str:
    """The PowerShell collector with its lists (from ``facts/browsers_windows.py``) on top."""
    body = resources.files("egov_probe.fleet.collectors").joinpath(SCRIPT_RESOURCE).read_text("utf-8")
    keys = ",\n  ".join(f"@{{ Path = {_ps(path)}; Depth = {depth} }}"
                        for path, depth in KEY_DEPTHS.items())
    known = sorted({relative for _browser, _base, relative in bw.KNOWN_PATHS})
    return (f"$EgovKeys = @(\n  {keys}\n)\n"
            f"$EgovKnownFiles = @({', '.join(_ps(k) for k in known)})\n"
            f"$EgovEnv = @({', '.join(_ps(e) for e in ENVIRONMENT)})\n" + body)


def _ps(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def parse_document(text: str) -> dict[str, Any]:
    """The collector's JSON; each file's PE header becomes its machine type."""
    try:  # the project's one JSON loader: a hostile host cannot nest or grow it without bound
        document = parse_json_text(text.lstrip("\ufeff"), "the collector's output",
                                   COLLECTOR_LIMITS)
    except InputError as exc:
        raise ValueError(exc.detail()) from exc
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ValueError(f"the collector did not print a {FORMAT} document")
    for info in document.get("files", {}).values():
        header = info.pop("pe_header", None)
        if header and "machine" not in info:
            info["machine"] = pe_machine(base64.b64decode(header))
    return document


def windows_evidence(document: dict[str, Any]) -> RemoteEvidence:
    source = FixtureWindowsSource(document)
    system = document.get("system", {})
    return RemoteEvidence(system=system_collectors(source, system),
                          browsers=lambda: windows_scan(source),
                          hostname=system.get("hostname"), complete=True)


def windows_scan(source: FixtureWindowsSource) -> BrowserScan:
    scan = bw.scan_windows_browsers(source)
    return BrowserScan(list(scan.browsers), scan.as_fact(),
                       [f"{p.user or p.sid}: {p.reason}" for p in scan.unreadable_profiles])


def system_collectors(source: FixtureWindowsSource,
                      system: dict[str, Any]) -> dict[str, Callable[[], Optional[Fact]]]:
    need = lambda key: _need(system, key)  # noqa: E731
    return {
        "os": lambda: bw.windows_os_fact(source),
        "arch": lambda: Fact(bw.windows_arch(source) or "",
                             (Evidence("environment", "PROCESSOR_ARCHITECTURE",
                                       source.environ("PROCESSOR_ARCHITECTURE")),)),
        "cpu_model": lambda: Fact(need("cpu_model"), (Evidence("command", "Get-CimInstance Win32_Processor Name",
                                                              need("cpu_model")),)),
        "cpu_cores": lambda: Fact(int(need("logical_processors")),
                                  (Evidence("command", "Get-CimInstance Win32_ComputerSystem NumberOfLogicalProcessors",
                                            str(need("logical_processors"))),)),
        "ram_mb": lambda: sysfacts.ram_mb_from_bytes(int(need("ram_bytes")),
                                                     "Win32_ComputerSystem.TotalPhysicalMemory"),
        "disk_free_gb": lambda: sysfacts.disk_free_gb_from(
            int(need("disk_free_bytes")), f"Win32_LogicalDisk({need('system_drive')}).FreeSpace"),
        "uptime_days": lambda: sysfacts.uptime_days_from(float(need("now_epoch")),
                                                         float(need("boot_epoch"))),
        "timezone": lambda: Fact(need("time_zone"), (Evidence("platform", "TimeZoneInfo.Local.Id",
                                                              need("time_zone")),)),
        "utc_offset": lambda: sysfacts.utc_offset_from(int(need("utc_offset_seconds")),
                                                       "TimeZoneInfo.Local.GetUtcOffset"),
        "locale": lambda: Fact(need("culture"), (Evidence("platform", "Get-Culture",
                                                          need("culture")),)),
        "encoding": lambda: _encoding(str(need("ansi_code_page"))),
        "vietnamese_fonts": lambda: Fact(*fonts_from_windows_files(list(need("fonts")),
                                                                   need("fonts_folder"))),
        "machine_identity": lambda: sysfacts.windows_machine_identity(source),
    }


def _need(system: dict[str, Any], key: str) -> Any:
    if system.get(key) is None:
        raise ValueError(f"the collector printed no {key}")
    return system[key]


def _encoding(code_page: str) -> Fact:
    encoding = "UTF-8" if code_page == "65001" else f"cp{code_page}"
    return Fact(encoding, (Evidence("registry", "HKLM\\SYSTEM\\CurrentControlSet\\Control\\Nls"
                                                "\\CodePage ACP", code_page),))
