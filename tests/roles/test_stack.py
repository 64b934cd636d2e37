"""The Egov core stack converged on three real systemd servers (the database, the application
that is also the mail relay, and the proxy apart, serving the sysadmin's certificate), then
verified by checks/."""

from __future__ import annotations

import gzip
import hashlib
import http.client
import json
import re
import socket
import ssl
import subprocess
import time

from pathlib import Path

import pytest
from aptrepo import PACKAGE, build_deb, publish
from relay import ProvincialRelay
from serverstack import BIN, ROOT, SPLIT, issue_rsa, make_stack

from checks.netprobe import http_get
from egov_probe.core import signing
from egov_probe.core.report_file import validation_errors
from tests.servers.ca import TestCA
from tests.test_store_factory import make_report, write_report

pytestmark = pytest.mark.servers
PORTAL = "egov.nghean.gov.vn"
COLLECTOR = "thu-thap.egov.nghean.gov.vn"  # the collector's site on the proxy (same certificate)


@pytest.fixture(scope="module")
def ca(tmp_path_factory):
    return TestCA(tmp_path_factory.mktemp("ca"), common_name="Nghệ An test CA")


@pytest.fixture(scope="module")
def stack(lab, ca, tmp_path_factory):
    lab.boot(list(SPLIT))
    stack = make_stack(lab, tmp_path_factory.mktemp("stack"), SPLIT)
    issued = ca.issue("portal", PORTAL, COLLECTOR)
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


# --- The collector (issue 16): egov-probe serve on the proxy server, its store on egov-db ------


