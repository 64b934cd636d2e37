"""Clock skew against real servers' HTTP Date: nginx run with its clock shifted (libfaketime
from Debian), so this machine looks fast or slow by a known amount."""

from __future__ import annotations

import pytest

from egov_probe.core.model import Status
from egov_probe.facts.net_ntp import query_ntp
from egov_probe.facts.net_types import Step
from egov_probe.facts.network import ProbeSettings, probe_endpoint
from egov_probe.judge.network import judge_clock
from tests.servers.nginx import Nginx, faketime_env
from tests.servers.ports import free_port

pytestmark = pytest.mark.services
RULES = {"clock_skew_s": {"warn_above": 60, "fail_above": 300}}


def _skew_against(tmp_path, offset: str):
    web = Nginx(tmp_path / f"clock{offset}", env=faketime_env(offset))
    port = web.add_server("location / { return 200 'ok'; }")
    with web.start():
        result = probe_endpoint({"id": "c", "url": f"http://127.0.0.1:{port}/", "kind": "http"},
                                ProbeSettings(step_timeout=2))
    return result, judge_clock([result], [], RULES)


def test_server_clock_ten_minutes_behind_fails(tmp_path):
    result, check = _skew_against(tmp_path, "-600")
    assert -602 <= result.step("http").data["skew_s"] <= -598
    assert check.status is Status.FAIL and check.details["source"] == "HTTP Date"
    assert "lệch" in check.remedy.vi and "HTTP Date" in check.remedy.en


def test_two_minutes_warns_and_a_second_passes(tmp_path):
    _result, warn = _skew_against(tmp_path, "+120")
    assert warn.status is Status.WARN and 118 <= warn.observed <= 122
    _result, ok = _skew_against(tmp_path, "+0")
    assert ok.status is Status.PASS and abs(ok.observed) <= 2


def test_ntp_wins_over_http_date_and_nothing_measured_is_skipped():
    ntp = Step("ntp", data={"server": "ntp.test"}).succeed(offset_s=0.4, stratum=2)
    check = judge_clock([], [ntp], RULES)
    assert (check.status, check.observed, check.details["source"]) == (Status.PASS, 0.4, "NTP")
    nothing = judge_clock([], [Step("ntp").fail("timeout")], RULES)
    assert nothing.status is Status.SKIPPED and "Không đo được" in nothing.remedy.vi


def test_ntp_query_to_a_closed_port_is_refused_at_once():
    step = query_ntp(f"127.0.0.1:{free_port()}", timeout=2)
    assert (step.ok, step.error) == (False, "refused")


def test_ntp_servers_of_the_policy_are_asked_beside_the_endpoints():
    from egov_probe.facts.net_proxy import NO_PROXY
    from egov_probe.facts.network import collect_network

    port = free_port()
    facts = collect_network({"step_timeout_s": 1, "overall_timeout_s": 5, "endpoints": [],
                             "ntp_servers": [f"127.0.0.1:{port}"]}, NO_PROXY)
    assert [(s.step, s.error, s.data["server"]) for s in facts.ntp] == [
        ("ntp", "refused", f"127.0.0.1:{port}")]
    check = judge_clock(facts.endpoints, facts.ntp, RULES)
    assert check.status is Status.SKIPPED and check.details["ntp"][0]["error"] == "refused"


def test_the_signature_section_leaves_the_ntp_servers_to_the_network_section():
    """Both sections once, as an audit runs them: the policy's NTP server is asked once (the
    signature section asked it again and threw the answer away)."""
    import socket

    from egov_probe.facts.net_proxy import NO_PROXY
    from egov_probe.facts.network import collect_network
    from egov_probe.facts.signature import collect_signature

    server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    server.bind(("127.0.0.1", 0))
    server.settimeout(0.2)
    rules = {"step_timeout_s": 0.3, "overall_timeout_s": 2, "endpoints": [],
             "ntp_servers": [f"127.0.0.1:{server.getsockname()[1]}"]}
    try:
        collect_network(rules, NO_PROXY)
        collect_signature({"signing_service_port": free_port()}, rules, NO_PROXY)
        asked = 0
        while True:
            try:
                server.recv(512)
            except socket.timeout:
                break
            asked += 1
    finally:
        server.close()
    assert asked == 1
