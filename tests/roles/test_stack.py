"""The Egov core stack converged on real systemd servers (a database server and an application
server that is also the proxy and the mail relay), then verified by checks/."""

from __future__ import annotations

import json
import subprocess

import pytest
from serverstack import BIN, ROOT, SPLIT, make_stack

from checks.netprobe import http_get
from egov_probe.report_io import validation_errors

pytestmark = pytest.mark.servers


@pytest.fixture(scope="module")
def stack(lab, tmp_path_factory):
    lab.boot(list(SPLIT))
    return make_stack(lab, tmp_path_factory.mktemp("stack"), SPLIT)


@pytest.fixture(scope="module")
def converged(stack):
    run = stack.playbook()
    assert run.returncode == 0, run.output[-6000:]
    return run


def test_first_converge_succeeds(converged):
    recap = converged.recap()
    assert set(recap) == set(SPLIT)
    assert all(host["failed"] == 0 and host["unreachable"] == 0 for host in recap.values())
    assert all(host["changed"] > 0 for host in recap.values())


def test_check_mode_on_converged_servers_reports_no_change(stack, converged):
    run = stack.playbook("--check", "--diff")
    assert run.returncode == 0, run.output[-6000:]
    assert run.total("changed") == 0, run.changed_tasks()


def test_second_converge_changes_nothing(stack, converged):
    run = stack.playbook()
    assert run.returncode == 0, run.output[-6000:]
    assert run.total("changed") == 0, run.changed_tasks()


def run_checks(stack, out_dir) -> subprocess.CompletedProcess:
    cmd = [str(BIN / "pytest"), "checks/",
           "--hosts=ansible://provincial_servers", f"--ansible-inventory={stack.inventory}",
           f"--junitxml={out_dir / 'servers.xml'}", f"--egov-json-dir={out_dir / 'json'}",
           "-p", "no:cacheprovider", "-q"]
    return subprocess.run(cmd, cwd=ROOT, env=stack.env(), capture_output=True, text=True,
                          timeout=600, check=False)


def test_checks_pass_and_write_one_report_per_server(stack, converged, tmp_path):
    result = run_checks(stack, tmp_path)
    assert result.returncode == 0, result.stdout[-6000:]
    reports = [json.loads(p.read_text()) for p in sorted((tmp_path / "json").glob("*.json"))]
    assert sorted(r["host"]["hostname"] for r in reports) == sorted(SPLIT)
    for report in reports:
        assert validation_errors(report) == []
        assert report["host"]["kind"] == "server"
        statuses = {c["id"]: c["status"] for c in report["checks"]}
        assert not {"fail", "error"} & set(statuses.values()), statuses
    assert (tmp_path / "servers.xml").read_text().count("<testcase") > 20


def serve(lab, path: str) -> tuple[int, dict]:
    """GET a module's URL through the proxy on the application server."""
    status, _headers, body = http_get(lab.containers["egov-app"].address, path,
                                      "egov.nghean.gov.vn", tls=True)
    return status, json.loads(body or b"{}")


def current_release(lab, module: str) -> str:
    out = lab.ssh(lab.containers["egov-app"], f"readlink /opt/egov/{module}/current").stdout
    return out.strip().rsplit("/", 1)[-1]


def test_new_release_deploys_and_a_broken_one_rolls_back(stack, lab, converged):
    stack.set_release("1.1.0")
    upgrade = stack.playbook("--tags", "egov_app")
    assert upgrade.returncode == 0, upgrade.output[-6000:]
    assert serve(lab, "/docmgmt/healthz") == (200, {"status": "ok", "database": "egov_docmgmt",
                                                    "version": "1.1.0"})
    stack.set_release("2.0.0", broken=True)
    broken = stack.playbook("--tags", "egov_app")
    assert broken.returncode != 0
    assert "rolled back to 1.1.0" in broken.output
    assert current_release(lab, "docmgmt") == "1.1.0"
    assert serve(lab, "/docmgmt/healthz")[1]["version"] == "1.1.0"
    assert serve(lab, "/onestop/healthz")[0] == 200
