"""Digital-signature readiness: a root in a trust store, the local signing service (a real
listening server started by the test) and a CRL endpoint served by nginx."""

from __future__ import annotations

import pytest

from egov_probe.core.model import Status
from egov_probe.facts.net_proxy import NO_PROXY
from egov_probe.facts.signature import collect_signature, probe_signing_service, read_trust_store
from egov_probe.judge.signature import judge_signature, judge_signing_service, judge_vgca_root
from tests.servers.ca import TestCA
from tests.servers.nginx import Nginx
from tests.servers.ports import free_port

ROOT_NAME = "egov-probe VGCA Test Root"


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sig")
    return TestCA(folder / "vgca", common_name=ROOT_NAME), TestCA(folder / "other")


def test_root_found_by_name_in_the_trust_store(pki):
    vgca, _other = pki
    check = judge_vgca_root(read_trust_store(str(vgca.root.cert)),
                            {"vgca_root_names": ["vgca test root"]})
    assert check.status is Status.PASS and check.observed == [ROOT_NAME]


def test_root_missing_fails_when_required_and_warns_otherwise(pki):
    _vgca, other = pki
    store = read_trust_store(str(other.root.cert))
    rules = {"vgca_root_names": ["vgca test root"], "vgca_root_required": True}
    check = judge_vgca_root(store, rules)
    assert check.status is Status.FAIL and str(other.root.cert) in check.remedy.vi
    assert "ca.gov.vn" in check.remedy.vi
    assert judge_vgca_root(store, {**rules, "vgca_root_required": False}).status is Status.WARN


def test_unreadable_trust_store_is_an_error(tmp_path):
    check = judge_vgca_root(read_trust_store(str(tmp_path / "none.pem")),
                            {"vgca_root_names": ["VGCA"]})
    assert check.status is Status.ERROR and "FileNotFoundError" in check.remedy.en
    assert judge_vgca_root(read_trust_store(), {}).status is Status.SKIPPED  # no names given


def test_system_trust_store_is_read():
    store = read_trust_store()
    assert store.error is None and len(store.roots) > 50  # Debian's ca-certificates


@pytest.mark.services
def test_signing_service_answering_or_not(tmp_path):
    web = Nginx(tmp_path / "svc")
    port = web.add_tls_server(None, body="vgca")
    with web.start():
        up = judge_signing_service(probe_signing_service(port, 2),
                                   {"signing_service_required": True, "signing_service_port": port})
    assert up.status is Status.PASS
    down_port = free_port()
    rules = {"signing_service_required": True, "signing_service_port": down_port}
    down = judge_signing_service(probe_signing_service(down_port, 2), rules)
    assert (down.status, down.details["failed_step"]) == (Status.FAIL, "signing_service")
    assert f"127.0.0.1 cổng {down_port}" in down.remedy.vi
    optional = judge_signing_service(probe_signing_service(down_port, 2),
                                     {**rules, "signing_service_required": False})
    assert optional.status is Status.SKIPPED and optional.remedy is None


@pytest.mark.services
def test_crl_endpoint_answering_404_is_reachable_and_a_dead_ocsp_is_not(tmp_path, pki):
    vgca, _other = pki
    web = Nginx(tmp_path / "crl")
    port = web.add_tls_server(None, status=404)
    dead = free_port()
    network = {"step_timeout_s": 2, "endpoints": [
        {"id": "crl", "url": f"http://127.0.0.1:{port}/vgca.crl", "kind": "crl",
         "name": {"vi": "Danh sách thu hồi (CRL)", "en": "CRL"}},
        {"id": "ocsp", "url": f"http://127.0.0.1:{dead}/", "kind": "ocsp", "required": True},
        {"id": "portal", "url": f"http://127.0.0.1:{dead}/", "kind": "http"}]}
    rules = {"trust_store": str(vgca.root.cert), "vgca_root_names": [ROOT_NAME],
             "signing_service_port": dead}
    with web.start():
        checks = {c.id: c for c in judge_signature(collect_signature(rules, network, NO_PROXY),
                                                   rules, network)}
    assert set(checks) == {"signature.vgca_root", "signature.signing_service",
                           "signature.crl", "signature.ocsp"}  # not the portal
    assert checks["signature.crl"].status is Status.PASS
    assert checks["signature.crl"].title.vi == "Dịch vụ chữ ký số: Danh sách thu hồi (CRL)"
    ocsp = checks["signature.ocsp"]
    assert (ocsp.status, ocsp.details["failed_step"], ocsp.details["error"]) == (
        Status.FAIL, "tcp_ipv4", "refused")
    assert ocsp.category == "signature"
