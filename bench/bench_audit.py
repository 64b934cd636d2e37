#!/usr/bin/env python3
"""Local audit benchmark: wall time, peak RSS and import time of egov-probe, beside the baseline
`ansible -m setup localhost -c local` measured on the same machine in the same run.

Goals (issue 2): audit <= 0.5 s, peak RSS <= 50 MB, import <= 0.3 s; exit code 1 when any is
missed, 0 when all are met.
Run: .venv/bin/python bench/bench_audit.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
GOALS = {"audit_s": 0.5, "peak_rss_mb": 50.0, "import_s": 0.3}


def measure(command: list[str]) -> tuple[float, float, int]:
    """(wall seconds, peak RSS in MB of the process tree, exit code) of one run."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               cwd=ROOT)
    _pid, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    return wall, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status)


def median_of(command: list[str], runs: int) -> tuple[float, float]:
    results = [measure(command) for _ in range(runs)]
    codes = {code for _wall, _rss, code in results}
    if codes - {0, 1}:
        raise SystemExit(f"{' '.join(command)} failed with exit codes {codes}")
    return statistics.median(r[0] for r in results), max(r[1] for r in results)


def import_seconds(runs: int) -> float:
    code = ("import time; t = time.perf_counter(); "
            "import egov_probe.commands.main, egov_probe.audit.run; print(time.perf_counter() - t)")
    samples = [float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                    check=True, cwd=ROOT).stdout) for _ in range(runs)]
    return statistics.median(samples)


def audit_command(out_dir: str) -> list[str]:
    command = [sys.executable, "-m", "egov_probe", "audit", "--out", out_dir, "--json"]
    help_text = subprocess.run(command[:4] + ["--help"], capture_output=True, text=True).stdout
    if "--no-network" in help_text:
        command.append("--no-network")  # the benchmark is of the local audit without network checks
    return command


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    ansible = shutil.which("ansible", path=str(BIN)) or shutil.which("ansible")
    with tempfile.TemporaryDirectory() as out_dir:
        audit_s, audit_rss = median_of(audit_command(out_dir), args.runs)
    imports = import_seconds(args.runs)
    print(f"egov-probe audit (median of {args.runs}): {audit_s:.3f} s, peak RSS {audit_rss:.1f} MB,"
          f" import {imports:.3f} s")
    if ansible:
        base_s, base_rss = median_of([ansible, "-m", "ansible.builtin.setup", "localhost",
                                      "-c", "local"], args.runs)
        print(f"baseline ansible -m setup localhost -c local (median of {args.runs}): "
              f"{base_s:.3f} s, peak RSS {base_rss:.1f} MB")
        print(f"ratio time   audit/ansible: {audit_s / base_s:.3f}  ({base_s / audit_s:.1f}x faster)")
        print(f"ratio memory audit/ansible: {audit_rss / base_rss:.3f}")
    else:
        print("baseline: ansible not found (install the test extras)")
    verdicts = {"audit_s": audit_s, "peak_rss_mb": audit_rss, "import_s": imports}
    for name, value in verdicts.items():
        print(f"goal {name} <= {GOALS[name]}: {value:.3f} {'met' if value <= GOALS[name] else 'NOT met'}")
    met = all(value <= GOALS[name] for name, value in verdicts.items())
    print("all goals met" if met else "some goal NOT met")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
