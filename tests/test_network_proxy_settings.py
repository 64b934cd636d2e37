"""Proxy settings from the environment and from Windows WinINET values (a documented fixture:
no Windows host can run here; its origin is written in the fixture)."""

from __future__ import annotations

from pathlib import Path

from egov_probe.facts.net_proxy import from_environment, from_wininet, redact, windows_user_proxy
from egov_probe.facts.winsource import load_fixture

FIXTURE = Path(__file__).parent / "fixtures" / "network" / "wininet_proxy.json"
LAN = "S-1-5-21-1004336348-1177238915-682003330-1001"
PAC = "S-1-5-21-1004336348-1177238915-682003330-1002"


def test_wininet_per_protocol_proxy_with_overrides():
    settings = from_wininet(load_fixture(FIXTURE), LAN)
    assert settings.proxy_for("https", "qlvb.example.vn") == "http://proxy.nghean.example:3128"
    assert settings.proxy_for("https", "qlvb.nghean.gov.vn") is None  # *.nghean.gov.vn
    assert settings.proxy_for("http", "10.1.2.3") is None               # 10.*
    assert settings.proxy_for("https", "intranet") is None              # <local>
    assert settings.source.startswith(f"HKU\\{LAN}\\Software\\Microsoft")


def test_wininet_proxy_disabled_keeps_the_pac_url_and_goes_direct():
    settings = from_wininet(load_fixture(FIXTURE), PAC)
    assert settings.proxy_for("https", "qlvb.nghean.gov.vn") is None
    assert settings.pac_url == "http://wpad.nghean.example/proxy.pac"


def test_wininet_absent_means_no_proxy():
    settings = from_wininet(load_fixture(FIXTURE), "S-1-5-21-1-2-3-500")
    assert settings.proxies == {} and settings.source == "none"


def test_environment_proxies_and_no_proxy():
    settings = from_environment({"HTTPS_PROXY": "http://p:3128", "http_proxy": "p2:8080",
                                 "no_proxy": "localhost,.nghean.gov.vn"})
    assert settings.proxy_for("https", "dichvucong.gov.vn") == "http://p:3128"
    assert settings.proxy_for("http", "example.vn") == "http://p2:8080"
    assert settings.proxy_for("https", "motcua.nghean.gov.vn") is None
    assert settings.proxy_for("https", "nghean.gov.vn") is None
    assert settings.proxy_for("https", "localhost") is None
    assert from_environment({}).source == "none"


def test_proxy_credentials_never_reach_the_report():
    settings = from_environment({"https_proxy": "http://lan:Bi-mat@proxy.example:3128"})
    assert settings.proxy_for("https", "a.vn") == "http://lan:Bi-mat@proxy.example:3128"
    assert "Bi-mat" not in str(settings.as_dict())
    assert redact("http://lan:Bi-mat@proxy.example:3128") == "http://***@proxy.example:3128"
    assert redact("proxy.example:3128") == "proxy.example:3128"


def test_the_probe_reads_the_wininet_settings_of_its_own_user():
    source = load_fixture(FIXTURE)
    mine = windows_user_proxy(source, {"USERPROFILE": "c:\\users\\LAN"})
    assert mine.proxy_for("https", "dichvucong.gov.vn") == "http://proxy.nghean.example:3128"
    # a profile whose hive is not loaded is not the probe's user; an unknown one goes direct
    assert windows_user_proxy(source, {"USERPROFILE": "C:\\Users\\hung"}).proxies == {}
    assert windows_user_proxy(source, {}).source == "none"
