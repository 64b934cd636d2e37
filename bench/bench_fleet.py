"""Benchmark: `egov-probe fleet` against `ansible -m setup` on the same namespace hosts.

One command (root): ``python bench/bench_fleet.py`` starts 200 sshd hosts in network
namespaces, times both tools on them with the same parallelism (--forks, default 32) in the
same run, and prints the ratio; then 500 hosts with ``egov-probe fleet`` alone: wall time and
the controller's peak memory. ``--sizes 200,500`` (or EGOV_BENCH_SIZES) picks the sizes;
``--ansible-up-to N`` (default 200) caps the sizes Ansible runs on.
Goal (issue 4): at least 5x faster than Ansible, and 200 hosts in under 30 s on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.netns.hosts import Fleet  # noqa: E402 - the same harness as the tests

BIN = Path(sys.executable).parent


def timed(command: list[str], env: dict) -> tuple[float, float, int, float]:
    """Wall seconds, peak RSS (MiB) of its largest process, exit code, controller CPU seconds
    (the command and its children on this machine; the hosts' sshd are not its children)."""
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    _pid, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return (time.perf_counter() - started, usage.ru_maxrss / 1024, process.returncode,
            usage.ru_utime + usage.ru_stime)


def run_probe(fleet: Fleet, inventory: Path, out: Path, forks: int) -> tuple[float, float, int, float]:
    command = [str(BIN / "egov-probe"), "fleet", "-i", str(inventory), "--forks", str(forks),
               "--known-hosts", str(fleet.known_hosts), "--out", str(out), "--deadline", "60"]
    return timed(command, {**os.environ, "PYTHONIOENCODING": "utf-8"})


def run_ansible(fleet: Fleet, inventory: Path, forks: int, control: Path) -> tuple[float, float, int, float]:
    # A user's usual settings: OpenSSH with ControlPersist, host keys checked against the same file.
    env = {**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
           "ANSIBLE_CALLBACKS_ENABLED": "", "ANSIBLE_SSH_CONTROL_PATH_DIR": str(control),
           "ANSIBLE_SSH_ARGS": "-C -o ControlMaster=auto -o ControlPersist=60s "
                               f"-o UserKnownHostsFile={fleet.known_hosts}",
           "ANSIBLE_HOST_KEY_CHECKING": "True", "ANSIBLE_PYTHON_INTERPRETER": "/usr/bin/python3"}
    command = [str(BIN / "ansible"), "all", "-i", str(inventory), "-m", "setup", "-f", str(forks),
               "-o"]
    return timed(command, env)


def stop_masters(control: Path) -> None:
    """End the ssh ControlPersist masters that the Ansible run started (they hold sessions)."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if str(control) in cmdline and cmdline.startswith("ssh"):
                try:
                    os.kill(int(entry.name), signal.SIGTERM)
                except ProcessLookupError:
                    pass


def bench(size: int, forks: int, with_ansible: bool, workdir: Path) -> dict:
    fleet = Fleet(workdir / f"hosts{size}", size).start()
    control = workdir / f"cp{size}"
    control.mkdir()
    try:
        inventory = fleet.inventory(workdir / f"inventory{size}.yml")
        result = {"size": size}
        result["probe"] = run_probe(fleet, inventory, workdir / f"out{size}", forks)
        reports = len(list((workdir / f"out{size}").glob("*.json")))
        result["reports"] = reports
        if with_ansible:
            result["ansible"] = run_ansible(fleet, inventory, forks, control)
    finally:
        stop_masters(control)
        fleet.close()
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=os.environ.get("EGOV_BENCH_SIZES", "200,500"))
    parser.add_argument("--forks", type=int, default=32)
    parser.add_argument("--ansible-up-to", type=int, default=200)
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("bench_fleet needs root (network namespaces)", file=sys.stderr)
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="egov-bench-fleet-"))
    try:
        for size in (int(s) for s in args.sizes.split(",")):
            result = bench(size, args.forks, size <= args.ansible_up_to, workdir)
            report(result, args.forks)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


def report(result: dict, forks: int) -> None:
    size = result["size"]
    wall, rss, code, cpu = result["probe"]
    print(f"{size} hosts, forks {forks}")
    print(f"  egov-probe fleet : {wall:7.2f} s  peak RSS {rss:6.1f} MiB  controller CPU "
          f"{cpu:6.1f} s  exit {code}  reports {result['reports']}/{size}")
    if size == 200:
        print(f"  goal 200 hosts < 30 s: {'met' if wall < 30 else 'NOT met'}")
    if "ansible" in result:
        a_wall, a_rss, a_code, a_cpu = result["ansible"]
        print(f"  ansible -m setup : {a_wall:7.2f} s  peak RSS {a_rss:6.1f} MiB  controller CPU "
              f"{a_cpu:6.1f} s  exit {a_code}  (baseline)")
        ratio = a_wall / wall if wall else float("inf")
        print(f"  ratio ansible/egov-probe: {ratio:.1f}x  (goal >= 5x: "
              f"{'met' if ratio >= 5 else 'NOT met'})")
    sys.stdout.flush()


if __name__ == "__main__":
    sys.exit(main())
