"""What the live page reads and writes in the store, on SQLite and a real PostgreSQL: viewer
accounts (bcrypt), each unit's last sending and outbox, the matrix built once per change."""

from __future__ import annotations

from pathlib import Path

import pytest

from egov_probe.collector.context import CollectorContext
from egov_probe.collector.page_state import MatrixCache, unit_activity
from egov_probe.collector.viewers import (add_viewer, disable_viewer, is_active, list_viewers,
                                          verify_login)
from egov_probe.core.errors import InputError
from egov_probe.core.plan import load_plan
from egov_probe.matrix import load_unit_infos
from egov_probe.store import import_paths
from tests.test_store_factory import (database, make_report, pg_server,  # noqa: F401
                                      store_target, write_report)

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "mật khẩu đủ dài 2026"


def test_viewer_accounts(database):  # noqa: F811
    add_viewer(database, "lan", PASSWORD)
    stored = database.query("SELECT password_hash FROM viewers WHERE name = 'lan'")[0][0]
    assert stored.startswith("$2b$") and PASSWORD not in stored
    assert verify_login(database, "lan", PASSWORD)
    assert not verify_login(database, "lan", PASSWORD + "x")
    assert not verify_login(database, "mai", PASSWORD)
    assert not verify_login(database, "lan", "x" * 200)  # past bcrypt's 72 bytes: refused
    with pytest.raises(InputError, match="exists already"):
        add_viewer(database, "lan", PASSWORD)
    with pytest.raises(InputError, match="shorter"):
        add_viewer(database, "mai", "ngắn")
    with pytest.raises(InputError, match="letters, digits"):
        add_viewer(database, "lan lan", PASSWORD)
    disable_viewer(database, "lan")
    assert not is_active(database, "lan") and not verify_login(database, "lan", PASSWORD)
    assert [(v.name, v.active) for v in list_viewers(database)] == [("lan", False)]
    add_viewer(database, "lan", "một mật khẩu mới nữa", replace=True)
    assert verify_login(database, "lan", "một mật khẩu mới nữa") and is_active(database, "lan")


def _key(database, key_id, unit_id, seen, waiting, revoked=None):  # noqa: F811
    database.execute(
        "INSERT INTO probe_keys (key_id, unit_id, public_key, hostname, enrolled_at, "
        "revoked_at, last_seen_at, outbox_waiting) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (key_id, unit_id, "pk-" + key_id, "ws", "2026-12-01T00:00:00.000000Z", revoked, seen,
         waiting))


def test_last_sent_and_outbox_per_unit(database, tmp_path):  # noqa: F811
    write_report(make_report("xa-ma-thanh", "ws1", "2015-11-10T03:00:00Z"), tmp_path / "usb")
    write_report(make_report("xa-tien-thanh", "ws1", "2015-11-10T03:00:00Z"), tmp_path / "usb")
    import_paths(database, [tmp_path / "usb"], ["xa-ma-thanh", "xa-tien-thanh"], tmp_path / "q")
    imported = database.query("SELECT MAX(imported_at) FROM reports")[0][0]
    _key(database, "a", "xa-ma-thanh", "2099-01-01T00:00:00.000000Z", 3)
    _key(database, "b", "xa-ma-thanh", "2098-01-01T00:00:00.000000Z", 4)
    _key(database, "c", "xa-ma-thanh", "2097-01-01T00:00:00.000000Z", 50,
         revoked="2097-01-02T00:00:00.000000Z")
    _key(database, "d", "xa-lang-thanh", None, None)
    found = unit_activity(database)
    assert found["xa-ma-thanh"].last_sent_at == "2099-01-01T00:00:00.000000Z"
    assert found["xa-ma-thanh"].outbox_waiting == 7 and found["xa-ma-thanh"].probes == 2
    assert found["xa-tien-thanh"].last_sent_at == imported
    assert found["xa-tien-thanh"].outbox_waiting is None  # no probe said: unknown
    assert found["xa-lang-thanh"].last_sent_at is None and found["xa-lang-thanh"].probes == 1
    assert set(unit_activity(database, "xa-ma-thanh")) == {"xa-ma-thanh"}


def test_the_matrix_is_built_again_only_when_the_store_changed(database, tmp_path):  # noqa: F811
    ctx = CollectorContext(open_database=lambda: database,
                           units=load_unit_infos(ROOT / "inventory"), session_secret=b"s" * 32)
    cache = MatrixCache(load_plan())
    first = cache.get(database, ctx)
    assert cache.get(database, ctx) is first
    write_report(make_report("xa-ma-thanh", "ws1", "2015-11-10T03:00:00Z",
                             statuses={"system.ram": "fail"}), tmp_path / "usb")
    import_paths(database, [tmp_path / "usb"], ctx.unit_ids(), tmp_path / "q")
    second = cache.get(database, ctx)
    assert second is not first
    assert {r.unit.unit_id: r.status for r in second.rows}["xa-ma-thanh"] == "not_ready"


def test_the_page_over_either_store(collector):  # noqa: F811
    """The page's queries on SQLite and PostgreSQL, through the real app (no browser)."""
    import time

    from egov_probe.collector.viewers import COOKIE, SessionSigner
    from tests.collector.conftest import enroll_probe, report_bytes, upload

    database = collector.database()
    try:
        add_viewer(database, "lan", PASSWORD)
    finally:
        database.close()
    signed = SessionSigner(collector.ctx.session_secret).issue("lan", time.time())
    cookie = {"Cookie": f"{COOKIE}={signed}"}
    probe = enroll_probe(collector, "xa-ma-thanh", machine_id="m-page")
    report = make_report("xa-ma-thanh", "ws1", "2015-11-10T03:00:00Z", machine_id="m-page",
                         statuses={"system.ram": "fail"})
    assert upload(collector, probe, report_bytes(report), outbox=4).status == 201
    page = collector.request("GET", "/", headers=cookie)
    assert page.status == 200
    assert page.body.decode().count('<tr class="unit"') == len(collector.ctx.units)
    row = collector.request("GET", "/rows/xa-ma-thanh", headers=cookie)
    html = row.body.decode()
    assert 'data-status="not_ready"' in html and '<td class="num outbox">4</td>' in html
    several = collector.request("GET", "/rows?all=1", headers=cookie)
    assert several.body.decode().count('<tr class="unit"') == len(collector.ctx.units)
    assert several.headers["x-egov-version"].startswith("1-")  # one report stored
    details = collector.request("GET", "/units/xa-ma-thanh?lang=en", headers=cookie).body.decode()
    assert "Fix ram" in details
