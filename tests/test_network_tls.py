"""Network checks against real nginx servers with certificates from a test CA.

Each test asserts the status, the failing step and the diagnosis of one endpoint.
"""

from __future__ import annotations

import pytest

from egov_probe.core.model import Status
from egov_probe.facts.network import ProbeSettings, probe_endpoint, probe_endpoints
from egov_probe.judge.network import judge_endpoint
from tests.servers.ca import TestCA, self_signed
from tests.servers.nginx import Nginx
from tests.servers.slow import SlowUpstream

pytestmark = pytest.mark.services

RULES = {"tls_min_version": "1.2", "cert_expiry_warn_days": 30, "step_timeout_s": 2}


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    folder = tmp_path_factory.mktemp("web")
    ca = TestCA(folder / "ca")
    slow = SlowUpstream(delay_s=6).start()
    web = Nginx(folder / "nginx")
    ports = {
        "ok": web.add_tls_server(ca.issue("ok", "localhost", "127.0.0.1", "::1"),
                                 hosts=("127.0.0.1", "::1")),
        "expiring": web.add_tls_server(ca.issue("soon", "127.0.0.1", days=10)),
        "expired": web.add_tls_server(ca.issue("expired", "127.0.0.1", expired=True)),
        "wrong_name": web.add_tls_server(ca.issue("wrong", "other.example")),
        "self_signed": web.add_tls_server(self_signed(folder, "own", "127.0.0.1")),
        "old_tls": web.add_tls_server(ca.issue("old", "127.0.0.1"), protocols="TLSv1 TLSv1.1",
                                      ciphers="DEFAULT:@SECLEVEL=0"),
        "sha1": web.add_tls_server(ca.issue_weak("sha1", "127.0.0.1"),
                                   ciphers="DEFAULT:@SECLEVEL=0"),
        "error500": web.add_tls_server(ca.issue("e500", "127.0.0.1"), status=500),
        "slow": web.add_server(f"location / {{ proxy_pass http://127.0.0.1:{slow.port}; "
                               "proxy_read_timeout 30s; }", tls=ca.issue("slow", "127.0.0.1")),
    }
    ports["redirect"] = web.add_server(
        f"location / {{ return 302 https://127.0.0.1:{ports['ok']}/home; }}",
        tls=ca.issue("redir", "127.0.0.1"))
    web.start()
    yield {"ca": ca, "ports": ports, "nginx": web}
    web.stop()
    slow.stop()


def _check(servers, name: str, url: str = "", required: bool = True, **rules):
    endpoint = {"id": name, "url": url or f"https://127.0.0.1:{servers['ports'][name]}/",
                "kind": "https", "required": required, "name": {"vi": name, "en": name}}
    settings = ProbeSettings(step_timeout=2, ca_file=str(servers["ca"].root.cert))
    result = probe_endpoint(endpoint, settings)
    return judge_endpoint(result, endpoint, {**RULES, **rules})


def test_valid_certificate_passes_with_every_step_timed(servers):
    check = _check(servers, "ok")
    assert check.status is Status.PASS, check.details
    steps = {s["step"]: s for s in check.details["steps"]}
    assert steps["tls"]["protocol"] in ("TLSv1.2", "TLSv1.3")
    assert steps["tls"]["issuer"] == "egov-probe Test Root CA"
    assert steps["http"]["http_status"] == 200
    assert all(s["ms"] >= 0 for s in steps.values()) and check.remedy is None
    assert "failed_step" not in check.details and check.details["route"] == "direct"


def test_ipv6_loopback_is_checked_on_its_own(servers):
    check = _check(servers, "ok", url=f"https://[::1]:{servers['ports']['ok']}/")
    steps = {s["step"]: s for s in check.details["steps"]}
    assert check.status is Status.PASS
    assert steps["tcp_ipv6"]["status"] == "pass" and steps["tcp_ipv6"]["address"] == "::1"
    assert steps["tcp_ipv4"]["status"] == "skipped"


def test_expired_certificate_fails_at_tls(servers):
    check = _check(servers, "expired")
    assert check.status is Status.FAIL
    assert check.details["failed_step"] == "tls" and check.details["error"] == "cert_expired"
    assert "đã hết hạn" in check.remedy.vi and "has expired" in check.remedy.en


def test_certificate_about_to_expire_warns(servers):
    check = _check(servers, "expiring")
    assert check.status is Status.WARN
    assert check.details["error"] == "cert_expiring"
    assert "chỉ còn 9 ngày" in check.remedy.vi or "chỉ còn 10 ngày" in check.remedy.vi


def test_wrong_host_name_fails_at_tls(servers):
    check = _check(servers, "wrong_name")
    assert check.status is Status.FAIL
    assert (check.details["failed_step"], check.details["error"]) == ("tls", "hostname_mismatch")
    assert "không cấp cho tên 127.0.0.1" in check.remedy.vi


