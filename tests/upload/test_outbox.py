"""The outbox: exact bytes and a signature, bounded without dropping a unit's newest report,
rejected/ with its reason, and never half a report, even when the process is killed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from egov_probe.core.errors import InputError
from egov_probe.core.signing import signature_verifies
from egov_probe.upload.outbox import Outbox, report_header
from tests.upload.support import make_identity, report_bytes

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def identity(tmp_path):
    return make_identity(tmp_path / "identity")


def _queue(outbox, identity, data):
    return outbox.queue(data, identity.private_key, "test.json", unit_id=identity.unit_id)


def test_a_report_is_queued_with_its_exact_bytes_and_signature(tmp_path, identity):
    outbox = Outbox(tmp_path / "outbox")
    data = report_bytes()
    queued = _queue(outbox, identity, data)
    (entry,) = outbox.pending()
    body, signature = entry.read()
    assert body == data and entry.report_id == queued.report_id
    assert signature_verifies(identity.record.public_key, body, signature)
    assert not _queue(outbox, identity, data).new  # the same bytes again: nothing new


def test_a_report_of_another_unit_or_without_an_id_is_refused(tmp_path, identity):
    outbox = Outbox(tmp_path / "outbox")
    with pytest.raises(InputError, match="unit"):
        _queue(outbox, identity, report_bytes(unit_id="xa-dien-chau"))
    for bad in (b"{}", b"[1]", b"not json", report_bytes(report_id="../../etc/passwd")):
        with pytest.raises(InputError):
            _queue(outbox, identity, bad)
    assert outbox.pending() == []


def test_pending_is_in_queue_order(tmp_path, identity):
    outbox = Outbox(tmp_path / "outbox")
    ids = []
    for n in range(4):
        ids.append(_queue(outbox, identity, report_bytes()).report_id)
        os.utime(outbox.folder / f"{ids[-1]}.json", ns=(n * 10**9, n * 10**9))
    assert [e.report_id for e in outbox.pending()] == ids


def test_bounds_drop_the_oldest_but_never_a_units_newest(tmp_path):
    ma = make_identity(tmp_path / "id", "xa-ma-thanh")
    dien = make_identity(tmp_path / "id", "xa-dien-chau")
    outbox = Outbox(tmp_path / "outbox", max_reports=3)
    order = []
    for n, who in enumerate([dien, ma, ma, ma, ma]):  # dien's only report is the oldest
        order.append(_queue(outbox, who, report_bytes(who.unit_id)).report_id)
        os.utime(outbox.folder / f"{order[-1]}.json", ns=(n * 10**9, n * 10**9))
    left = [e.report_id for e in outbox.pending()]
    assert left == [order[0], order[3], order[4]]
    # every unit's newest stays even when that means staying over the limit
    outbox.max_reports = 1
    assert outbox.enforce_bounds() == [order[3]]
    assert [e.report_id for e in outbox.pending()] == [order[0], order[4]]


def test_bounds_in_bytes(tmp_path, identity):
    outbox = Outbox(tmp_path / "outbox", max_bytes=25_000)
    ids = []
    for n in range(5):
        ids.append(_queue(outbox, identity, report_bytes(padding=10_000)).report_id)
        os.utime(outbox.folder / f"{ids[-1]}.json", ns=(n * 10**9, n * 10**9))
    assert [e.report_id for e in outbox.pending()] == ids[-2:]


def test_sent_and_rejected(tmp_path, identity):
    outbox = Outbox(tmp_path / "outbox")
    first = _queue(outbox, identity, report_bytes()).report_id
    second = _queue(outbox, identity, report_bytes()).report_id
    by_id = {e.report_id: e for e in outbox.pending()}
    outbox.mark_sent(by_id[first])
    outbox.reject(by_id[second], "HTTP 409: conflict")
    assert outbox.pending() == [] and outbox.rejected() == [second]
    rejected = outbox.rejected_folder
    assert (rejected / f"{second}.reason.txt").read_text() == "HTTP 409: conflict\n"
    assert (rejected / f"{second}.json.sig").exists()
    assert sorted(p.name for p in outbox.folder.iterdir()) == ["rejected"]


def test_a_report_without_its_signature_goes_to_rejected(tmp_path, identity):
    outbox = Outbox(tmp_path / "outbox")
    report_id = _queue(outbox, identity, report_bytes()).report_id
    (outbox.folder / f"{report_id}.json.sig").unlink()
    assert outbox.pending() == [] and outbox.rejected() == [report_id]


def test_leftovers_of_a_killed_writer_are_never_pending(tmp_path, identity):
    outbox = Outbox(tmp_path / "outbox")
    outbox.folder.mkdir()
    part = outbox.folder / f".{'a' * 32}.json.xyz.part"
    part.write_bytes(b'{"report_id": "')
    orphan = outbox.folder / f"{'b' * 32}.json.sig"
    orphan.write_text("{}")
    assert outbox.pending() == []
    old = time.time() - 7200
    os.utime(part, (old, old))
    os.utime(orphan, (old, old))
    outbox.pending()
    assert not part.exists() and not orphan.exists()


WRITER = textwrap.dedent("""
    import sys, uuid, json
    from pathlib import Path
    from egov_probe.upload.identity import load_identity
    from egov_probe.upload.outbox import Outbox
    identity = load_identity(Path(sys.argv[1]), "xa-ma-thanh", None)
    outbox = Outbox(Path(sys.argv[2]), max_reports=10**6, max_bytes=10**12)
    sys.stdout.write("ready\\n"); sys.stdout.flush()
    while True:
        doc = {"report_id": uuid.uuid4().hex, "host": {"unit_id": "xa-ma-thanh"},
               "padding": "x" * 3_000_000}
        outbox.queue(json.dumps(doc).encode(), identity.private_key, "w", "xa-ma-thanh")
""")


@pytest.mark.parametrize("delay", [0.05, 0.2, 0.45, 0.7])
def test_a_writer_killed_mid_write_leaves_no_half_report(tmp_path, identity, delay):
    """A child queues 3 MB reports in a loop and is SIGKILLed at some point: every report the
    outbox lists is whole and its signature verifies."""
    outbox = Outbox(tmp_path / "outbox")
    child = subprocess.Popen([sys.executable, "-c", WRITER, str(identity.folder),
                              str(outbox.folder)], cwd=ROOT, stdout=subprocess.PIPE)
    try:
        assert child.stdout.readline() == b"ready\n"
        time.sleep(delay)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()
    for entry in outbox.pending():
        data, signature = entry.read()
        assert report_header(data, "x").report_id == entry.report_id
        assert signature_verifies(identity.record.public_key, data, signature)
