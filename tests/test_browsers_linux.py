"""Debian's real chromium and firefox-esr are found with the versions they print themselves
(the test runs them; the audit never does)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from egov_probe.facts.browsers_linux import NOT_RUN, collect_linux_browsers, firefox_version

pytestmark = pytest.mark.browsers

BROWSERS = {"chromium": "chromium", "firefox-esr": "firefox_esr"}


def _own_version(command: str) -> str:
    if not shutil.which(command):
        pytest.fail(f"{command} is not installed: scripts/test.sh installs it")
    printed = subprocess.run([command, "--version"], capture_output=True, text=True,
                             check=True).stdout
    return re.search(r"\d+(\.\d+)+(esr)?", printed).group(0)


@pytest.mark.parametrize("command", sorted(BROWSERS))
def test_installed_browser_has_the_version_it_prints(command):
    found = {b.browser: b for b in collect_linux_browsers()}
    browser = found[BROWSERS[command]]
    assert browser.version == _own_version(command)
    assert browser.scope == "machine"
    assert browser.evidence[0].source == "package-db"
    assert f"Package: {command}" in browser.evidence[0].location


def test_each_browser_is_reported_once_despite_wrappers():
    # /usr/bin/firefox is firefox-esr's own wrapper: it is not a second Firefox.
    found = [(b.browser, b.scope) for b in collect_linux_browsers()]
    assert len(found) == len(set(found))


def test_loose_executables_are_identified_by_files_never_run(tmp_path: Path):
    """Browsers no package database knows (a tarball in /opt, a copy in a home folder): a
    Firefox by the application.ini and channel prefs beside it; a Chromium, which has no such
    file, is reported with its version unknown and "not run" (the audit runs no browser)."""
    chrome = tmp_path / "opt/google/chrome/chrome"
    chrome.parent.mkdir(parents=True)
    chrome.symlink_to("/usr/lib/chromium/chromium")
    user_firefox = tmp_path / "root/firefox/firefox"
    user_firefox.parent.mkdir(parents=True)
    user_firefox.symlink_to("/usr/lib/firefox-esr/firefox-esr")
    found = {(b.browser, b.scope): b for b in collect_linux_browsers(root=tmp_path)}
    assert found[("chrome", "machine")].version == ""
    assert found[("chrome", "machine")].evidence[0].value == NOT_RUN
    esr = found[("firefox_esr", "user:root")]
    assert esr.version == _own_version("firefox-esr")
    assert esr.path == str(user_firefox)
    assert esr.evidence[0].location == "/usr/lib/firefox-esr/application.ini"


def test_firefox_version_files():
    files = {"application.ini": ("a", "[App]\nName=Firefox\nVersion=128.5.1\n[Gecko]\n"
                                       "MinVersion=1.0\n"),
             "platform.ini": ("p", "[Build]\nMilestone=128.5.1\n")}
    assert firefox_version(files) == ("128.5.1", "a")
    esr = {**files, "defaults/pref/channel-prefs.js": ("c", 'pref("app.update.channel", "esr");')}
    assert firefox_version(esr) == ("128.5.1esr", "a")
    only_platform = {"platform.ini": ("p", "Milestone=115.0\n")}
    assert firefox_version(only_platform) == ("115.0", "p")
    assert firefox_version({"application.ini": ("a", "Version=$(touch x)\n")}) is None
    assert firefox_version({}) is None


def test_dpkg_database_of_another_root(tmp_path: Path):
    status = tmp_path / "var/lib/dpkg/status"
    status.parent.mkdir(parents=True)
    status.write_text(
        "Package: google-chrome-stable\nStatus: install ok installed\nArchitecture: amd64\n"
        "Version: 120.0.6099.224-1\n\n"
        "Package: firefox-esr\nStatus: deinstall ok config-files\nVersion: 115.0esr-1\n\n"
        # Ubuntu 22.04's transitional packages, as `dpkg -s` shows them: the snap is the browser.
        "Package: chromium-browser\nStatus: install ok installed\nVersion: 1:85.0.4183.83-0ubuntu2.22.04.1\n"
        "Description: Transitional package - chromium-browser -> chromium snap\n\n"
        "Package: firefox\nStatus: install ok installed\nVersion: 1:1snap1-0ubuntu2\n"
        "Description: Transitional package - firefox -> firefox snap\n",
        encoding="utf-8")
    found = collect_linux_browsers(root=tmp_path)
    assert [(b.browser, b.version, b.arch) for b in found] == [("chrome", "120.0.6099.224", "amd64")]


def test_snap_and_flatpak_layouts(tmp_path: Path):
    """Layouts as snapd (meta/snap.yaml) and flatpak (AppStream metainfo) install them."""
    snap_meta = tmp_path / "snap/firefox/current/meta/snap.yaml"
    snap_meta.parent.mkdir(parents=True)
    snap_meta.write_text("name: firefox\nversion: 128.0.3-1\nsummary: Mozilla Firefox\n",
                         encoding="utf-8")
    metainfo = (tmp_path / "root/.local/share/flatpak/app/com.google.Chrome/current/active/"
                "files/share/metainfo/com.google.Chrome.metainfo.xml")
    metainfo.parent.mkdir(parents=True)
    metainfo.write_text('<component><releases><release version="131.0.6778.85" date="2024-11-19"/>'
                        "</releases></component>", encoding="utf-8")
    found = {(b.browser, b.scope): b.version for b in collect_linux_browsers(root=tmp_path)}
    assert found == {("firefox", "machine"): "128.0.3-1", ("chrome", "user:root"): "131.0.6778.85"}
