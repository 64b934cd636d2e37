"""Fonts that cover Vietnamese (TCVN 6909:2001, the Unicode Vietnamese repertoire)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Optional

from ..core.model import Evidence
from .base import SYSTEM_PATH

# The letters proper to Vietnamese: Ă ă Đ đ Ĩ ĩ Ũ ũ Ơ ơ Ư ư and the precomposed block Ạ..ỹ.
VIETNAMESE_CHARSET = "0102-0103 0110-0111 0128-0129 0168-0169 01a0-01a1 01af-01b0 1ea0-1ef9"

# Windows font files that carry the Vietnamese repertoire since Windows 2000/XP.
WINDOWS_VIETNAMESE_FONTS = {
    "times.ttf": "Times New Roman",
    "arial.ttf": "Arial",
    "tahoma.ttf": "Tahoma",
    "segoeui.ttf": "Segoe UI",
    "verdana.ttf": "Verdana",
    "calibri.ttf": "Calibri",
    "cambria.ttc": "Cambria",
}


def vietnamese_fonts() -> tuple[Optional[list[str]], tuple[Evidence, ...]]:
    """Font families covering Vietnamese; None when this machine gives no way to tell."""
    if sys.platform == "win32":
        return _windows_fonts(Path(os.environ.get("WINDIR", r"C:\Windows")) / "Fonts")
    return _fontconfig_fonts()


def _fontconfig_fonts() -> tuple[Optional[list[str]], tuple[Evidence, ...]]:
    fc_list = shutil.which("fc-list", path=SYSTEM_PATH)
    if not fc_list:
        return fonts_from_fc_list(None)
    result = subprocess.run([fc_list, f":charset={VIETNAMESE_CHARSET}", "family"],
                            capture_output=True, text=True, timeout=10, check=False)
    return fonts_from_fc_list(result.stdout)


def fc_list_command() -> str:
    return f"fc-list ':charset={VIETNAMESE_CHARSET}' family"


def fonts_from_fc_list(output: Optional[str]) -> tuple[Optional[list[str]], tuple[Evidence, ...]]:
    """Families from the output of :func:`fc_list_command`; None when fc-list was absent."""
    command = fc_list_command()
    if output is None:
        return None, (Evidence("command", command, "fc-list not found (fontconfig absent)"),)
    families = sorted({name.strip() for line in output.splitlines()
                       for name in line.split(",")[:1] if name.strip()})
    return families, (Evidence("command", command, f"{len(families)} families"),)


def _windows_fonts(folder: Path) -> tuple[Optional[list[str]], tuple[Evidence, ...]]:
    try:
        present = [p.name for p in folder.iterdir()]
    except OSError as exc:
        return None, (Evidence("file", str(folder), f"unreadable: {exc.strerror}"),)
    return fonts_from_windows_files(present, str(folder))


def fonts_from_windows_files(names: list[str],
                             folder: str) -> tuple[Optional[list[str]], tuple[Evidence, ...]]:
    """Families from the file names in the Windows fonts folder."""
    present = {name.lower() for name in names}
    families = sorted(name for file, name in WINDOWS_VIETNAMESE_FONTS.items() if file in present)
    return families, (Evidence("file", folder, ", ".join(families) or "none of the known files"),)
