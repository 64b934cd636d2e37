"""The report: schema-valid, round-trips, and is written atomically even when killed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from egov_probe.audit.run import run_audit
from egov_probe.core.atomic import write_json_atomic
from egov_probe.core.errors import InputError
from egov_probe.core.model import SCHEMA_VERSION, Report
from egov_probe.core.report_file import (read_report, report_schema, validation_errors,
                                         write_report_atomic)
from egov_probe.core.units import find_unit, load_units_csv
from egov_probe.facts.system import linux_machine_identity, windows_machine_identity
from egov_probe.facts.winsource import FixtureWindowsSource
from egov_probe.judge.policy import load_policy


@pytest.fixture(scope="module")
def report() -> Report:
    unit = find_unit(load_units_csv(), "xa-ma-thanh")
    return run_audit(load_policy(phase=unit.phase, unit_id=unit.unit_id), unit=unit,
                     officer="Nguyễn Thị Thu Hà")


def test_report_validates_and_carries_identity(report):
    data = report.to_dict()
    assert validation_errors(data) == []
    assert data["schema_version"] == SCHEMA_VERSION == "1.1"
    assert SCHEMA_VERSION in report_schema()["properties"]["schema_version"]["enum"]
    assert data["host"]["unit_id"] == "xa-ma-thanh"
    assert data["host"]["officer"] == "Nguyễn Thị Thu Hà"
    assert data["policy"]["id"] == "nghean-egov-pilot"
    assert data["started_at"] <= data["finished_at"]
    ids = [c["id"] for c in data["checks"]]
    assert len(ids) == len(set(ids))
    assert {"system.ram", "system.disk_free", "browser.supported_available"} <= set(ids)
    for check in data["checks"]:
        if check["status"] in ("warn", "fail", "error"):
            assert check["remedy"]["vi"] and check["remedy"]["en"]


def test_report_carries_the_machine_own_id(report):
    """/etc/machine-id beside the hostname (what tells PCs cloned under one name apart)."""
    machine_id = Path("/etc/machine-id").read_text(encoding="utf-8").strip()
    assert report.to_dict()["host"]["machine_id"] == machine_id
    smbios = Path("/sys/class/dmi/id/product_uuid")
    expected = smbios.read_text().strip().lower() if os.access(smbios, os.R_OK) else None
    assert report.host.smbios_uuid == expected
    evidence = report.facts["system"]["machine_identity"]["evidence"]
    assert evidence[0] == {"source": "file", "location": "/etc/machine-id", "value": machine_id}


def test_machine_ids_from_files_and_registry():
    ids = {"/etc/machine-id": "uninitialized\n", "/var/lib/dbus/machine-id": "ABCDEF0123\n",
           "/sys/class/dmi/id/product_uuid": "00000000-0000-0000-0000-000000000000\n"}
    fact = linux_machine_identity(ids.get)
    assert fact.value == {"machine_id": "abcdef0123", "smbios_uuid": None}
    source = FixtureWindowsSource({"registry": {
        "HKLM\\SOFTWARE\\Microsoft\\Cryptography": {"view64": {"values": {
            "MachineGuid": "6F1A2B3C-0000-4D5E-8F90-123456789ABC"}}},
        "HKLM\\SYSTEM\\HardwareConfig": {"view64": {"values": {
            "LastConfig": "{4C4C4544-0042-3510-8052-B4C04F4E3732}"}}}}})
    assert windows_machine_identity(source).value == {
        "machine_id": "6f1a2b3c-0000-4d5e-8f90-123456789abc",
        "smbios_uuid": "4c4c4544-0042-3510-8052-b4c04f4e3732"}
    assert windows_machine_identity(FixtureWindowsSource({})).value == {
        "machine_id": None, "smbios_uuid": None}


def test_a_schema_1_0_report_still_reads_and_1_1_needs_the_ids(report, tmp_path):
    old = report.to_dict()
    old["schema_version"] = "1.0"
    del old["host"]["machine_id"], old["host"]["smbios_uuid"]
    assert validation_errors(old) == []
    path = tmp_path / "old.json"
    path.write_text(json.dumps(old, ensure_ascii=False), encoding="utf-8")
    again = read_report(path)
    assert again.schema_version == "1.0" and again.host.machine_id is None
    new = report.to_dict()
    del new["host"]["machine_id"]
    assert any("machine_id" in p for p in validation_errors(new))


def test_report_round_trips_through_its_file(report, tmp_path):
    path = write_report_atomic(report, tmp_path)
    assert path.name.startswith(report.host.hostname)
    again = read_report(path)
    assert again.to_dict() == report.to_dict()
    assert list(tmp_path.iterdir()) == [path]


def test_schema_rejects_what_the_model_forbids(report):
    data = report.to_dict()
    data["checks"][0]["status"] = "maybe"
    data["checks"][1]["remedy"] = None
    data["checks"][1]["status"] = "fail"
    data["host"]["surprise"] = 1
    problems = "\n".join(validation_errors(data))
    assert "checks/0/status: 'maybe' is not one of" in problems
    assert "checks/1/remedy: None is not of type 'object'" in problems
    assert "host: Additional properties are not allowed ('surprise' was unexpected)" in problems


def test_bad_report_files_name_the_file(tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text('{"schema_version": "1.0",\n  "host": }', encoding="utf-8")
    with pytest.raises(InputError, match=r"broken\.json:2: not JSON"):
        read_report(broken)
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"schema_version": "0.9"}), encoding="utf-8")
    with pytest.raises(InputError, match=r"other\.json: schema_version: report schema_version .0\.9. is not supported"):
        read_report(other)


def test_failed_write_leaves_the_old_file_and_no_debris(tmp_path):
    target = tmp_path / "r.json"
    write_json_atomic(target, {"n": 1})

    class Unserialisable:
        pass

    with pytest.raises(TypeError):
        write_json_atomic(target, {"n": 2, "bad": Unserialisable()})
    assert json.loads(target.read_text(encoding="utf-8")) == {"n": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]


WRITER = """
import sys
from egov_probe.core.atomic import write_json_atomic
big = {"rows": ["Nguyễn Thị Thu Hà " * 40] * 20000}
n = 0
while True:
    n += 1
    big["n"] = n
    write_json_atomic(sys.argv[1], big)
    print(n, flush=True)
"""


def test_a_killed_writer_never_leaves_a_partial_report(tmp_path):
    target = tmp_path / "report.json"
    for delay in (0.05, 0.13, 0.29, 0.41):
        writer = subprocess.Popen([sys.executable, "-c", WRITER, str(target)],
                                  stdout=subprocess.PIPE, text=True)
        writer.stdout.readline()  # at least one whole file exists
        time.sleep(delay)
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait()
        writer.stdout.close()
        data = json.loads(target.read_text(encoding="utf-8"))  # whole, never cut
        assert len(data["rows"]) == 20000 and data["n"] >= 1
        assert [p.name for p in tmp_path.iterdir() if not p.name.endswith(".part")] == ["report.json"]
