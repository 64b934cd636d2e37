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

The namespace hosts are not machines: they share this machine's CPUs with each other and with
the controller, where a real fleet's workstations each have their own. The goal is judged with
as many hosts at once as this machine has CPUs (``--forks``, default the CPU count), so that
no host's work waits for another host's CPU. A second run with every host at once
(``--all-at-once``) is printed too, not judged: there every host's python3 start, imports and
checks queue for the same CPUs, so what ``--network`` adds holds the start of every other
host's probe as well (its ratio is about 1 + the probe's start / the checks' CPU).
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
from tests.servers.policyfile import (network_rules, quiet_signature,  # noqa: E402
                                      write_policy)

PILOT = ROOT / "inventory/pilot.yml"


def policy(folder: Path, hosts: Fleet, portal: int, ca: TestCA) -> Path:
    network = network_rules([{"id": f"portal{i}", "url": f"https://{hosts.gateway}:{portal}/p{i}",
                              "kind": "https", "name": {"vi": f"Cổng {i}", "en": f"Portal {i}"}}
                             for i in range(4)], ca_file=str(ca.root.cert))
    return write_policy(folder, network=network, signature=quiet_signature())


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


def measure(hosts: Fleet, inventory: Path, policy_path: Path, folder: Path,
            forks: int) -> dict:
    """Both runs (without, then with ``--network``) at ``forks`` hosts at once, per host."""
    load = os.getloadavg()[0]
    plain_wall = run(hosts, inventory, policy_path, folder / "plain", forks)
    net_wall = run(hosts, inventory, policy_path, folder / "net", forks, "--network")
    plain, net = durations(folder / "plain"), durations(folder / "net")
    names = sorted(set(plain) & set(net))
    added = [net[n]["duration"] - plain[n]["duration"] for n in names]
    own = [net[n]["own"] for n in names if net[n]["own"] is not None]
    return {"forks": forks, "hosts": len(names), "complete": bool(names) and len(own) == len(names),
            "plain_wall": plain_wall, "net_wall": net_wall, "load": load,
            "load_after": os.getloadavg()[0], "added": added, "own": own}


def show(title: str, m: dict) -> float:
    """Prints one measurement; returns its ratio (added / own, medians)."""
    print(f"{title}: {m['hosts']} hosts, {m['forks']} at once: fleet {m['plain_wall']:.1f} s, "
          f"fleet --network {m['net_wall']:.1f} s (load average {m['load']:.1f} before, "
          f"{m['load_after']:.1f} after)")
    if not m["complete"]:
        print(f"  network checks did not run on every host ({len(m['own'])}/{m['hosts']})")
        return float("inf")
    median_added, median_own = statistics.median(m["added"]), statistics.median(m["own"])
    ratio = median_added / median_own
    print(f"  per host: --network adds median {median_added:.2f} s (worst "
          f"{max(m['added']):.2f} s); the network checks' own time (baseline): median "
          f"{median_own:.2f} s (worst {max(m['own']):.2f} s); ratio {ratio:.2f}")
    return ratio


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=20)
    parser.add_argument("--forks", type=int, default=os.cpu_count() or 1,
                        help="hosts at once for the goal (default: this machine's CPUs)")
    parser.add_argument("--all-at-once", type=int, default=32, metavar="FORKS",
                        help="hosts at once for the second, shown run (0: none)")
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
                judged = measure(hosts, inventory, policy_path, folder / "judged", args.forks)
                crowded = (measure(hosts, inventory, policy_path, folder / "crowded",
                                   args.all_at_once) if args.all_at_once else None)
        finally:
            hosts.close()
    print(f"this machine: {os.cpu_count()} CPUs, shared by the controller and every "
          "namespace host")
    ratio = show("as many hosts at once as CPUs (the goal)", judged)
    if crowded:
        show("all at once (shown, not judged: the hosts queue for the same CPUs)", crowded)
    goal = ratio <= 1
    print("goal (issue 12): --network adds no more than the network checks' own time, with "
          "each host's work on a CPU of its own: " + ("met" if goal else "MISSED"))
    return 0 if goal else 1


if __name__ == "__main__":
    sys.exit(main())
