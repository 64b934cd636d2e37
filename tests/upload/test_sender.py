"""The sender's handling of every answer in docs/collector.md's table, with a scripted client,
an injected random and a clock that never sleeps for real."""

from __future__ import annotations

import gzip
import io
import ssl

import pytest

from egov_probe.core.signing import ReportSignature, signature_verifies
from egov_probe.upload.backoff import Backoff
from egov_probe.upload.identity import load_identity
from egov_probe.upload.outbox import Outbox
from egov_probe.upload.sender import Sender, TlsVerifyError
from tests.upload.support import (MACHINE, FakeClock, ScriptedClient, answer, make_identity,
                                  report_bytes)


class Bed:
    """An identity, an outbox with ``n`` reports, a scripted client and a fake clock."""

    def __init__(self, folder, n=1, script=(), max_time=600.0):
        self.identity = make_identity(folder / "identity")
        self.outbox = Outbox(folder / "outbox")
        self.data = [report_bytes() for _ in range(n)]
        for data in self.data:
            self.outbox.queue(data, self.identity.private_key, "t", self.identity.unit_id)
        self.client = ScriptedClient(list(script))
        self.clock = FakeClock()
        self.stream = io.StringIO()
        self.max_time = max_time

    def send(self):
        sender = Sender(self.outbox, lambda unit: load_identity(self.identity.folder, unit,
                                                                 MACHINE),
                        lambda identity: self.client, backoff=Backoff(random=lambda: 0.5),
                        timing=self.clock.timing(), max_time=self.max_time, stream=self.stream)
        return sender.send_all()


def test_201_and_200_remove_the_reports_and_say_progress(tmp_path):
    bed = Bed(tmp_path, n=2, script=[answer(201, {"status": "imported"}),
                                     answer(200, {"status": "duplicate"})])
    result = bed.send()
    assert (result.sent, result.waiting, result.rejected) == (2, 0, 0)
    assert bed.outbox.pending() == [] and bed.clock.sleeps == []
    assert "đã gửi 1/2 / sent 1/2" in bed.stream.getvalue()
    assert "đã gửi 2/2 / sent 2/2" in bed.stream.getvalue()


def test_the_request_is_gzip_of_the_exact_bytes_signed(tmp_path):
    bed = Bed(tmp_path, n=2)
    by_id = {e.report_id: e.read()[0] for e in bed.outbox.pending()}
    bed.send()
    for (method, path, body, headers), left in zip(bed.client.requests, (1, 0)):
        assert method == "PUT" and path.startswith("/v1/reports/")
        data = gzip.decompress(body)
        assert data == by_id[path.rsplit("/", 1)[1]]
        assert headers["Content-Encoding"] == "gzip"
        assert headers["Content-Type"] == "application/json"
        assert headers["X-Egov-Key-Id"] == bed.identity.key_id
        assert headers["X-Egov-Outbox"] == str(left)
        signature = ReportSignature(bed.identity.key_id, "", headers["X-Egov-Signature"])
        assert signature_verifies(bed.identity.record.public_key, data, signature)


@pytest.mark.parametrize("status,error", [(409, "conflict"), (400, "invalid"), (422, "invalid"),
                                          (403, "wrong_unit"), (413, "too_large"),
                                          (415, "invalid")])
def test_refused_reports_go_to_rejected_with_the_reason(tmp_path, status, error):
    bed = Bed(tmp_path, n=2, script=[answer(status, {"error": error})])
    result = bed.send()
    assert (result.sent, result.rejected) == (1, 1)
    (rejected,) = bed.outbox.rejected()
    reason = (bed.outbox.rejected_folder / f"{rejected}.reason.txt").read_text()
    assert f"HTTP {status}" in reason and error in reason


def test_503_waits_at_least_retry_after(tmp_path):
    bed = Bed(tmp_path, script=[answer(503, {"error": "busy"}, retry_after="7"),
                                answer(429, {}, retry_after="0"), answer(201)])
    result = bed.send()
    assert result.sent == 1
    assert bed.clock.sleeps[0] >= 7 and len(bed.clock.sleeps) == 2
    assert bed.clock.sleeps[1] == 0.5 * 2  # Retry-After 0: the jittered backoff still applies


def test_network_errors_and_5xx_back_off_with_full_jitter(tmp_path):
    bed = Bed(tmp_path, script=[ConnectionResetError("reset"), answer(500), answer(502),
                                TimeoutError("timed out"), answer(201)])
    assert bed.send().sent == 1
    assert bed.clock.sleeps == [0.5, 1.0, 2.0, 4.0]


def test_the_time_limit_stops_the_run_and_the_reports_wait(tmp_path):
    bed = Bed(tmp_path, n=3, script=[ConnectionRefusedError("refused")] * 50, max_time=20)
    result = bed.send()
    assert (result.sent, result.waiting) == (0, 3)
    assert sum(bed.clock.sleeps) <= 20 and len(bed.outbox.pending()) == 3
    assert "time limit" in bed.stream.getvalue()


