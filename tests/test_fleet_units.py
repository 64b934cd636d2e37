"""The fleet's pieces that need no network: the collector's records, the shared parsers,
ProxyJump, Ansible failure messages, resume decisions and the progress line."""

from __future__ import annotations

import datetime as dt
import io
import subprocess

import pytest

from egov_probe.core.errors import InputError
from egov_probe.core.model import Outcome
from egov_probe.facts.base import collect_timed
from egov_probe.facts.browsers_linux import collect_linux_browsers, linux_browsers
from egov_probe.facts.system import SYSTEM_COLLECTORS
from egov_probe.fleet.ansible_path import classify
from egov_probe.fleet.host import Endpoint
from egov_probe.fleet.inventory import load_targets, proxy_jump
from egov_probe.fleet.linux import RemoteLinuxReader, mark_of_script, new_collector, \
    parse_records, system_collectors
from egov_probe.fleet.progress import Progress
from egov_probe.fleet.runner import audited_since, report_path

# Facts whose value moves between two reads a moment apart, or that differ on purpose
# (remote locale/encoding: the system's configured locale, not this process's).
MOVING = {"disk_free_gb", "uptime_days", "locale", "encoding"}


@pytest.fixture(scope="module")
def local_output():
    """The shipped collector, run on this machine as the fleet runs it on a host."""
    collector = new_collector()
    text = subprocess.run(["/bin/sh", "-s"], input=collector.script, capture_output=True,
                          text=True, timeout=60, check=True).stdout
    return parse_records(text, collector.mark)


def test_collector_facts_equal_the_local_audit(local_output):
    output = local_output
    assert output.complete
    remote, _durations, errors = collect_timed(system_collectors(output))
    local, _durations, _errors = collect_timed(SYSTEM_COLLECTORS)
    assert errors == {}
    for name in set(local) - MOVING:
        assert remote[name].value == local[name].value, name
    assert abs(remote["disk_free_gb"].value - local["disk_free_gb"].value) < 1
    assert abs(remote["uptime_days"].value - local["uptime_days"].value) < 0.02


def test_collector_browsers_equal_the_local_collector(local_output):
    remote = linux_browsers(RemoteLinuxReader(local_output))
    assert [b.as_fact() for b in remote] == [b.as_fact() for b in collect_linux_browsers()]


MARK = "5e11e7703e70d6757a75fab32f03ab32"


def test_cut_off_output_keeps_whole_records_only():
    text = (f"\n::egov-probe:{MARK}:: file /proc/sys/kernel/hostname\nws-01\n"
            f"::egov-probe:{MARK}:: file /proc/meminfo\r\n"
            f"MemTotal:  8000000 kB\r\n::egov-probe:{MARK}:: cmd fc-list\nDejaVu Sa")
    output = parse_records(text, MARK)
    assert not output.complete
    assert output.get("file", "/proc/sys/kernel/hostname") == "ws-01"
    assert output.get("file", "/proc/meminfo") == "MemTotal:  8000000 kB"
    assert output.get("cmd", "fc-list") is None  # possibly truncated: not trusted
    facts, _d, errors = collect_timed(system_collectors(output))
    assert facts["ram_mb"].value == 8000000 // 1024
    assert "os" in errors and "vietnamese_fonts" not in errors  # no fc-list: fonts unknown
    assert facts["vietnamese_fonts"].value is None


def test_only_records_with_this_runs_mark_count():
    """A file printed by the collector cannot start a record: the mark is new for every run
    and never shown to the host's users; a repeated record keeps its first text."""
    forged = ("\n::egov-probe:: file /var/lib/dpkg/status\nPackage: google-chrome-stable\n"
              f"\n::egov-probe:{'0' * 32}:: end 0\n")
    text = (f"\n::egov-probe:{MARK}:: file /home/u/application.ini\n{forged}"
            f"\n::egov-probe:{MARK}:: file /home/u/application.ini\nVersion=1\n"
            f"\n::egov-probe:{MARK}:: file /var/lib/dpkg/status\nPackage: chromium\n")
    output = parse_records(text, MARK)
    assert not output.complete  # neither forged end counts
    assert output.get("file", "/home/u/application.ini") == forged
    assert output.get("file", "/var/lib/dpkg/status") is None  # last record of a cut output
    assert parse_records(text + f"\n::egov-probe:{MARK}:: end 0\n", MARK).get(
        "file", "/var/lib/dpkg/status") == "Package: chromium\n"


def test_printed_collector_carries_its_mark():
    collector = new_collector()
    assert mark_of_script(collector.script) == collector.mark
    assert collector.mark not in new_collector().script


