"""The Windows browser collector, on fixtures in the Windows evidence format."""

from __future__ import annotations

import contextlib
import json
import struct
import sys
from pathlib import Path
from typing import Iterator

import pytest

from egov_probe.facts.browser_types import BrowserInstall
from egov_probe.facts.browsers_windows import (
    WindowsBrowserScan,
    collect_windows_browsers,
    scan_windows_browsers,
    windows_os_facts,
)
from egov_probe.facts.winsource import (
    FORMAT,
    FixtureWindowsSource,
    HiveUnavailable,
    LiveWindowsSource,
    Profile,
    RecordingWindowsSource,
    dump_evidence,
    load_fixture,
    pe_machine,
    registry_location,
    version_prefix,
)

FIXTURES = Path(__file__).parent / "fixtures" / "windows"
ALL_FIXTURES = sorted(p.name for p in FIXTURES.glob("*.json"))
SID_LAN = "S-1-5-21-3623811015-3361044348-30300820-1001"


def scan(name: str) -> WindowsBrowserScan:
    return scan_windows_browsers(load_fixture(FIXTURES / name))


def only(installs: tuple[BrowserInstall, ...], browser: str) -> BrowserInstall:
    found = [i for i in installs if i.browser == browser]
    assert len(found) == 1, found
    return found[0]


def sources(install: BrowserInstall) -> set[str]:
    return {e.source for e in install.evidence}


# Fixtures Wine cannot produce, constructed by hand, and why (every other one is produced by
# the live code under Wine: tests/test_wine_fixtures.py).
CONSTRUCTED = {
    "unreadable_profile.json": "WinError 1314",  # Wine grants every privilege
    "x86_on_x64.json": "no PE header",  # the live code always reads it under Wine
}
LAN, HOA, MINH = (SID_LAN, "S-1-5-21-3623811015-3361044348-30300820-1004",
                  "S-1-5-21-3623811015-3361044348-30300820-1003")
CHROME = r"C:\Program Files\Google\Chrome\Application\chrome.exe"


def test_every_fixture_says_where_its_data_came_from() -> None:
    assert len(ALL_FIXTURES) >= 5
    for name in ALL_FIXTURES:
        document = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
        assert document["format"] == FORMAT, name
        origin = document["_origin"]
        if name in CONSTRUCTED:
            assert origin.startswith("Constructed by hand"), name
            assert "Wine cannot show" in origin, name
        else:
            assert origin.startswith("Produced by the live code"), name


def test_per_user_chrome_is_reported_in_its_users_scope_only() -> None:
    result = scan("wine_planted.json")
    lan = [b for b in result.browsers if b.scope == "user:lan"]
    assert [(b.browser, b.version, b.arch) for b in lan] == [("chrome", "131.0.6778.86", "x64")]
    chrome = lan[0]
    assert chrome.path == r"C:\Users\lan\AppData\Local\Google\Chrome\Application\chrome.exe"
    assert sources(chrome) == {"registry", "file", "file-version"}
    assert all(SID_LAN in e.location for e in chrome.evidence if e.source == "registry")


def test_file_version_overrules_a_stale_registry_value_and_both_are_evidence() -> None:
    result = scan("wine_planted.json")
    (chrome,) = [b for b in result.browsers if b.path == CHROME]
    assert (chrome.version, chrome.scope) == ("131.0.6778.86", "machine")
    stale = [e for e in chrome.evidence if e.value == "130.0.6723.117"]
    assert [e.location for e in stale] == [
        r"HKLM\SOFTWARE\WOW6432Node\Microsoft\Windows\CurrentVersion\Uninstall\Google Chrome"
        r"\DisplayVersion",
        r"HKLM\SOFTWARE\WOW6432Node\Google\Update\Clients\{8A69D345-D564-463C-AFF1-A69D9E530F96}"
        r"\pv",
    ]
    file_versions = [e for e in chrome.evidence if e.source == "file-version"]
    assert [(e.location, e.value) for e in file_versions] == [(CHROME, "131.0.6778.86")]


