"""Benchmark: N reports across the 78 units, imported into a fresh SQLite store, then the matrix
built and written as HTML and XLSX. Target: 10,000 reports in <= 5 s on the project machine
(exit code 1 when missed). Each report is a realistic one: this machine's real system and
browser sections plus the network, signature, clock and mailbox checks of the shipped policy
(as many checks as a full audit writes), with warnings, failures and errors drawn at random.

    python bench/bench_matrix.py [--sizes 1000,5000,10000]

Prints, for each size, the seconds for import and for the matrix, the time per 1,000 reports
(flat across sizes means linear growth; the matrix is per unit and per host, so its share is
nearly constant), the CPU seconds of this process and its import workers, and the ratio to the
baseline measured in the same run: reading and JSON-parsing the same files (the least any
importer must do). The machine's load average is printed: other work slows every row alike.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import resource
import shutil
import tempfile
import time
import uuid
from pathlib import Path

from egov_probe.core.model import CheckResult, Evidence, Report, Status, Text
from egov_probe.core.plan import load_plan
from egov_probe.matrix import MatrixFilter, load_unit_infos
from egov_probe.matrix.service import matrix_from_store
from egov_probe.audit.run import run_audit
from egov_probe.judge.policy import load_policy
from egov_probe.render.matrix_files import write_matrix
from egov_probe.store import import_paths, open_database

TARGET_SECONDS = 5.0
# Statuses drawn for each check of a generated report: mostly passing, with failures.
STATUSES = (["pass", "warn", "fail", "error"], [84, 8, 6, 2])
STEPS = ("dns", "tcp_v4", "tls", "http")


def template() -> Report:
    """A report as a real full audit writes it: this machine's real system and browser
    sections (facts with their evidence, judged by the shipped policy), plus one check per
    network endpoint and signature service of the shipped policy, IPv6, the clock, the VGCA
    root, the signing service and the two mailbox services, shaped as their judges shape them
    (network steps, evidence, details)."""
    policy = load_policy()
    report = run_audit(policy, officer="Nguyễn Thị Thu Hà")
    checks = list(report.checks)
    network_facts = {}
    for endpoint in policy.section("network").get("endpoints", []):
        kind = endpoint.get("kind", "https")
        category = "signature" if kind in ("crl", "ocsp", "timestamp") else "network"
        steps = [{"step": step, "ok": True, "ms": 12.5 + i, "message": None,
                  "data": {"address": "203.113.131.10", "family": "ipv4"}}
                 for i, step in enumerate(STEPS)]
        details = {"url": endpoint["url"], "route": "direct", "steps": steps}
        checks.append(CheckResult(f"{category}.{endpoint['id']}", category,
                                  Text(endpoint["name"]["vi"], endpoint["name"]["en"]),
                                  Status.PASS, observed="HTTP 200", expected="HTTP 2xx/3xx",
                                  evidence=[Evidence("network", endpoint["url"], "direct")],
                                  duration_ms=54.0, details=details))
        network_facts[endpoint["id"]] = details
    for check_id, category in (("network.ipv6", "network"), ("clock.skew", "clock"),
                               ("signature.vgca_root", "signature"),
                               ("signature.signing_service", "signature"),
                               ("mailbox.smtp", "mailbox"), ("mailbox.imap", "mailbox")):
        checks.append(CheckResult(check_id, category, Text(f"Mục {check_id}", f"Item {check_id}"),
                                  Status.PASS, observed="ok", expected="ok",
                                  evidence=[Evidence("network", check_id, "ok")]))
    facts = {**report.facts, "network": {"endpoints": network_facts}}
    return dataclasses.replace(report, checks=checks, facts=facts)


def make_reports(count: int, folder: Path, seed: int = 5) -> int:
    """``count`` reports of the real model, spread over the units' workstations and 6 months;
    returns the number of checks in each."""
    rng = random.Random(seed)
    base = template()
    units = load_unit_infos()
    hosts = [(info.unit.unit_id, f"{info.unit.unit_id[:12]}-{i}") for info in units
             for i in range(info.expected_workstations)]
    for index in range(count):
        unit_id, hostname = hosts[index % len(hosts)]
        day = rng.randrange(168)
        started = f"2015-{7 + day // 30:02d}-{1 + day % 28:02d}T0{rng.randrange(10)}:00:00.000000Z"
        checks = [_drawn(check, rng.choices(*STATUSES)[0]) for check in base.checks]
        report = dataclasses.replace(
            base, report_id=uuid.UUID(int=rng.getrandbits(128)).hex,
            host=dataclasses.replace(base.host, hostname=hostname, unit_id=unit_id),
            started_at=started, finished_at=started, checks=checks)
        (folder / f"{index:05d}.json").write_text(json.dumps(report.to_dict(), ensure_ascii=False),
                                                  encoding="utf-8")
    return len(base.checks)


def _drawn(check: CheckResult, status: str) -> CheckResult:
    if status == "pass":
        return dataclasses.replace(check, status=Status.PASS, remedy=None)
    return dataclasses.replace(check, status=Status(status),
                               remedy=check.remedy or Text(f"Khắc phục {check.id}: kiểm tra lại "
                                                           "cấu hình và chạy lại khảo sát",
                                                           f"Fix {check.id}: check the setup "
                                                           "and audit again"))


def baseline(folder: Path) -> float:
    started = time.perf_counter()
    for path in sorted(folder.glob("*.json")):
        json.loads(path.read_bytes())
    return time.perf_counter() - started


def run(count: int, work: Path) -> dict[str, float]:
    folder = work / f"reports-{count}"
    folder.mkdir()
    checks = make_reports(count, folder)
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
    return {"checks": checks, "import": imported - started, "matrix": finished - imported,
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
        print(f"goal: {max(sizes)} reports imported and the matrix written in <= "
              f"{TARGET_SECONDS} s; exit code 1 when missed")
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
        print(f"each report: {results[sizes[0]]['checks']} checks (as a full audit writes: "
              "system, browsers, network, signature, mailbox), ~16 % not passing")
        largest = max(sizes)
        verdict = "OK" if results[largest]["total"] <= TARGET_SECONDS else "OVER TARGET"
        print(f"{largest} reports: {results[largest]['total']:.2f} s "
              f"(target <= {TARGET_SECONDS} s): {verdict}")
        return 0 if verdict == "OK" else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
