"""Session fixtures of the Wine test bed (imported by tests/conftest.py)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Iterator

import pytest

from . import scenario as sc
from .bed import WineBed, boot_with_python, missing_parts, new_base, tear_down
from .plant import current_user, plant, reinstall_chrome_32_bit

REPORTS = r"C:\egov-reports"


@dataclass
class Run:
    """What one probe command under Wine printed, and what it was asked."""

    report: dict[str, Any]
    evidence: dict[str, Any]
    installs: tuple[sc.Install, ...]
    current: tuple[str, str]  # SID and folder of the logged-on Wine account


def audit(bed: WineBed, *args: str) -> dict[str, Any]:
    result = bed.probe("audit", "--json", "--out", REPORTS, *args)
    assert result.returncode in (0, 1), result.stderr[-3000:]
    return json.loads(result.stdout)


def evidence(bed: WineBed) -> dict[str, Any]:
    result = bed.probe("evidence", check=True)
    return json.loads(result.stdout)


@pytest.fixture(scope="session")
def wine_bed() -> Iterator[WineBed]:
    missing = missing_parts()
    if missing:
        pytest.fail("the Wine test bed needs: " + "; ".join(missing))
    bed = boot_with_python(new_base())
    try:
        yield bed
    finally:
        left = tear_down(bed)
        assert not left, f"Wine processes left running: {left}"
        assert not bed.base.exists()


@pytest.fixture(scope="session")
def bare_run(wine_bed: WineBed) -> Run:
    """The fresh prefix before anything is planted: Wine's own Internet Explorer only."""
    return Run(audit(wine_bed), evidence(wine_bed), (), current_user(wine_bed))


@pytest.fixture(scope="session")
def planted_run(wine_bed: WineBed, bare_run: Run, tmp_path_factory) -> Run:
    current = current_user(wine_bed)
    installs = sc.with_current_user(sc.INSTALLS, current[1])
    plant(wine_bed, installs, tmp_path_factory.mktemp("exes"))
    report = audit(wine_bed, "--unit", "thi-tran-yen-thanh", "--officer", "Nguyễn Thị Lan")
    return Run(report, evidence(wine_bed), installs, current)


@pytest.fixture(scope="session")
def chrome32_run(wine_bed: WineBed, planted_run: Run, tmp_path_factory) -> Run:
    reinstall_chrome_32_bit(wine_bed, tmp_path_factory.mktemp("exes32"))
    installs = tuple(sc.CHROME_32 if i is sc.CHROME_64 else i for i in planted_run.installs)
    return Run({}, evidence(wine_bed), installs, planted_run.current)


__all__ = ["wine_bed", "bare_run", "planted_run", "chrome32_run", "Run", "REPORTS"]
