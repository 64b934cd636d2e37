"""The sender and the commands over real TLS on loopback, against a scripted server (see
scripted_server.py for why not the real collector here): a reset mid-response, 503 with
Retry-After, a certificate from another CA, and ``enroll`` + ``upload`` end to end."""

from __future__ import annotations

import io
import json
import os
import stat

import pytest

from egov_probe.commands.main import main
from egov_probe.upload.backoff import Backoff
from egov_probe.upload.identity import load_identity
from egov_probe.upload.outbox import Outbox
from egov_probe.upload.sender import HttpClient, Sender, ServerTls, parse_server
from tests.servers.ca import TestCA
from tests.upload.scripted_server import ScriptedServer
from tests.upload.support import FakeClock, make_identity, report_bytes

TOKEN = "egt_" + "A" * 43


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pki")
    ca = TestCA(folder / "ca")
    other = TestCA(folder / "other", common_name="Another Root")
    return ca.root.cert, ca.issue("server", "127.0.0.1"), other.root.cert


def _sender(tmp_path, server, ca_file, n=1):
    identity = make_identity(tmp_path / "identity", machine_id=None)
    outbox = Outbox(tmp_path / "outbox")
    for _ in range(n):
        outbox.queue(report_bytes(), identity.private_key, "t", identity.unit_id)
    clock = FakeClock()
    sender = Sender(outbox, lambda unit: identity,
                    lambda ident: HttpClient(parse_server(server.url), ServerTls(ca_file),
                                             timeout=10),
                    backoff=Backoff(random=lambda: 0.25), timing=clock.timing(),
                    stream=io.StringIO())
    return sender, outbox, clock


def test_a_reset_mid_response_is_retried_and_sent_once(tmp_path, pki):
    ca, issued, _ = pki
    with ScriptedServer(issued.cert, issued.key, ["reset", "reset"]) as server:
        sender, outbox, clock = _sender(tmp_path, server, ca)
        result = sender.send_all()
    assert result.sent == 1 and outbox.pending() == []
    assert len(server.received) == 3 and clock.sleeps == [0.25, 0.5]
    assert len({r.body for r in server.received}) == 1


def test_503_with_retry_after_over_tls(tmp_path, pki):
    ca, issued, _ = pki
    script = [(503, {"Retry-After": "12"}, {"error": "busy"}), (200, {}, {"status": "duplicate"})]
    with ScriptedServer(issued.cert, issued.key, script) as server:
        sender, outbox, clock = _sender(tmp_path, server, ca)
        assert sender.send_all().sent == 1
    assert clock.sleeps[0] >= 12


def test_a_certificate_from_another_ca_is_refused(tmp_path, pki):
    _, issued, other_ca = pki
    with ScriptedServer(issued.cert, issued.key) as server:
        sender, outbox, clock = _sender(tmp_path, server, other_ca, n=2)
        result = sender.send_all()
    assert result.sent == 0 and result.waiting == 2 and server.received == []
    assert "did not verify" in sender.stream.getvalue() and clock.sleeps == []


def test_enroll_then_upload_from_the_command_line(tmp_path, pki, monkeypatch, capsys):
    ca, issued, _ = pki
    identity_dir = tmp_path / "identity"
    monkeypatch.setenv("EGOV_ENROLL_TOKEN", TOKEN)
    with ScriptedServer(issued.cert, issued.key) as server:
        server.script = [(201, {}, {"unit_id": "xa-ma-thanh", "unit_name": "Xã Mã Thành",
                                    "key_id": None})]
        assert main(["enroll", "--server", server.url, "--ca-file", str(ca),
                     "--identity", str(identity_dir)]) == 0
        enroll = server.received[0]
        sent = json.loads(enroll.body)
        assert sent["token"] == TOKEN and enroll.path == "/v1/enroll"
        key_file = identity_dir / "xa-ma-thanh.key"
        assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
        identity = load_identity(identity_dir, "xa-ma-thanh", sent["machine_id"])
        assert identity.record.public_key == sent["public_key"]
        assert identity.record.ca_file == str(ca.resolve())
        reports = tmp_path / "reports"
        reports.mkdir()
        for n in range(3):
            (reports / f"r{n}.json").write_bytes(report_bytes())
        (reports / "bad.json").write_bytes(report_bytes(unit_id="xa-dien-chau"))
        server.script = [(201, {}, {}), (409, {}, {"error": "conflict"}), (200, {}, {})]
        code = main(["upload", str(reports), "--identity", str(identity_dir)])
    err = capsys.readouterr().err
    assert code == 2  # the report of a unit without an identity: an input error, said
    assert "xa-dien-chau" in err and "đã gửi 2/3 / sent 2/3" in err
    outbox = Outbox(tmp_path / "outbox")
    assert outbox.pending() == [] and len(outbox.rejected()) == 1
    assert [r.headers["X-Egov-Outbox"] for r in server.received[1:]] == ["2", "1", "0"]
    assert TOKEN not in err


def test_enroll_refused_says_why_and_stores_nothing(tmp_path, pki, monkeypatch, capsys):
    ca, issued, _ = pki
    monkeypatch.setenv("EGOV_ENROLL_TOKEN", TOKEN)
    with ScriptedServer(issued.cert, issued.key,
                        [(401, {}, {"error": "token_expired"})]) as server:
        code = main(["enroll", "--server", server.url, "--ca-file", str(ca),
                     "--identity", str(tmp_path / "id")])
    assert code == 2 and "hết hạn / the token has expired" in capsys.readouterr().err
    assert list((tmp_path / "id").iterdir()) == []


def test_a_token_on_the_command_line_is_warned_about(tmp_path, pki, capsys):
    ca, issued, _ = pki
    with ScriptedServer(issued.cert, issued.key,
                        [(201, {}, {"unit_id": "xa-ma-thanh"})]) as server:
        assert main(["enroll", "--server", server.url, "--ca-file", str(ca), "--token", TOKEN,
                     "--identity", str(tmp_path / "id")]) == 0
    assert "process list" in capsys.readouterr().err


def test_upload_with_insecure_warns_loudly(tmp_path, pki, capsys):
    _, issued, other_ca = pki
    make_identity(tmp_path / "identity", machine_id=None)
    with ScriptedServer(issued.cert, issued.key) as server:
        code = main(["upload", "--identity", str(tmp_path / "identity"), "--server",
                     server.url, "--insecure"])
    err = capsys.readouterr().err
    assert code == 0 and "CẢNH BÁO" in err and "NOT verified" in err