def test_a_users_beacon_joins_the_machine_install_instead_of_inventing_a_user_one() -> None:
    result = scan("wine_planted.json")
    (chrome,) = [b for b in result.browsers if b.path == CHROME]
    beacons = [e for e in chrome.evidence if e.location.endswith(r"\BLBeacon\version")]
    assert [e.location.split("\\")[1] for e in beacons] == [HOA]
    assert not [b for b in result.browsers if b.scope == "user:hoa"]


def test_32_bit_browsers_on_64_bit_windows_are_x86() -> None:
    esr = only(scan("wine_planted.json").browsers, "firefox_esr")  # the PE header says x86
    assert (esr.version, esr.arch, esr.scope) == ("128.5.1", "x86", "machine")
    assert esr.path == r"C:\Program Files (x86)\Mozilla Firefox\firefox.exe"
    assert "PE machine x86" in {e.value for e in esr.evidence}
    (chrome,) = [b for b in scan("wine_chrome32.json").browsers
                 if b.browser == "chrome" and b.scope == "machine"]
    assert (chrome.arch, chrome.path) == (
        "x86", r"C:\Program Files (x86)\Google\Chrome\Application\chrome.exe")


def test_without_a_pe_header_the_folder_decides_the_architecture() -> None:
    result = scan("x86_on_x64.json")  # constructed: no machine type for firefox.exe
    firefox = only(result.browsers, "firefox_esr")
    assert (firefox.version, firefox.arch, firefox.scope) == ("115.3.0", "x86", "machine")
    assert "file" in sources(firefox) and not any(
        (e.value or "").startswith("PE machine") for e in firefox.evidence)


def test_firefox_esr_is_told_apart_by_its_current_version() -> None:
    firefox = only(scan("wine_planted.json").browsers, "firefox_esr")
    values = {e.location.rsplit("\\", 1)[-1]: e.value for e in firefox.evidence}
    assert values["CurrentVersion"] == "128.5.1 ESR (x86 vi)"
    assert firefox.name == "Mozilla Firefox ESR"
    release = only(scan("wine_planted.json").browsers, "firefox")
    assert (release.version, release.arch) == ("133.0.3", "x64")


def test_coc_coc_reports_its_own_version_in_its_users_scope() -> None:
    result = scan("wine_planted.json")
    found = [(b.scope, b.version, b.arch) for b in result.browsers if b.browser == "coccoc"]
    assert found == [("user:root", "131.0.6778.210", "x64")]
    assert {b.name for b in result.browsers if b.browser == "coccoc"} == {"Cốc Cốc"}


def test_edge_is_reported_and_webview2_is_not() -> None:
    result = scan("wine_planted.json")
    edge = only(result.browsers, "edge")
    assert (edge.version, edge.scope) == ("131.0.2903.70", "machine")
    assert edge.arch == "x64"  # the PE header, though it lives in Program Files (x86)
    assert not any("webview" in e.location.casefold() for b in result.browsers
                   for e in b.evidence)


def test_internet_explorer_alone_is_reported_with_its_svc_version() -> None:
    result = scan("wine_ie_only.json")
    ie = only(result.browsers, "ie")
    assert ie.version == "11.0.9600.18376"  # svcVersion, not iexplore.exe's 9.0.8112.16421
    assert (ie.scope, ie.arch) == ("machine", "x64")
    assert len(result.browsers) == 1  # registered in both views: one Internet Explorer
    assert {e.location.rsplit("\\", 1)[-1] for e in ie.evidence if e.source == "registry"} >= {
        "svcVersion"}


def test_a_binary_hive_wine_cannot_load_is_reported_and_his_chrome_found_on_disk() -> None:
    result = scan("wine_planted.json")
    (profile,) = result.unreadable_profiles
    assert (profile.sid, profile.user) == (MINH, "minh")
    assert "NTUSER.DAT" in profile.reason
    minh = [b for b in result.browsers if b.scope == "user:minh"]
    assert [(b.browser, b.version, sources(b)) for b in minh] == [
        ("chrome", "120.0.6099.225", {"file", "file-version"})]


