#!/usr/bin/env python3
"""Portable Windows kit benchmark: a cold audit from the unzipped kit under Wine, beside the
same audit on Linux (this checkout's Python) measured in the same run; and the zip's size.

"Cold": the prefix's wineserver is stopped before each run, so Wine and the kit's Python start
from nothing (as a double-click on a PC that was idle), with the kit's files in the page cache.
Timed until the audit's process exits (what a technician waits for); beside it, the time until
Wine was idle too (the wineserver and the services a cold start brings up hold the audit's
stderr pipe until the wineserver's persistence delay ends, ~2 s after the audit exited: the
number this benchmark gave before 2026-12-06), and Wine's own cold start (``cmd /c exit``), the
part of the time that is Wine's and not the kit's. The load average is printed: the machine is
shared.
Goals (issue 15): cold audit from the kit <= 3 s under Wine on this machine, zip <= 40 MB.
Needs the Wine test bed's cache (./scripts/test.sh fills it) and Debian's wine64.
Run: flock /tmp/egov-heavy.lock .venv/bin/python bench/bench_kit.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from egov_probe.kit.build import build_kit  # noqa: E402
from tests.wine.bed import CACHE, boot, embed_zip, missing_parts, new_base, tear_down  # noqa: E402

GOALS = {"kit_cold_audit_s": 3.0, "zip_mb": 40.0}
UNIT = "thi-tran-yen-thanh"


def timed(run) -> float:
    started = time.perf_counter()
    result = run()
    elapsed = time.perf_counter() - started
    checked(result)
    return elapsed


def checked(result: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    if result.returncode not in (0, 1):
        raise SystemExit(f"audit failed ({result.returncode}): {result.stderr[-1500:]}")
    return result


def cold_runs(bed, command: tuple[str, ...], runs: int) -> tuple[list[float], list[float]]:
    """Each run after ``wineserver -k``: seconds to the program's exit, and to Wine idle."""
    exits, idles = [], []
    for _ in range(runs):
        bed.stop()
        exited, idle, result = bed.timed_run(*command, timeout=600)
        checked(result)
        exits.append(exited)
        idles.append(idle)
    return exits, idles


def load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def listed(values: list[float]) -> str:
    return ", ".join(f"{value:.2f}" for value in values)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    missing = missing_parts()
    if missing:
        raise SystemExit("needs: " + "; ".join(missing))
    with tempfile.TemporaryDirectory(prefix="egov-bench-kit-") as work:
        kit = build_kit(Path(work), embed_zip(), CACHE / "wheels")
        zip_mb = kit.stat().st_size / 1e6
        bed = boot(new_base())
        try:
            with zipfile.ZipFile(kit) as archive:
                archive.extractall(bed.host_path(r"C:\USB"))
            command = ("cmd", "/c", r"C:\USB\egov-probe\egov-probe.cmd", "audit", "--unit", UNIT,
                       "--officer", "Bench", "--out", r"C:\USB\bao-cao")
            bed.run(*command, timeout=600)  # first start: Wine builds its caches once
            load_before = load()
            wine_start, _ = cold_runs(bed, ("cmd", "/c", "exit"), args.runs)
            wine, idle = cold_runs(bed, command, args.runs)
            load_after = load()
        finally:
            left = tear_down(bed)
        linux_command = [sys.executable, "-m", "egov_probe", "audit", "--unit", UNIT,
                         "--officer", "Bench", "--out", str(Path(work) / "linux")]
        linux = [timed(lambda: subprocess.run(linux_command, capture_output=True, text=True,
                                              cwd=ROOT)) for _ in range(args.runs)]
    kit_s, linux_s = statistics.median(wine), statistics.median(linux)
    print(f"load average (1, 5, 15 min): {load_before} before, {load_after} after the Wine runs")
    print(f"kit cold audit under Wine: {kit_s:.2f} s (median of {args.runs}: {listed(wine)})")
    print(f"  of which Wine's own cold start (cmd /c exit): {statistics.median(wine_start):.2f} s "
          f"({listed(wine_start)})")
    print(f"  until Wine was idle too (wineserver gone): {statistics.median(idle):.2f} s "
          f"({listed(idle)})")
    print(f"same audit on Linux (baseline): {linux_s:.2f} s  ratio kit/Linux: "
          f"{kit_s / linux_s:.1f}x")
    print(f"kit zip: {zip_mb:.1f} MB")
    misses = [f"kit cold audit {kit_s:.2f} s > {GOALS['kit_cold_audit_s']} s"] \
        if kit_s > GOALS["kit_cold_audit_s"] else []
    misses += [f"zip {zip_mb:.1f} MB > {GOALS['zip_mb']} MB"] if zip_mb > GOALS["zip_mb"] else []
    if left:
        misses.append(f"Wine processes left: {left}")
    for miss in misses:
        print("GOAL MISSED: " + miss)
    print("all goals met" if not misses else "")
    return 1 if misses else 0


if __name__ == "__main__":
    raise SystemExit(main())
