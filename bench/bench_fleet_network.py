"""Benchmark: what ``egov-probe fleet --network`` adds to a host's audit (issue 12, issue 14).

One command (root): ``python bench/bench_fleet_network.py`` starts namespace hosts
(``--hosts``, default 20), an nginx with the bench's own CA on their bridge address and a test
policy whose endpoints are only there (never the shipped policy's hosts), then runs
``egov-probe fleet`` on them twice in the same run: without and with ``--network``.

Baseline (measured in the same run): the network checks' own time on each host, as the probe
on the host timed its network and signature sections (``facts.network.run_on_host.seconds``).
Goal: per host, what ``--network`` adds to the audit's duration (``facts.fleet.duration_s``
with the option minus without) is no more than those checks' own time (median over the hosts;
the worst host is printed too). Exits 1 when the goal is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.netns.hosts import Fleet  # noqa: E402 - the same harness as the tests
from tests.servers.ca import TestCA  # noqa: E402
from tests.servers.nginx import Nginx  # noqa: E402
from tests.servers.policyfile import write_policy  # noqa: E402
from tests.servers.ports import free_port  # noqa: E402

PILOT = ROOT / "inventory/pilot.yml"


def policy(folder: Path, hosts: Fleet, portal: int, ca: TestCA) -> Path:
    network = {"overall_timeout_s": 8, "step_timeout_s": 2, "tls_min_version": "1.2",
               "cert_expiry_warn_days": 30, "ipv6_required": False,
               "ca_file": str(ca.root.cert),
               "clock_skew_s": {"warn_above": 60, "fail_above": 300},
               "endpoints": [{"id": f"portal{i}", "url": f"https://{hosts.gateway}:{portal}/p{i}",
                              "kind": "https", "name": {"vi": f"Cổng {i}", "en": f"Portal {i}"}}
                             for i in range(4)]}
    signature = {"vgca_root_required": False, "signing_service_required": False,
                 "signing_service_port": free_port()}
    return write_policy(folder, network=network, signature=signature)


def run(hosts: Fleet, inventory: Path, policy_path: Path, out: Path, forks: int,
        *extra: str) -> float:
    command = [sys.executable, "-m", "egov_probe", "fleet", "-i", str(PILOT), "-i",
               str(inventory), "--known-hosts", str(hosts.known_hosts), "--out", str(out),
               "--policy", str(policy_path), "--forks", str(forks), "--deadline", "120", *extra]
    started = time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   env={**os.environ, "PYTHONIOENCODING": "utf-8"}, check=False)
    return time.perf_counter() - started


def durations(out: Path) -> dict[str, dict]:
    found = {}
    for path in out.glob("*.json"):
        report = json.loads(path.read_text(encoding="utf-8"))
        found[path.stem] = {"duration": report["facts"]["fleet"]["duration_s"],
                            "own": (report["facts"].get("network", {}).get("run_on_host") or {})
                            .get("seconds")}
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=20)
    parser.add_argument("--forks", type=int, default=32)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="egov-bench-net-") as work:
        folder = Path(work)
        hosts = Fleet(folder / "hosts", args.hosts).start()
        try:
            ca = TestCA(folder / "ca")
            web = Nginx(folder / "nginx")
            portal = web.add_tls_server(ca.issue("portal", hosts.gateway), hosts=(hosts.gateway,))
            policy_path = policy(folder, hosts, portal, ca)
            inventory = hosts.inventory(folder / "inventory.yml")
            with web:
                load = os.getloadavg()[0]
                plain_wall = run(hosts, inventory, policy_path, folder / "plain", args.forks)
                net_wall = run(hosts, inventory, policy_path, folder / "net", args.forks,
                               "--network")
                load_after = os.getloadavg()[0]
        finally:
            hosts.close()
        plain, net = durations(folder / "plain"), durations(folder / "net")
    names = sorted(set(plain) & set(net))
    added = [net[n]["duration"] - plain[n]["duration"] for n in names]
    own = [net[n]["own"] for n in names if net[n]["own"] is not None]
    if len(own) != len(names) or not names:
        print(f"network checks did not run on every host ({len(own)}/{len(names)})")
        return 1
    median_added, median_own = statistics.median(added), statistics.median(own)
    print(f"{len(names)} hosts, forks {args.forks}: fleet {plain_wall:.1f} s, "
          f"fleet --network {net_wall:.1f} s (load average {load:.1f} before, "
          f"{load_after:.1f} after; this machine: {os.cpu_count()} CPUs)")
    print(f"per host: --network adds median {median_added:.2f} s (worst {max(added):.2f} s); "
          f"the network checks' own time (baseline): median {median_own:.2f} s "
          f"(worst {max(own):.2f} s); ratio {median_added / median_own:.2f}")
    goal = median_added <= median_own
    print("goal (issue 12): --network adds no more than the network checks' own time: "
          + ("met" if goal else "MISSED"))
    return 0 if goal else 1


if __name__ == "__main__":
    sys.exit(main())
