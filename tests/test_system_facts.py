"""System facts agree with what /proc and the OS report."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time

from egov_probe.facts.base import collect_timed
from egov_probe.facts.system import SYSTEM_COLLECTORS


def _facts():
    facts, durations, errors = collect_timed(SYSTEM_COLLECTORS)
    assert errors == {}
    assert set(durations) == set(SYSTEM_COLLECTORS)
    return facts


def _meminfo_kb(key: str) -> int:
    for line in open("/proc/meminfo", encoding="ascii"):
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise AssertionError(key)


def test_memory_and_cpu_match_proc():
    facts = _facts()
    assert facts["ram_mb"].value == _meminfo_kb("MemTotal") // 1024
    assert facts["cpu_cores"].value == os.cpu_count()
    with open("/proc/cpuinfo", encoding="utf-8") as handle:
        models = {line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")}
    assert facts["cpu_model"].value in models


def test_os_matches_os_release_and_uname():
    facts = _facts()
    release = platform.freedesktop_os_release()
    assert facts["os"].value["name"] == release["NAME"]
    assert facts["os"].value["version"] == release["VERSION_ID"]
    assert os.uname().release in facts["os"].value["build"]
    assert facts["arch"].value == os.uname().machine
    assert facts["os"].evidence[0].location == "/etc/os-release"


def test_disk_uptime_and_clock_match_the_os():
    facts = _facts()
    stat = os.statvfs("/")
    assert abs(facts["disk_free_gb"].value - stat.f_bavail * stat.f_frsize / 1024 ** 3) < 0.5
    with open("/proc/uptime", encoding="ascii") as handle:
        uptime_days = float(handle.read().split()[0]) / 86400
    assert abs(facts["uptime_days"].value - uptime_days) < 0.01
    offset = time.localtime().tm_gmtoff
    sign = "+" if offset >= 0 else "-"
    assert facts["utc_offset"].value == f"{sign}{abs(offset) // 3600:02d}:{abs(offset) % 3600 // 60:02d}"


def test_time_zone_follows_tz_and_encoding_follows_locale():
    env = {**os.environ, "TZ": "Asia/Ho_Chi_Minh", "LC_ALL": "C.UTF-8"}
    code = ("from egov_probe.facts.system import SYSTEM_COLLECTORS as c;"
            "print(c['timezone']().value, c['utc_offset']().value, c['encoding']().value)")
    out = subprocess.run([sys.executable, "-c", code],
                         env=env, capture_output=True, text=True, check=True).stdout.split()
    assert out == ["Asia/Ho_Chi_Minh", "+07:00", "UTF-8"]


def test_vietnamese_fonts_are_those_fontconfig_says_cover_vietnamese():
    facts = _facts()
    families = facts["vietnamese_fonts"].value
    assert "DejaVu Sans" in families  # fonts-dejavu-core covers Vietnamese
    letters = ("ĂăĐđĨĩŨũƠơƯư"
               "ẠạẢảẤấẦầẨẩẪẫẬậẮắẰằẲẳẴẵẶặẸẹẺẻẼẽẾếỀềỂểỄễỆệỈỉỊịỌọỎỏỐốỒồỔổỖỗỘộỚớỜờỞởỠỡỢợỤụỦủỨứỪừỬửỮữỰựỲỳỴỵỶỷỸỹ")
    charset = " ".join(f"{ord(c):x}" for c in letters)
    listed = subprocess.run(["fc-list", f":charset={charset}", "family"],
                            capture_output=True, text=True, check=True).stdout
    assert {line.split(",")[0] for line in listed.splitlines() if line} == set(families)


def test_windows_machine_and_processor_are_what_platform_reads_there(monkeypatch):
    """On Windows the audit reads the machine and processor from the environment, exactly as
    Python 3.11's platform does, without platform.uname()'s ``cmd /c ver`` child process."""
    from egov_probe.facts import system

    monkeypatch.setattr(system.sys, "platform", "win32")
    cases = [{"PROCESSOR_ARCHITECTURE": "AMD64",
              "PROCESSOR_IDENTIFIER": "Intel64 Family 6 Model 142 Stepping 10, GenuineIntel"},
             {"PROCESSOR_ARCHITECTURE": "x86", "PROCESSOR_ARCHITEW6432": "AMD64"},
             {}]
    for env in cases:
        for name in ("PROCESSOR_ARCHITECTURE", "PROCESSOR_ARCHITEW6432", "PROCESSOR_IDENTIFIER"):
            monkeypatch.delenv(name, raising=False)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        assert system.machine() == platform._get_machine_win32()
        assert system.processor() == platform._Processor.get_win32()
        assert system.arch_fact().value == system.machine()
