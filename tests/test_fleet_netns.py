"""The fleet audit against real sshd hosts in network namespaces (root; marker ``netns``).

32 hosts, each with its own hostname and files; 12 are made faulty on purpose (see FAULTS).
The real ``egov-probe fleet`` command is run as a user would run it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from egov_probe.core.report_file import read_report
from egov_probe.facts.browsers_linux import NOT_RUN
from tests import hostile_user
from tests.netns.hosts import Fleet, leftovers, run

# The hosts share this machine's files: "ready" needs its chromium/firefox-esr and fonts.
pytestmark = [pytest.mark.netns, pytest.mark.browsers,
              pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces need root")]

ROOT = Path(__file__).resolve().parent.parent
PILOT = ROOT / "inventory/pilot.yml"
DEADLINE = 20
FAULTS = {0: "blackhole", 1: "lossy", 2: "wrong_host_key", 3: "unknown_host_key",
          4: "wrong_password", 5: "password", 6: "hung", 7: "killed", 8: "no_python",
          9: "old_browser", 10: "no_locale", 11: "behind_jump", 13: "rsa_host_key",
          14: "hostile_user"}
JUMP = 12  # an ordinary host that the behind_jump host is reached through
EXPECTED = {"blackhole": ("unreachable", "unreachable"), "lossy": ("complete", "ready"),
            "wrong_host_key": ("host_key_mismatch", "host_key_mismatch"),
            "unknown_host_key": ("host_key_mismatch", "host_key_mismatch"),
            "wrong_password": ("auth_failed", "auth_failed"), "password": ("complete", "ready"),
            "hung": ("timed_out", "timed_out"), "killed": ("partial", "partial"),
            "no_python": ("complete", "ready"), "old_browser": ("complete", "not_ready"),
            "no_locale": ("complete", "ready"), "behind_jump": ("complete", "ready"),
            "rsa_host_key": ("host_key_mismatch", "host_key_mismatch"),
            "hostile_user": ("complete", "ready"), None: ("complete", "ready")}


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory):
    hosts = Fleet(tmp_path_factory.mktemp("fleet"), 32, dict(FAULTS)).start()
    yield hosts
    hosts.close()
    assert leftovers(hosts.tag) == []


@pytest.fixture(scope="module")
def inventory(fleet: Fleet) -> Path:
    jump = fleet.hosts[JUMP].address
    return fleet.inventory(fleet.workdir / "workstations.yml", extra={
        11: {"ansible_ssh_common_args": f"-o ProxyJump=root@{jump}"}})


def fleet_command(fleet: Fleet, inventory: Path, out: Path, *args: str,
                  env: dict | None = None) -> list[str]:
    return [sys.executable, "-m", "egov_probe", "fleet", "-i", str(PILOT), "-i", str(inventory),
            "--known-hosts", str(fleet.known_hosts), "--out", str(out),
            "--deadline", str(DEADLINE), "--connect-timeout", "3", *args]


def run_fleet(fleet: Fleet, inventory: Path, out: Path, *args: str,
              env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(fleet_command(fleet, inventory, out, *args), capture_output=True,
                          text=True, encoding="utf-8", timeout=DEADLINE * 6,
                          env={**os.environ, "PYTHONIOENCODING": "utf-8", **(env or {})})


def reports(out: Path) -> dict[str, dict]:
    found = {}
    for path in sorted(out.glob("*.json")):
        read_report(path)  # valid against the published schema
        data = json.loads(path.read_text(encoding="utf-8"))
        found[data["facts"]["fleet"]["inventory_hostname"]] = data
    return found


def fingerprint(public_key: Path) -> str:
    return run("ssh-keygen", "-lf", str(public_key)).stdout.split()[1]


def test_every_host_gets_one_report_with_the_right_status(fleet, inventory, tmp_path):
    out = tmp_path / "reports"
    result = run_fleet(fleet, inventory, out, "--forks", "32")
    assert result.returncode == 1, result.stderr  # some hosts are not ready
    found = reports(out)
    assert sorted(found) == sorted(h.name for h in fleet.hosts), "a host was dropped"
    assert not list(out.glob(".*.part"))
    for host in fleet.hosts:
        report = found[host.name]
        outcome, category = EXPECTED[host.fault]
        assert report["outcome"] == outcome, (host.fault, report["facts"]["fleet"])
        assert report["facts"]["fleet"]["duration_s"] <= DEADLINE + 3, host.fault
        assert report["host"]["unit_id"] == "xa-ma-thanh"
        assert report["host"]["address"] == host.address
        assert report["transport"] == "ssh"
        if outcome == "complete":
            assert report["host"]["hostname"] == host.name  # the host's own UTS name
            assert (report["summary"]["readiness"] == "not_ready") == (category == "not_ready")
        else:
            assert report["checks"][0]["id"] == "fleet.connection"
            assert report["checks"][0]["status"] == "error"
    # Each line of the final listing names the host and its category, Vietnamese first.
    assert result.stdout.count("\n") == len(fleet.hosts)
    assert "sẵn sàng" in result.stdout and "khóa máy lạ" in result.stdout
    assert "không kết nối được 1" in result.stderr and "sai xác thực 1" in result.stderr


def test_faults_are_told_apart(fleet, inventory, tmp_path):
    out = tmp_path / "reports"
    run_fleet(fleet, inventory, out, "--limit", ",".join(
        fleet.host(f).name for f in ("wrong_host_key", "unknown_host_key", "old_browser",
                                     "no_locale", "hung", "killed", "password")))
    found = {fleet.hosts[i].fault: r for i, r in
             ((next(h.index for h in fleet.hosts if h.name == n), r) for n, r in reports(out).items())}
    changed = found["wrong_host_key"]["checks"][0]["details"]
    assert changed["host_key_fingerprint"] == fingerprint(fleet.workdir / "otherkey.pub")
    assert "CHANGED" in changed["error"]
    unknown = found["unknown_host_key"]["checks"][0]["details"]
    assert unknown["host_key_fingerprint"] == fingerprint(fleet.workdir / "hostkey.pub")
    assert "not in known_hosts" in unknown["error"]
    old = {c["id"]: c for c in found["old_browser"]["checks"]}
    assert old["browser.chromium.machine"]["status"] == "fail"
    assert old["browser.chromium.machine"]["observed"] == "90.0.4430.212"
    assert {c["id"]: c["status"] for c in found["no_locale"]["checks"]}["system.encoding"] == "warn"
    # Cut mid-session: what arrived before the cut is still judged, the rest is an error.
    for fault in ("hung", "killed"):
        checks = {c["id"]: c for c in found[fault]["checks"]}
        assert checks["system.ram"]["status"] in ("pass", "warn")
        assert checks["system.vietnamese_fonts"]["status"] == "warn"  # fc-list never answered
    ram = {c["id"]: c for c in found["password"]["checks"]}["system.ram"]
    assert "3072" in json.dumps(ram["expected"])  # phase 2's threshold, from the unit's vars
    for report in found.values():
        assert fleet.host("password").password not in json.dumps(report, ensure_ascii=False)


def test_interrupt_keeps_finished_reports_and_a_resumed_run_completes(fleet, inventory,
                                                                       tmp_path):
    out = tmp_path / "reports"
    since = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(time.time() - 1))
    healthy = "all:" + ":".join("!" + h.name for h in fleet.hosts if h.fault)
    names = sorted(h.name for h in fleet.hosts if not h.fault)
    process = subprocess.Popen(fleet_command(fleet, inventory, out, "--forks", "1",
                                             "--limit", healthy),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONIOENCODING": "utf-8"},
                               preexec_fn=_ctrl_c_as_on_a_terminal)
    deadline = time.monotonic() + 60
    while len(list(out.glob("*.json"))) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    _stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    first = reports(out)
    assert 3 <= len(first) < len(names), "the interrupt came too late to test anything"
    assert not list(out.glob(".*.part"))
    assert "--since" in stderr
    resumed = run_fleet(fleet, inventory, out, "--since", since, "--limit",
                        healthy)
    assert resumed.returncode == 0, resumed.stderr
    second = reports(out)
    assert sorted(second) == names
    assert len(list(out.glob("*.json"))) == len(names)  # exactly one report per host
    for name, report in first.items():  # finished reports kept, not audited again
        assert second[name]["report_id"] == report["report_id"]
    assert resumed.stdout.count("đã có báo cáo") == len(first)
    forced = run_fleet(fleet, inventory, out, "--since", since, "--force", "--limit",
                       healthy)
    assert forced.returncode == 0
    assert all(reports(out)[n]["report_id"] != second[n]["report_id"] for n in names)


def _ctrl_c_as_on_a_terminal() -> None:
    """SIGINT as a user's terminal delivers it, even when this test session was started in
    the background (a shell makes a background job ignore SIGINT, and its children inherit)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_vault_encrypted_password(fleet, tmp_path):
    host = fleet.host("password")
    vault_pass = tmp_path / "vault-pass"
    vault_pass.write_text("khóa-kho-" + str(os.getpid()), encoding="utf-8")
    encrypted = run(str(Path(sys.executable).parent / "ansible-vault"), "encrypt_string",
                    "--vault-password-file", str(vault_pass), host.password,
                    "--name", "ansible_password").stdout
    inventory = tmp_path / "vault.yml"
    inventory.write_text(
        "all:\n  children:\n    unit_xa_ma_thanh:\n      hosts:\n"
        f"        {host.name}:\n          ansible_host: {host.address}\n"
        "          ansible_user: root\n          "
        + encrypted.strip().replace("\n", "\n          ") + "\n", encoding="utf-8")
    out = tmp_path / "reports"
    result = run_fleet(fleet, inventory, out, env={"ANSIBLE_VAULT_PASSWORD_FILE": str(vault_pass)})
    assert result.returncode == 0, result.stderr
    assert reports(out)[host.name]["outcome"] == "complete"
    assert host.password not in result.stdout + result.stderr
    without = run_fleet(fleet, inventory, tmp_path / "none")
    assert without.returncode == 2
    assert "vault" in without.stderr.lower()


