"""Benchmark: `egov-probe fleet` against three baselines on the same namespace hosts.

One command (root): ``python bench/bench_fleet.py`` starts 200 sshd hosts in network
namespaces and, with the same parallelism (--forks, default 32) and the same known_hosts,
times in the same run:

- ``egov-probe fleet`` (paramiko, the shipped collector, one report per host);
- ``ansible all -m setup`` (Ansible's own fact gathering, with its usual ControlPersist);
- the fair baseline: the same collector through Ansible (``playbooks/audit_workstations.yml``,
  the path AWX users take), judged into the same reports;
- a raw OpenSSH sweep: ``ssh host 'cat /etc/os-release /proc/meminfo ...'`` for every host
  (``xargs -P FORKS``, OpenSSH's default client settings), the least any SSH audit must do;

and prints every ratio; then 500 hosts with ``egov-probe fleet`` alone: wall time and the
controller's peak memory. ``--sizes 200,500`` (or EGOV_BENCH_SIZES) picks the sizes;
``--baselines-up-to N`` (default 200) caps the sizes the baselines run on.

Goals (issue 12): at least 10x faster than ``ansible -m setup``; at most 1.5x the raw OpenSSH
sweep; 200 hosts in under 30 s; every host has its report. The exit code is 1 when any goal
is missed, 0 when all are met.
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
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.netns.hosts import Fleet  # noqa: E402 - the same harness as the tests

BIN = Path(sys.executable).parent
GOAL_VS_SETUP = 10.0  # ansible -m setup / egov-probe fleet, at least
GOAL_VS_RAW = 1.5  # egov-probe fleet / raw OpenSSH sweep, at most
GOAL_200_S = 30.0
# What the raw sweep reads: the files the collector reads whole (no command run).
RAW_FILES = ("/etc/os-release /proc/meminfo /proc/cpuinfo /proc/uptime /etc/passwd "
             "/etc/default/locale /proc/sys/kernel/osrelease /proc/sys/kernel/hostname")


@dataclass(frozen=True)
class Run:
    wall: float
    rss_mib: float
    code: int
    cpu: float

    def line(self, name: str, note: str = "") -> str:
        return (f"  {name:<34}: {self.wall:7.2f} s  peak RSS {self.rss_mib:6.1f} MiB  "
                f"controller CPU {self.cpu:6.1f} s  exit {self.code}{note}")


def timed(command: list[str], env: dict, stdin: str | None = None) -> Run:
    """Wall seconds, peak RSS (MiB) of its largest process, exit code, controller CPU seconds
    (the command and its children on this machine; the hosts' sshd are not its children)."""
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdin=subprocess.PIPE if stdin else None,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    if stdin:
        process.stdin.write(stdin.encode())
        process.stdin.close()
    _pid, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return Run(time.perf_counter() - started, usage.ru_maxrss / 1024, process.returncode,
               usage.ru_utime + usage.ru_stime)


def run_probe(fleet: Fleet, inventory: Path, out: Path, forks: int) -> Run:
    command = [str(BIN / "egov-probe"), "fleet", "-i", str(inventory), "--forks", str(forks),
               "--known-hosts", str(fleet.known_hosts), "--out", str(out), "--deadline", "60"]
    return timed(command, {**os.environ, "PYTHONIOENCODING": "utf-8"})


def ansible_env(fleet: Fleet, control: Path) -> dict:
    """A user's usual settings: OpenSSH with ControlPersist, host keys checked against the
    same file as the probe's."""
    return {**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
            "ANSIBLE_SSH_CONTROL_PATH_DIR": str(control),
            "ANSIBLE_SSH_ARGS": "-C -o ControlMaster=auto -o ControlPersist=60s "
                                f"-o UserKnownHostsFile={fleet.known_hosts}",
            "ANSIBLE_HOST_KEY_CHECKING": "True", "ANSIBLE_PYTHON_INTERPRETER": "/usr/bin/python3",
            "PATH": f"{BIN}:{os.environ['PATH']}"}


def run_setup(fleet: Fleet, inventory: Path, forks: int, control: Path) -> Run:
    command = [str(BIN / "ansible"), "all", "-i", str(inventory), "-m", "setup", "-f", str(forks),
               "-o"]
    return timed(command, ansible_env(fleet, control))


def run_playbook(fleet: Fleet, inventory: Path, out: Path, forks: int, control: Path) -> Run:
    """The same collector through Ansible: playbooks/audit_workstations.yml."""
    command = [str(BIN / "ansible-playbook"), "-i", str(inventory), "-f", str(forks),
               str(ROOT / "playbooks/audit_workstations.yml"), "-e", f"egov_out={out}",
               "-e", f"egov_probe={BIN / 'egov-probe'}"]
    return timed(command, ansible_env(fleet, control))


def run_raw(fleet: Fleet, forks: int) -> Run:
    """``ssh root@host 'cat FILES'`` for every host, FORKS at a time, OpenSSH's defaults."""
    command = ["xargs", "-P", str(forks), "-I", "{}", "ssh", "-q", "-i", str(fleet.client_key),
               "-o", f"UserKnownHostsFile={fleet.known_hosts}", "-o", "StrictHostKeyChecking=yes",
               "-o", "BatchMode=yes", "-o", "ControlMaster=no", "root@{}", f"cat {RAW_FILES}"]
    addresses = "".join(f"{h.address}\n" for h in fleet.hosts)
    return timed(command, dict(os.environ), stdin=addresses)


def stop_masters(control: Path) -> None:
    """End the ssh ControlPersist masters that the Ansible runs started (they hold sessions)."""
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


def bench(size: int, forks: int, with_baselines: bool, workdir: Path) -> dict:
    fleet = Fleet(workdir / f"hosts{size}", size).start()
    control = workdir / f"cp{size}"
    control.mkdir()
    try:
        inventory = fleet.inventory(workdir / f"inventory{size}.yml")
        result: dict = {"size": size}
        if with_baselines:  # first, so the hosts' page cache is warm for the probe too
            result["raw"] = run_raw(fleet, forks)
        result["probe"] = run_probe(fleet, inventory, workdir / f"out{size}", forks)
        result["reports"] = len(list((workdir / f"out{size}").glob("*.json")))
        if with_baselines:
            result["setup"] = run_setup(fleet, inventory, forks, control)
            stop_masters(control)
            playbook_out = workdir / f"playbook{size}"
            result["playbook"] = run_playbook(fleet, inventory, playbook_out, forks, control)
            result["playbook_reports"] = len(list(playbook_out.glob("*.json")))
    finally:
        stop_masters(control)
        fleet.close()
    return result


def report(result: dict, forks: int) -> bool:
    """Print the run, its ratios and goals; True when every goal is met."""
    size = result["size"]
    probe: Run = result["probe"]
    print(f"{size} hosts, forks {forks}")
    print(probe.line("egov-probe fleet", f"  reports {result['reports']}/{size}"))
    verdicts = [(f"every host has its report ({result['reports']}/{size})",
                 result["reports"] == size)]
    if size == 200:
        verdicts.append((f"200 hosts < {GOAL_200_S:g} s ({probe.wall:.2f} s)",
                         probe.wall < GOAL_200_S))
    if "setup" in result:
        raw, setup, playbook = result["raw"], result["setup"], result["playbook"]
        print(raw.line("raw OpenSSH sweep (ssh host cat ...)"))
        print(setup.line("ansible all -m setup"))
        print(playbook.line("same collector via ansible-playbook",
                            f"  reports {result['playbook_reports']}/{size}"))
        vs_setup = setup.wall / probe.wall
        vs_raw = probe.wall / raw.wall
        vs_playbook = playbook.wall / probe.wall
        print(f"  ratio ansible -m setup / egov-probe : {vs_setup:5.1f}x  (goal >= {GOAL_VS_SETUP:g}x)")
        print(f"  ratio egov-probe / raw OpenSSH sweep : {vs_raw:5.2f}x  (goal <= {GOAL_VS_RAW:g}x)")
        print(f"  ratio ansible-playbook (same collector) / egov-probe : {vs_playbook:5.1f}x  "
              "(fair baseline, no goal)")
        print(f"  controller CPU egov-probe / raw sweep : {probe.cpu / raw.cpu:5.2f}x; "
              f"ansible -m setup / egov-probe : {setup.cpu / probe.cpu:5.1f}x")
        verdicts += [(f"ansible -m setup / egov-probe >= {GOAL_VS_SETUP:g}x ({vs_setup:.1f}x)",
                      vs_setup >= GOAL_VS_SETUP),
                     (f"egov-probe / raw sweep <= {GOAL_VS_RAW:g}x ({vs_raw:.2f}x)",
                      vs_raw <= GOAL_VS_RAW)]
    for text, met in verdicts:
        print(f"  goal {text}: {'met' if met else 'NOT met'}")
    print(f"  load average now: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores "
          "(other work on the machine slows every row alike; compare the ratios)")
    sys.stdout.flush()
    return all(met for _text, met in verdicts)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=os.environ.get("EGOV_BENCH_SIZES", "200,500"))
    parser.add_argument("--forks", type=int, default=32)
    parser.add_argument("--baselines-up-to", type=int, default=200)
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("bench_fleet needs root (network namespaces)", file=sys.stderr)
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="egov-bench-fleet-"))
    met = True
    try:
        for size in (int(s) for s in args.sizes.split(",")):
            result = bench(size, args.forks, size <= args.baselines_up_to, workdir)
            met &= report(result, args.forks)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print("all goals met" if met else "some goal NOT met")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