def test_a_certificate_that_does_not_verify_stops_at_once(tmp_path):
    error = TlsVerifyError("the server's TLS certificate did not verify")
    bed = Bed(tmp_path, n=2, script=[error])
    result = bed.send()
    assert result.waiting == 2 and bed.clock.sleeps == [] and len(bed.client.requests) == 1


def test_an_unexpected_answer_stops_without_losing_anything(tmp_path):
    bed = Bed(tmp_path, n=2, script=[answer(404)])
    result = bed.send()
    assert result.waiting == 2 and len(bed.outbox.pending()) == 2


def _refused_runs(tmp_path, minutes_apart, error="unknown_key"):
    """One run per element of ``minutes_apart`` (the clock moved that far first)."""
    bed = Bed(tmp_path, n=2)
    results = []
    for minutes in minutes_apart:
        bed.clock.seconds += minutes * 60
        bed.client.script = [answer(401, {"error": error})]
        results.append(bed.send())
    return bed, results


def test_reenroll_only_after_three_refusals_over_ten_minutes(tmp_path):
    bed, results = _refused_runs(tmp_path, [0, 1, 1, 1, 8])
    assert [bool(r.reenroll) for r in results] == [False, False, False, False, True]
    # each run asked once, then kept the unit's reports waiting: never a loop
    assert len(bed.client.requests) == 5 and all(r.waiting == 2 for r in results)
    assert "enroll again" in results[-1].reenroll["xa-ma-thanh"]
    # the identity is never deleted by the sender
    assert (bed.identity.folder / "xa-ma-thanh.key").exists()
    assert (bed.identity.folder / "xa-ma-thanh.json").exists()


def test_a_success_between_refusals_starts_the_count_again(tmp_path):
    bed, _ = _refused_runs(tmp_path, [0, 5], error="key_revoked")
    bed.client.script = [answer(201)]
    assert bed.send().sent == 2
    bed.outbox.queue(report_bytes(), bed.identity.private_key, "t", "xa-ma-thanh")
    bed.clock.seconds += 600
    bed.client.script = [answer(401, {"error": "key_revoked"})]
    assert not bed.send().reenroll


@pytest.mark.parametrize("error", ["unit_revoked", "bad_signature"])
def test_other_401s_keep_the_reports_and_never_ask_to_reenroll(tmp_path, error):
    bed, results = _refused_runs(tmp_path, [0, 6, 6, 6], error=error)
    assert not any(r.reenroll for r in results)
    assert len(bed.outbox.pending()) == 2


def test_a_clone_is_said_and_its_reports_wait(tmp_path):
    bed = Bed(tmp_path, n=2)
    sender = Sender(bed.outbox, lambda unit: load_identity(bed.identity.folder, unit,
                                                           "0" * 31 + "1"),
                    lambda identity: bed.client, timing=bed.clock.timing(), stream=bed.stream)
    result = sender.send_all()
    assert result.waiting == 2 and bed.client.requests == []
    assert bed.stream.getvalue().count("cloned disk") == 1


def test_tls_settings_verify_by_default():
    from egov_probe.upload.sender import ServerTls
    assert ServerTls().context().verify_mode == ssl.CERT_REQUIRED
    assert ServerTls().context().check_hostname
    insecure = ServerTls(insecure=True).context()
    assert insecure.verify_mode == ssl.CERT_NONE


def test_server_urls():
    from egov_probe.core.errors import InputError
    from egov_probe.upload.sender import parse_server
    assert str(parse_server("https://thu-thap.egov.nghean.gov.vn")) == \
        "https://thu-thap.egov.nghean.gov.vn:443"
    assert parse_server("https://127.0.0.1:8443/collector/").prefix == "/collector"
    assert parse_server("http://127.0.0.1:8080").scheme == "http"
    for bad in ("http://thu-thap.example", "ftp://x", "thu-thap", "https://x:99999"):
        with pytest.raises(InputError):
            parse_server(bad)


def test_a_report_sent_meanwhile_by_another_run_is_skipped(tmp_path):
    bed = Bed(tmp_path, n=2)
    first = bed.outbox.pending()[0]
    sender_identity = lambda unit: load_identity(bed.identity.folder, unit, MACHINE)  # noqa: E731

    def gone_first(unit):
        first.path.unlink(missing_ok=True)  # another `upload` sent it after the listing
        first.sig_path.unlink(missing_ok=True)
        return sender_identity(unit)

    sender = Sender(bed.outbox, gone_first, lambda identity: bed.client,
                    timing=bed.clock.timing(), stream=bed.stream)
    result = sender.send_all()
    assert result.sent == 1 and len(bed.client.requests) == 1


def test_a_signature_that_cannot_be_read_goes_to_rejected(tmp_path):
    bed = Bed(tmp_path)
    (entry,) = bed.outbox.pending()
    entry.sig_path.write_text("not json")
    result = bed.send()
    assert result.rejected == 1 and bed.client.requests == []
    assert "unreadable signature" in (bed.outbox.rejected_folder /
                                      f"{entry.report_id}.reason.txt").read_text()
