"""The Windows release as a check: product, DisplayVersion, CurrentBuild and UBR from the
registry, judged against the policy's list of releases and their end of support."""

from __future__ import annotations

from pathlib import Path

import pytest

from egov_probe.judge.system import WINDOWS_CHECK, _windows_release, windows_release_entry
from egov_probe.core.errors import InputError
from egov_probe.facts.base import Fact
from egov_probe.facts.browsers_windows import windows_os_fact
from egov_probe.facts.winsource import load_fixture
from egov_probe.core.model import Status
from egov_probe.judge.policy import load_policy

FIXTURES = Path(__file__).parent / "fixtures" / "windows"
RELEASES = load_policy(None).section("system")["windows_releases"]


def judged(name: str, build: str, today: str, version: str = ""):
    fact = Fact({"name": name, "version": version, "build": build}, ())
    return _windows_release(fact, RELEASES, today)


def test_the_os_fact_comes_from_the_registry_with_each_value_as_evidence() -> None:
    fact = windows_os_fact(load_fixture(FIXTURES / "unreadable_profile.json"))
    assert fact.value == {"name": "Windows 11 Pro", "version": "23H2", "build": "22631.2861"}
    read = {e.location.rsplit("\\", 1)[-1]: e.value for e in fact.evidence}
    assert read == {"ProductName": "Windows 10 Pro", "DisplayVersion": "23H2",
                    "ReleaseId": "2009", "CurrentBuild": "22631", "UBR": "2861"}


def test_a_release_past_its_end_of_support_fails_with_a_remedy() -> None:
    result = judged("Windows 10 Pro", "19045.5131", "2026-11-30", "22H2")
    assert result.id == WINDOWS_CHECK and result.status is Status.FAIL
    assert result.details == {"release": "Windows 10 22H2"}
    assert "2025-10-14" in result.remedy.vi and "Nâng cấp lên bản Windows 11" in result.remedy.vi
    assert "went out of support on 2025-10-14" in result.remedy.en


def test_the_same_release_passes_before_its_end() -> None:
    assert judged("Windows 10 Pro", "19045.5131", "2025-10-14").status is Status.PASS
    assert judged("Windows 10 Pro", "19045.5131", "2025-10-15").status is Status.FAIL


def test_the_ltsc_edition_of_a_build_has_its_own_end() -> None:
    assert judged("Windows 10 Enterprise LTSC 2019", "17763.5206", "2026-11-30").status \
        is Status.PASS
    assert judged("Windows 10 Pro", "17763.5206", "2026-11-30").status is Status.FAIL


def test_a_build_not_in_the_list_is_a_warning_asking_to_extend_it() -> None:
    result = judged("Windows 11 Pro", "27000.1", "2026-11-30")
    assert result.status is Status.WARN and "system.windows_releases" in result.remedy.en


def test_not_a_check_on_linux() -> None:
    fact = Fact({"name": "Debian GNU/Linux", "version": "12", "build": "kernel 6.1"}, ())
    assert _windows_release(fact, RELEASES, "2026-11-30") is None


def test_wines_own_name_is_still_matched() -> None:
    assert windows_release_entry({"name": "Microsoft Windows 7", "build": "7601"},
                                 RELEASES)["name"] == "Windows 7 SP1"


@pytest.mark.parametrize("entry, problem", [
    ('{name: X, build: 19045, end_of_support: 2025-10-14}', 'expected text, found date'),
    ('{name: X, build: "19045", end_of_support: "2025-10-14"}', "whole number"),
    ('{name: X, build: 19045, edition: "LTSC(", end_of_support: "2025-10-14"}', "regular"),
    ('{name: X, build: 19045}', "end_of_support"),
])
def test_the_policy_list_is_validated(tmp_path: Path, entry: str, problem: str) -> None:
    shipped = (Path(__file__).parent.parent / "egov_probe" / "data" / "policy.yml").read_text(
        encoding="utf-8")
    start = shipped.index("  windows_releases:\n")
    end = shipped.index("\n\n", start)
    policy = tmp_path / "policy.yml"
    policy.write_text(shipped[:start] + "  windows_releases:\n    - " + entry + shipped[end:],
                      encoding="utf-8")
    with pytest.raises(InputError, match=problem) as error:
        load_policy(policy)
    assert "policy.yml" in str(error.value) and "windows_releases" in str(error.value)
