"""The probe's side against the real collector (``collector/app.py`` on uvicorn with TLS from a
test CA, tests/collector/conftest.py): ``enroll``, ``upload`` 201 then 200, a 409 into
``rejected/``, 401s kept (exit 3 only by the rule), a certificate from another CA refused, and
a stick report of an enrolled machine signed, imported and counted once. SQLite here; the
API's own tests run PostgreSQL too."""

from __future__ import annotations

import datetime as dt
import json
import os
import stat

import pytest

from egov_probe.collector.access import revoke_unit
from egov_probe.commands.main import main
from egov_probe.commands.upload_options import this_machine_id
from egov_probe.store.queries import count_reports
from egov_probe.upload.identity import load_identity
from egov_probe.upload.outbox import Outbox
from tests.collector.conftest import make_context, new_token, report_bytes, running_collector
from tests.servers.ca import TestCA
from tests.test_store_factory import make_report
from tests.upload.support import make_identity

UNIT = "xa-ma-thanh"


@pytest.fixture
def collector(tmp_path):
    with running_collector(make_context(str(tmp_path / "store.sqlite")), tmp_path) as running:
        yield running


@pytest.fixture
def enrolled(collector, tmp_path, monkeypatch):
    """This machine enrolled with the CLI; returns the identity folder."""
    folder = tmp_path / "identity"
    monkeypatch.setenv("EGOV_ENROLL_TOKEN", new_token(collector, UNIT))
    assert main(["enroll", "--server", collector.url, "--ca-file", str(collector.ca_file),
                 "--identity", str(folder), "--unit", UNIT]) == 0
    monkeypatch.delenv("EGOV_ENROLL_TOKEN")
    return folder


def _stored(collector) -> int:
    database = collector.database()
    try:
        return count_reports(database)
    finally:
        database.close()


def _report(folder, name="r.json", **options):
    path = folder / name
    folder.mkdir(exist_ok=True)
    path.write_bytes(report_bytes(make_report(unit_id=UNIT, **options)))
    return path


def test_enroll_stores_a_private_identity_the_server_knows(collector, enrolled):
    identity = load_identity(enrolled, UNIT, this_machine_id())
    assert stat.S_IMODE(os.stat(enrolled / f"{UNIT}.key").st_mode) == 0o600
    database = collector.database()
    try:
        rows = database.query("SELECT unit_id FROM probe_keys WHERE key_id = ?",
                              (identity.key_id,))
    finally:
        database.close()
    assert rows == [(UNIT,)] and identity.record.server == collector.url


def test_a_used_token_is_refused_and_nothing_is_stored(collector, tmp_path, monkeypatch,
                                                      capsys):
    token = new_token(collector, UNIT, uses=1)
    monkeypatch.setenv("EGOV_ENROLL_TOKEN", token)
    common = ["enroll", "--server", collector.url, "--ca-file", str(collector.ca_file)]
    assert main([*common, "--identity", str(tmp_path / "a")]) == 0
    assert main([*common, "--identity", str(tmp_path / "b")]) == 2
    assert "đã dùng hết lượt / the token has been used up" in capsys.readouterr().err
    assert list((tmp_path / "b").iterdir()) == []


def test_upload_201_then_200_then_409_into_rejected(collector, enrolled, tmp_path, capsys):
    reports = tmp_path / "reports"
    first = _report(reports, machine_id="m1")
    assert main(["upload", str(first), "--identity", str(enrolled)]) == 0
    assert _stored(collector) == 1
    assert main(["upload", str(first), "--identity", str(enrolled)]) == 0  # 200 duplicate
    assert _stored(collector) == 1
    data = json.loads(first.read_bytes())
    other = _report(reports, "other.json", machine_id="m2",
                    report_id=data["report_id"])  # other bytes under the same id
    assert main(["upload", str(other), "--identity", str(enrolled)]) == 2
    outbox = Outbox(tmp_path / "outbox")
    assert outbox.pending() == [] and outbox.rejected() == [data["report_id"]]
    reason = (outbox.rejected_folder / f"{data['report_id']}.reason.txt").read_text()
    assert "409" in reason and "conflict" in reason
    assert _stored(collector) == 1


