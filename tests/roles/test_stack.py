"""The Egov core stack converged on three real systemd servers (the database, the application
that is also the mail relay, and the proxy apart, serving the sysadmin's certificate), then
verified by checks/."""

from __future__ import annotations

import hashlib
import json
import socket
import ssl
import subprocess

import pytest
from serverstack import BIN, ROOT, SPLIT, make_stack

from checks.netprobe import http_get
from egov_probe.core.report_file import validation_errors
from tests.servers.ca import TestCA

pytestmark = pytest.mark.servers
PORTAL = "egov.nghean.gov.vn"


@pytest.fixture(scope="module")
def ca(tmp_path_factory):
    return TestCA(tmp_path_factory.mktemp("ca"), common_name="Nghệ An test CA")


@pytest.fixture(scope="module")
def stack(lab, ca, tmp_path_factory):
    lab.boot(list(SPLIT))
    stack = make_stack(lab, tmp_path_factory.mktemp("stack"), SPLIT)
    issued = ca.issue("portal", PORTAL)
    stack.use_certificate(issued.cert, issued.key)
    return stack


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
    """Also the plain linear strategy (pipelining, SSH multiplexing) when Mitogen is off."""
    run = stack.playbook("--check", "--diff", extra_env={"EGOV_MITOGEN": "0"})
    assert run.returncode == 0, run.output[-6000:]
    assert run.total("changed") == 0, run.changed_tasks()


def test_second_converge_changes_nothing(stack, converged):
    run = stack.playbook()
    assert run.returncode == 0, run.output[-6000:]
    assert run.total("changed") == 0, run.changed_tasks()


def run_checks(stack, out_dir, ca) -> subprocess.CompletedProcess:
    cmd = [str(BIN / "pytest"), "checks/",
           "--hosts=ansible://provincial_servers", f"--ansible-inventory={stack.inventory}",
           f"--junitxml={out_dir / 'servers.xml'}", f"--egov-json-dir={out_dir / 'json'}",
           "-p", "no:cacheprovider", "-q"]
    env = {**stack.env(), "EGOV_CHECKS_CA_FILE": str(ca.root.cert)}
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=600, check=False)


def test_checks_pass_and_write_one_report_per_server(stack, ca, converged, tmp_path):
    result = run_checks(stack, tmp_path, ca)
    assert result.returncode == 0, result.stdout[-6000:]
    reports = [json.loads(p.read_text()) for p in sorted((tmp_path / "json").glob("*.json"))]
    assert sorted(r["host"]["hostname"] for r in reports) == sorted(SPLIT)
    for report in reports:
        assert validation_errors(report) == []
        assert report["host"]["kind"] == "server"
        statuses = {c["id"]: c["status"] for c in report["checks"]}
        assert not {"fail", "error"} & set(statuses.values()), statuses
        if report["host"]["hostname"] == "egov-proxy":
            assert statuses["server.nginx.certificate"] == "pass"
            assert statuses["server.app.health_via_proxy"] == "pass"
    assert (tmp_path / "servers.xml").read_text().count("<testcase") > 20


def served_certificate(lab) -> str:
    """SHA-256 of the certificate the proxy presents for the portal's name."""
    pem = ssl.get_server_certificate((lab.containers["egov-proxy"].address, 443), timeout=10)
    return hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).hexdigest()


def test_proxy_serves_the_provided_certificate(lab, ca, converged):
    context = ssl.create_default_context(cafile=str(ca.root.cert))
    address = lab.containers["egov-proxy"].address
    with context.wrap_socket(socket.create_connection((address, 443), timeout=10),
                             server_hostname=PORTAL) as tls:
        assert tls.version() in ("TLSv1.2", "TLSv1.3")
        assert dict(x[0] for x in tls.getpeercert()["subject"])["commonName"] == PORTAL


def test_a_certificate_that_does_not_fit_is_refused_before_it_is_installed(stack, lab, ca,
                                                                             converged):
    served = served_certificate(lab)
    wrong_name = ca.issue("other", "mail.example.vn")
    other_key = ca.issue("other-key", PORTAL).key
    before = stack.use_certificate(wrong_name.cert, other_key)
    try:
        run = stack.playbook("--tags", "egov_proxy")
    finally:
        stack.override(**before)
    assert run.returncode != 0
    assert "does not belong to this certificate" in run.output
    assert f"the certificate names mail.example.vn, not {PORTAL}" in run.output
    assert served_certificate(lab) == served
    assert stack.playbook("--tags", "egov_proxy").total("changed") == 0


def test_the_server_strategy_refuses_a_changed_host_key(stack, lab, tmp_path):
    """Mitogen runs the server plays; host key checking stays on there too."""
    stranger = tmp_path / "stranger"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(stranger)],
                   check=True)
    known_hosts = tmp_path / "known_hosts"
    address = lab.containers["egov-db"].address
    key_type, key = stranger.with_suffix(".pub").read_text().split()[:2]
    known_hosts.write_text(f"{address} {key_type} {key}\n")
    play = tmp_path / "ping.yml"
    play.write_text("- hosts: egov-db\n  gather_facts: false\n  strategy: egov_linear\n"
                    "  tasks:\n    - ansible.builtin.ping:\n")
    args = f"-o UserKnownHostsFile={known_hosts} -o StrictHostKeyChecking=yes -o BatchMode=yes"
    run = stack.playbook("-e", json.dumps({"ansible_ssh_common_args": args}), playbook=play)
    assert run.returncode != 0
    assert run.recap()["egov-db"]["unreachable"] == 1
    assert "host key" in run.output.lower()


def serve(lab, path: str) -> tuple[int, dict]:
    """GET a module's URL through the proxy server."""
    status, _headers, body = http_get(lab.containers["egov-proxy"].address, path, PORTAL,
                                      tls=True)
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
