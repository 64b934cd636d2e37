"""``audit`` signs its report when its unit has an identity here; ``audit --upload`` and
``fleet --upload`` queue and send, and their exit code stays the readiness."""

from __future__ import annotations

import json

import pytest

from egov_probe.commands.main import main
from egov_probe.commands.upload_options import this_machine_id
from egov_probe.core.signing import parse_signature, sidecar_path, signature_verifies
from egov_probe.upload.outbox import Outbox
from tests.servers.ca import TestCA
from tests.servers.ports import free_port
from tests.upload.scripted_server import ScriptedServer
from tests.upload.support import make_identity

UNIT = "xa-ma-thanh"


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    ca = TestCA(tmp_path_factory.mktemp("pki"))
    return ca.root.cert, ca.issue("server", "127.0.0.1")


def test_audit_signs_its_report_when_the_unit_is_enrolled(tmp_path):
    identity = make_identity(tmp_path / "identity", UNIT, machine_id=this_machine_id())
    code = main(["audit", "--unit", UNIT, "--out", str(tmp_path / "out"),
                 "--identity", str(tmp_path / "identity")])
    assert code in (0, 1)
    (report,) = (tmp_path / "out").glob("*.json")
    signature = parse_signature(sidecar_path(report).read_bytes(), "sig")
    assert signature_verifies(identity.record.public_key, report.read_bytes(), signature)
    assert not (tmp_path / "outbox").exists()  # no --upload: nothing queued


def test_audit_without_an_identity_writes_no_signature(tmp_path):
    code = main(["audit", "--unit", UNIT, "--out", str(tmp_path / "out"),
                 "--identity", str(tmp_path / "none")])
    assert code in (0, 1)
    assert [p.suffix for p in (tmp_path / "out").iterdir()] == [".json"]


def test_audit_of_a_cloned_disk_says_so_and_still_writes_its_report(tmp_path, capsys):
    make_identity(tmp_path / "identity", UNIT, machine_id="f" * 32)
    code = main(["audit", "--unit", UNIT, "--out", str(tmp_path / "out"),
                 "--identity", str(tmp_path / "identity"), "--upload"])
    assert code in (0, 1)
    assert "cloned disk" in capsys.readouterr().err
    assert [p.suffix for p in (tmp_path / "out").iterdir()] == [".json"]


def test_audit_upload_sends_and_keeps_the_readiness_exit_code(tmp_path, pki, capsys):
    ca, issued = pki
    make_identity(tmp_path / "identity", UNIT, machine_id=this_machine_id())
    with ScriptedServer(issued.cert, issued.key) as server:
        code = main(["audit", "--unit", UNIT, "--out", str(tmp_path / "out"), "--upload",
                     "--identity", str(tmp_path / "identity"), "--server", server.url,
                     "--ca-file", str(ca)])
    (report,) = (tmp_path / "out").glob("*.json")
    readiness = json.loads(report.read_text())["summary"]["readiness"]
    assert code == (1 if readiness == "not_ready" else 0)
    (received,) = server.received
    assert received.body == report.read_bytes()
    assert Outbox(tmp_path / "outbox").pending() == []
    assert "sent 1/1" in capsys.readouterr().err


def test_audit_upload_with_the_server_down_keeps_the_report_waiting(tmp_path, capsys):
    make_identity(tmp_path / "identity", UNIT, machine_id=this_machine_id())
    code = main(["audit", "--unit", UNIT, "--out", str(tmp_path / "out"), "--upload",
                 "--identity", str(tmp_path / "identity"), "--server",
                 f"https://127.0.0.1:{free_port()}", "--max-time", "0.5"])
    assert code in (0, 1)
    assert len(Outbox(tmp_path / "outbox").pending()) == 1
    assert "egov-probe upload" in capsys.readouterr().err


INVENTORY = """\
all:
  children:
    unit_xa_ma_thanh:
      hosts:
        mathanh-vp01: {{unit_id: xa-ma-thanh, ansible_host: 127.0.0.1, ansible_port: {port},
                        ansible_user: u}}
    unit_xa_dien_chau:
      hosts:
        dienchau-vp01: {{unit_id: xa-dien-chau, ansible_host: 127.0.0.1, ansible_port: {port},
                        ansible_user: u}}
"""


def test_fleet_upload_queues_each_report_and_names_hosts_without_identity(tmp_path, pki,
                                                                          capsys):
    ca, issued = pki
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(INVENTORY.format(port=free_port()))
    make_identity(tmp_path / "identity", UNIT, machine_id=this_machine_id())
    with ScriptedServer(issued.cert, issued.key) as server:
        code = main(["fleet", "-i", str(inventory), "--out", str(tmp_path / "out"),
                     "--retries", "1", "--connect-timeout", "2", "--upload",
                     "--identity", str(tmp_path / "identity"), "--server", server.url,
                     "--ca-file", str(ca)])
    assert code == 1  # unreachable hosts are not ready
    err = capsys.readouterr().err
    assert "dienchau-vp01" in err and "xa-dien-chau" in err and "not queued" in err
    (received,) = server.received
    assert json.loads(received.body)["host"]["unit_id"] == UNIT


def test_audit_where_the_signing_library_cannot_load_still_reports(tmp_path, monkeypatch,
                                                                   capsys):
    """On Windows 8.1 cryptography's Rust part cannot load (it needs Windows 10's
    bcryptprimitives.dll): the audit says so and its report and exit code stand."""
    import egov_probe.upload.identity as identity_module

    def no_library(path):
        raise ImportError("DLL load failed while importing _rust: Module not found.")

    make_identity(tmp_path / "identity", UNIT, machine_id=this_machine_id())
    monkeypatch.setattr(identity_module, "read_private_key", no_library)
    code = main(["audit", "--unit", UNIT, "--out", str(tmp_path / "out"),
                 "--identity", str(tmp_path / "identity")])
    assert code in (0, 1)
    assert "cannot load the signing library" in capsys.readouterr().err
    assert [p.suffix for p in (tmp_path / "out").iterdir()] == [".json"]
