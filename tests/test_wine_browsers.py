"""The live Windows code under Wine: ``egov-probe audit --json`` and ``egov-probe evidence``
run by the official embeddable Windows CPython in a fresh prefix where browsers were planted
as their installers leave them (tests/wine/scenario.py); what the probe reports is compared
with what was planted."""

from __future__ import annotations

import json

import pytest

from egov_probe.facts.browsers_windows import scan_windows_browsers
from egov_probe.facts.winsource import FixtureWindowsSource, fold, leaf
from egov_probe.fleet.windows import parse_document, windows_evidence
from egov_probe.core.report_file import read_report
from tests.wine import scenario as sc
from tests.wine.session import REPORTS, Run

pytestmark = pytest.mark.wine
IEXPLORE = r"C:\Program Files\Internet Explorer\iexplore.exe"

Row = tuple[str, str, str, str, str]  # browser, scope, version, arch, folded path


def rows(browsers: list[dict]) -> set[Row]:
    return {(b["browser"], b["scope"], b["version"], b["arch"], fold(b["path"])) for b in browsers}


def planted(run: Run) -> set[Row]:
    user = leaf(run.current[1])
    found = {("ie", "machine", sc.IE_VERSION, "x64", fold(IEXPLORE))}
    for install in run.installs:
        if install.exe is not None:
            found.add((install.browser, install.scope.replace("CURRENT", user),
                       install.version or install.exe.version, install.exe.arch,
                       fold(install.path)))
    return found


def reported(run: Run) -> dict:
    return run.report["facts"]["browsers"]


def install(run: Run, path: str) -> dict:
    (found,) = [b for b in reported(run)["browsers"] if fold(b["path"]) == fold(path)]
    return found


def check(report: dict, check_id: str) -> dict:
    (found,) = [c for c in report["checks"] if c["id"] == check_id]
    return found


def test_a_fresh_prefix_has_no_supported_browser(bare_run: Run) -> None:
    (ie,) = reported(bare_run)["browsers"]  # Wine's own Internet Explorer only
    assert (ie["browser"], fold(ie["path"])) == ("ie", fold(IEXPLORE))
    assert check(bare_run.report, "browser.supported_available")["status"] == "fail"
    assert bare_run.report["host"]["os"]["name"] == "Microsoft Windows 7"  # Wine's default
    assert check(bare_run.report, "system.windows_release")["status"] == "fail"


def test_the_audit_reports_every_planted_browser_and_nothing_else(planted_run: Run) -> None:
    assert rows(reported(planted_run)["browsers"]) == planted(planted_run)
    assert check(planted_run.report, "browser.supported_available")["status"] == "pass"
    host = planted_run.report["host"]
    assert (host["unit_id"], host["officer"]) == ("thi-tran-yen-thanh", "Nguyễn Thị Lan")


def test_the_windows_release_is_read_from_the_registry_and_judged(planted_run: Run) -> None:
    os_fact = planted_run.report["facts"]["system"]["os"]
    assert os_fact["value"] == {"name": "Windows 10 Pro", "version": "22H2",
                                "build": "19045.5131"}  # as planted (tests/wine/scenario.py)
    release = check(planted_run.report, "system.windows_release")
    assert release["status"] == "fail"  # 22H2 went out of support on 2025-10-14
    assert release["details"] == {"release": "Windows 10 22H2"}
    assert {"source": "registry", "value": "5131",
            "location": "HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\UBR"} in \
        release["evidence"]


def test_the_file_version_overrules_a_stale_registry(planted_run: Run) -> None:
    chrome = install(planted_run, sc.CHROME_64.path)
    assert chrome["version"] == "131.0.6778.86"
    values = {(e["source"], e["value"]) for e in chrome["evidence"]}
    assert ("registry", "130.0.6723.117") in values  # Uninstall DisplayVersion and pv
    assert ("file-version", "131.0.6778.86") in values
    wow = [e["location"] for e in chrome["evidence"] if e["value"] == "130.0.6723.117"]
    assert wow and all("\\WOW6432Node\\" in location for location in wow)


def test_32_bit_firefox_esr_on_64_bit_windows(planted_run: Run) -> None:
    esr = install(planted_run, sc.FIREFOX_ESR + r"\firefox.exe")
    assert (esr["browser"], esr["version"], esr["arch"]) == ("firefox_esr", "128.5.1", "x86")
    assert ("file", "PE machine x86") in {(e["source"], e["value"]) for e in esr["evidence"]}
    release = install(planted_run, sc.FIREFOX + r"\firefox.exe")
    assert (release["browser"], release["arch"]) == ("firefox", "x64")