def test_skipping_host_key_checks_is_explicit_and_loud(fleet, inventory, tmp_path):
    host = fleet.host("unknown_host_key")
    out = tmp_path / "reports"
    result = run_fleet(fleet, inventory, out, "--limit", host.name,
                       "--insecure-skip-host-key-check")
    assert "KHÔNG kiểm tra khóa máy chủ" in result.stderr and "NOT verified" in result.stderr
    report = reports(out)[host.name]
    assert report["outcome"] == "complete"
    assert report["facts"]["fleet"]["host_key_checked"] is False
    assert report["facts"]["fleet"]["host_key_not_checked_by"] == "--insecure-skip-host-key-check"


def test_bad_inventory_is_named_with_its_line(fleet, inventory, tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text("all:\n  hosts:\n    ws1: {ansible_host: 10.214.0.9\n", encoding="utf-8")
    result = run_fleet(fleet, bad, tmp_path / "out")
    assert result.returncode == 2
    assert f"{bad}:4" in result.stderr or f"{bad}:3" in result.stderr
    nothing = run_fleet(fleet, inventory, tmp_path / "out",
                        "--limit", "no_such_group")
    assert nothing.returncode == 2 and "--limit" in nothing.stderr
    assert not (tmp_path / "out").exists()


def test_harness_cleans_up(tmp_path):
    hosts = Fleet(tmp_path / "small", 2, {1: "hung"}).start()
    pids = [pid for h in hosts.hosts for pid in hosts.pids(h)]
    assert pids and leftovers(hosts.tag)
    hosts.close()
    assert leftovers(hosts.tag) == []
    assert not [pid for pid in pids if Path(f"/proc/{pid}").exists()]


def test_hostile_user_runs_nothing_and_forges_nothing(fleet, inventory, tmp_path):
    """A local user planted ~/firefox/firefox and ~/.local/share/firefox/firefox (scripts that
    leave a marker) and path names and files spelling the collector's records: the fleet
    audit, logged in as root, runs neither, takes no forged record, and reports the Firefox
    the host really has, like a clean host's report."""
    host, clean = fleet.host("hostile_user"), fleet.hosts[20]
    out = tmp_path / "reports"
    result = run_fleet(fleet, inventory, out, "--limit", f"{host.name},{clean.name}")
    assert result.returncode in (0, 1), result.stderr
    assert host.hostile.ran() == [], "the fleet audit ran a user's executable"
    found = reports(out)
    report = found[host.name]
    assert report["outcome"] == "complete"
    browsers = report["facts"]["browsers"]["browsers"]
    machine = {b["browser"]: b["version"] for b in browsers if b["scope"] == "machine"}
    clean_browsers = found[clean.name]["facts"]["browsers"]["browsers"]
    assert machine == {b["browser"]: b["version"] for b in clean_browsers}
    assert "firefox_esr" in machine and "chrome" not in machine  # the forged Chrome is not
    planted = [b for b in browsers if b["scope"] == f"user:{hostile_user.NAME}"]
    assert sorted(b["path"] for b in planted) == sorted(
        str(host.hostile.home / p) for p in hostile_user.PLANTED)
    assert all(b["version"] == "" and b["evidence"][0]["value"] == NOT_RUN for b in planted)
    others = {k: v for k, v in comparable(report).items() if "user-egovhostile" not in k}
    assert others == comparable(found[clean.name])


VOLATILE = {"system.uptime", "system.disk_free"}  # move between two runs a second apart


def comparable(report: dict) -> dict:
    return {c["id"]: (c["status"], None if c["id"] in VOLATILE else c["observed"])
            for c in report["checks"]}


def test_ansible_playbook_gives_the_same_report(fleet, inventory, tmp_path):
    """playbooks/audit_workstations.yml (real ansible-playbook over real SSH) and the SSH path
    give the same checks, statuses and observed values for the same hosts."""
    names = [fleet.hosts[20].name, fleet.host("no_python").name, fleet.host("old_browser").name,
             fleet.host("blackhole").name, fleet.host("hostile_user").name]
    direct = tmp_path / "direct"
    run_fleet(fleet, inventory, direct, "--limit", ",".join(names))
    via = tmp_path / "ansible"
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
           "ANSIBLE_SSH_ARGS": f"-o ControlMaster=no -o UserKnownHostsFile={fleet.known_hosts} "
                               "-o StrictHostKeyChecking=yes -o ConnectTimeout=3",
           # (ansible.cfg's profile_tasks callback stays on: ansible-core 2.19 refuses an empty
           # ANSIBLE_CALLBACKS_ENABLED, "A non-empty plugin name is required")
           "ANSIBLE_TIMEOUT": "5",
           "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    result = subprocess.run(
        [str(bin_dir / "ansible-playbook"), "-i", str(PILOT), "-i", str(inventory),
         str(ROOT / "playbooks/audit_workstations.yml"), "-e", f"egov_out={via}",
         "-e", f"egov_hosts={','.join(names)}", "-e", f"egov_probe={bin_dir / 'egov-probe'}"],
        capture_output=True, text=True, env=env, timeout=300, cwd=ROOT)
    assert result.returncode in (0, 2, 4), result.stdout[-3000:]  # 4: a host was unreachable
    assert fleet.host("hostile_user").hostile.ran() == [], "the playbook ran a user's executable"
    by_ssh, by_ansible = reports(direct), reports(via)
    assert sorted(by_ansible) == sorted(names)
    for name in names:
        assert by_ansible[name]["transport"] == "ansible"
        assert by_ansible[name]["outcome"] == by_ssh[name]["outcome"], name
        assert comparable(by_ansible[name]) .keys() == comparable(by_ssh[name]).keys()
        if by_ssh[name]["outcome"] == "complete":
            assert comparable(by_ansible[name]) == comparable(by_ssh[name]), name
            assert by_ansible[name]["host"] == by_ssh[name]["host"]
