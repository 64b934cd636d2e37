"""Benchmark: the first converge of the whole Egov core stack on one server, then the no-op rerun.

The server is a systemd-nspawn Debian 12 container (tests/harness/nspawn.py); by default its
root file system holds only what Ansible needs, so the first converge installs every package
through the apt proxy, as on a fresh server. Pipelining and SSH multiplexing come from the
project's ansible.cfg. Run as root:

    .venv/bin/python bench/bench_converge.py [--preloaded]

Prints both times, their ratio (goal: the rerun takes at most 1/3 of the first converge) and
what the rerun changed (goal: nothing).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "roles")]

from serverstack import ALL_IN_ONE, BIN, make_stack  # noqa: E402

from tests.harness.nspawn import BARE, PRELOADED, ServerLab  # noqa: E402


def ssh_settings() -> list[str]:
    """The connection settings ansible.cfg gives (pipelining, SSH arguments)."""
    cmd = [str(BIN / "ansible-config"), "dump", "--only-changed", "-t", "all"]
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False,
                         env={**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg")}).stdout
    wanted = [line for line in out.splitlines() if line.startswith(("pipelining", "ssh_args"))]
    return list(dict.fromkeys(wanted))


def slowest_tasks(run, count: int = 8) -> list[str]:
    """The profile_tasks summary (slowest first) that ansible.cfg's callback prints last."""
    lines = run.output.splitlines()
    marks = [i for i, line in enumerate(lines) if line.startswith("=====")]
    return lines[marks[-1] + 1:marks[-1] + 1 + count] if marks else []


def timed_playbook(stack):
    start = time.monotonic()
    run = stack.playbook()
    return run, time.monotonic() - start


def report(first, first_s: float, rerun, rerun_s: float) -> int:
    ratio = rerun_s / first_s
    print(f"first converge : {first_s:7.1f} s  changed={first.total('changed')}")
    print(f"no-op rerun    : {rerun_s:7.1f} s  changed={rerun.total('changed')}")
    verdict = "met" if ratio <= 1 / 3 else "NOT met"
    print(f"ratio          : {ratio:7.2f}  (goal <= 0.33: {verdict})")
    if rerun.total("changed"):
        print("rerun changed  :", ", ".join(rerun.changed_tasks()))
    print("slowest tasks of the rerun:", *slowest_tasks(rerun), sep="\n  ")
    return 0 if rerun.returncode == 0 and rerun.total("changed") == 0 else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preloaded", action="store_true",
                        help="start from the test image with the packages pre-installed")
    args = parser.parse_args()
    if os.geteuid() != 0:
        parser.error("needs root (systemd-nspawn, overlay mounts, a bridge)")
    print("\n".join(ssh_settings()))
    with tempfile.TemporaryDirectory(prefix="egov-bench-") as tmp, \
            ServerLab(Path(tmp), recipe=PRELOADED if args.preloaded else BARE) as lab:
        lab.boot(list(ALL_IN_ONE))
        stack = make_stack(lab, lab.workdir / "stack", ALL_IN_ONE)
        first, first_s = timed_playbook(stack)
        if first.returncode != 0:
            print(first.output[-4000:])
            return 1
        rerun, rerun_s = timed_playbook(stack)
        return report(first, first_s, rerun, rerun_s)


if __name__ == "__main__":
    sys.exit(main())