def test_64_bit_edge_in_program_files_x86_and_no_webview2(planted_run: Run) -> None:
    edge = install(planted_run, sc.EDGE + r"\msedge.exe")
    assert (edge["version"], edge["arch"]) == ("131.0.2903.70", "x64")
    text = json.dumps(reported(planted_run))
    assert "msedgewebview2" not in text and "F3017226" not in text


def test_per_user_browsers_come_from_each_users_hive_and_folder(planted_run: Run) -> None:
    lan = install(planted_run, sc.LAN.folder + r"\AppData\Local\Google\Chrome\Application"
                                               r"\chrome.exe")
    assert lan["scope"] == "user:lan"
    assert any(sc.LAN.sid in e["location"] and e["location"].endswith(r"BLBeacon\version")
               for e in lan["evidence"])
    coccoc = [b for b in reported(planted_run)["browsers"] if b["browser"] == "coccoc"]
    assert [(b["name"], b["scope"]) for b in coccoc] == [
        ("Cốc Cốc", "user:" + leaf(planted_run.current[1]))]
    assert any(planted_run.current[0] in e["location"] and e["value"] == "Cốc Cốc"
               for e in coccoc[0]["evidence"])


def test_a_hive_that_cannot_be_loaded_is_reported_and_his_browser_still_found(
        planted_run: Run) -> None:
    (minh,) = reported(planted_run)["unreadable_profiles"]
    assert (minh["sid"], minh["user"]) == (sc.MINH.sid, "minh")
    assert "NTUSER.DAT" in minh["reason"]
    chrome = install(planted_run, sc.MINH.folder + r"\AppData\Local\Google\Chrome\Application"
                                                   r"\chrome.exe")
    assert (chrome["scope"], chrome["version"]) == ("user:minh", "120.0.6099.225")
    unreadable = check(planted_run.report, "browser.profiles_readable")
    assert unreadable["status"] != "pass" and "minh" in json.dumps(unreadable, ensure_ascii=False)


def test_a_leftover_registration_is_not_a_browser(planted_run: Run) -> None:
    (leftover,) = reported(planted_run)["leftovers"]
    assert (leftover["browser"], leftover["scope"], leftover["version"]) == (
        "firefox", "user:hoa", "102.0")
    assert {"source": "file", "location": leftover["path"], "value": "missing"} in \
        leftover["evidence"]


def test_another_users_beacon_joins_the_machine_chrome(planted_run: Run) -> None:
    chrome = install(planted_run, sc.CHROME_64.path)
    assert any(sc.HOA.sid in e["location"] for e in chrome["evidence"])


def test_the_written_report_validates(planted_run: Run, wine_bed) -> None:
    folder = wine_bed.host_path(REPORTS)
    reports = sorted(folder.glob("*.json"))
    assert reports, folder
    report = read_report(reports[-1])
    assert report.host.unit_id == "thi-tran-yen-thanh"


def test_the_evidence_dump_replays_to_the_same_browsers_on_linux(planted_run: Run) -> None:
    dump = planted_run.evidence
    assert dump["platform"] == "win32"
    replay = scan_windows_browsers(FixtureWindowsSource(dump["windows"])).as_fact()
    assert replay == dump["browsers"]
    assert rows(replay["browsers"]) == planted(planted_run)


def test_the_evidence_goes_through_the_winrm_parser_with_the_same_browsers(
        planted_run: Run) -> None:
    document = parse_document(json.dumps(planted_run.evidence["windows"], ensure_ascii=False))
    scan = windows_evidence(document).browsers()
    assert rows([b.as_fact() for b in scan.browsers]) == planted(planted_run)
    assert scan.unreadable_profiles == [
        f"minh: {reported(planted_run)['unreadable_profiles'][0]['reason']}"]


def test_the_dump_keeps_other_users_keys_under_their_sid(planted_run: Run) -> None:
    registry = planted_run.evidence["windows"]["registry"]
    assert any(k.startswith(f"HKU\\{sc.LAN.sid}\\") for k in registry)
    assert not any("egov-probe-" in k for k in registry)
    profiles = {p["sid"]: p for p in planted_run.evidence["windows"]["profiles"]}
    assert profiles[sc.LAN.sid]["loaded"] is False and profiles[sc.LAN.sid]["load_error"] is None
    assert "NTUSER.DAT" in profiles[sc.MINH.sid]["load_error"]


def test_chrome_reinstalled_as_32_bit_is_x86_and_the_64_bit_one_is_gone(
        chrome32_run: Run) -> None:
    browsers = chrome32_run.evidence["browsers"]["browsers"]
    assert rows(browsers) == planted(chrome32_run)
    (chrome,) = [b for b in browsers if b["browser"] == "chrome" and b["scope"] == "machine"]
    assert (chrome["path"], chrome["arch"]) == (sc.CHROME_32.path, "x86")
