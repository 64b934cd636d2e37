#!/usr/bin/env python3
"""Hostile input benchmark: how fast and how small a refusal is, beside the baseline of
`egov-probe policy-check` on the shipped policy, measured on the same machine in the same run.

Goals (issue 14): a YAML alias bomb ("billion laughs") refused in under 1 s and 100 MB, by
`policy-check` and `units -i`; a 17 MB report refused by `validate` in under 1 s; JSON nested
100,000 deep and a 5,000-digit number refused in under 1 s.
Run: .venv/bin/python bench/bench_hostile.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOALS = {"seconds": 1.0, "peak_rss_mb": 100.0}
BOMB = "\n".join(["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"] +
                 [f"{c}: &{c} [{', '.join([f'*{p}'] * 9)}]"
                  for p, c in zip("abcdefgh", "bcdefghi")]) + "\n"


def measure(args: list[str]) -> tuple[float, float, int]:
    """(wall seconds, peak RSS in MB, exit code) of ``egov-probe ARGS``."""
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "egov_probe", *args], cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _pid, status, usage = os.wait4(process.pid, 0)
    return time.perf_counter() - started, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status)


def cases(folder: Path) -> dict[str, list[str]]:
    bomb = folder / "bomb.yml"
    bomb.write_text(BOMB, encoding="utf-8")
    big = folder / "big.json"
    with open(big, "wb") as handle:
        handle.write(b'{"schema_version": "1.0", "report_id": "')
        handle.truncate(17 * 1024 * 1024)
    deep = folder / "deep.json"
    deep.write_bytes(b'{"report_id": ' + b"[" * 100_000 + b"]" * 100_000 + b"}")
    number = folder / "number.json"
    number.write_bytes(b'{"schema_version": ' + b"9" * 5000 + b"}")
    return {"policy-check bomb": ["policy-check", str(bomb)],
            "units -i bomb": ["units", "-i", str(bomb)],
            "validate 17 MB": ["validate", str(big)],
            "validate deep": ["validate", str(deep)],
            "validate number": ["validate", str(number)]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    runs = parser.parse_args().runs
    baseline = statistics.median(measure(["policy-check", "egov_probe/data/policy.yml"])[0]
                                 for _ in range(runs))
    print(f"baseline: policy-check of the shipped policy {baseline:.2f} s")
    missed = []
    with tempfile.TemporaryDirectory() as folder:
        for name, args in cases(Path(folder)).items():
            results = [measure(args) for _ in range(runs)]
            seconds = statistics.median(r[0] for r in results)
            rss = max(r[1] for r in results)
            codes = {r[2] for r in results}
            ok = codes == {2} and seconds <= GOALS["seconds"] and rss <= GOALS["peak_rss_mb"]
            print(f"{name:18} {seconds:5.2f} s ({seconds / baseline:4.1f}x baseline) "
                  f"{rss:5.0f} MB exit {sorted(codes)} {'ok' if ok else 'MISSED'}")
            if not ok:
                missed.append(name)
    if missed:
        print(f"goals missed: {', '.join(missed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
