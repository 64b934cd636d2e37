"""DNS from a real dnsmasq, a refused port, a black-holed address in a test namespace, and a
real HTTP proxy (tinyproxy): each asserts the status, the failing step and the diagnosis."""

from __future__ import annotations

import pytest

from egov_probe.core.model import Status
from egov_probe.facts.net_proxy import ProxySettings, from_environment
from egov_probe.facts.network import ProbeSettings, probe_endpoint, probe_endpoints
from egov_probe.judge.network import judge_endpoint, judge_ipv6
from tests.servers.ca import TestCA
from tests.servers.dnsmasq import Dnsmasq
from tests.servers.netns import Netns
from tests.servers.nginx import Nginx
from tests.servers.ports import free_port
from tests.servers.tinyproxy import Tinyproxy

pytestmark = pytest.mark.services
RULES = {"tls_min_version": "1.2", "cert_expiry_warn_days": 30}
NAMES = ("qlvb.egov.test", "v6only.egov.test")


@pytest.fixture(scope="module")
def web(tmp_path_factory):
    folder = tmp_path_factory.mktemp("paths")
    ca = TestCA(folder / "ca")
    nginx = Nginx(folder / "nginx")
    port = nginx.add_tls_server(ca.issue("ok", *NAMES, "localhost", "127.0.0.1", "::1"),
                                hosts=("127.0.0.1", "::1"))
    plain = nginx.add_server("location / { return 200 'plain'; }")
    old_tls = nginx.add_tls_server(ca.issue("old", *NAMES), protocols="TLSv1 TLSv1.1",
                                   ciphers="DEFAULT:@SECLEVEL=0")
    dnsmasq = Dnsmasq(folder / "dns", {"qlvb.egov.test": ["127.0.0.1", "::1"],
                                       "v6only.egov.test": ["::1"]})
    with nginx.start(), dnsmasq.start():
        yield {"ca": ca, "port": port, "plain": plain, "old_tls": old_tls, "dns": dnsmasq}


def _run(web, url: str, resolvers=None, proxy: ProxySettings = ProxySettings({}),
         timeout: float = 2.0, required: bool = True):
    endpoint = {"id": "e", "url": url, "kind": "https", "required": required}
    settings = ProbeSettings(step_timeout=timeout, ca_file=str(web["ca"].root.cert),
                             resolvers=tuple(resolvers if resolvers is not None
                                             else [web["dns"].resolver]), proxy=proxy)
    result = probe_endpoint(endpoint, settings)
    return result, judge_endpoint(result, endpoint, RULES)


def test_name_resolved_by_the_configured_dns_server(web):
    result, check = _run(web, f"https://qlvb.egov.test:{web['port']}/")
    dns = result.step("dns")
    assert check.status is Status.PASS, check.details
    assert dns.data["addresses"] == {"ipv4": ["127.0.0.1"], "ipv6": ["::1"]}
    assert dns.data["resolver"] == web["dns"].resolver
    assert result.step("tcp_ipv4").ok and result.step("tcp_ipv6").ok


def test_old_tls_server_found_by_name_is_looked_at_through_the_same_resolver(web):
    """The second, unverified look at what an old server speaks resolves the name with the
    configured DNS server, as the DNS step did."""
    result, check = _run(web, f"https://qlvb.egov.test:{web['old_tls']}/")
    assert (check.details["failed_step"], check.details["error"]) == ("tls", "protocol_too_old")
    assert result.step("tls").data["server_protocol"] == "TLSv1.1"
    assert "(TLSv1.1)" in check.remedy.vi


def test_an_endpoint_can_name_its_own_resolver(web):
    endpoint = {"id": "e", "url": f"https://qlvb.egov.test:{web['port']}/", "kind": "https",
                "resolvers": [web["dns"].resolver]}
    settings = ProbeSettings(step_timeout=2, ca_file=str(web["ca"].root.cert),
                             resolvers=(f"127.0.0.1:{free_port()}",))  # nobody answers there
    result = probe_endpoint(endpoint, settings)
    assert result.step("dns").data["resolver"] == web["dns"].resolver
    assert judge_endpoint(result, endpoint, RULES).status is Status.PASS


def test_unknown_name_fails_at_dns_with_nxdomain(web):
    _result, check = _run(web, "https://khongco.egov.test/")
    assert (check.status, check.details["failed_step"]) == (Status.FAIL, "dns")
    assert check.details["error"] == "nxdomain"
    assert web["dns"].resolver in check.remedy.vi and "NXDOMAIN" in check.remedy.en


def test_dns_server_refusing_is_told_apart(web):
    """dnsmasq without an upstream answers REFUSED for names outside its own zone."""
    _result, check = _run(web, "https://mail.nghean.example/")
    assert (check.details["failed_step"], check.details["error"]) == ("dns", "refused")
    assert "REFUSED" in check.remedy.vi and web["dns"].resolver in check.remedy.en


@pytest.mark.netns
def test_silent_dns_server_times_out(web):
    with Netns() as ns:
        ns.blackhole()
        _result, check = _run(web, "https://qlvb.egov.test/", resolvers=[f"{ns.address}:53"],
                              timeout=1.0)
    assert (check.details["failed_step"], check.details["error"]) == ("dns", "timeout")
    assert "không trả lời" in check.remedy.vi


