"""The wheel a technician copies to a USB stick carries every data file the probe reads."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path


def test_wheel_ships_every_non_python_file_of_the_package(project_root: Path, tmp_path: Path):
    source = tmp_path / "src"  # a clean copy: no egg-info left by the editable install
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(project_root / name, source / name)
    shutil.copytree(project_root / "egov_probe", source / "egov_probe",
                    ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", str(source),
                    "-w", str(tmp_path)], check=True, capture_output=True, text=True)
    (wheel,) = tmp_path.glob("egov_probe-*.whl")
    shipped = set(zipfile.ZipFile(wheel).namelist())
    package = project_root / "egov_probe"
    needed = {str(p.relative_to(project_root)) for p in package.rglob("*")
              if p.is_file() and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts}
    assert needed, "the package has data files"
    assert needed - shipped == set()
