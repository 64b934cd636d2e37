"""The policy: validated on load with file, line and key; phase and unit overrides."""

from __future__ import annotations

import pytest

from egov_probe.core.errors import InputError
from egov_probe.judge.policy import default_policy_path, load_policy


def _policy_with(tmp_path, old: str, new: str):
    text = default_policy_path().read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "policy.yml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def _line_of(path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                if needle in line)


def test_shipped_policy_loads_with_its_hash():
    policy = load_policy()
    assert policy.policy_id == "nghean-egov-pilot"
    assert len(policy.sha256) == 64
    assert policy.browser_rule("ie")["supported"] is False
    assert policy.browser_rule("coccoc")["min_version"]


def test_shipped_policy_names_servers_by_host_name_only():
    import ipaddress
    import re
    from urllib.parse import urlsplit
    policy = load_policy()
    urls = [e["url"] for e in policy.section("network")["endpoints"]]
    urls += [v for k, v in policy.section("mailbox").items() if k.endswith("_url")]
    for url in urls:
        host = urlsplit(url).hostname
        assert re.search(r"[a-z]", host), url
        with pytest.raises(ValueError):
            ipaddress.ip_address(host)


def test_phase_and_unit_overrides_apply_in_order(tmp_path):
    path = _policy_with(tmp_path, "units: {}",
                        "units:\n  xa-ma-thanh:\n    system:\n      ram_mb: {warn_below: 2560}")
    assert load_policy(path).section("system")["ram_mb"] == {"warn_below": 4096, "fail_below": 2048}
    assert load_policy(path, phase=2).section("system")["ram_mb"]["warn_below"] == 3072
    unit_policy = load_policy(path, phase=2, unit_id="xa-ma-thanh")
    assert unit_policy.section("system")["ram_mb"] == {"warn_below": 2560, "fail_below": 2048}


def test_an_override_may_not_put_a_warning_beyond_the_failure(tmp_path):
    path = _policy_with(tmp_path, "units: {}",
                        "units:\n  xa-ma-thanh:\n    system:\n      ram_mb: {warn_below: 1024}")
    with pytest.raises(InputError) as caught:
        load_policy(path)
    assert str(caught.value).startswith(
        f"{path}:{_line_of(path, 'warn_below: 1024')}: units.xa-ma-thanh.system.ram_mb.warn_below:"
        " warn_below (1024) must be >= fail_below (2048)")


@pytest.mark.parametrize("old,new,needle,message", [
    ("  require_supported: 1", "  require_supported: 1\n  colour: red", "colour: red",
     "browsers.colour: unknown key; expected one of: require_supported, rules"),
    ('chrome: {supported: true, min_version: "109"}', 'chrome: {supported: true, min_version: "0.1"}',
     "min_version: \"0.1\"", "browsers.rules.chrome.min_version: impossible version '0.1': the major version must be at least 1"),
    ('chrome: {supported: true, min_version: "109"}', 'chrome: {supported: true, min_version: "abc"}',
     "min_version: \"abc\"", "browsers.rules.chrome.min_version: expected a version like \"109\" or \"115.0.2\" (quoted), found 'abc'"),
    ('chrome: {supported: true, min_version: "109"}', "chrome: {supported: true, min_version: 109}",
     "min_version: 109}", "browsers.rules.chrome.min_version: expected text, found a whole number (109)"),
    ("ram_mb: {warn_below: 4096, fail_below: 2048}", "ram_mb: {warn_below: lots, fail_below: 2048}",
     "warn_below: lots", "system.ram_mb.warn_below: expected a whole number or a number, found text ('lots')"),
    ("    chrome:", "    netscape: {supported: true}\n    chrome:", "netscape",
     "browsers.rules.netscape: unknown browser 'netscape'; expected one of: chrome, chromium, edge, firefox, firefox_esr, coccoc, ie"),
    ('utc_offset: "+07:00"', 'utc_offset: "+7"', 'utc_offset: "+7"',
     "system.utc_offset: expected a UTC offset like \"+07:00\", found '+7'"),
    ("  2:\n", "  3:\n", "  3:", "phases.3: unknown phase 3; expected 1 or 2"),
])
def test_bad_policy_names_file_line_and_key(tmp_path, old, new, needle, message):
    path = _policy_with(tmp_path, old, new)
    with pytest.raises(InputError) as caught:
        load_policy(path)
    assert str(caught.value) == f"{path}:{_line_of(path, needle)}: {message}"


def test_bad_override_is_validated_too(tmp_path):
    path = _policy_with(tmp_path, "units: {}", "units:\n  xa-ma-thanh:\n    system:\n      ram: 1")
    with pytest.raises(InputError) as caught:
        load_policy(path, unit_id="xa-ma-thanh")
    assert f"{path}:{_line_of(path, 'ram: 1')}: units.xa-ma-thanh.system.ram: unknown key" in str(caught.value)


def test_override_for_an_unknown_unit_suggests_the_nearest(tmp_path):
    path = _policy_with(tmp_path, "units: {}", "units:\n  xa-ma-thnh:\n    system: {}")
    with pytest.raises(InputError) as caught:
        load_policy(path)
    assert str(caught.value) == (f"{path}:{_line_of(path, 'xa-ma-thnh')}: units.xa-ma-thnh: "
                                 "unknown unit id 'xa-ma-thnh'; did you mean: xa-ma-thanh, xa-my-thanh, xa-van-thanh?")


def test_missing_section_and_broken_yaml(tmp_path):
    path = tmp_path / "p.yml"
    path.write_text("policy_id: x\nversion: 1\nbrowsers: {}\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"p\.yml:1: missing required key 'system'"):
        load_policy(path)
    path.write_text("policy_id: x\nversion: [1\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"p\.yml:\d+: YAML syntax error"):
        load_policy(path)
    with pytest.raises(InputError, match="policy file not found"):
        load_policy(tmp_path / "absent.yml")
