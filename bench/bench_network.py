#!/usr/bin/env python3
"""Network section benchmark: endpoints probed concurrently, beside the same probes run one
after another (the baseline), measured in the same run against real servers started here.

Goals (issue 3): ten endpoints all up <= 1 s; the same ten with five black-holed (a network
namespace that drops every packet) <= one step timeout + 0.5 s.
Run as root: .venv/bin/python bench/bench_network.py [--step-timeout S] [--runs N]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from egov_probe.facts.network import ProbeSettings, probe_endpoint, probe_endpoints  # noqa: E402
from tests.servers.ca import TestCA  # noqa: E402
from tests.servers.netns import Netns  # noqa: E402
from tests.servers.nginx import Nginx  # noqa: E402

UP_GOAL_S = 1.0


def endpoints(ports: list[int], dead_address: str, dead: int) -> list[dict]:
    found = [{"id": f"up{i}", "url": f"https://127.0.0.1:{port}/", "kind": "https"}
             for i, port in enumerate(ports[:len(ports) - dead])]
    found += [{"id": f"dead{i}", "url": f"https://{dead_address}:{8443 + i}/", "kind": "https"}
              for i in range(dead)]
    return found


def timed(run) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def measure(targets: list[dict], settings: ProbeSettings, runs: int) -> tuple[float, float]:
    """Median seconds: all at once (overall bound far away) and one after another."""
    concurrent = [timed(lambda: probe_endpoints(targets, settings, overall_timeout=60))
                  for _ in range(runs)]
    sequential = [timed(lambda: [probe_endpoint(t, settings) for t in targets])
                  for _ in range(runs)]
    return statistics.median(concurrent), statistics.median(sequential)


def report(name: str, goal: float, concurrent: float, sequential: float) -> bool:
    ok = concurrent <= goal
    print(f"{name:<28} concurrent {concurrent:6.3f} s   one after another {sequential:6.3f} s"
          f"   ratio {sequential / concurrent:5.1f}x   goal <= {goal:.2f} s  "
          f"{'OK' if ok else 'MISSED'}")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--step-timeout", type=float, default=1.0)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="egov-bench-net-"))
    ca = TestCA(folder / "ca")
    web = Nginx(folder / "nginx")
    ports = [web.add_tls_server(ca.issue(f"s{i}", "127.0.0.1")) for i in range(10)]
    settings = ProbeSettings(step_timeout=args.step_timeout, ca_file=str(ca.root.cert))
    try:
        with web.start(), Netns() as ns:
            ns.blackhole()
            print(f"nginx: 10 TLS servers on 127.0.0.1; black hole: {ns.address} (namespace "
                  f"{ns.name}); step timeout {args.step_timeout} s; median of {args.runs} runs")
            all_up = measure(endpoints(ports, ns.address, 0), settings, args.runs)
            five_dead = measure(endpoints(ports, ns.address, 5), settings, args.runs)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    ok = report("10 endpoints, all up", UP_GOAL_S, *all_up)
    ok &= report("10 endpoints, 5 black-holed", args.step_timeout + 0.5, *five_dead)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
