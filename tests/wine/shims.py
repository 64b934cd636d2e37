"""Windows 10 system DLLs that Wine 8 (Debian 12) lacks, built with Debian's mingw-w64 for the
test prefix only (never shipped in the kit).

``bcryptprimitives.dll``: Rust's standard library (1.78 and later) takes its random bytes from
``ProcessPrng`` there, so every Rust extension built for Windows 10+ imports it, among them
``cryptography``'s ``_rust.pyd`` (the kit signs reports with it). Windows 10 and 11 have it;
Wine 8 has not (``DLL load failed while importing _rust: Module not found``). The shim's
``ProcessPrng`` fills the buffer from ``RtlGenRandom`` (advapi32), as Windows' does from its
own generator.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

SOURCE = r"""
#include <windows.h>
#include <ntsecapi.h>

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T size)
{
    while (size) {
        ULONG part = size > 0x10000000 ? 0x10000000 : (ULONG)size;
        if (!RtlGenRandom(data, part))
            return FALSE;
        data += part;
        size -= part;
    }
    return TRUE;
}
"""
DEF = "LIBRARY bcryptprimitives\nEXPORTS\n    ProcessPrng\n"


def build_bcryptprimitives(work: Path) -> Path:
    """``work/bcryptprimitives.dll`` (x64), compiled once."""
    dll = work / "bcryptprimitives.dll"
    if dll.exists():
        return dll
    work.mkdir(parents=True, exist_ok=True)
    (work / "shim.c").write_text(SOURCE, encoding="ascii")
    (work / "shim.def").write_text(DEF, encoding="ascii")
    subprocess.run(["x86_64-w64-mingw32-gcc", "-shared", "-O2", "-o", str(dll),
                    str(work / "shim.c"), str(work / "shim.def"), "-ladvapi32"],
                   check=True, capture_output=True, timeout=120)
    return dll


def plant_bcryptprimitives(bed, work: Path) -> None:
    """The shim into the prefix's ``C:\\windows\\system32`` unless Wine has one."""
    target = bed.host_path(r"C:\windows\system32\bcryptprimitives.dll")
    if not target.exists():
        target.write_bytes(build_bcryptprimitives(work).read_bytes())
