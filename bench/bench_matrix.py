"""Benchmark: N reports across the 78 units, imported into a fresh SQLite store, then the matrix
built and written as HTML and XLSX. Target: 10,000 reports in <= 5 s on the project machine.

    python bench/bench_matrix.py [--sizes 1000,5000,10000]

Prints, for each size, the seconds for import and for the matrix, the time per 1,000 reports
(flat across sizes means linear growth; the matrix is per unit and per host, so its share is
nearly constant), the CPU seconds of this process and its import workers, and the ratio to the
baseline measured in the same run: reading and JSON-parsing the same files (the least any
importer must do). The machine's load average is printed: other work slows every row alike.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import tempfile
import time
import uuid
from pathlib import Path

from egov_probe.core.model import CheckResult, HostIdentity, PolicyRef, Report, Status, Text
from egov_probe.core.plan import load_plan
from egov_probe.matrix import MatrixFilter, load_unit_infos
from egov_probe.matrix.service import matrix_from_store
from egov_probe.render.matrix_files import write_matrix
from egov_probe.store import import_paths, open_database

CHECKS = ([(f"system.{n}", "system") for n in ("ram", "disk_free", "cpu_cores", "uptime",
                                                "utc_offset", "encoding", "vietnamese_fonts")]
          + [(f"browser.{b}.machine", "browser") for b in ("chrome", "firefox", "coccoc")]
          + [("network.egov_portal", "network"), ("signature.token_driver", "signature")])
TARGET_SECONDS = 5.0


def make_reports(count: int, folder: Path, seed: int = 5) -> None:
    """``count`` reports of the real model, spread over the units' workstations and 6 months."""
    rng = random.Random(seed)
    units = load_unit_infos()
    hosts = [(info.unit.unit_id, f"{info.unit.unit_id[:12]}-{i}") for info in units
             for i in range(info.expected_workstations)]
    for index in range(count):
        unit_id, hostname = hosts[index % len(hosts)]
        day = rng.randrange(168)
        started = f"2015-{7 + day // 30:02d}-{1 + day % 28:02d}T0{rng.randrange(10)}:00:00.000000Z"
        checks = [_check(cid, cat, rng.choices(["pass", "warn", "fail"], [90, 6, 4])[0])
                  for cid, cat in CHECKS]
        report = Report(uuid.UUID(int=rng.getrandbits(128)).hex,
                        HostIdentity(hostname, "workstation", unit_id, "Nguyễn Thị Thu Hà"),
                        PolicyRef("nghean-egov-2015", "0" * 64, "policy.yml"), started, started,
                        "+07:00", probe_version="bench", checks=checks,
                        facts={"system": {"ram": {"value": 8192}}})
        (folder / f"{index:05d}.json").write_text(json.dumps(report.to_dict(), ensure_ascii=False),
                                                  encoding="utf-8")


def _check(check_id: str, category: str, status: str) -> CheckResult:
    remedy = None if status == "pass" else Text(f"Khắc phục {check_id}", f"Fix {check_id}")
    return CheckResult(check_id, category, Text(f"Mục {check_id}", f"Item {check_id}"),
                       Status(status), observed=1, expected=1, remedy=remedy)


def baseline(folder: Path) -> float:
    started = time.perf_counter()
    for path in sorted(folder.glob("*.json")):
        json.loads(path.read_bytes())
    return time.perf_counter() - started


def run(count: int, work: Path) -> dict[str, float]:
    folder = work / f"reports-{count}"
    folder.mkdir()
    make_reports(count, folder)
    base = baseline(folder)
    unit_ids = [info.unit.unit_id for info in load_unit_infos()]
    database = open_database(work / f"store-{count}.sqlite")
    cpu_before = _cpu_seconds()
    started = time.perf_counter()
    summary = import_paths(database, [folder], unit_ids, work / "quarantine")
    imported = time.perf_counter()
    matrix = matrix_from_store(database, load_unit_infos(), load_plan(), MatrixFilter())
    write_matrix(matrix, work / f"out-{count}", "matrix", ("html", "xlsx"), "vi")
    finished = time.perf_counter()
    database.close()
    assert len(summary.imported) == count and not summary.quarantined
    return {"import": imported - started, "matrix": finished - imported,
            "total": finished - started, "baseline": base, "cpu": _cpu_seconds() - cpu_before}


def _cpu_seconds() -> float:
    """CPU time of this process and its finished workers (user + system)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,5000,10000")
    sizes = [int(s) for s in parser.parse_args().sizes.split(",")]
    work = Path(tempfile.mkdtemp(prefix="egov-bench-matrix-"))
    try:
        print("baseline: read + json.loads of the same report files (no validation, no store)")
        print(f"{'reports':>8} {'import s':>9} {'import s/1000':>13} {'matrix s':>9} "
              f"{'total s':>8} {'s/1000':>7} {'cpu s':>6} {'baseline s':>10} {'x baseline':>10}")
        results = {}
        for size in sizes:
            r = results[size] = run(size, work)
            print(f"{size:>8} {r['import']:>9.2f} {r['import'] / size * 1000:>13.3f} "
                  f"{r['matrix']:>9.2f} {r['total']:>8.2f} "
                  f"{r['total'] / size * 1000:>7.3f} {r['cpu']:>6.2f} {r['baseline']:>10.2f} "
                  f"{r['total'] / r['baseline']:>10.1f}")
        print(f"load average during the run: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores "
              f"(other work on the machine slows every row alike; compare the ratios)")
        largest = max(sizes)
        verdict = "OK" if results[largest]["total"] <= TARGET_SECONDS else "OVER TARGET"
        print(f"{largest} reports: {results[largest]['total']:.2f} s "
              f"(target <= {TARGET_SECONDS} s): {verdict}")
        return 0 if verdict == "OK" else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