def test_a_profile_whose_hive_cannot_be_loaded_is_reported_not_dropped() -> None:
    result = scan("unreadable_profile.json")
    (profile,) = result.unreadable_profiles
    assert (profile.user, profile.path) == ("minh", r"C:\Users\minh")
    assert "WinError 1314" in profile.reason
    chrome = only(result.browsers, "chrome")  # his per-user Chrome is still found on disk
    assert (chrome.scope, chrome.version) == ("user:minh", "131.0.6778.86")
    assert sources(chrome) == {"file", "file-version"}
    assert result.as_fact()["unreadable_profiles"][0]["sid"] == profile.sid


def test_a_registration_without_its_executable_is_a_leftover_not_a_browser() -> None:
    result = scan("unreadable_profile.json")
    assert "firefox" not in {b.browser for b in result.browsers}
    leftover = only(result.leftovers, "firefox")
    assert leftover.version == "102.0"
    assert ("file", "missing") in {(e.source, e.value) for e in leftover.evidence}


def test_a_users_leftover_registration_is_not_a_browser() -> None:
    result = scan("wine_planted.json")
    (leftover,) = result.leftovers
    assert (leftover.browser, leftover.scope, leftover.version) == ("firefox", "user:hoa", "102.0")


def test_collect_returns_the_browsers_of_the_scan() -> None:
    source = load_fixture(FIXTURES / "wine_planted.json")
    assert collect_windows_browsers(source) == list(scan_windows_browsers(source).browsers)


def test_windows_11_is_named_from_its_build() -> None:
    facts = windows_os_facts(load_fixture(FIXTURES / "unreadable_profile.json"))
    assert (facts.name, facts.version, facts.build, facts.arch) == (
        "Windows 11 Pro", "23H2", "22631.2861", "x64")
    planted = windows_os_facts(load_fixture(FIXTURES / "wine_planted.json"))
    assert (planted.name, planted.version, planted.build, planted.arch) == (
        "Windows 10 Pro", "22H2", "19045.5131", "x64")


# --- the evidence dump -------------------------------------------------------------------------


def replayed(recorder: RecordingWindowsSource) -> FixtureWindowsSource:
    return FixtureWindowsSource(json.loads(json.dumps(dump_evidence(recorder))))


@pytest.mark.parametrize("name", ALL_FIXTURES)
def test_the_dump_of_what_was_read_gives_the_same_browsers(name: str) -> None:
    recorder = RecordingWindowsSource(load_fixture(FIXTURES / name), origin="test " + name)
    first = scan_windows_browsers(recorder)
    first_os = windows_os_facts(recorder)
    replay = replayed(recorder)
    assert scan_windows_browsers(replay) == first
    assert windows_os_facts(replay) == first_os
    assert dump_evidence(recorder)["_origin"] == "test " + name


def test_the_dump_holds_only_what_was_read() -> None:
    recorder = RecordingWindowsSource(load_fixture(FIXTURES / "wine_planted.json"))
    scan_windows_browsers(recorder)
    dump = dump_evidence(recorder)
    assert dump["format"] == FORMAT
    webview2 = r"HKLM\SOFTWARE\Microsoft\EdgeUpdate\Clients\{F3017226-FE2A-4295-8BDF-00C3A9A7E4C5}"
    assert webview2 not in dump["registry"]
    assert not any("msedgewebview2" in path for path in dump["files"])
    assert dump["files"][r"C:\Program Files (x86)\Microsoft\Edge\Application\msedge.exe"] == {
        "version": "131.0.2903.70", "machine": "x64"}


class MountingSource(FixtureWindowsSource):
    """Reads hives not loaded under a temporary HKU name, as the live source does."""

    PREFIX = "egov-probe-"

    @contextlib.contextmanager
    def user_hive(self, profile: Profile) -> Iterator[str]:
        with super().user_hive(profile) as sid:
            yield sid if profile.loaded else self.PREFIX + sid

    def _real(self, path: str) -> str:
        return path[len(self.PREFIX):] if path.startswith(self.PREFIX) else path

    def subkeys(self, hive: str, path: str, view: int = 64) -> list[str]:
        return super().subkeys(hive, self._real(path), view)

    def value(self, hive: str, path: str, name: str, view: int = 64):  # type: ignore[override]
        return super().value(hive, self._real(path), name, view)