class _CollectorConnection(http.client.HTTPSConnection):
    """HTTPS to the proxy's address as a probe reaches the collector: SNI and Host the collector's
    name, the certificate verified against the test CA."""

    def __init__(self, address: str, cafile: Path) -> None:
        super().__init__(address, 443, timeout=30,
                         context=ssl.create_default_context(cafile=str(cafile)))

    def connect(self) -> None:
        sock = socket.create_connection((self.host, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=COLLECTOR)


def collector_call(lab, ca, method: str, path: str, body: bytes = b"",
                   headers: dict | None = None) -> tuple[int, bytes]:
    conn = _CollectorConnection(lab.containers["egov-proxy"].address, ca.root.cert)
    try:
        conn.request(method, path, body=body, headers={"Host": COLLECTOR, **(headers or {})})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def test_collector_checks_pass(stack, ca, converged, tmp_path):
    """checks/test_collector.py on the live collector: running, loopback only, sandboxed,
    secrets root-only and off the command line, /v1/ and /events through nginx."""
    result = run_checks_named(stack, ca, tmp_path, "collector")
    statuses = {cid: status for cid, (status, _observed) in proxy_statuses(tmp_path).items()
                if cid.startswith("server.collector.")}
    assert len(statuses) == 5 and set(statuses.values()) == {"pass"}, result.stdout[-4000:]


def test_collector_takes_a_signed_report_through_nginx(lab, ca, converged, tmp_path):
    """Enroll with a token made on the server, then upload a signed, gzipped report over real
    HTTPS through nginx: 201, then 200 for the same bytes; the report is in egov-db's store."""
    made = lab.ssh(lab.containers["egov-proxy"],
                   "egov-collector token create --unit xa-ma-thanh --uses 1", timeout=120)
    assert made.returncode == 0, made.stdout + made.stderr
    [token] = re.findall(r"egt_[A-Za-z0-9_-]+", made.stdout)
    key = signing.generate_private_key()
    public = signing.public_key_text(key)
    status, body = collector_call(lab, ca, "POST", "/v1/enroll", json.dumps(
        {"token": token, "public_key": public, "hostname": "ws1", "machine_id": None}).encode(),
        {"Content-Type": "application/json"})
    assert status == 201, body
    key_id = json.loads(body)["key_id"]
    report = make_report(unit_id="xa-ma-thanh", hostname="ws1")
    data = write_report(report, tmp_path).read_bytes()
    signature = signing.sign_report(key, data)
    headers = {"Content-Type": "application/json", "Content-Encoding": "gzip",
               "X-Egov-Key-Id": key_id, "X-Egov-Signature": signature.signature,
               "X-Egov-Outbox": "0"}
    path = f"/v1/reports/{report.report_id}"
    first = collector_call(lab, ca, "PUT", path, gzip.compress(data), headers)
    again = collector_call(lab, ca, "PUT", path, gzip.compress(data), headers)
    assert first[0] == 201 and json.loads(first[1]) == {"status": "imported"}, first
    assert again[0] == 200 and json.loads(again[1]) == {"status": "duplicate"}, again
    stored = lab.ssh(lab.containers["egov-db"], "runuser -u postgres -- psql -XAt -d egov_collector "
                     f"-c \"SELECT count(*) FROM reports WHERE report_id = '{report.report_id}'\"")
    assert stored.stdout.strip() == "1", stored.stdout + stored.stderr


def test_collector_body_limit_is_enforced_by_nginx(lab, ca, converged):
    """client_max_body_size is the collector's limit: one byte more is refused by the proxy."""
    limit = 8 * 1024 * 1024
    status, _body = collector_call(lab, ca, "PUT", "/v1/reports/too-big", b"x" * (limit + 1),
                                   {"Content-Type": "application/json"})
    assert status == 413


# --- Hardening (issue 17) -------------------------------------------------------------------

SSH_ALLOWED = {
    "HostKeyAlgorithms": {"ssh-ed25519", "ssh-ed25519-cert-v01@openssh.com"},
    "KexAlgorithms": {"sntrup761x25519-sha512@openssh.com", "curve25519-sha256",
                      "curve25519-sha256@libssh.org", "diffie-hellman-group16-sha512",
                      "diffie-hellman-group18-sha512"},
    "Ciphers": {"chacha20-poly1305@openssh.com", "aes256-gcm@openssh.com",
                "aes128-gcm@openssh.com", "aes256-ctr", "aes192-ctr", "aes128-ctr"},
    "MACs": {"hmac-sha2-512-etm@openssh.com", "hmac-sha2-256-etm@openssh.com",
             "umac-128-etm@openssh.com"},
}
SSH_QUERY = {"HostKeyAlgorithms": "HostKeyAlgorithms", "KexAlgorithms": "kex", "Ciphers": "cipher",
             "MACs": "mac"}


def ssh_accepts(lab, address: str, option: str, algorithm: str) -> bool:
    """One real SSH handshake offering a single algorithm (MACs with a non-AEAD cipher)."""
    extra = ["-o", "Ciphers=aes128-ctr"] if option == "MACs" else []
    result = subprocess.run(["ssh", *lab.ssh_options, "-o", f"{option}={algorithm}", *extra,
                             f"root@{address}", "true"], capture_output=True, text=True,
                            timeout=30, check=False)
    if result.returncode != 0 and "no matching" not in result.stderr \
            and "Unable to negotiate" not in result.stderr \
            and "Bad SSH2" not in result.stderr and "unsupported" not in result.stderr.lower():
        pytest.fail(f"{option}={algorithm}: unexpected failure: {result.stderr}")
    return result.returncode == 0


@pytest.mark.parametrize("option", list(SSH_ALLOWED))
def test_sshd_negotiates_only_the_allowed_algorithms(lab, converged, option):
    """Every algorithm this client knows (ssh -Q), offered alone in a real handshake."""
    known = subprocess.run(["ssh", "-Q", SSH_QUERY[option]], capture_output=True, text=True,
                           check=True).stdout.split()
    address = lab.containers["egov-db"].address
    accepted = {alg for alg in known if ssh_accepts(lab, address, option, alg)}
    assert accepted and accepted <= SSH_ALLOWED[option], sorted(accepted)
    if option == "HostKeyAlgorithms":
        assert accepted == {"ssh-ed25519"}  # no certificate is configured


def test_sshd_shows_the_vietnamese_legal_banner(lab, converged):
    result = lab.ssh(lab.containers["egov-app"], "true")
    assert result.returncode == 0
    assert "CẢNH BÁO" in result.stderr and "Điều 289" in result.stderr


def run_checks_named(stack, ca, tmp_path, expr: str) -> subprocess.CompletedProcess:
    cmd = [str(BIN / "pytest"), "checks/", "--hosts=ansible://egov_proxy_servers",
           f"--ansible-inventory={stack.inventory}", "-p", "no:cacheprovider", "-q", "-rA",
           "-k", expr, f"--egov-json-dir={tmp_path}"]
    env = {**stack.env(), "EGOV_CHECKS_CA_FILE": str(ca.root.cert)}
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
                          check=False)


