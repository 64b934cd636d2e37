"""The reverse proxy (role egov_proxy), probed from outside as a browser would."""

from __future__ import annotations

import json
import os
import re
import ssl

import pytest

from checks.catalog import CONVERGE, check
from checks.hostinfo import host_address, host_vars, module_ports
from checks.expected import baseline
from checks.netprobe import (client_suites, http_get, negotiated_cipher, openssl_handshake,
                             peer_certificate, tls_handshake)

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


TLS_PROFILE_REMEDY = ("Đặt egov_proxy_tls_profile (intermediate hoặc modern) và chạy lại playbook; "
                      "bộ mã TLS 1.2 phải đúng hồ sơ Mozilla cho loại khóa của chứng chỉ.",
                      "Set egov_proxy_tls_profile (intermediate or modern) and run the playbook "
                      "again; the TLS 1.2 suites must be Mozilla's for the certificate's key type.")


def served_key_type(host) -> str:
    """'ec' or 'rsa': the key of the certificate the proxy really serves."""
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    pem = ssl.get_server_certificate((host_address(host), 443), timeout=10)
    key = x509.load_pem_x509_certificate(pem.encode()).public_key()
    if isinstance(key, ec.EllipticCurvePublicKey):
        return "ec"
    if isinstance(key, rsa.RSAPublicKey):
        return "rsa"
    return type(key).__name__


def accepted_suites(host, version: str) -> list[str]:
    """Every suite of this machine's OpenSSL that the proxy accepts, one handshake per suite."""
    option = "-cipher" if version == "tls1_2" else "-ciphersuites"
    accepted = []
    for suite in client_suites(version):
        offer = f"{suite}:@SECLEVEL=0" if version == "tls1_2" else suite  # even weak ones
        out = openssl_handshake(host_address(host), 443, server_name(host), f"-{version}",
                                option, offer)
        if negotiated_cipher(out) == suite:
            accepted.append(suite)
    return accepted


@check("server.nginx.tls_profile", ("TLS đúng hồ sơ Mozilla cho loại chứng chỉ (EC/RSA)",
                                    "TLS suites are exactly Mozilla's profile for the certificate"),
       TLS_PROFILE_REMEDY, PROXY)
def test_tls_profile_suites(host, record):
    key_type = served_key_type(host)
    tls12, tls13 = accepted_suites(host, "tls1_2"), accepted_suites(host, "tls1_3")
    profile_name = "intermediate" if tls12 else "modern"
    profile = baseline()["tls_profiles"][profile_name]
    wanted12 = profile["tls12"].get(key_type, [])
    record.cite("network", f"openssl s_client {host_address(host)}:443 (one suite at a time)",
                f"TLS1.2 {tls12}; TLS1.3 {tls13}")
    record.observed = {"certificate": key_type, "profile": profile_name, "tls1_2": tls12,
                       "tls1_3": tls13}
    record.expected = {"tls1_2": wanted12, "tls1_3": profile["tls13"]}
    assert sorted(tls12) == sorted(wanted12), f"TLS 1.2 suites {tls12}, not {wanted12}"
    assert sorted(tls13) == sorted(profile["tls13"]), f"TLS 1.3 suites {tls13}"


@check("server.nginx.server_preference", ("Máy chủ chọn bộ mã TLS 1.2, không cấp session ticket",
                                          "The server picks the TLS 1.2 suite, issues no tickets"),
       TLS_PROFILE_REMEDY, PROXY)
def test_tls12_server_preference_no_tickets(host, record):
    wanted = baseline()["tls_profiles"]["intermediate"]["tls12"].get(served_key_type(host), [])
    out = openssl_handshake(host_address(host), 443, server_name(host), "-tls1_2", "-cipher",
                            ":".join(reversed(wanted)))
    chosen = negotiated_cipher(out)
    if chosen is None and "alert protocol version" in out:
        record.observed, record.expected = "TLS 1.2 refused (modern profile)", "n/a"
        return
    ticket = "TLS session ticket:" in out
    record.cite("network", f"openssl s_client -tls1_2 {host_address(host)}:443",
                f"cipher {chosen}; ticket {ticket}")
    record.observed = {"offered_last_first": list(reversed(wanted)), "chosen": chosen,
                       "session_ticket": ticket}
    record.expected = {"chosen": wanted[0] if wanted else None, "session_ticket": False}
    assert chosen == wanted[0], f"the client's first choice {chosen} won"
    assert not ticket, "a TLS session ticket was issued"


@check("server.nginx.ocsp_stapling", ("Bật OCSP stapling có resolver",
                                      "OCSP stapling is on, with a resolver"), CONVERGE, PROXY)
def test_ocsp_stapling(host, record):
    conf = host.check_output("nginx -T 2>/dev/null")
    settings = {name: re.findall(rf"^\s*{name}\s+([^;]+);", conf, re.M)
                for name in ("ssl_stapling", "ssl_stapling_verify", "resolver")}
    out = openssl_handshake(host_address(host), 443, server_name(host), "-status")
    stapled = "OCSP Response Status: successful" in out
    record.cite("command", "nginx -T", str(settings))
    record.cite("network", f"openssl s_client -status {host_address(host)}:443",
                "stapled" if stapled else "no OCSP response sent")
    record.observed = {**settings, "stapled": stapled}
    record.expected = {"ssl_stapling": ["on"], "ssl_stapling_verify": ["on"], "resolver": "set"}
    assert settings["ssl_stapling"] == ["on"] and settings["ssl_stapling_verify"] == ["on"]
    assert settings["resolver"]
    if not stapled:
        record.warn("no OCSP answer stapled: the certificate names no OCSP responder, or it "
                    "was not reachable yet")
