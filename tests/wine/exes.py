"""Windows executables with a real VERSIONINFO resource, built with Debian's mingw-w64.

Each is a trivial program (``main`` returns 0) linked with a version resource compiled by
``windres``: ``GetFileVersionInfoW`` reads it back as it reads a real browser's, and the PE
header says x64 or x86 as the compiler made it.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

TOOLCHAINS = {"x64": "x86_64-w64-mingw32", "x86": "i686-w64-mingw32"}

RC = """#include <winver.h>
VS_VERSION_INFO VERSIONINFO
FILEVERSION {commas}
PRODUCTVERSION {commas}
FILEFLAGSMASK 0x3fL
FILEFLAGS 0x0L
FILEOS VOS_NT_WINDOWS32
FILETYPE VFT_APP
FILESUBTYPE 0x0L
BEGIN
  BLOCK "StringFileInfo"
  BEGIN
    BLOCK "040904b0"
    BEGIN
      VALUE "CompanyName", "{company}"
      VALUE "FileDescription", "{product}"
      VALUE "FileVersion", "{file_version}"
      VALUE "InternalName", "{stem}"
      VALUE "OriginalFilename", "{name}"
      VALUE "ProductName", "{product}"
      VALUE "ProductVersion", "{version}"
    END
  END
  BLOCK "VarFileInfo"
  BEGIN
    VALUE "Translation", 0x409, 1200
  END
END
"""


@dataclass(frozen=True)
class Exe:
    """An executable to build: its file name, architecture and version resource."""

    name: str
    arch: str
    version: str
    product: str
    company: str
    file_version: str = ""  # the FileVersion string when it differs from ``version``


def build(exe: Exe, work: Path) -> Path:
    """Compile ``exe`` in ``work`` (once per distinct resource) and return its path."""
    numbers = (exe.version.split(".") + ["0"] * 4)[:4]
    stem = exe.name.rsplit(".", 1)[0]
    tag = f"{stem}-{exe.arch}-{exe.version}-{abs(hash((exe.product, exe.file_version)))}"
    out = work / tag / exe.name
    if out.exists():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    rc = out.parent / "version.rc"
    rc.write_text(RC.format(commas=",".join(numbers), company=exe.company, product=exe.product,
                            file_version=exe.file_version or exe.version, version=exe.version,
                            stem=stem, name=exe.name), encoding="ascii")
    (out.parent / "main.c").write_text("int main(void) { return 0; }\n", encoding="ascii")
    tools = TOOLCHAINS[exe.arch]
    _run([f"{tools}-windres", "version.rc", "-O", "coff", "-o", "version.o"], out.parent)
    _run([f"{tools}-gcc", "-O0", "-s", "-o", exe.name, "main.c", "version.o"], out.parent)
    return out


def _run(command: list[str], cwd: Path) -> None:
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise AssertionError(f"{command[0]} failed: {result.stderr}")
