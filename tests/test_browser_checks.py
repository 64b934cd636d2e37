"""Browser checks judged on Windows fixture scans through the audit's browser section."""

from __future__ import annotations

from pathlib import Path

from egov_probe.audit.sections import BrowserScan, browser_section
from egov_probe.core.model import Status
from egov_probe.facts.browsers_windows import scan_windows_browsers
from egov_probe.facts.winsource import load_fixture
from egov_probe.judge.policy import load_policy

FIXTURES = Path(__file__).parent / "fixtures" / "windows"


def _section(fixture: str):
    scan = scan_windows_browsers(load_fixture(FIXTURES / f"{fixture}.json"))
    collect = lambda: BrowserScan(list(scan.browsers), scan.as_fact(),  # noqa: E731
                                  [f"{p.user}: {p.reason}" for p in scan.unreadable_profiles])
    result = browser_section(load_policy(), collect)
    return {c.id: c for c in result.checks}, result.facts


def test_internet_explorer_alone_is_not_supported_and_blocks():
    checks, _facts = _section("wine_ie_only")
    assert checks["browser.ie.machine"].status is Status.WARN
    assert "không được phần mềm lõi hỗ trợ" in checks["browser.ie.machine"].remedy.vi
    assert checks["browser.supported_available"].status is Status.FAIL
    assert checks["browser.supported_available"].observed == 0


def test_per_user_chrome_is_a_check_of_its_own_user():
    checks, _facts = _section("wine_planted")
    user_checks = sorted(c for c in checks if c.startswith("browser.chrome.user-"))
    assert user_checks == ["browser.chrome.user-lan", "browser.chrome.user-minh"]
    assert checks["browser.chrome.user-lan"].status is Status.PASS
    assert checks["browser.chrome.user-lan"].observed == "131.0.6778.86"


def test_unreadable_profile_is_a_warning_not_a_silence():
    checks, facts = _section("unreadable_profile")
    check = checks["browser.profiles_readable"]
    assert check.status is Status.WARN
    assert "NTUSER.DAT" in check.remedy.vi
    assert facts["unreadable_profiles"] and facts["unreadable_profiles"][0]["reason"]


def test_stale_registry_is_judged_on_the_file_version():
    checks, _facts = _section("wine_planted")
    chrome = checks["browser.chrome.machine"]
    assert chrome.observed == "131.0.6778.86"  # the registry says 130.0.6723.117
    assert chrome.status is Status.PASS
