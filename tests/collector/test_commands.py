"""``egov-probe token`` and ``egov-probe serve`` as a sysadmin runs them."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import signal
import subprocess
import sys
from pathlib import Path

from egov_probe.collector.access import EnrollmentRequest, enroll
from egov_probe.core.signing import generate_private_key, public_key_text
from egov_probe.store import open_database
from tests.collector.conftest import (RunningCollector, enroll_request, issue_certificate,
                                      make_context, report_bytes, upload, TestProbe)
from tests.conftest import run_probe
from tests.servers.ports import free_port, wait_listening
from tests.test_store_factory import make_report

UNIT = "xa-ma-thanh"


def token_create(store: Path, *extra: str) -> str:
    result = run_probe("token", "create", "--store", str(store), "--unit", UNIT, *extra)
    assert result.returncode == 0, result.stderr
    assert "một lần / shown once" in result.stderr
    return result.stdout.strip()


def test_a_token_is_printed_once_and_stored_only_hashed(tmp_path):
    store = tmp_path / "store.sqlite"
    token = token_create(store, "--ttl", "2d", "--uses", "3", "--note", "ông Hùng")
    assert token.startswith("egt_") and len(token) == 4 + 43
    kept = b"".join(p.read_bytes() for p in tmp_path.glob("store.sqlite*"))
    assert token.encode() not in kept
    assert hashlib.sha256(token.encode()).hexdigest().encode() in kept
    listed = run_probe("token", "list", "--store", str(store))
    assert listed.returncode == 0 and token not in listed.stdout
    assert f"1\t{UNIT}\tactive\t3\t0\t" in listed.stdout and "ông Hùng" in listed.stdout


def test_tokens_and_units_are_revoked_and_restored(tmp_path):
    store = tmp_path / "store.sqlite"
    token_create(store)
    assert run_probe("token", "revoke", "1", "--store", str(store)).returncode == 0
    assert "\trevoked\t" in run_probe("token", "list", "--store", str(store)).stdout
    missing = run_probe("token", "revoke", "9", "--store", str(store))
    assert missing.returncode == 2 and "no token 9" in missing.stderr
    assert run_probe("token", "revoke", "--unit", UNIT, "--store", str(store)).returncode == 0
    listed = run_probe("token", "list", "--store", str(store)).stdout
    assert f"revoked units: {UNIT}" in listed
    restored = run_probe("token", "restore", "--unit", UNIT, "--store", str(store))
    assert restored.returncode == 0 and "restored" in restored.stdout
    assert "revoked units" not in run_probe("token", "list", "--store", str(store)).stdout


def test_an_unknown_unit_is_refused_with_a_suggestion(tmp_path):
    result = run_probe("token", "create", "--unit", "xa-ma-thahn", "--store",
                       str(tmp_path / "store.sqlite"))
    assert result.returncode == 2 and "did you mean: xa-ma-thanh" in result.stderr
    bad_ttl = run_probe("token", "create", "--unit", UNIT, "--ttl", "soon", "--store",
                        str(tmp_path / "store.sqlite"))
    assert bad_ttl.returncode == 2 and "--ttl" in bad_ttl.stderr


def test_serve_without_a_certificate_stays_on_loopback(tmp_path):
    result = run_probe("serve", "--store", str(tmp_path / "store.sqlite"), "--listen",
                       "0.0.0.0:8443")
    assert result.returncode == 2
    assert "plain HTTP" in result.stderr and "--certfile" in result.stderr
    half = run_probe("serve", "--store", str(tmp_path / "store.sqlite"), "--keyfile", "k.pem")
    assert half.returncode == 2 and "--keyfile needs --certfile" in half.stderr


def test_serve_takes_an_enrollment_and_an_upload_over_tls(tmp_path):
    store = tmp_path / "store.sqlite"
    ca_file, cert, key = issue_certificate(tmp_path)
    port = free_port()
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    env.pop("EGOV_COLLECTOR_SECRET", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "egov_probe", "serve", "--store", str(store), "--listen",
         f"127.0.0.1:{port}", "--certfile", str(cert), "--keyfile", str(key)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    try:
        wait_listening("127.0.0.1", port, timeout=60)
        collector = RunningCollector(None, make_context(str(store)), port, ca_file)
        private = generate_private_key()
        enrolled = enroll_request(collector, token_create(store), private)
        assert enrolled.status == 201, enrolled.body
        probe = TestProbe(private, enrolled.json()["key_id"], UNIT, "m-0001")
        assert upload(collector, probe, report_bytes(make_report(unit_id=UNIT))).status == 201
    finally:
        server.send_signal(signal.SIGTERM)
        output = server.communicate(timeout=60)[0].decode("utf-8", "replace")
    # uvicorn shuts down cleanly, then dies of the signal it caught (systemd: a clean stop)
    assert server.returncode in (0, -signal.SIGTERM), output
    assert "Application shutdown complete" in output
    assert f"https://127.0.0.1:{port}" in output
    secret = tmp_path / "egov-collector.secret"
    assert secret.stat().st_mode & 0o777 == 0o600


def test_one_probes_key_is_revoked(tmp_path):
    store = tmp_path / "store.sqlite"
    token = token_create(store)
    database = open_database(store)
    try:
        key = enroll(database, EnrollmentRequest(token, public_key_text(generate_private_key()), "ws1",
                                          "m-1"), dt.datetime.now(dt.timezone.utc))
    finally:
        database.close()
    revoked = run_probe("token", "revoke", "--key", key.key_id, "--store", str(store))
    assert revoked.returncode == 0 and "revoked" in revoked.stdout
    unknown = run_probe("token", "revoke", "--key", "0" * 32, "--store", str(store))
    assert unknown.returncode == 2 and "no key" in unknown.stderr
    listed = run_probe("token", "list", "--store", str(store)).stdout
    assert f"1\t{UNIT}\tactive\t-\t1\t" in listed  # the token still works for other machines