def test_self_signed_certificate_fails_at_tls(servers):
    check = _check(servers, "self_signed")
    assert (check.status, check.details["error"]) == (Status.FAIL, "self_signed")
    assert "chứng thư tự ký" in check.remedy.vi and "self-signed" in check.remedy.en


def test_untrusted_chain_without_the_test_ca(servers):
    endpoint = {"id": "ok", "url": f"https://127.0.0.1:{servers['ports']['ok']}/",
                "kind": "https"}
    result = probe_endpoint(endpoint, ProbeSettings(step_timeout=2))  # system store only
    check = judge_endpoint(result, endpoint, RULES)
    assert (check.status, check.details["failed_step"]) == (Status.FAIL, "tls")
    assert check.details["error"] == "untrusted_chain"
    assert "kho tin cậy" in check.remedy.vi


def test_a_sha1_signed_certificate_is_its_own_diagnosis_with_a_remedy(servers):
    """openssl says "CA signature digest algorithm too weak": not a generic cert_invalid."""
    check = _check(servers, "sha1")
    assert (check.status, check.details["failed_step"]) == (Status.FAIL, "tls")
    assert check.details["error"] == "weak_signature"
    assert "SHA-1" in check.remedy.vi and "SHA-256" in check.remedy.en


def test_the_protocol_remedy_names_the_policys_minimum(servers):
    check = _check(servers, "old_tls", tls_min_version="1.3")
    assert check.details["error"] == "protocol_too_old"
    assert "bật TLS 1.3 hoặc mới hơn" in check.remedy.vi
    assert "enable TLS 1.3 or newer" in check.remedy.en


def test_server_offering_only_tls_1_0_and_1_1(servers):
    """nginx with @SECLEVEL=0 really negotiates TLS 1.1; the probe refuses it and says so."""
    check = _check(servers, "old_tls")
    assert (check.status, check.details["failed_step"]) == (Status.FAIL, "tls")
    assert check.details["error"] == "protocol_too_old"
    tls = next(s for s in check.details["steps"] if s["step"] == "tls")
    assert tls["server_protocol"] in ("TLSv1", "TLSv1.1")
    assert f"({tls['server_protocol']})" in check.remedy.vi and "TLS 1.2" in check.remedy.vi


def test_policy_requiring_tls_1_3_fails_a_tls_1_2_only_server(tmp_path, servers):
    web = Nginx(tmp_path / "n12")
    port = web.add_tls_server(servers["ca"].issue("v12", "127.0.0.1"), protocols="TLSv1.2")
    with web.start():
        check = _check(servers, "v12", url=f"https://127.0.0.1:{port}/", tls_min_version="1.3")
    assert (check.status, check.details["error"]) == (Status.FAIL, "version_low")
    assert "TLSv1.2" in check.remedy.en and "1.3" in check.remedy.en


def test_http_500_fails_at_http(servers):
    check = _check(servers, "error500")
    assert (check.status, check.details["failed_step"]) == (Status.FAIL, "http")
    assert "trả về mã 500" in check.remedy.vi


def test_optional_endpoint_failing_only_warns(servers):
    check = _check(servers, "error500", required=False)
    assert check.status is Status.WARN and check.details["failed_step"] == "http"


def test_redirect_is_followed_and_recorded(servers):
    check = _check(servers, "redirect")
    http = next(s for s in check.details["steps"] if s["step"] == "http")
    assert check.status is Status.PASS
    assert [r["status"] for r in http["redirects"]] == [302, 200]
    assert http["redirects"][1]["url"].endswith("/home")


def test_slow_upstream_times_out_at_http(servers):
    check = _check(servers, "slow")
    assert (check.status, check.details["failed_step"]) == (Status.FAIL, "http")
    assert check.details["error"] == "timeout"
    assert "không trả lời trong thời gian chờ" in check.remedy.vi


def test_overall_timeout_cuts_off_what_is_still_running(servers):
    endpoints = [{"id": "slow", "url": f"https://127.0.0.1:{servers['ports']['slow']}/",
                  "kind": "https"},
                 {"id": "ok", "url": f"https://127.0.0.1:{servers['ports']['ok']}/",
                  "kind": "https"}]
    settings = ProbeSettings(step_timeout=5, ca_file=str(servers["ca"].root.cert))
    slow, ok = probe_endpoints(endpoints, settings, overall_timeout=1.0)
    assert slow.steps[-1].error == "section_timeout"
    assert ok.step("http").ok
    check = judge_endpoint(slow, endpoints[0], RULES)
    assert (check.status, check.details["failed_step"]) == (Status.FAIL, "overall")
