"""Shared test helpers: the project root and running the real ``egov-probe`` command."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.guard import Guard

ROOT = Path(__file__).resolve().parent.parent
GUARD = pytest.StashKey[Guard]()
GUARD_PROBLEMS = pytest.StashKey[list]()


def pytest_sessionstart(session: pytest.Session) -> None:
    """Snapshot the host before any test runs (see tests/guard.py)."""
    guard = Guard()
    guard.start()
    session.config.stash[GUARD] = guard


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """The session fails when it leaves the host otherwise than it found it."""
    guard = session.config.stash.get(GUARD, None)
    if guard is None:
        return
    problems = guard.problems()
    session.config.stash[GUARD_PROBLEMS] = problems
    if problems and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    problems = config.stash.get(GUARD_PROBLEMS, [])
    guard = config.stash.get(GUARD, None)
    limited = guard.limited() if guard else ""
    if limited:
        terminalreporter.line(f"host guard: devices and this session's processes only ({limited})",
                              yellow=True)
    if problems:
        terminalreporter.section("THE HOST WAS NOT LEFT AS IT WAS FOUND", red=True, bold=True)
        for problem in problems:
            terminalreporter.line(f"- {problem}", red=True)


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


# The Wine test bed (tests/wine/): one prefix per session, shared by the Wine tests.
from tests.wine.session import bare_run, chrome32_run, planted_run, wine_bed  # noqa: E402,F401
