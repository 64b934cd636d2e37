"""The fleet audit of a Windows host over WinRM: real pywinrm, real TLS, real HTTP, against a
loopback WS-Management server that answers with constructed exchanges
(tests/fixtures/winrm/ORIGIN.md). The PowerShell collector itself has not run on Windows."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import ssl
import threading
import uuid
import xml.etree.ElementTree as ET
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from string import Template

import pytest

from egov_probe.core.errors import InputError
from egov_probe.core.report_file import read_report
from egov_probe.facts.browsers_windows import collect_windows_browsers
from egov_probe.facts.winsource import load_fixture
from egov_probe.fleet.inventory import load_targets
from egov_probe.fleet.windows import parse_document, windows_evidence
from egov_probe.fleet.winrm import POWERSHELL_ARGS, protocol_options
from tests.conftest import run_probe
from tests.servers.ca import TestCA

FIXTURES = Path(__file__).resolve().parent / "fixtures"
WSMAN = FIXTURES / "winrm" / "wsman"
OUTPUT = FIXTURES / "winrm" / "collector_output_x86_on_x64.json"
PILOT = Path(__file__).resolve().parent.parent / "inventory/pilot.yml"
USER, PASSWORD = "kythuat", "MatKhau-WinRM-7"  # basic auth sends Latin-1 only
ACTIONS = {"transfer/Create": "create", "shell/Command": "command", "shell/Send": "send",
           "shell/Receive": "receive", "shell/Signal": "signal", "transfer/Delete": "delete"}


class WsmanServer:
    """HTTPS WS-Management endpoint on loopback with basic auth; remembers what it was sent."""

    def __init__(self, cert, key, stdout: bytes) -> None:
        self.stdout = stdout
        self.requests: list[tuple[str, ET.Element]] = []
        self.stdin = b""
        server = self
        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                server.handle(self)

            def log_message(self, *args: object) -> None:
                pass
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def handle(self, request: BaseHTTPRequestHandler) -> None:
        body = request.rfile.read(int(request.headers.get("Content-Length", 0)))
        expected = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        if request.headers.get("Authorization") != expected:
            request.send_response(401)
            request.send_header("WWW-Authenticate", 'Basic realm="WSMAN"')
            request.send_header("Content-Length", "0")
            request.end_headers()
            return
        root = ET.fromstring(body)
        action = next(e.text for e in root.iter() if e.tag.endswith("}Action"))
        name = next(v for k, v in ACTIONS.items() if action.endswith(k))
        self.requests.append((name, root))
        if name == "send":
            stream = next(e for e in root.iter() if e.tag.endswith("}Stream"))
            self.stdin += base64.b64decode(stream.text or "")
        answer = Template((WSMAN / f"{name}.xml").read_text(encoding="utf-8")).substitute(
            message_id=next(e.text for e in root.iter() if e.tag.endswith("}MessageID")),
            reply_id=uuid.uuid4(), shell_id="11111111-2222-3333-4444-555555555555",
            command_id="66666666-7777-8888-9999-000000000000",
            endpoint=f"https://127.0.0.1:{self.port}/wsman",
            stdout=base64.b64encode(self.stdout).decode(), exit_code=0).encode("utf-8")
        request.send_response(200)
        request.send_header("Content-Type", "application/soap+xml;charset=UTF-8")
        request.send_header("Content-Length", str(len(answer)))
        request.end_headers()
        request.wfile.write(answer)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def ca(tmp_path: Path) -> TestCA:
    return TestCA(tmp_path / "ca")


@pytest.fixture
def server(ca: TestCA):
    issued = ca.issue("wsman", "127.0.0.1")
    wsman = WsmanServer(issued.cert, issued.key, OUTPUT.read_bytes())
    yield wsman
    wsman.close()


def inventory(path: Path, port: int, **extra: str) -> Path:
    values = {"ansible_host": "127.0.0.1", "ansible_port": port, "ansible_connection": "winrm",
              "ansible_winrm_transport": "basic", "ansible_user": USER,
              "ansible_password": PASSWORD, **extra}
    lines = ["all:", "  children:", "    unit_xa_ma_thanh:", "      hosts:", "        mathanh-vp01:"]
    lines += [f"          {k}: {json.dumps(v, ensure_ascii=False)}" for k, v in values.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def fleet(tmp_path: Path, inv: Path, *args: str) -> tuple[object, dict]:
    out = tmp_path / "reports"
    env = {k: v for k, v in os.environ.items() if k not in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")}
    result = run_probe("fleet", "-i", str(PILOT), "-i", str(inv), "--out", str(out),
                       "--deadline", "30", *args, env=env)
    path = out / "mathanh-vp01.json"
    read_report(path)
    return result, json.loads(path.read_text(encoding="utf-8"))


def test_windows_host_audited_over_winrm(tmp_path, ca, server):
    inv = inventory(tmp_path / "win.yml", server.port, ansible_winrm_ca_trust_path=str(ca.root.cert))
    result, report = fleet(tmp_path, inv)
    assert report["outcome"] == "complete", report["facts"]["fleet"]
    assert report["transport"] == "winrm"
    assert report["host"]["hostname"] == "MATHANH-VP01"
    assert report["host"]["unit_id"] == "xa-ma-thanh"
    assert report["host"]["os"]["name"] == "Windows 10 Pro"
    statuses = {c["id"]: (c["status"], c["observed"]) for c in report["checks"]}
    assert statuses["system.utc_offset"] == ("pass", "+07:00")
    assert statuses["system.encoding"][1] == "cp1258"
    browsers = {(b["browser"], b["version"], b["arch"]) for b in report["facts"]["browsers"]["browsers"]}
    assert ("firefox_esr", "115.3.0", "x86") in browsers  # arch from the PE header sent as bytes
    # The shell ran PowerShell with the small bootstrap, and the shipped collector came on stdin.
    command = next(root for name, root in server.requests if name == "command")
    arguments = [e.text for e in command.iter() if e.tag.endswith("}Arguments")]
    assert arguments == [" ".join(POWERSHELL_ARGS)]  # pywinrm joins them into one element
    assert server.stdin.decode("utf-8").startswith("$EgovKeys = @(")
    assert "egov-probe-windows-evidence/1" in server.stdin.decode("utf-8")
    assert [name for name, _ in server.requests][-1] == "delete"  # the shell was closed
    assert PASSWORD not in json.dumps(report, ensure_ascii=False) + result.stdout + result.stderr
    assert report["facts"]["fleet"]["host_key_checked"] is True  # the certificate was verified
    assert "host_key_not_checked_by" not in report["facts"]["fleet"]
    assert "CẢNH BÁO" not in result.stderr and "WARNING" not in result.stderr


@pytest.mark.parametrize("switch", ["ansible_winrm_server_cert_validation: ignore",
                                    "--insecure-skip-winrm-cert-check"])
def test_certificate_validation_off_is_loud_and_recorded_in_the_report(tmp_path, server, switch):
    """The server's certificate is from a CA nobody trusts: accepted only because validation is
    off, which the terminal shouts and the report records (not ``host_key_checked: true``)."""
    if switch.startswith("--"):
        result, report = fleet(tmp_path, inventory(tmp_path / "win.yml", server.port), switch)
    else:
        inv = inventory(tmp_path / "win.yml", server.port,
                        ansible_winrm_server_cert_validation="ignore")
        result, report = fleet(tmp_path, inv)
    assert report["outcome"] == "complete", report["facts"]["fleet"]
    assert report["facts"]["fleet"]["host_key_checked"] is False
    assert report["facts"]["fleet"]["host_key_not_checked_by"] == switch
    warning = [line for line in result.stderr.splitlines() if "mathanh-vp01" in line]
    assert len(warning) == 2, result.stderr  # Vietnamese, then English
    assert warning[0].startswith("!!! CẢNH BÁO: KHÔNG kiểm tra chứng chỉ TLS") and switch in warning[0]
    assert warning[1].startswith("!!! WARNING: the TLS certificates") and switch in warning[1]
    # The SSH hosts of the pilot inventory are not named in the WinRM warning.
    assert all("WARNING: SSH host keys" not in line for line in result.stderr.splitlines())


def test_network_on_a_windows_host_says_not_checked(tmp_path, ca, server):
    """fleet --network runs the network checks on Linux hosts; a Windows host says why not."""
    inv = inventory(tmp_path / "win.yml", server.port, ansible_winrm_ca_trust_path=str(ca.root.cert))
    _result, report = fleet(tmp_path, inv, "--network")
    assert report["outcome"] == "complete"
    checks = {c["id"]: c for c in report["checks"]}
    for section in ("network", "signature"):
        assert checks[f"{section}.not_checked"]["status"] == "skipped"
        assert "Windows" in checks[f"{section}.not_checked"]["observed"]
    assert report["summary"]["counts"]["skipped"] >= 2
    assert report["host"]["machine_id"] == "5b3f0e1c-9a47-4d2e-8c61-0f7a2d9e4b18"  # MachineGuid
    assert report["host"]["smbios_uuid"] == "4c4c4544-0042-3510-8052-b4c04f4e3732"


def test_untrusted_certificate_is_the_hosts_failure(tmp_path, ca, server):
    result, report = fleet(tmp_path, inventory(tmp_path / "win.yml", server.port))
    assert result.returncode == 1
    assert report["outcome"] == "host_key_mismatch"
    der = ssl.PEM_cert_to_DER_cert(ssl.get_server_certificate(("127.0.0.1", server.port)))
    digest = hashlib.sha256(der).hexdigest().upper()
    assert report["facts"]["fleet"]["host_key_fingerprint"].replace(":", "") == "SHA256" + digest
    assert not [n for n, _ in server.requests]  # nothing was sent to an unverified server


def test_refused_password_is_auth_failed(tmp_path, ca, server):
    inv = inventory(tmp_path / "win.yml", server.port, ansible_password="sai",
                    ansible_winrm_ca_trust_path=str(ca.root.cert))
    _result, report = fleet(tmp_path, inv)
    assert report["outcome"] == "auth_failed"


def test_plain_http_needs_message_encryption(tmp_path):
    inv = inventory(tmp_path / "win.yml", 5985, ansible_winrm_scheme="http")
    result = run_probe("fleet", "-i", str(inv), "--out", str(tmp_path / "out"))
    assert result.returncode == 2
    assert "mathanh-vp01" in result.stderr and "clear" in result.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("transport", ["ntlm", "kerberos", "credssp"])
def test_ansible_winrm_variables_reach_pywinrm(tmp_path, transport):
    inv = inventory(tmp_path / "win.yml", 5985, ansible_winrm_scheme="http",
                    ansible_winrm_transport=transport, ansible_winrm_path="/wsman-x")
    target = load_targets([inv])[0]
    options = protocol_options(target)
    assert options["endpoint"] == "http://127.0.0.1:5985/wsman-x"
    assert options["transport"] == transport
    assert options["message_encryption"] == "always"
    assert options["server_cert_validation"] == "validate"
    assert protocol_options(target, insecure=True)["server_cert_validation"] == "ignore"
    assert "Secret(" in repr(target)  # the password never shows in a repr
    bad = inventory(tmp_path / "bad.yml", 5986, ansible_winrm_transport="telnet")
    with pytest.raises(InputError, match="ansible_winrm_transport"):
        load_targets([bad])


def test_collector_output_is_judged_like_the_local_collector():
    """The same Windows evidence gives the same browsers over WinRM as the local collector."""
    remote = windows_evidence(parse_document(OUTPUT.read_text(encoding="utf-8"))).browsers()
    local = collect_windows_browsers(load_fixture(FIXTURES / "windows" / "x86_on_x64.json"))
    assert [b.as_fact() for b in remote.browsers] == [b.as_fact() for b in local]
    with pytest.raises(ValueError):
        parse_document('{"format": "something else"}')


def test_closed_port_is_unreachable(tmp_path, ca):
    import socket
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inv = inventory(tmp_path / "win.yml", port, ansible_winrm_ca_trust_path=str(ca.root.cert))
    result, report = fleet(tmp_path, inv)
    assert result.returncode == 1
    assert report["outcome"] == "unreachable"
    assert report["checks"][0]["remedy"]["vi"].startswith("Không kết nối được tới mathanh-vp01")


def test_silent_server_times_out_within_the_deadline(tmp_path, ca):
    import socket
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)  # accepts connections (the kernel does), never answers
    try:
        inv = inventory(tmp_path / "win.yml", listener.getsockname()[1],
                        ansible_winrm_ca_trust_path=str(ca.root.cert))
        out = tmp_path / "reports"
        result = run_probe("fleet", "-i", str(inv), "--out", str(out), "--deadline", "6")
        report = json.loads((out / "mathanh-vp01.json").read_text(encoding="utf-8"))
    finally:
        listener.close()
    assert result.returncode == 1
    assert report["outcome"] == "timed_out", report["facts"]["fleet"]
    assert report["facts"]["fleet"]["duration_s"] < 6 + 3
