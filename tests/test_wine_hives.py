"""Hive safety under Wine: a hive loaded to read another user's browsers is unloaded, with the
result of ``RegUnLoadKey`` checked, also when the scan fails while the hive is loaded."""

from __future__ import annotations

import json

import pytest

from tests.wine import scenario as sc
from tests.wine.session import Run

pytestmark = pytest.mark.wine

MOUNTS = r"""
import json, winreg
k = winreg.OpenKey(winreg.HKEY_USERS, "")
print(json.dumps([winreg.EnumKey(k, i) for i in range(winreg.QueryInfoKey(k)[0])]))
"""

FAIL_MIDWAY = r"""
import json, sys, winreg
from egov_probe.facts.browsers_windows import scan_windows_browsers
from egov_probe.facts.winsource import LiveWindowsSource

class Failing(LiveWindowsSource):
    seen = []
    def value(self, hive, path, name, view=64):
        if path.startswith("egov-probe-"):
            root = path.split("\\", 1)[0]
            k = winreg.OpenKey(winreg.HKEY_USERS, "")
            names = [winreg.EnumKey(k, i) for i in range(winreg.QueryInfoKey(k)[0])]
            k.Close()
            self.seen.append(root in names)
            raise RuntimeError("scan failed while " + root + " was loaded")
        return super().value(hive, path, name, view)

try:
    scan_windows_browsers(Failing())
except RuntimeError as error:
    print(json.dumps({"error": str(error), "loaded_during": Failing.seen}))
"""

UNLOAD_CHECKED = r"""
import json
from egov_probe.facts.winsource import HiveNotUnloaded, _enable_privileges, unload_hive
found = []
for privileged in (False, True):
    if privileged:
        _enable_privileges(("SeRestorePrivilege", "SeBackupPrivilege"))
    try:
        unload_hive("egov-probe-S-1-5-21-1-2-3-9999")
    except HiveNotUnloaded as error:
        found.append({"errno": error.errno, "message": str(error)})
print(json.dumps(found))
"""

STALE_MOUNT = r"""
import json, sys, winreg
from egov_probe.facts.browsers_windows import scan_windows_browsers
from egov_probe.facts.winsource import LiveWindowsSource, _enable_privileges
_enable_privileges(("SeRestorePrivilege", "SeBackupPrivilege"))
winreg.LoadKey(winreg.HKEY_USERS, "egov-probe-" + sys.argv[1], sys.argv[2])
scan = scan_windows_browsers(LiveWindowsSource())
print(json.dumps([p.user for p in scan.unreadable_profiles]))
"""


def mounts(bed) -> list[str]:
    return json.loads(bed.python("-c", MOUNTS, check=True).stdout)


def test_no_hive_stays_loaded_after_the_audit_and_the_evidence(wine_bed, planted_run: Run):
    assert planted_run.evidence["windows"]["profiles"]  # other users' hives were loaded...
    left = [m for m in mounts(wine_bed) if m.startswith("egov-probe-")]
    assert left == []  # ...and unloaded
    assert sc.LAN.sid not in mounts(wine_bed)


def test_a_scan_failing_while_a_hive_is_loaded_still_unloads_it(wine_bed, planted_run: Run):
    before = json.loads(wine_bed.probe("evidence", check=True).stdout)["browsers"]
    result = json.loads(wine_bed.python("-c", FAIL_MIDWAY, check=True).stdout)
    assert result["error"].startswith("scan failed while egov-probe-S-1-5-21-")
    assert result["loaded_during"] == [True]  # the hive really was loaded when it failed
    assert [m for m in mounts(wine_bed) if m.startswith("egov-probe-")] == []
    # and it can be loaded again: nothing holds it
    again = wine_bed.probe("evidence", check=True)
    assert json.loads(again.stdout)["browsers"] == before
    assert any(b["scope"] == "user:lan" for b in before["browsers"])


def test_a_failed_unload_is_an_error_naming_the_hive_and_the_fix(wine_bed, planted_run: Run):
    unprivileged, missing = json.loads(wine_bed.python("-c", UNLOAD_CHECKED, check=True).stdout)
    assert unprivileged["errno"] == 1314  # ERROR_PRIVILEGE_NOT_HELD: privileges not enabled
    assert missing["errno"] == 2  # ERROR_FILE_NOT_FOUND: no such hive loaded
    for result in (unprivileged, missing):
        assert 'reg unload "HKU\\egov-probe-S-1-5-21-1-2-3-9999"' in result["message"]


def test_a_mount_left_by_a_killed_run_is_unloaded_before_loading(wine_bed, planted_run: Run):
    hive = sc.LAN.folder + r"\NTUSER.DAT"
    result = wine_bed.python("-c", STALE_MOUNT, sc.LAN.sid, hive, check=True)
    assert json.loads(result.stdout) == ["minh"]  # lan read despite the stale mount
    assert [m for m in mounts(wine_bed) if m.startswith("egov-probe-")] == []
