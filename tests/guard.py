"""The test session's promise to the host: it is left as it was found.

A snapshot is taken when the session starts and compared when it ends: the device nodes every
program needs are still the devices they were, and nothing the tests make (network namespaces,
bridges and veths, mounts, nspawn cgroups, processes) is still there. Processes are known by a
tag in their environment (``EGOV_TEST_SESSION``) that every child of the session inherits.

Another test session on the same machine at the same time (seen by its own tag) makes
namespaces and mounts of its own, which this comparison cannot tell from leftovers: then, or
with ``EGOV_TEST_GUARD=devices``, the guard checks the device nodes and this session's own
processes only, and says so. CI runs alone and gets the whole guard.
"""

from __future__ import annotations

import os
import stat
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

DEVICES = ("/dev/null", "/dev/zero", "/dev/urandom", "/dev/random", "/dev/full", "/dev/tty")
TAG = "EGOV_TEST_SESSION"
# Names the project's harnesses give what they create (tests/netns, tests/harness, servers).
NAME_PREFIXES = ("egov", "vw", "vb-egov")
# iproute2 makes /run/netns a mount point at the first `ip netns add` and keeps it: not ours.
SYSTEM_MOUNTS = ("/run/netns", "/var/run/netns")
CGROUP_ROOTS = (Path("/sys/fs/cgroup/systemd/egovtest"), Path("/sys/fs/cgroup/unified/egovtest"))


def _devices(paths: tuple[str, ...] = DEVICES) -> dict[str, tuple[int, int]]:
    found = {}
    for path in paths:
        try:
            info = os.lstat(path)
        except OSError:
            continue
        found[path] = (stat.S_IFMT(info.st_mode), info.st_rdev)
    return found


def _lines(*argv: str) -> set[str]:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, check=False).stdout
    except OSError:
        return set()
    return {line.split()[0].split("@")[0].rstrip(":") for line in out.splitlines() if line.split()}


def _namespaces() -> set[str]:
    return {n for n in _lines("ip", "netns", "list") if n.startswith(NAME_PREFIXES)}


def _links() -> set[str]:
    names = set()
    for line in subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True,
                               check=False).stdout.splitlines():
        parts = line.split(": ")
        if len(parts) > 1:
            names.add(parts[1].split("@")[0])
    return {n for n in names if n.startswith(NAME_PREFIXES)}


def _mounts() -> set[str]:
    points = set()
    for line in Path("/proc/self/mountinfo").read_text(encoding="utf-8").splitlines():
        fields = line.split()
        if len(fields) > 4:
            points.add(fields[4])
    return points - set(SYSTEM_MOUNTS)


def _cgroups() -> set[str]:
    return {str(p) for root in CGROUP_ROOTS if root.is_dir() for p in root.iterdir()
            if p.is_dir()}


def _environments():
    """(pid, environment entries) of every live process but this one that can be read."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if (entry / "stat").read_text().split(") ")[-1].startswith("Z"):
                continue  # a zombie holds nothing; its parent will reap it
            yield int(entry.name), (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue


def _cmdline(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return "?"
    return raw.replace(b"\0", b" ").decode("utf-8", "replace").strip()[:200]


def _tagged_processes(session: str) -> dict[int, str]:
    """Live processes (not this one) whose environment carries this session's tag."""
    needle = f"{TAG}={session}".encode()
    return {pid: _cmdline(pid) for pid, env in _environments() if needle in env}


def _other_sessions(*ours: str) -> set[int]:
    """Processes of another test session (not one of ``ours``) running on this machine now."""
    prefix = f"{TAG}=".encode()
    known = {prefix} | {f"{TAG}={tag}".encode() for tag in ours}
    return {pid for pid, env in _environments()
            if any(e.startswith(prefix) and e not in known for e in env)}


@dataclass
class HostState:
    devices: dict[str, tuple[int, int]]
    namespaces: set[str] = field(default_factory=set)
    links: set[str] = field(default_factory=set)
    mounts: set[str] = field(default_factory=set)
    cgroups: set[str] = field(default_factory=set)

    @classmethod
    def now(cls, full: bool, devices: tuple[str, ...] = DEVICES) -> "HostState":
        if not full:
            return cls(_devices(devices))
        return cls(_devices(devices), _namespaces(), _links(), _mounts(), _cgroups())


@dataclass
class Guard:
    """Snapshot at the start (``start``), list of what is wrong at the end (``problems``)."""

    session: str = field(default_factory=lambda: uuid.uuid4().hex)
    full: bool = True
    devices: tuple[str, ...] = DEVICES
    before: HostState | None = None
    concurrent: set[int] = field(default_factory=set)
    enclosing: str = ""  # the session a guard made inside a test runs in (its own tests)
    steps_back: bool = True  # limited to devices and processes while another session runs

    def start(self) -> None:
        self.full = os.environ.get("EGOV_TEST_GUARD", "full") != "devices"
        self.enclosing = os.environ.get(TAG, "")
        os.environ[TAG] = self.session
        self.before = HostState.now(self.full, self.devices)
        self.concurrent = _other_sessions(self.session, self.enclosing)

    def limited(self) -> str:
        """Why the comparison of namespaces, links, mounts and cgroups was left out, if it was."""
        if not self.full:
            return "EGOV_TEST_GUARD=devices"
        if not self.steps_back:
            return ""
        others = self.concurrent | _other_sessions(self.session, self.enclosing)
        if others:
            return ("another test session ran on this machine at the same time (pid "
                    f"{min(others)}): its namespaces and mounts cannot be told from leftovers")
        return ""

    def problems(self, grace: float = 10.0) -> list[str]:
        assert self.before is not None, "Guard.start() was not called"
        found = self._device_problems()
        deadline = time.monotonic() + grace
        while True:  # servers being torn down get a moment to exit
            leftovers = self._leftovers()
            if not leftovers or time.monotonic() > deadline:
                return found + leftovers
            time.sleep(0.5)

    def _device_problems(self) -> list[str]:
        now = _devices(self.devices)
        return [f"{path} was {_kind(was)} and is now "
                f"{_kind(now[path]) if path in now else 'missing'}"
                for path, was in self.before.devices.items() if now.get(path) != was]

    def _leftovers(self) -> list[str]:
        found = [f"process {pid} of this test session still runs: {cmd}"
                 for pid, cmd in sorted(_tagged_processes(self.session).items())]
        if self.limited():
            return found
        now = HostState.now(True, ())
        for what, was, left in (("network namespace", self.before.namespaces, now.namespaces),
                                ("network link", self.before.links, now.links),
                                ("mount", self.before.mounts, now.mounts),
                                ("nspawn cgroup", self.before.cgroups, now.cgroups)):
            found += [f"{what} left behind: {name}" for name in sorted(left - was)]
        return found


def _kind(state: tuple[int, int]) -> str:
    kind, rdev = state
    names = {stat.S_IFCHR: "a character device", stat.S_IFBLK: "a block device",
             stat.S_IFREG: "a regular file", stat.S_IFLNK: "a link", stat.S_IFDIR: "a folder"}
    device = f" {os.major(rdev)},{os.minor(rdev)}" if kind in (stat.S_IFCHR, stat.S_IFBLK) else ""
    return names.get(kind, "another kind of file") + device