def test_ipv6_only_name_connects_over_ipv6(web):
    result, check = _run(web, f"https://v6only.egov.test:{web['port']}/")
    assert check.status is Status.PASS
    assert result.step("tcp_ipv4").ok is None and result.step("tcp_ipv6").ok
    ipv6 = judge_ipv6([result], {"ipv6_required": True})
    assert ipv6.status is Status.PASS


def test_refused_port_fails_at_tcp(web):
    port = free_port()
    _result, check = _run(web, f"https://127.0.0.1:{port}/")
    assert (check.status, check.details["failed_step"]) == (Status.FAIL, "tcp_ipv4")
    assert check.details["error"] == "refused"
    assert f"cổng {port} từ chối kết nối" in check.remedy.vi


def test_ipv4_only_endpoint_warns_about_ipv6_unless_required(web):
    result, check = _run(web, f"https://127.0.0.1:{web['port']}/")
    assert check.status is Status.PASS
    assert judge_ipv6([result], {"ipv6_required": False}).status is Status.WARN
    required = judge_ipv6([result], {"ipv6_required": True})
    assert required.status is Status.FAIL and "39/2017" in required.remedy.vi


@pytest.mark.netns
def test_black_holed_address_times_out_at_tcp(web):
    with Netns() as ns:
        ns.blackhole()
        _result, check = _run(web, f"https://{ns.address}:443/", timeout=1.0)
    assert (check.status, check.details["failed_step"]) == (Status.FAIL, "tcp_ipv4")
    assert check.details["error"] == "timeout"  # the step timeout, not the kernel's retries
    assert "không phản hồi" in check.remedy.vi and ns.address in check.remedy.vi


@pytest.mark.netns
def test_endpoints_run_concurrently_within_the_overall_bound(web):
    """Four black-holed endpoints of one step timeout each all finish (with their own TCP
    timeout) inside an overall bound of 2.5 timeouts: only possible when run at once."""
    with Netns() as ns:
        ns.blackhole()
        endpoints = [{"id": f"dead{i}", "url": f"https://{ns.address}:{443 + i}/",
                      "kind": "https"} for i in range(4)]
        endpoints.append({"id": "up", "url": f"https://127.0.0.1:{web['port']}/",
                          "kind": "https"})
        settings = ProbeSettings(step_timeout=1.0, ca_file=str(web["ca"].root.cert))
        results = probe_endpoints(endpoints, settings, overall_timeout=2.5)
    assert [r.endpoint_id for r in results] == [e["id"] for e in endpoints]
    assert [r.step("tcp_ipv4").error for r in results[:4]] == ["timeout"] * 4
    assert results[4].step("http").ok


def test_https_through_a_real_proxy_names_the_route(web, tmp_path):
    with Tinyproxy(tmp_path / "proxy") as proxy:
        settings = from_environment({"https_proxy": proxy.url})
        result, check = _run(web, f"https://localhost:{web['port']}/", resolvers=[],
                             proxy=settings)
        log = proxy.log_text()
    assert check.status is Status.PASS, check.details
    assert check.details["route"] == f"proxy {proxy.url} (environment)"
    assert result.step("proxy").ok and result.step("http").data["http_status"] == 200
    assert f"CONNECT localhost:{web['port']}" in log


def test_proxy_refusing_the_tunnel_fails_at_the_proxy_step(web, tmp_path):
    """The proxy cannot resolve a name only the test DNS knows: it answers CONNECT with 500."""
    with Tinyproxy(tmp_path / "proxy") as proxy:
        settings = from_environment({"https_proxy": proxy.url})
        _result, check = _run(web, f"https://qlvb.egov.test:{web['port']}/", resolvers=[],
                              proxy=settings)
    assert (check.status, check.details["failed_step"]) == (Status.FAIL, "proxy")
    assert check.details["error"] == "proxy_refused"
    assert "(mã 500)" in check.remedy.vi and proxy.url in check.remedy.vi


def test_plain_http_through_the_proxy(web, tmp_path):
    with Tinyproxy(tmp_path / "proxy") as proxy:
        settings = from_environment({"http_proxy": proxy.url})
        result, check = _run(web, f"http://127.0.0.1:{web['plain']}/", proxy=settings)
    assert check.status is Status.PASS and check.details["route"].startswith("proxy ")
    assert result.step("http").data["http_status"] == 200


def test_proxy_bypass_goes_direct(web, tmp_path):
    settings = from_environment({"https_proxy": "http://127.0.0.1:1", "no_proxy": ".egov.test"})
    _result, check = _run(web, f"https://qlvb.egov.test:{web['port']}/", proxy=settings)
    assert check.status is Status.PASS and check.details["route"] == "direct"


def test_proxy_that_is_down_fails_at_its_tcp_step(web):
    port = free_port()
    settings = from_environment({"HTTPS_PROXY": f"http://127.0.0.1:{port}"})
    _result, check = _run(web, f"https://qlvb.egov.test:{web['port']}/", proxy=settings)
    assert (check.details["failed_step"], check.details["error"]) == ("tcp_ipv4", "refused")
    assert check.details["route"].startswith(f"proxy http://127.0.0.1:{port}")
    assert "không kết nối được máy chủ proxy" in check.remedy.vi
    assert "Connection refused" in check.remedy.en