def proxy_statuses(tmp_path) -> dict:
    [report] = [json.loads(p.read_text()) for p in tmp_path.glob("*.json")]
    return {c["id"]: (c["status"], c["observed"]) for c in report["checks"]}


@pytest.mark.parametrize("key_type", ["rsa", "ec"])
def test_nginx_offers_exactly_the_profile_for_the_certificate_type(stack, lab, ca, converged,
                                                                   key_type, tmp_path):
    """openssl s_client, one suite at a time, against an RSA and then an EC certificate."""
    issued = (issue_rsa(ca, "portal-rsa", PORTAL, COLLECTOR) if key_type == "rsa"
              else ca.issue("portal-ec", PORTAL, COLLECTOR))
    stack.use_certificate(issued.cert, issued.key)
    run = stack.playbook("--tags", "egov_proxy")
    assert run.returncode == 0, run.output[-4000:]
    result = run_checks_named(stack, ca, tmp_path, "tls_profile or server_preference")
    assert result.returncode == 0, result.stdout[-4000:]
    statuses = proxy_statuses(tmp_path)
    status, observed = statuses["server.nginx.tls_profile"]
    assert status == "pass" and observed["certificate"] == key_type
    suites = observed["tls1_2"]
    assert suites and all(("-RSA-" in s) == (key_type == "rsa") for s in suites), suites
    assert statuses["server.nginx.server_preference"][0] == "pass"


def test_modern_profile_is_tls13_only(stack, lab, ca, converged, tmp_path):
    before = stack.override(egov_proxy_tls_profile="modern")
    try:
        run = stack.playbook("--tags", "egov_proxy")
        assert run.returncode == 0, run.output[-4000:]
        result = run_checks_named(stack, ca, tmp_path, "tls_profile or tls13 or tls12")
        statuses = proxy_statuses(tmp_path)
    finally:
        stack.override(**before)
        stack.playbook("--tags", "egov_proxy")
    assert statuses["server.nginx.tls_profile"][0] == "pass", result.stdout[-3000:]
    assert statuses["server.nginx.tls_profile"][1]["tls1_2"] == []
    assert statuses["server.nginx.tls12_accepted"][0] == "fail"


MAIL_DOMAIN = "tinh.egov-test.vn"
RELAY_NAME = "mail.egov-test.vn"


def queued_reasons(lab) -> list[str]:
    """Why the mail relay holds its queued messages (postqueue -j delay_reason)."""
    out = lab.ssh(lab.containers["egov-app"], "postqueue -j").stdout
    return [r.get("delay_reason", "") for line in out.splitlines() if line.strip()
            for r in json.loads(line).get("recipients", [])]


def send_and_wait(lab, relay, subject: str, timeout: float = 60) -> tuple[bool, list[str]]:
    """Send one message through the relay; (delivered to the provincial server, queue reasons)."""
    app = lab.containers["egov-app"]
    lab.ssh(app, f"printf 'Subject: {subject}\\n\\nthử nghiệm\\n' | "
                 f"/usr/sbin/sendmail -f notify@nghean.gov.vn vanthu@{MAIL_DOMAIN}", check=True)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lab.ssh(app, "postqueue -f")
        time.sleep(3)
        if any(subject in m for m in relay.received()):
            return True, queued_reasons(lab)
        reasons = [r for r in queued_reasons(lab) if r]
        if subject.startswith("refused") and reasons:
            return False, reasons
    return False, queued_reasons(lab)


