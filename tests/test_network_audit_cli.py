"""``egov-probe audit --network --mailbox-user`` as a user runs it, against real servers:
nginx (a valid and an expired certificate), dnsmasq, Postfix and Dovecot, with a policy file
pointing at them. Also proves the mail password never leaves the process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from egov_probe.core.report_file import validation_errors
from tests.servers.ca import TestCA
from tests.servers.dnsmasq import Dnsmasq
from tests.servers.mail import MailServers
from tests.servers.nginx import Nginx
from tests.servers.policyfile import network_rules, quiet_signature, write_policy

pytestmark = pytest.mark.services
ROOT = Path(__file__).resolve().parent.parent
USER, PASSWORD = "thu.ptm@egov.test", "Bí-mật-7Qz!"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    folder = tmp_path_factory.mktemp("site")
    ca = TestCA(folder / "ca")
    web = Nginx(folder / "nginx")
    names = ("qlvb.egov.test", "motcua.egov.test")
    ok = web.add_tls_server(ca.issue("ok", *names))
    expired = web.add_tls_server(ca.issue("expired", *names, expired=True))
    dns = Dnsmasq(folder / "dns", {n: ["127.0.0.1"] for n in names})
    mail = MailServers(ca.issue("mail", "127.0.0.1"), {USER: PASSWORD})
    with web.start(), dns.start(), mail.start():
        mail.deliver(USER, "Subject: Lich hop\n\nThu moi.\n")
        network = network_rules([
            {"id": "qlvb", "url": f"https://qlvb.egov.test:{ok}/", "kind": "https",
             "name": {"vi": "Quản lý văn bản", "en": "Document management"}},
            {"id": "motcua", "url": f"https://motcua.egov.test:{expired}/",
             "kind": "https", "name": {"vi": "Một cửa điện tử", "en": "One-stop shop"}}],
            overall_timeout_s=10, resolvers=[dns.resolver], ca_file=str(ca.root.cert))
        mailbox = {"submission_url": f"smtp://127.0.0.1:{mail.submission_port}",
                   "imap_url": f"imaps://127.0.0.1:{mail.imaps_port}"}
        policy = write_policy(folder, network=network, mailbox=mailbox,
                              signature=quiet_signature())
        yield {"policy": policy, "mail": mail, "resolver": dns.resolver}


def _audit(site, out: Path, *args: str, env: dict | None = None, stdin: str = "",
           watch: str | None = None) -> tuple[subprocess.CompletedProcess, list[str]]:
    """Run the audit; with ``watch``, scan every /proc/*/cmdline for it while it runs."""
    full_env = {**os.environ, "PYTHONIOENCODING": "utf-8", **(env or {})}
    command = [sys.executable, "-m", "egov_probe", "audit", "--policy", str(site["policy"]),
               "--network", "--mailbox-user", USER, "--out", str(out), *args]
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, env=full_env, cwd=ROOT,
                               start_new_session=True)  # no terminal: getpass reads stdin
    seen: list[str] = []
    scanner = threading.Thread(target=_scan_cmdlines, args=(process, watch, seen))
    if watch:
        scanner.start()
    stdout, stderr = process.communicate(stdin.encode("utf-8"), timeout=120)
    if watch:
        scanner.join()
    done = subprocess.CompletedProcess(command, process.returncode,
                                       stdout.decode("utf-8"), stderr.decode("utf-8"))
    return done, seen


def _scan_cmdlines(process: subprocess.Popen, secret: str, seen: list[str]) -> None:
    needle = secret.encode("utf-8")
    while process.poll() is None:
        for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
            try:
                if needle in cmdline.read_bytes():
                    seen.append(str(cmdline))
            except OSError:
                continue


def _report(out: Path) -> dict:
    (path,) = out.glob("*.json")
    return json.loads(path.read_text("utf-8"))


def test_audit_names_each_failure_with_its_step_and_remedy(site, tmp_path):
    result, seen = _audit(site, tmp_path / "r", env={"EGOV_MAIL_PASSWORD": PASSWORD},
                          watch=PASSWORD)
    assert result.returncode == 1, result.stderr  # the expired certificate blocks
    assert "[KHÔNG ĐẠT] Kết nối tới Một cửa điện tử — thực tế: tls: cert_expired" in result.stdout
    assert "chứng thư số của motcua.egov.test đã hết hạn" in result.stdout
    report = _report(tmp_path / "r")
    assert validation_errors(report) == []
    checks = {c["id"]: c for c in report["checks"]}
    assert checks["network.qlvb"]["status"] == "pass"
    assert checks["network.qlvb"]["details"]["steps"][0]["resolver"] == site["resolver"]
    assert checks["network.motcua"]["details"]["failed_step"] == "tls"
    assert checks["clock.skew"]["status"] == "pass"
    assert checks["clock.skew"]["details"]["source"] == "HTTP Date"
    assert checks["mailbox.submission"]["status"] == "pass"
    assert checks["mailbox.imap"]["status"] == "pass"
    assert checks["signature.signing_service"]["status"] == "skipped"
    # the password is nowhere: not in the report, stdout, stderr, servers' logs, process list
    everything = json.dumps(report, ensure_ascii=False) + result.stdout + result.stderr
    assert PASSWORD not in everything and PASSWORD not in site["mail"].logs()
    assert seen == []
    # and the mailbox did not change: the message is still unread, still there
    flags = site["mail"].doveadm("fetch", "-u", USER, "flags", "mailbox", "INBOX", "ALL")
    assert flags.count("flags:") == 1 and "\\Seen" not in flags


def test_english_summary(site, tmp_path):
    result, _ = _audit(site, tmp_path / "r", "--lang", "en", env={"EGOV_MAIL_PASSWORD": PASSWORD})
    assert "[FAIL] Connection to One-stop shop — observed: tls: cert_expired" in result.stdout
    assert "the certificate of motcua.egov.test has expired" in result.stdout


def test_password_typed_at_the_prompt(site, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "EGOV_MAIL_PASSWORD"}
    result, seen = _audit(site, tmp_path / "r", "--ask-password", env=env,
                          stdin=PASSWORD + "\n", watch=PASSWORD)
    checks = {c["id"]: c for c in _report(tmp_path / "r")["checks"]}
    assert checks["mailbox.imap"]["status"] == "pass", checks["mailbox.imap"]
    assert PASSWORD not in result.stdout + result.stderr and seen == []


def test_no_password_given_says_how_to_give_one(site, tmp_path):
    env = {**os.environ, "EGOV_MAIL_PASSWORD": ""}
    result, _ = _audit(site, tmp_path / "r", env=env)
    checks = {c["id"]: c for c in _report(tmp_path / "r")["checks"]}
    assert checks["mailbox.imap"]["status"] == "error"
    assert "EGOV_MAIL_PASSWORD" in result.stdout and "--ask-password" in result.stdout


def test_bad_mailbox_options_are_input_errors(site, tmp_path):
    done = subprocess.run([sys.executable, "-m", "egov_probe", "audit", "--ask-password",
                           "--out", str(tmp_path)], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 2 and "--ask-password: needs --mailbox-user" in done.stderr
    done = subprocess.run([sys.executable, "-m", "egov_probe", "audit", "--mailbox-user",
                           "khongphaidiachi", "--out", str(tmp_path)], capture_output=True,
                          text=True, cwd=ROOT)
    assert done.returncode == 2 and "--mailbox-user: expected a mail address" in done.stderr
    assert not list(tmp_path.glob("*.json"))
