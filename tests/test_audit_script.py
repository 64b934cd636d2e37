"""scripts/audit.sh installs only what the probe needs to run, never what the audit judges.

The script is run for real, with ``id``, ``dpkg-query`` and the venv stood in by small
scripts on PATH: ``dpkg-query`` says nothing is installed and ``id`` says we are not root, so
``apt_install`` names every package it would install and stops (nothing is installed, the host
is not touched). A fake venv records the ``egov-probe`` call when the install step passes.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Debian packages whose presence the audit judges (fonts and fc-list, browsers, locales):
# audit.sh installing any of them would make the audit pass what it should fail. (Python's
# venv brings ca-certificates: the probe needs it to verify TLS, a limit said in the README.)
JUDGED = re.compile(r"^(fonts-.*|fontconfig.*|ttf-.*|xfonts-.*|chromium.*|firefox.*|"
                    r"locales.*|google-chrome.*|microsoft-edge.*)$")


def _stub(folder: Path, name: str, body: str) -> None:
    path = folder / name
    path.write_text("#!/bin/sh\n" + body, encoding="utf-8")
    path.chmod(0o755)


def _run(tmp_path: Path, *, root: bool, installed: bool) -> subprocess.CompletedProcess:
    stubs = tmp_path / "bin"
    stubs.mkdir(exist_ok=True)
    _stub(stubs, "id", f'[ "$1" = -u ] && echo {0 if root else 1000} || exec /usr/bin/id "$@"\n')
    _stub(stubs, "dpkg-query", "echo 'install ok installed'\n" if installed else "exit 1\n")
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True, exist_ok=True)
    _stub(venv / "bin", "python", "exit 0\n")  # pip install -e: nothing to do here
    _stub(venv / "bin", "egov-probe", f'echo "$@" > {tmp_path / "called"}\n')
    env = {**os.environ, "PATH": f"{stubs}:{os.environ['PATH']}", "EGOV_VENV": str(venv)}
    return subprocess.run([str(ROOT / "scripts/audit.sh"), "--unit", "xa-ma-thanh"],
                          capture_output=True, text=True, env=env, timeout=60)


def test_audit_script_installs_nothing_the_audit_judges(tmp_path):
    result = _run(tmp_path, root=False, installed=False)
    assert result.returncode != 0
    found = re.search(r"missing Debian packages: (.*)", result.stderr)
    assert found, result.stderr
    packages = found.group(1).split()
    assert "python3" in packages and "python3-venv" in packages
    judged = [p for p in packages if JUDGED.match(p)]
    assert judged == [], f"audit.sh would install what the audit judges: {judged}"
    assert not (tmp_path / "called").exists()  # no audit after a failed install step


def test_audit_script_audits_the_machine_as_found(tmp_path):
    result = _run(tmp_path, root=True, installed=True)
    assert result.returncode == 0, result.stderr
    assert "apt-get" not in result.stderr
    assert (tmp_path / "called").read_text().split() == ["audit", "--unit", "xa-ma-thanh"]


@pytest.mark.skipif(shutil.which("apt-cache") is None, reason="apt-cache (Debian) needed")
def test_nothing_the_audit_judges_comes_in_as_a_dependency():
    """Installed with --no-install-recommends, the probe's packages bring no font or browser."""
    wanted = [line.split()[0] for line in
              (ROOT / "scripts/apt-packages.txt").read_text(encoding="utf-8").splitlines()
              if line.strip() and not line.lstrip().startswith("#")]
    known = subprocess.run(["apt-cache", "show", *wanted], capture_output=True, text=True)
    if known.returncode != 0:
        pytest.skip("apt lists not downloaded on this machine (apt-get update)")
    depends = subprocess.run(
        ["apt-cache", "depends", "--recurse", "--no-recommends", "--no-suggests",
         "--no-conflicts", "--no-breaks", "--no-replaces", "--no-enhances", *wanted],
        capture_output=True, text=True, check=True).stdout
    names = {line.strip().split(":")[-1].strip().strip("<>") for line in depends.splitlines()}
    assert "python3-venv" in names or "python3.11-venv" in names  # the listing is real
    assert sorted(n for n in names if JUDGED.match(n)) == []