def test_a_hive_loaded_under_a_temporary_name_is_dumped_under_its_sid() -> None:
    document = json.loads((FIXTURES / "wine_planted.json").read_text(encoding="utf-8"))
    for profile in document["profiles"]:
        profile["loaded"] = False  # the logged-on user's hive too: all under temporary names
    recorder = RecordingWindowsSource(MountingSource(document))
    first = scan_windows_browsers(recorder)
    assert any(b.scope == "user:lan" for b in first.browsers)
    dump = dump_evidence(recorder)
    assert not any(MountingSource.PREFIX in key for key in dump["registry"])
    assert any(key.startswith("HKU\\" + SID_LAN) for key in dump["registry"])
    assert scan_windows_browsers(replayed(recorder)) == first


def test_an_unreadable_profile_is_dumped_with_its_reason() -> None:
    recorder = RecordingWindowsSource(load_fixture(FIXTURES / "unreadable_profile.json"))
    scan_windows_browsers(recorder)
    errors = {p["sid"][-4:]: p["load_error"] for p in dump_evidence(recorder)["profiles"]}
    assert errors["1001"] is None
    assert "WinError 1314" in errors["1003"]


# --- the source interface ----------------------------------------------------------------------


def test_fixture_reads_are_case_insensitive_like_windows() -> None:
    source = load_fixture(FIXTURES / "wine_ie_only.json")
    assert source.value("HKLM", r"software\microsoft\INTERNET EXPLORER", "SVCVERSION") == (
        "11.0.9600.18376")
    assert source.exists(r"c:\program files\internet explorer\IEXPLORE.exe")
    assert source.value("HKLM", r"SOFTWARE\Microsoft\Internet Explorer", "svcVersion", 32) is None
    assert source.environ("programfiles(X86)") == r"C:\Program Files (x86)"


def test_fixture_refuses_a_hive_that_could_not_be_loaded() -> None:
    source = load_fixture(FIXTURES / "unreadable_profile.json")
    minh = next(p for p in source.profiles() if p.user == "minh")
    assert minh.hive_file == r"C:\Users\minh\NTUSER.DAT"
    with pytest.raises(HiveUnavailable, match="WinError 1314"):
        with source.user_hive(minh):
            pass


def _pe_header(machine: int) -> bytes:
    header = bytearray(0x100)
    header[:2] = b"MZ"
    struct.pack_into("<I", header, 0x3C, 0x80)
    header[0x80:0x84] = b"PE\0\0"
    struct.pack_into("<H", header, 0x84, machine)
    return bytes(header)


def test_pe_machine_reads_the_header() -> None:
    assert pe_machine(_pe_header(0x8664)) == "x64"
    assert pe_machine(_pe_header(0x014C)) == "x86"
    assert pe_machine(_pe_header(0xAA64)) == "arm64"
    assert pe_machine(b"\x7fELF" + bytes(0x100)) is None
    assert pe_machine(_pe_header(0x8664)[:0x82]) is None


def test_version_prefix_and_registry_location() -> None:
    assert version_prefix("11.00.17763.1 (WinBuild.160101.0800)") == "11.00.17763.1"
    assert version_prefix("115.3.0 ESR (x64 vi)") == "115.3.0"
    assert version_prefix("unknown") is None
    assert registry_location("HKLM", r"SOFTWARE\Google\Update", 32) == (
        r"HKLM\SOFTWARE\WOW6432Node\Google\Update")
    assert registry_location("HKU", r"S-1-5-21-1\SOFTWARE\Google", 32) == (
        r"HKU\S-1-5-21-1\SOFTWARE\Google")


@pytest.mark.skipif(sys.platform == "win32", reason="the live source works on Windows")
def test_the_live_source_says_it_needs_windows() -> None:
    with pytest.raises(OSError, match="needs Windows"):
        LiveWindowsSource()
