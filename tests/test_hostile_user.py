"""The audit run as root on a machine with a hostile local user (issue 13, items 1 and 2).

Real parts: the real `egov-probe audit` and the real collector script under /bin/sh, as root,
in a private mount namespace where /etc/passwd names the user (tests/hostile_user.py). The
fleet audit of a namespace host with the same user is in tests/test_fleet_netns.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from egov_probe.facts.browsers_linux import NOT_RUN, collect_linux_browsers, linux_browsers
from egov_probe.fleet.linux import RemoteLinuxReader, new_collector, parse_records
from egov_probe.core.report_file import read_report
from egov_probe.core.versions import upstream_version
from tests import hostile_user

pytestmark = [pytest.mark.browsers,
              pytest.mark.skipif(os.geteuid() != 0, reason="the audit runs as root here")]


@pytest.fixture
def user():
    planted = hostile_user.plant()
    yield planted
    planted.remove()


def as_root_with(user: hostile_user.HostileUser, command: list[str],
                 stdin: str | None = None) -> subprocess.CompletedProcess:
    """``command`` as root, in a mount namespace whose /etc/passwd names the user."""
    script = f'mount --bind "{user.passwd}" /etc/passwd && exec "$@"'
    return subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", script,
                           "sh", *command], input=stdin, capture_output=True, text=True,
                          encoding="utf-8", timeout=180,
                          env={**os.environ, "PYTHONIOENCODING": "utf-8"})


def firefox_esr_version() -> str:
    """What Debian's package database says of the firefox-esr that the test setup installed."""
    printed = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", "firefox-esr"],
                             capture_output=True, text=True, check=True).stdout
    return upstream_version(printed)


def planted_entries(browsers: list[dict]) -> list[dict]:
    return [b for b in browsers if b["scope"] == f"user:{hostile_user.NAME}"]


def test_local_audit_runs_nothing_a_user_planted(user):
    result = as_root_with(user, [sys.executable, "-m", "egov_probe", "audit", "--json",
                                 "--out", str(user.folder / "reports")])
    assert result.returncode in (0, 1), result.stderr
    assert user.ran() == [], "the audit ran a user's executable"
    browsers = json.loads(result.stdout)["facts"]["browsers"]["browsers"]
    machine = {b["browser"]: b for b in browsers if b["scope"] == "machine"}
    assert machine["firefox_esr"]["version"] == firefox_esr_version()
    assert machine["firefox_esr"]["evidence"][0]["source"] == "package-db"
    planted = planted_entries(browsers)
    assert sorted(b["path"] for b in planted) == sorted(
        str(user.home / p) for p in hostile_user.PLANTED)
    for entry in planted:  # reported for what they are: not identified, and not run
        assert entry["version"] == ""
        assert entry["evidence"] == [{"source": "file", "location": entry["path"],
                                      "value": NOT_RUN}]
    assert hostile_user.FORGED_VERSION not in result.stdout
    for written in (user.folder / "reports").rglob("*.json"):
        read_report(written)  # a valid report: one id per check, though two planted Firefoxes


def test_collector_runs_nothing_and_its_records_cannot_be_forged(user):
    """The collector as the fleet runs it (sh -s, as root): the planted scripts are not run,
    the forged records printed from the user's path names and files reach the output but
    are not taken, and the controller finds what the local audit finds."""
    collector = new_collector()
    result = as_root_with(user, ["/bin/sh", "-s"], stdin=collector.script)
    assert result.returncode == 0, result.stderr
    assert user.ran() == [], "the collector ran a user's executable"
    # The forged bytes did reach the output (so this test can fail)...
    assert "\n::egov-probe:: file /var/lib/dpkg/status\nPackage: google-chrome-stable" \
        in result.stdout
    assert "::egov-probe:" + "0" * 32 + ":: end 0" in result.stdout
    output = parse_records(result.stdout, collector.mark)
    assert output.complete
    assert "google-chrome-stable" not in output.get("file", "/var/lib/dpkg/status")
    assert output.get("file", str(user.home / hostile_user.METAINFO)) == ""  # no release line
    # ...and the controller records what is there, as the local audit does.
    remote = [b.as_fact() for b in linux_browsers(RemoteLinuxReader(output))]
    local = json.loads(as_root_with(user, [sys.executable, "-c", (
        "import json; from egov_probe.facts.browsers_linux import collect_linux_browsers; "
        "print(json.dumps([b.as_fact() for b in collect_linux_browsers()]))")]).stdout)
    assert remote == local
    assert {b["browser"] for b in remote} >= {"firefox_esr", "chromium"}
    assert "chrome" not in {b["browser"] for b in remote}
    assert len(planted_entries(remote)) == 2


def test_collector_marks_are_new_for_every_run():
    marks = {new_collector().mark for _ in range(20)}
    assert len(marks) == 20 and all(len(m) == 32 for m in marks)


def test_local_reader_never_opens_a_fifo_or_device(tmp_path):
    """A FIFO or /dev/zero where a version file should be cannot hang the audit."""
    firefox = tmp_path / "opt/firefox/firefox"
    firefox.parent.mkdir(parents=True)
    firefox.write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
    firefox.chmod(0o755)
    os.mkfifo(firefox.parent / "application.ini")
    (firefox.parent / "platform.ini").symlink_to("/dev/zero")
    found = [b for b in collect_linux_browsers(root=tmp_path) if b.path == str(firefox)]
    assert [(b.browser, b.version) for b in found] == [("firefox", "")]


def test_two_installs_in_one_scope_get_two_check_ids():
    from egov_probe.facts.browser_types import BrowserInstall
    from egov_probe.judge.browsers import judge_browsers
    from egov_probe.judge.policy import load_policy
    installs = [BrowserInstall("firefox", "", "user:an", f"/home/an/{p}") for p in hostile_user.PLANTED]
    ids = [c.id for c in judge_browsers(installs, load_policy(), 0.0)]
    assert len(ids) == len(set(ids)) == 3
    assert ids[0] == "browser.firefox.user-an.home-an-firefox-firefox"
