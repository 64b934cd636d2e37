"""The collector's API on a real uvicorn with TLS, over SQLite and a real PostgreSQL:
enrollment, uploads and their answers (docs/collector.md)."""

from __future__ import annotations

import datetime as dt
import gzip
import json
from concurrent.futures import ThreadPoolExecutor

from egov_probe.collector.access import revoke_token, revoke_unit, token_hash
from egov_probe.core.signing import generate_private_key
from egov_probe.store import import_paths
from egov_probe.store.queries import count_reports
from tests.collector.conftest import (enroll_probe, enroll_request, new_token, report_bytes,
                                      upload)
from tests.test_store_factory import make_report, write_report

UNIT, OTHER_UNIT = "xa-ma-thanh", "xa-tien-thanh"
PAST = dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc)


def stored(collector, sql, params=()):
    database = collector.database()
    try:
        return database.query(sql, params)
    finally:
        database.close()


def test_enrollment_records_the_key_for_the_tokens_unit(collector):
    token = new_token(collector, UNIT, uses=2)
    key = generate_private_key()
    reply = enroll_request(collector, token, key, machine_id="ABC-1", hostname="ws7")
    assert reply.status == 201
    body = reply.json()
    assert body["unit_id"] == UNIT and body["unit_name"] and len(body["key_id"]) == 32
    [row] = stored(collector, "SELECT unit_id, hostname, machine_id, revoked_at FROM probe_keys")
    assert row == (UNIT, "ws7", "abc-1", None)
    assert stored(collector, "SELECT uses_left FROM collector_tokens") == [(1,)]


def test_enrollment_refusals_say_why(collector):
    def answer(token, key=None):
        reply = enroll_request(collector, token, key or generate_private_key())
        return reply.status, reply.json().get("error")

    assert answer("egt_not-a-token") == (401, "token_invalid")
    assert answer(new_token(collector, UNIT, now=PAST)) == (401, "token_expired")
    once = new_token(collector, UNIT, uses=1)
    assert answer(once)[0] == 201
    assert answer(once) == (401, "token_used_up")
    revoked = new_token(collector, UNIT)
    database = collector.database()
    try:
        [(token_id,)] = database.query("SELECT id FROM collector_tokens WHERE token_sha256 = ?",
                                       (token_hash(revoked),))
        revoke_token(database, token_id, dt.datetime.now(dt.timezone.utc))
        revoke_unit(database, OTHER_UNIT, dt.datetime.now(dt.timezone.utc))
    finally:
        database.close()
    assert answer(revoked) == (401, "token_revoked")
    assert answer(new_token(collector, OTHER_UNIT)) == (401, "unit_revoked")
    many, key = new_token(collector, UNIT), generate_private_key()
    assert answer(many, key)[0] == 201
    assert answer(many, key) == (409, "key_already_enrolled")  # a cloned machine


def test_a_malformed_enrollment_is_400(collector):
    reply = collector.request("POST", "/v1/enroll", b'{"token": "egt_x", "public_key": "AAAA"}')
    assert reply.status == 400 and reply.json()["error"] == "invalid"
    assert "public_key" in reply.json()["detail"]
    assert collector.request("POST", "/v1/enroll", b"not json").status == 400


def test_upload_answers_new_same_and_other_content(collector):
    probe = enroll_probe(collector, UNIT, "m-1")
    report = make_report(unit_id=UNIT, machine_id="m-1")
    raw = report_bytes(report)
    first = upload(collector, probe, raw, outbox=7)
    assert (first.status, first.json()) == (201, {"status": "imported"})
    again = upload(collector, probe, raw, compress=False)
    assert (again.status, again.json()) == (200, {"status": "duplicate"})
    edited = report.to_dict()
    edited["host"]["officer"] = "Người khác"
    other = upload(collector, probe, json.dumps(edited).encode())
    assert (other.status, other.json()["error"]) == (409, "conflict")
    [(key_id, signature, source)] = stored(collector, "SELECT key_id, signature, source "
                                                      "FROM reports")
    assert key_id == probe.key_id and signature and source == f"upload:{probe.key_id}"
    [(seen, waiting)] = stored(collector, "SELECT last_seen_at, outbox_waiting FROM probe_keys")
    assert seen and waiting == 7