def test_a_revoked_unit_keeps_its_reports_waiting(collector, enrolled, tmp_path, capsys):
    database = collector.database()
    try:
        revoke_unit(database, UNIT, dt.datetime.now(dt.timezone.utc))
    finally:
        database.close()
    path = _report(tmp_path / "reports")
    assert main(["upload", str(path), "--identity", str(enrolled)]) == 1
    assert "unit_revoked" in capsys.readouterr().err
    assert len(Outbox(tmp_path / "outbox").pending()) == 1 and _stored(collector) == 0
    assert (enrolled / f"{UNIT}.key").exists()


def test_an_unknown_key_is_counted_not_obeyed_at_once(collector, tmp_path, capsys):
    folder = tmp_path / "identity"
    make_identity(folder, UNIT, machine_id=this_machine_id(), server=collector.url)
    path = _report(tmp_path / "reports")
    for _ in range(3):  # three refusals within seconds: not yet "enroll again"
        assert main(["upload", str(path), "--identity", str(folder), "--ca-file",
                     str(collector.ca_file)]) == 1
    err = capsys.readouterr().err
    assert "unknown_key" in err and "enroll again" not in err
    state = json.loads((tmp_path / "outbox" / "state.json").read_text())
    assert list(state["refusals"].values())[0]["count"] == 3
    assert (folder / f"{UNIT}.key").exists()


def test_a_certificate_from_another_ca_is_refused(collector, enrolled, tmp_path, capsys):
    other = TestCA(tmp_path / "other", common_name="Another Root")
    path = _report(tmp_path / "reports")
    code = main(["upload", str(path), "--identity", str(enrolled), "--ca-file",
                 str(other.root.cert)])
    assert code == 1 and "did not verify" in capsys.readouterr().err
    assert _stored(collector) == 0 and len(Outbox(tmp_path / "outbox").pending()) == 1


def test_a_revoked_key_asks_to_enroll_again_only_after_ten_minutes(collector, enrolled,
                                                                    tmp_path, capsys):
    """``token revoke --key``: refused as key_revoked; exit 3 only on the third refusal at
    least 10 minutes after the first (the earlier ones planted in the outbox's state, as two
    earlier runs would have left them), and the identity stays."""
    from egov_probe.collector.access import revoke_key

    identity = load_identity(enrolled, UNIT, this_machine_id())
    database = collector.database()
    try:
        revoke_key(database, identity.key_id, dt.datetime.now(dt.timezone.utc))
    finally:
        database.close()
    path = _report(tmp_path / "reports")
    assert main(["upload", str(path), "--identity", str(enrolled)]) == 1
    assert "key_revoked" in capsys.readouterr().err
    state_path = tmp_path / "outbox" / "state.json"
    state = json.loads(state_path.read_text())
    first = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=11)
    state["refusals"][identity.key_id].update(count=2, first_at=first.isoformat())
    state_path.write_text(json.dumps(state))
    assert main(["upload", "--identity", str(enrolled)]) == 3
    assert "enroll again" in capsys.readouterr().err
    assert (enrolled / f"{UNIT}.key").exists() and len(Outbox(tmp_path / "outbox").pending()) == 1


def test_a_stick_report_of_an_enrolled_machine_is_signed_imported_and_counted_once(
        collector, enrolled, tmp_path, capsys):
    out = tmp_path / "stick"
    assert main(["audit", "--unit", UNIT, "--out", str(out), "--identity", str(enrolled)]) \
        in (0, 1)
    (report,) = out.glob("*.json")
    assert (out / f"{report.name}.sig").exists()
    assert main(["import", "--store", str(tmp_path / "store.sqlite"), str(out)]) == 0
    assert _stored(collector) == 1
    # the same report by network too: the server has it already (200), it counts once
    assert main(["upload", str(report), "--identity", str(enrolled)]) == 0
    assert _stored(collector) == 1
    # without its signature, a report of this enrolled machine is refused at import
    unsigned = tmp_path / "unsigned"
    assert main(["audit", "--unit", UNIT, "--out", str(unsigned), "--identity",
                 str(tmp_path / "elsewhere")]) in (0, 1)
    capsys.readouterr()
    main(["import", "--store", str(tmp_path / "store.sqlite"), str(unsigned)])
    assert _stored(collector) == 1
    assert "unsigned report from an enrolled probe" in "".join(capsys.readouterr())
