"""The reverse proxy (role egov_proxy), probed from outside as a browser would."""

from __future__ import annotations

import json
import os
import ssl

import pytest

from checks.catalog import CONVERGE, check
from checks.hostinfo import host_address, host_vars, module_ports
from checks.netprobe import http_get, peer_certificate, tls_handshake

PROXY = ("egov_proxy_servers",)
TLS_REMEDY = ("Chỉ bật TLS 1.2 và 1.3 (ssl_protocols TLSv1.2 TLSv1.3;) "
              "theo Thông tư 39/2017/TT-BTTTT.",
              "Enable only TLS 1.2 and 1.3 (ssl_protocols TLSv1.2 TLSv1.3;), per Circular 39/2017.")
SECURITY_HEADERS = ("strict-transport-security", "x-content-type-options", "x-frame-options",
                    "referrer-policy", "content-security-policy")


def server_name(host) -> str:
    name = host_vars(host).get("egov_stack_server_name", "")
    return name if name and "{{" not in name else host_address(host)


def _tls_case(host, record, version: ssl.TLSVersion, wanted: str) -> None:
    verdict, detail = tls_handshake(host_address(host), 443, version, server_name(host))
    record.cite("network", f"{host_address(host)}:443 {version.name}", f"{verdict}: {detail}")
    record.observed, record.expected = verdict, wanted
    if verdict == "untestable":
        pytest.fail(f"this client cannot offer {version.name}: {detail}", pytrace=False)
    assert verdict == wanted, detail


OLD_TLS = ("TLS 1.0/1.1 bị từ chối", "TLS 1.0/1.1 handshakes refused")
MODERN_TLS = ("TLS 1.2/1.3 được chấp nhận", "TLS 1.2/1.3 handshakes accepted")


def _tls_check(check_id: str, title: tuple[str, str], version: ssl.TLSVersion, wanted: str):
    @check(check_id, title, TLS_REMEDY, PROXY)
    def test(host, record):
        _tls_case(host, record, version, wanted)

    return test


test_tls10_refused = _tls_check("server.nginx.tls10_refused", OLD_TLS, ssl.TLSVersion.TLSv1,
                                "refused")
test_tls11_refused = _tls_check("server.nginx.tls11_refused", OLD_TLS, ssl.TLSVersion.TLSv1_1,
                                "refused")
test_tls12_accepted = _tls_check("server.nginx.tls12_accepted", MODERN_TLS,
                                 ssl.TLSVersion.TLSv1_2, "accepted")
test_tls13_accepted = _tls_check("server.nginx.tls13_accepted", MODERN_TLS,
                                 ssl.TLSVersion.TLSv1_3, "accepted")


@check("server.nginx.http_redirect", ("HTTP chuyển hướng sang HTTPS", "HTTP redirects to HTTPS"),
       CONVERGE, PROXY)
def test_http_redirects_to_https(host, record):
    status, headers, _body = http_get(host_address(host), "/", server_name(host), tls=False)
    record.cite("network", f"http://{host_address(host)}/", f"{status} {headers.get('location')}")
    record.observed = {"status": status, "location": headers.get("location")}
    record.expected = {"status": 301, "location": f"https://{server_name(host)}/"}
    assert status == 301 and headers.get("location", "").startswith("https://")


@check("server.nginx.security_headers", ("Có HSTS và các header bảo mật",
                                         "HSTS and security headers are sent"), CONVERGE, PROXY)
def test_security_headers(host, record):
    _status, headers, _body = http_get(host_address(host), "/", server_name(host), tls=True)
    found = {name: headers.get(name) for name in SECURITY_HEADERS}
    record.cite("network", f"https://{host_address(host)}/", json.dumps(found))
    record.observed, record.expected = found, list(SECURITY_HEADERS)
    assert all(found.values())
    assert "max-age=" in found["strict-transport-security"]


@check("server.nginx.certificate", ("Chứng chỉ TLS hợp lệ", "The TLS certificate is trusted"),
       ("Cài chứng chỉ do CA tin cậy cấp (egov_proxy_tls_mode: provided); chứng chỉ tự ký chỉ "
        "dùng cho môi trường thử nghiệm.",
        "Install a certificate from a trusted CA (egov_proxy_tls_mode: provided); self-signed "
        "certificates are for staging only."), PROXY)
def test_certificate_trusted(host, record):
    cafile = os.environ.get("EGOV_CHECKS_CA_FILE")
    trusted, detail = peer_certificate(host_address(host), server_name(host), cafile)
    record.cite("network", f"{host_address(host)}:443", detail)
    record.observed, record.expected = detail, "verified"
    if not trusted:
        record.warn(f"certificate not trusted by this machine: {detail}")


@check("server.app.health_via_proxy", ("Các phân hệ trả lời kiểm tra sức khỏe qua proxy",
                                       "Every module's health URL answers through the proxy"),
       ("Xem nhật ký: journalctl -u egov-<phân hệ>; kiểm tra kết nối CSDL.",
        "Read journalctl -u egov-<module>; check the database connection."), PROXY)
def test_health_through_proxy(host, record):
    answers = {}
    for name in module_ports(host):
        status, _headers, body = http_get(host_address(host), f"/{name}/healthz",
                                          server_name(host), tls=True)
        answers[name] = {"status": status, "body": body.decode(errors="replace")[:200]}
        record.cite("network", f"https://{server_name(host)}/{name}/healthz", status)
    record.observed, record.expected = answers, "200 from every module"
    assert answers and all(a["status"] == 200 for a in answers.values())