def test_mail_relay_sends_only_to_a_relay_whose_certificate_verifies(stack, lab, converged,
                                                                     tmp_path):
    """A real Postfix as the provincial server, its certificate from a second CA."""
    provincial_ca = TestCA(tmp_path / "provincial-ca", common_name="Provincial mail CA")
    port = 2587
    relay = ProvincialRelay(provincial_ca.issue("relay", RELAY_NAME), lab.net.gateway, port,
                            lab.net.cidr, MAIL_DOMAIN)
    app = lab.containers["egov-app"]
    # Postfix's smtp client runs chrooted: it reads the copy of /etc/hosts in its chroot.
    entry = f"{lab.net.gateway} {RELAY_NAME}"
    lab.ssh(app, f"echo '{entry}' >> /etc/hosts; echo '{entry}' >> /var/spool/postfix/etc/hosts",
            check=True)
    before = stack.override(egov_stack_mail_relayhost=f"[{RELAY_NAME}]:{port}")
    try:
        with relay:
            run = stack.playbook("--tags", "egov_mail_relay")
            assert run.returncode == 0, run.output[-4000:]
            sent, reasons = send_and_wait(lab, relay, "refused-untrusted-ca")
            assert not sent
            assert reasons and all("certificate not verified" in r for r in reasons), reasons
            stack.override(egov_mail_relay_tls_ca_src=str(provincial_ca.root.cert))
            run = stack.playbook("--tags", "egov_mail_relay")
            assert run.returncode == 0, run.output[-4000:]
            sent, reasons = send_and_wait(lab, relay, "accepted-provincial-ca", timeout=90)
            assert sent, reasons
            conf = lab.ssh(app, "postconf -h smtp_tls_security_level smtp_tls_CAfile").stdout
            assert conf.split() == ["secure", "/etc/postfix/egov-relay-ca.pem"]
    finally:
        stack.override(**before, egov_mail_relay_tls_ca_src=None)
        lab.ssh(app, "postsuper -d ALL")


def test_a_relay_level_that_verifies_nothing_is_refused_by_the_role(stack, converged):
    before = stack.override(egov_mail_relay_tls_security_level="encrypt")
    try:
        run = stack.playbook("--tags", "egov_mail_relay", "--check")
    finally:
        stack.override(**before)
    assert run.returncode != 0
    assert "does not\nverify" in run.output or "does not verify" in run.output


def _upgrading(lab, server) -> bool:
    # The unattended-upgrade program itself, not the unattended-upgrade-shutdown daemon that
    # unattended-upgrades.service keeps running for good.
    state = lab.ssh(server, "systemctl is-active apt-daily-upgrade.service; "
                            "pgrep -f 'bin/[u]nattended-upgrade( |$)' >/dev/null "
                            "&& echo running").stdout
    words = state.split()
    return not words or words[0] in ("active", "activating", "reloading", "deactivating") \
        or "running" in words


def test_a_security_update_is_installed_by_unattended_upgrades(lab, converged, tmp_path):
    """A package from a local repository that names itself Debian's security archive."""
    app = lab.containers["egov-app"]
    old, new = build_deb(tmp_path, "1.0"), build_deb(tmp_path, "1.1")
    repo = app.merged / "srv" / "egov-test-security"
    publish(repo, new, "bookworm")
    (app.merged / "srv" / old.name).write_bytes(old.read_bytes())  # /tmp is the container's tmpfs
    lab.ssh(app, f"dpkg -i /srv/{old.name}", check=True)
    lab.ssh(app, "echo 'deb [trusted=yes] file:/srv/egov-test-security ./' "
                 "> /etc/apt/sources.list.d/egov-test-security.list && apt-get -q update",
            check=True)
    assert lab.ssh(app, f"dpkg-query -W -f '${{Version}}' {PACKAGE}").stdout == "1.0"
    # What the apt-daily-upgrade timer starts: apt.systemd.daily, then unattended-upgrade.
    lab.ssh(app, "systemctl start apt-daily-upgrade.service", timeout=900)
    # The upgrade may restart dbus under systemctl, which then returns early, and the day's real
    # security updates may come with the fixture: wait until the unit is done and no
    # unattended-upgrade process is left (an answer that cannot be read counts as busy).
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline and _upgrading(lab, app):
        time.sleep(3)
    result = lab.ssh(app, "cat /var/log/unattended-upgrades/unattended-upgrades.log")
    version = lab.ssh(app, f"dpkg-query -W -f '${{Version}}' {PACKAGE}").stdout
    assert version == "1.1", result.stdout[-3000:] + result.stderr[-2000:]