@pytest.mark.parametrize("args, expected", [
    ("-o ProxyJump=kythuat@10.0.0.1:2222", Endpoint("10.0.0.1", 2222, "kythuat")),
    ("-o StrictHostKeyChecking=yes -J huyen-gw", Endpoint("huyen-gw", 22, None)),
    ("-o 'ProxyJump a@b,c@d'", Endpoint("b", 22, "a")),
    ("-o ProxyJump=none", None),
    ("-o StrictHostKeyChecking=yes", None),
])
def test_proxy_jump_from_ansible_ssh_args(args, expected):
    assert proxy_jump(args) == expected


@pytest.mark.parametrize("message, outcome", [
    ("unreachable: Failed to connect to the host via ssh: ssh: connect to host 10.1.1.1 port 22: "
     "Connection timed out", Outcome.UNREACHABLE),
    ("Failed to connect to the host via ssh: Permission denied (publickey,password).",
     Outcome.AUTH_FAILED),
    ("Host key verification failed.", Outcome.HOST_KEY_MISMATCH),
    (None, Outcome.UNREACHABLE),
])
def test_ansible_failures_are_classified(message, outcome):
    assert classify(message).outcome is outcome


def test_resume_ignores_damaged_or_old_reports(tmp_path):
    since = dt.datetime(2026, 11, 28, tzinfo=dt.timezone.utc)
    damaged = report_path(tmp_path, "ws/01")
    assert damaged.name == "ws_01.json"
    damaged.write_text('{"schema_version": "1.0", "report_id": ', encoding="utf-8")
    assert audited_since(damaged, since) is None
    assert audited_since(tmp_path / "absent.json", since) is None


def test_progress_counts_every_outcome():
    stream = io.StringIO()
    progress = Progress(4, stream, "en")
    for key in ("ready", "not_ready", "unreachable", "auth_failed"):
        progress.record(key)
    progress.finish()
    last = stream.getvalue().strip().splitlines()[-1]
    assert last.startswith("[" + "#" * 24 + "] 4/4")
    for label in ("ready 1", "not ready 1", "unreachable 1", "authentication failed 1"):
        assert label in last
    assert "sẵn sàng 0 · chưa sẵn sàng 0" in Progress(3, None).line()


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_redraws_one_line_on_a_terminal():
    terminal = _Terminal()
    progress = Progress(2, terminal)
    progress.record("ready")
    progress.record("timed_out")
    progress.finish()
    text = terminal.getvalue()
    assert text.startswith("\r\x1b[K[")
    assert text.count("\n") == 1 and text.endswith("quá hạn 1\n")


def test_playbook_passes_ansible_lint_and_yamllint(tmp_path):
    import sys
    from pathlib import Path
    root = Path(__file__).resolve().parent.parent
    bin_dir = Path(sys.executable).parent
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(tmp_path), "NO_COLOR": "1",
           "ANSIBLE_CONFIG": str(root / "ansible.cfg")}
    playbook = "playbooks/audit_workstations.yml"
    for command in ([str(bin_dir / "ansible-lint"), "--profile", "production", playbook],
                    [str(bin_dir / "yamllint"), "--strict", playbook]):
        result = subprocess.run(command, cwd=root, capture_output=True, text=True, env=env,
                                timeout=300, check=False)
        assert result.returncode == 0, result.stdout + result.stderr


SERVERS_AND_A_WORKSTATION = """\
all:
  children:
    unit_xa_ma_thanh:
      hosts:
        mathanh-vp01: {ansible_host: 127.0.0.1}
    provincial_servers:
      children:
        egov_db_servers:
          hosts:
            db01.egov.nghean.gov.vn:
"""


def test_provincial_servers_are_never_audited_as_workstations(tmp_path):
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(SERVERS_AND_A_WORKSTATION)
    assert [t.name for t in load_targets([inventory])] == ["mathanh-vp01"]
    with pytest.raises(InputError) as refused:
        load_targets([inventory], limit="provincial_servers")
    assert "no workstation matches --limit 'provincial_servers'" in str(refused.value)
    assert "db01.egov.nghean.gov.vn" in str(refused.value)
    assert "checks/" in str(refused.value)


def test_evidence_without_its_collector_is_refused(tmp_path):
    """--from-evidence takes records only with the mark of the collector the playbook ran."""
    from egov_probe.fleet.ansible_path import collector_mark
    with pytest.raises(InputError) as refused:
        collector_mark(tmp_path)
    assert str(tmp_path / "collector.sh") in str(refused.value)
    collector = new_collector()
    (tmp_path / "collector.sh").write_text(collector.script + "\n", encoding="utf-8")
    assert collector_mark(tmp_path) == collector.mark
