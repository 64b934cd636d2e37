"""Benchmark: the first converge of the whole Egov core stack on one server, then the no-op rerun.

The server is a systemd-nspawn Debian 12 container (tests/harness/nspawn.py); by default its
root file system holds only what Ansible needs, so the first converge installs every package
through the apt proxy, as on a fresh server. Pipelining and SSH multiplexing come from the
project's ansible.cfg; site.yml's strategy (egov_linear) runs the plays through Mitogen.
Run as root:

    .venv/bin/python bench/bench_converge.py [--preloaded]

Prints both times, their ratio (goal: the rerun takes at most 1/3 of the first converge) and
what the rerun changed (goal: nothing). The named baseline, measured in the same run: the same
no-op rerun with Ansible's plain linear strategy (EGOV_MITOGEN=0: a fresh Python per task,
pipelining and SSH multiplexing only).
"""

from __future__ import annotations

import argparse
import importlib.metadata
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


GOAL = "goal: the no-op rerun takes at most 1/3 of the first converge and changes nothing"


def ansible_version() -> str:
    try:
        return f"ansible-core {importlib.metadata.version('ansible-core')}"
    except importlib.metadata.PackageNotFoundError:
        return "ansible-core not installed"


def mitogen_version() -> str:
    """Which Mitogen the strategy will load (the plugin falls back to plain linear without it)."""
    try:
        return f"Mitogen {importlib.metadata.version('mitogen')}"
    except importlib.metadata.PackageNotFoundError:
        return "nothing: Mitogen is not installed (plain linear strategy)"


def slowest_tasks(run, count: int = 8) -> list[str]:
    """The profile_tasks summary (slowest first) that ansible.cfg's callback prints last."""
    lines = run.output.splitlines()
    marks = [i for i, line in enumerate(lines) if line.startswith("=====")]
    return lines[marks[-1] + 1:marks[-1] + 1 + count] if marks else []


def timed_playbook(stack, **env: str):
    start = time.monotonic()
    run = stack.playbook(extra_env=env)
    return run, time.monotonic() - start


def report(first, first_s: float, rerun, rerun_s: float, plain, plain_s: float) -> int:
    ratio = rerun_s / first_s
    print(f"first converge : {first_s:7.1f} s  changed={first.total('changed')}")
    print(f"no-op rerun    : {rerun_s:7.1f} s  changed={rerun.total('changed')}")
    verdict = "met" if ratio <= 1 / 3 else "NOT met"
    print(f"ratio          : {ratio:7.2f}  (goal <= 0.33: {verdict})")
    print(f"baseline: no-op rerun, plain linear strategy (EGOV_MITOGEN=0): {plain_s:.1f} s "
          f"changed={plain.total('changed')}; ratio to the first converge {plain_s / first_s:.2f}; "
          f"the project's rerun is {plain_s / rerun_s:.1f}x faster")
    for name, run in (("rerun", rerun), ("plain rerun", plain)):
        if run.total("changed"):
            print(f"{name} changed:", ", ".join(run.changed_tasks()))
    print("slowest tasks of the rerun:", *slowest_tasks(rerun), sep="\n  ")
    clean = all(r.returncode == 0 and r.total("changed") == 0 for r in (rerun, plain))
    met = clean and ratio <= 1 / 3
    print(f"{GOAL}: {'met' if met else 'NOT met'}")
    return 0 if met else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preloaded", action="store_true",
                        help="start from the test image with the packages pre-installed")
    args = parser.parse_args()
    if os.geteuid() != 0:
        parser.error("needs root (systemd-nspawn, overlay mounts, a bridge)")
    print(GOAL)
    print("\n".join(ssh_settings()))
    print(f"{ansible_version()}; site.yml strategy: egov_linear, through", mitogen_version())
    with tempfile.TemporaryDirectory(prefix="egov-bench-") as tmp, \
            ServerLab(Path(tmp), recipe=PRELOADED if args.preloaded else BARE) as lab:
        lab.boot(list(ALL_IN_ONE))
        stack = make_stack(lab, lab.workdir / "stack", ALL_IN_ONE)
        first, first_s = timed_playbook(stack)
        if first.returncode != 0:
            print(first.output[-4000:])
            return 1
        rerun, rerun_s = timed_playbook(stack)
        plain, plain_s = timed_playbook(stack, EGOV_MITOGEN="0")
        return report(first, first_s, rerun, rerun_s, plain, plain_s)


if __name__ == "__main__":
    sys.exit(main())
