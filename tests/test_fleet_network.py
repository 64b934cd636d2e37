"""``egov-probe fleet --network`` against real sshd hosts in network namespaces (root).

The network and signature checks run ON each host, with the host's own python3 (the probe is
sent over the SSH session, nothing installed), so reachability is the host's own. The test
policy's endpoints are only on addresses of this test: an nginx on the namespaces' bridge
address (reachable from the hosts, TLS with the test's own CA), a closed port there, and a
server on the controller's loopback, which a host's own loopback does not have (a check run on
the controller would pass it; run on the host, it fails). A host without python3 says
"not checked". Never the shipped policy's hosts.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from egov_probe.core.report_file import read_report
from tests.netns.hosts import Fleet, _command, leftovers
from tests.servers.ca import TestCA
from tests.servers.nginx import Nginx
from tests.servers.policyfile import network_rules, quiet_signature, write_policy
from tests.servers.ports import free_port

pytestmark = [pytest.mark.netns,
              pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces need root")]

ROOT = Path(__file__).resolve().parent.parent
PILOT = ROOT / "inventory/pilot.yml"


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fleetnet")
    hosts = Fleet(folder / "hosts", 2, {1: "no_python"}).start()
    try:
        ca = TestCA(folder / "ca")
        web = Nginx(folder / "nginx")
        portal = web.add_tls_server(ca.issue("portal", hosts.gateway), hosts=(hosts.gateway,))
        local_only = web.add_tls_server(None, hosts=("127.0.0.1",))
        closed = free_port(hosts.gateway)
        network = network_rules([
            {"id": "portal", "url": f"https://{hosts.gateway}:{portal}/", "kind": "https",
             "name": {"vi": "Cổng dịch vụ công", "en": "Public service portal"}},
            {"id": "closed", "url": f"http://{hosts.gateway}:{closed}/", "kind": "http",
             "name": {"vi": "Cổng đóng", "en": "Closed port"}},
            {"id": "controller_only", "url": f"http://127.0.0.1:{local_only}/",
             "kind": "http", "name": {"vi": "Chỉ máy điều khiển", "en": "Controller only"}}],
            ca_file=str(ca.root.cert))
        policy = write_policy(folder, network=network, signature=quiet_signature())
        with web:
            yield {"hosts": hosts, "policy": policy, "folder": folder}
    finally:
        hosts.close()
        assert leftovers(hosts.tag) == []


def run_fleet(lab, out: Path, *args: str) -> subprocess.CompletedProcess:
    hosts = lab["hosts"]
    inventory = hosts.inventory(lab["folder"] / "inventory.yml")
    command = [sys.executable, "-m", "egov_probe", "fleet", "-i", str(PILOT), "-i",
               str(inventory), "--known-hosts", str(hosts.known_hosts), "--out", str(out),
               "--policy", str(lab["policy"]), "--deadline", "60", "--connect-timeout", "5",
               *args]
    return subprocess.run(command, capture_output=True, text=True, encoding="utf-8",
                          timeout=300, env={**os.environ, "PYTHONIOENCODING": "utf-8"})


def checks_of(out: Path, host) -> tuple[dict, dict]:
    path = out / f"{host.name}.json"
    read_report(path)  # valid against the published schema
    report = json.loads(path.read_text(encoding="utf-8"))
    return report, {c["id"]: c for c in report["checks"]}


def test_network_checks_run_on_each_host_or_say_not_checked(lab, tmp_path):
    hosts = lab["hosts"]
    out = tmp_path / "reports"
    result = run_fleet(lab, out, "--network")
    assert result.returncode in (0, 1), result.stderr
    with_python, without = hosts.hosts[0], hosts.host("no_python")

    report, checks = checks_of(out, with_python)
    assert report["outcome"] == "complete"
    assert checks["network.portal"]["status"] == "pass", checks["network.portal"]
    closed = checks["network.closed"]
    assert closed["status"] == "fail" and "refused" in json.dumps(closed, ensure_ascii=False)
    # the controller reaches its own loopback; the host, with its own loopback, does not:
    # the check ran on the host
    assert checks["network.controller_only"]["status"] == "fail"
    assert report["facts"]["network"]["run_on_host"]["python"].startswith("3.")
    assert {c["category"] for c in report["checks"]} >= {"system", "browser", "network",
                                                         "signature"}
    assert "network.not_checked" not in checks
    assert report["host"]["machine_id"] == Path("/etc/machine-id").read_text().strip()

    report, checks = checks_of(out, without)
    assert report["outcome"] == "complete"  # the rest of the audit is unharmed
    for section in ("network", "signature"):
        skipped = checks[f"{section}.not_checked"]
        assert skipped["status"] == "skipped" and "python3" in skipped["observed"]
        assert skipped["title"]["vi"].endswith("chưa kiểm tra")
        assert "egov-probe audit --network" in skipped["remedy"]["vi"]
    assert not [c for c in checks if c.startswith("network.") and c != "network.not_checked"]
    assert "system.ram" in checks

    # nothing left behind: no process besides the hosts' sshd, no file in their homes
    for host in hosts.hosts:
        others = [_command(pid) for pid in hosts.pids(host) if pid != host.process.pid]
        assert [c for c in others if c and "sshd" not in c] == [], others
        assert list((hosts.workdir / host.name / "root").iterdir()) == []


def test_without_the_option_nothing_runs_on_the_hosts_network(lab, tmp_path):
    out = tmp_path / "reports"
    run_fleet(lab, out)
    _report, checks = checks_of(out, lab["hosts"].hosts[0])
    assert not [c for c in checks if c.split(".")[0] in ("network", "signature")]


def test_network_with_fetched_evidence_is_refused(lab, tmp_path):
    result = run_fleet(lab, tmp_path / "reports", "--network", "--from-evidence",
                       str(tmp_path))
    assert result.returncode == 2 and "--network" in result.stderr
