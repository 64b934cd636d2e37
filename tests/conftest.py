"""Shared test helpers: the project root and running the real ``egov-probe`` command."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def project_root() -> Path:
    return ROOT


def run_probe(*args: str, env: dict | None = None, cwd: Path | None = None,
              timeout: float = 120) -> subprocess.CompletedProcess:
    """Run ``python -m egov_probe ARGS`` as a user would, and capture what it prints."""
    full_env = {**os.environ, "PYTHONIOENCODING": "utf-8", **(env or {})}
    return subprocess.run([sys.executable, "-m", "egov_probe", *args], capture_output=True,
                          text=True, encoding="utf-8", env=full_env, cwd=cwd, timeout=timeout,
                          check=False)


@pytest.fixture
def probe():
    return run_probe
