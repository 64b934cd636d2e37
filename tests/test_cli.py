"""egov-probe as a technician runs it: summaries, exit codes, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from egov_probe.core.report_file import read_report, validation_errors
from egov_probe.judge.policy import default_policy_path


def _policy(tmp_path: Path, **minimums: str) -> Path:
    text = default_policy_path().read_text(encoding="utf-8")
    for browser, version in minimums.items():
        line = next(l for l in text.splitlines() if l.strip().startswith(f"{browser}:"))
        text = text.replace(line, f"    {browser}: {{supported: true, min_version: \"{version}\"}}")
    text = text.replace('utc_offset: "+07:00"', 'utc_offset: "+00:00"')  # this machine runs on UTC
    path = tmp_path / "policy.yml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.browsers
def test_audit_ready_machine_writes_a_valid_report(probe, tmp_path):
    out = tmp_path / "reports"
    result = probe("audit", "--unit", "xa-ma-thanh", "--officer", "Nguyễn Văn A",
                   "--policy", str(_policy(tmp_path)), "--out", str(out),
                   env={"TZ": "UTC"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "KẾT QUẢ KHẢO SÁT MÁY TRẠM" in result.stdout
    assert "Đơn vị: Xã Mã Thành" in result.stdout
    assert "Kết luận: SẴN SÀNG" in result.stdout
    (report_file,) = out.iterdir()
    assert f"Báo cáo lưu tại: {report_file}" in result.stdout
    report = read_report(report_file)
    assert report.host.unit_id == "xa-ma-thanh" and report.host.officer == "Nguyễn Văn A"


@pytest.mark.browsers
def test_policy_demanding_newer_browsers_fails_with_remedy(probe, tmp_path):
    policy = _policy(tmp_path, chromium="999.0", firefox_esr="999")
    result = probe("audit", "--policy", str(policy), "--out", str(tmp_path / "r"), env={"TZ": "UTC"})
    assert result.returncode == 1
    assert "Kết luận: CHƯA SẴN SÀNG" in result.stdout
    assert "[KHÔNG ĐẠT] Trình duyệt Chromium (machine)" in result.stdout
    assert "cũ hơn mức tối thiểu 999.0: cập nhật Chromium" in result.stdout
    assert "[KHÔNG ĐẠT] Có trình duyệt được hỗ trợ" in result.stdout
    english = probe("audit", "--policy", str(policy), "--out", str(tmp_path / "r"), "--lang", "en",
                    env={"TZ": "UTC"})
    assert english.returncode == 1
    assert "Result: NOT READY" in english.stdout
    assert "is older than the minimum 999: update Mozilla Firefox ESR" in english.stdout


def test_json_output_is_the_report(probe, tmp_path):
    result = probe("audit", "--json", "--out", str(tmp_path))
    assert result.returncode in (0, 1)
    data = json.loads(result.stdout)
    assert validation_errors(data) == []
    (written,) = tmp_path.iterdir()
    assert json.loads(written.read_text(encoding="utf-8")) == data


def test_unknown_unit_is_an_input_error_with_suggestions(probe, tmp_path):
    result = probe("audit", "--unit", "xa-duc-thnh", "--out", str(tmp_path))
    assert result.returncode == 2
    assert "--unit: unknown unit id 'xa-duc-thnh'; did you mean: xa-duc-thanh" in result.stderr
    assert not tmp_path.exists() or not any(tmp_path.iterdir())


def test_bad_policy_is_an_input_error_naming_the_line(probe, tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text(default_policy_path().read_text(encoding="utf-8").replace(
        "  ram_mb:", "  ram_gb:", 1), encoding="utf-8")
    line = next(i for i, l in enumerate(bad.read_text(encoding="utf-8").splitlines(), 1) if "ram_gb" in l)
    for args in (["audit", "--policy", str(bad), "--out", str(tmp_path / "r")], ["policy-check", str(bad)]):
        result = probe(*args)
        assert result.returncode == 2
        assert f"{bad}:{line}: system.ram_gb: unknown key; expected one of:" in result.stderr
    assert not (tmp_path / "r").exists()


def test_bad_inventory_is_an_input_error(probe, tmp_path):
    inventory = tmp_path / "hosts.yml"
    inventory.write_text("all:\n  children:\n    unit_x:\n      vars:\n        unit_id: x\n", encoding="utf-8")
    result = probe("units", "-i", str(inventory))
    assert result.returncode == 2
    assert "unit group is missing or has a bad variable: 'unit_name_vi'" in result.stderr


def test_units_lists_the_pilot(probe):
    result = probe("units", "--phase", "1")
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert len(lines) == 3
    assert "ubnd-huyen-quynh-luu\t1\t421\tUBND huyện Quỳnh Lưu" in lines


def test_validate_reports(probe, tmp_path):
    probe("audit", "--unit", "xa-ma-thanh", "--out", str(tmp_path))
    (good,) = tmp_path.iterdir()
    bad = tmp_path / "bad.json"
    bad.write_text("{}", encoding="utf-8")
    result = probe("validate", str(good), str(bad))
    assert result.returncode == 2
    assert f"OK  {good}" in result.stdout
    assert "bad.json: schema_version: missing: a report of egov-probe has schema_version" \
        in result.stderr


@pytest.mark.parametrize("command", ["", "audit", "evidence", "units", "validate", "policy-check"])
def test_every_command_has_help(probe, command):
    result = probe(*([command] if command else []), "--help")
    assert result.returncode == 0
    assert "usage: egov-probe" in result.stdout


def test_evidence_dump_holds_what_was_read(probe, tmp_path):
    out = tmp_path / "evidence.json"
    result = probe("evidence", "--out", str(out))
    assert result.returncode == 0
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["platform"] == "linux"
    assert data["system"]["ram_mb"]["evidence"][0]["location"].startswith("/proc/meminfo")
    assert {b["browser"] for b in data["browsers"]["browsers"]} >= {"chromium", "firefox_esr"}