def test_upload_refusals(collector):
    probe = enroll_probe(collector, UNIT, "m-1")
    raw = report_bytes(make_report(unit_id=UNIT, machine_id="m-1"))

    def answer(reply):
        return reply.status, reply.json().get("error")

    invalid = make_report(unit_id=UNIT).to_dict()
    invalid["checks"][0]["status"] = "maybe"
    assert answer(upload(collector, probe, json.dumps(invalid).encode())) == (422, "invalid")
    assert answer(upload(collector, probe, report_bytes(make_report(unit_id=OTHER_UNIT)))) == \
        (403, "wrong_unit")
    assert answer(upload(collector, probe, raw, report_id="other-id")) == (400, "invalid")
    assert answer(upload(collector, probe, raw, signed=raw + b" ")) == (401, "bad_signature")
    assert answer(upload(collector, probe, raw, key_id="0" * 32)) == (401, "unknown_key")
    stranger = enroll_probe(collector, OTHER_UNIT, "m-2")
    database = collector.database()
    try:
        database.execute("UPDATE probe_keys SET revoked_at = 'x' WHERE key_id = ?",
                         (stranger.key_id,))
        revoke_unit(database, UNIT, dt.datetime.now(dt.timezone.utc))
    finally:
        database.close()
    assert answer(upload(collector, stranger, report_bytes(make_report(unit_id=OTHER_UNIT)))) \
        == (401, "key_revoked")
    assert answer(upload(collector, probe, raw)) == (401, "unit_revoked")
    assert stored(collector, "SELECT COUNT(*) FROM reports") == [(0,)]


def test_a_report_uploaded_and_carried_on_a_stick_counts_once(collector, tmp_path):
    probe = enroll_probe(collector, UNIT, "m-1")
    reports = [make_report(unit_id=UNIT, hostname=f"ws{i}", machine_id=None) for i in range(2)]
    stick = tmp_path / "usb"
    paths = [write_report(report, stick) for report in reports]
    assert upload(collector, probe, paths[0].read_bytes()).status == 201
    database = collector.database()
    try:
        summary = import_paths(database, [stick], [UNIT, OTHER_UNIT], tmp_path / "q")
        assert (len(summary.imported), len(summary.duplicates)) == (1, 1)
        assert count_reports(database) == 2
    finally:
        database.close()
    assert upload(collector, probe, paths[1].read_bytes()).status == 200


def test_the_body_may_be_gzip_or_identity_and_nothing_else(collector):
    probe = enroll_probe(collector, UNIT, "m-1")
    raw = report_bytes(make_report(unit_id=UNIT))
    headers = {"X-Egov-Key-Id": probe.key_id, "Content-Encoding": "br",
               "X-Egov-Signature": "AAAA"}
    report_id = json.loads(raw)["report_id"]
    assert collector.request("PUT", f"/v1/reports/{report_id}", raw, headers).status == 415
    headers["Content-Encoding"] = "gzip"
    truncated = gzip.compress(raw)[:-20]
    assert collector.request("PUT", f"/v1/reports/{report_id}", truncated, headers).status == 400


def test_the_same_report_sent_at_once_by_many_connections_is_stored_once(collector):
    probe = enroll_probe(collector, UNIT, "m-1")
    raw = report_bytes(make_report(unit_id=UNIT))
    with ThreadPoolExecutor(8) as pool:
        statuses = sorted(pool.map(lambda _: upload(collector, probe, raw).status, range(8)))
    assert statuses == [200] * 7 + [201]
    assert stored(collector, "SELECT COUNT(*) FROM reports") == [(1,)]
