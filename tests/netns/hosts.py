"""Workstations in network namespaces: one real sshd each, with its own hostname and files.

Recipe (Debian 12, root, no systemd): one Linux bridge ``egovbr-ws<tag>`` holding a /22 of
10.214.0.0/16 (the first /22 no other run uses), one namespace ``egovws<tag>-<i>`` per host
with a veth into the bridge, and ``unshare --uts --mount`` so each sshd sees its own
hostname and its own bind-mounted files (/root, /etc/default/locale, a dpkg status...).
Faults are real: nft drops (black hole, 30 % loss), a rate-limited link (tbf), another host
key, a refused password, a hung sshd (SIGSTOP), a killed session, no Python.
``Fleet.close()`` kills every process it started, deletes the namespaces and the bridge.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
import shutil
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from tests.hostile_user import HostileUser, plant

SSHD = "/usr/sbin/sshd"
SUBNET = ipaddress.ip_network("10.214.0.0/16")
FAULTS = ("blackhole", "lossy", "wrong_host_key", "unknown_host_key", "wrong_password",
          "password", "hung", "killed", "no_python", "old_browser", "no_locale", "behind_jump",
          "rsa_host_key", "hostile_user")

SSHD_CONFIG = """\
ListenAddress 0.0.0.0
HostKey {hostkey}
PidFile none
UsePAM no
StrictModes no
PermitRootLogin yes
AuthorizedKeysFile {authorized_keys}
PubkeyAuthentication {pubkey}
PasswordAuthentication yes
KbdInteractiveAuthentication no
MaxStartups 300:30:600
MaxSessions 20
UseDNS no
LogLevel ERROR
Subsystem sftp internal-sftp
"""

# A dpkg status with an old Chromium (below the policy's minimum) for the "old_browser" host.
OLD_CHROMIUM_STATUS = """\
Package: chromium
Status: install ok installed
Priority: optional
Architecture: amd64
Version: 90.0.4430.212-1~deb10u1
Description: web browser

"""

# Stands in for fc-list on the "hung" and "killed" hosts: tells the harness that the session
# is under way (it opens the FIFO), then waits for the harness's verdict.
SESSION_HOOK = """#!/bin/sh
echo started > {fifo}
exec sleep 30 >/dev/null 2>&1
"""


def run(*args: str, input: Optional[str] = None, check: bool = True) -> subprocess.CompletedProcess:
    """``args`` run with its output captured; with ``check``, a failure names the command and
    what it said on stderr."""
    done = subprocess.run(args, input=input, capture_output=True, text=True, check=False)
    if check and done.returncode:
        raise RuntimeError(f"{' '.join(args)}: {done.stderr.strip()}")
    return done


@dataclass
class Host:
    index: int
    name: str
    namespace: str
    address: str
    fault: Optional[str] = None
    process: Optional[subprocess.Popen] = None
    password: Optional[str] = None
    hostile: Optional[HostileUser] = None  # the "hostile_user" host's local user


@dataclass
class Fleet:
    """Hosts started by :meth:`start`; always :meth:`close` it (a fixture's finalizer)."""

    workdir: Path
    count: int
    faults: dict[int, str] = field(default_factory=dict)
    tag: str = field(default_factory=lambda: secrets.token_hex(3))
    hosts: list[Host] = field(default_factory=list)
    bridge: str = ""
    gateway: str = ""
    prefix: int = 22
    _watchers: list[threading.Thread] = field(default_factory=list)
    _closed: bool = False

    # --- start -------------------------------------------------------------------------------

    def start(self) -> "Fleet":
        self.workdir.mkdir(parents=True, exist_ok=True)
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
        self._keys()
        network = self._free_network()
        self.bridge = f"egovbr-ws{self.tag}"
        addresses = list(network.hosts())
        self.gateway = str(addresses[0])
        try:
            self._network(network, addresses)
            for host in self.hosts:
                self._start_sshd(host)
            self._known_hosts()
            self._wait_listening()
        except BaseException:
            self.close()
            raise
        return self

    def _keys(self) -> None:
        for name, kind in (("client", "ed25519"), ("hostkey", "ed25519"),
                           ("otherkey", "ed25519"), ("rsakey", "rsa")):
            path = self.workdir / name
            if not path.exists():
                run("ssh-keygen", "-q", "-t", kind, "-N", "", "-C", f"egov-{name}",
                    "-f", str(path))
        shutil.copy(self.workdir / "client.pub", self.workdir / "authorized_keys")
        self.client_key = self.workdir / "client"
        self.known_hosts = self.workdir / "known_hosts"

    def _free_network(self) -> ipaddress.IPv4Network:
        used = run("ip", "-4", "route", "show").stdout
        for candidate in SUBNET.subnets(new_prefix=self.prefix):
            if f"{candidate.network_address}/{self.prefix}" not in used:
                return candidate
        raise RuntimeError("no free /22 left in 10.214.0.0/16")

    def _network(self, network: ipaddress.IPv4Network, addresses: list) -> None:
        lines = [f"link add {self.bridge} type bridge",
                 f"addr add {self.gateway}/{self.prefix} dev {self.bridge}",
                 f"link set {self.bridge} up"]
        for i in range(self.count):
            host = Host(i, f"ws-{self.tag}-{i:03d}", f"egovws{self.tag}-{i}",
                        str(addresses[i + 1]), self.faults.get(i))
            self.hosts.append(host)
            lines.append(f"netns add {host.namespace}")
        run("ip", "-batch", "-", input="\n".join(lines) + "\n")
        lines = []
        for host in self.hosts:
            veth = f"vw{self.tag}{host.index}"
            lines += [f"link add {veth} type veth peer name eth0 netns {host.namespace}",
                      f"link set {veth} master {self.bridge} up"]
        run("ip", "-batch", "-", input="\n".join(lines) + "\n")
        for host in self.hosts:
            run("ip", "-n", host.namespace, "-batch", "-",
                input=f"addr add {host.address}/{self.prefix} dev eth0\n"
                      "link set eth0 up\nlink set lo up\n")
        for host in self.hosts:
            self._network_fault(host)

    def _network_fault(self, host: Host) -> None:
        if host.fault == "blackhole":
            self._nft(host, "policy drop;")
        elif host.fault == "behind_jump":  # reachable from the other hosts, not from us
            self._nft(host, f"policy accept;\n  ip saddr {self.gateway} drop", ("input",))
        elif host.fault == "lossy":
            self._nft(host, "policy accept;\n  numgen random mod 100 < 30 drop", ("input",))
            run("ip", "netns", "exec", host.namespace, "tc", "qdisc", "add", "dev", "eth0",
                "root", "tbf", "rate", "256kbit", "burst", "4kb", "latency", "300ms")

    def _nft(self, host: Host, body: str, chains: tuple[str, ...] = ("input", "output")) -> None:
        ruleset = "table inet egovfault {\n"
        for chain in chains:
            ruleset += (f" chain {chain} {{\n  type filter hook {chain} priority 0; {body}\n }}\n")
        run("ip", "netns", "exec", host.namespace, "nft", "-f", "-", input=ruleset + "}\n")

    def _host_dir(self, host: Host) -> Path:
        folder = self.workdir / host.name
        (folder / "root").mkdir(parents=True, exist_ok=True)
        return folder

    def _start_sshd(self, host: Host) -> None:
        folder = self._host_dir(host)
        mounts = [(folder / "root", "/root")]
        (folder / "locale").write_text("" if host.fault == "no_locale" else
                                       'LANG="vi_VN.UTF-8"\n', encoding="utf-8")
        mounts.append((folder / "locale", "/etc/default/locale"))
        mounts += self._fault_mounts(host, folder)
        config = folder / "sshd_config"
        config.write_text(SSHD_CONFIG.format(
            hostkey=self.workdir / {"wrong_host_key": "otherkey",
                                    "rsa_host_key": "rsakey"}.get(host.fault or "", "hostkey"),
            authorized_keys=self.workdir / "authorized_keys",
            pubkey="no" if host.fault in ("wrong_password", "password") else "yes"))
        binds = "; ".join(f"mount --bind {source} {target}" for source, target in mounts)
        script = f"set -e; hostname {host.name}; {binds}; exec {SSHD} -D -e -f {config}"
        log = open(folder / "sshd.log", "ab")  # noqa: SIM115 - closed with the process
        host.process = subprocess.Popen(
            ["ip", "netns", "exec", host.namespace, "unshare", "--uts", "--mount",
             "--propagation", "private", "sh", "-c", script],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
        log.close()

    def _fault_mounts(self, host: Host, folder: Path) -> list[tuple[Path, str]]:
        mounts = []
        if host.fault == "old_browser":
            (folder / "status").write_text(OLD_CHROMIUM_STATUS, encoding="utf-8")
            mounts.append((folder / "status", "/var/lib/dpkg/status"))
        if host.fault == "hostile_user":  # planted executables, forged records (issue 13)
            host.hostile = plant()
            mounts.append((host.hostile.passwd, "/etc/passwd"))
        if host.fault == "no_python":
            (folder / "nopython").write_text("", encoding="utf-8")
            real = os.path.realpath("/usr/bin/python3")
            mounts.append((folder / "nopython", real))
        if host.fault in ("password", "wrong_password"):
            host.password = "Mật-khẩu-đúng-" + secrets.token_hex(4)
            hashed = run("openssl", "passwd", "-6", host.password).stdout.strip()
            shadow = Path("/etc/shadow").read_text(encoding="utf-8").splitlines()
            shadow = [f"root:{hashed}:" + ":".join(line.split(":")[2:])
                      if line.startswith("root:") else line for line in shadow]
            (folder / "shadow").write_text("\n".join(shadow) + "\n", encoding="utf-8")
            os.chmod(folder / "shadow", 0o640)
            mounts.append((folder / "shadow", "/etc/shadow"))
        if host.fault in ("hung", "killed"):
            fifo = folder / "session.fifo"
            if not fifo.exists():
                os.mkfifo(fifo)
            hook = folder / "fc-list"
            hook.write_text(SESSION_HOOK.format(fifo=fifo), encoding="utf-8")
            hook.chmod(0o755)
            mounts.append((hook, shutil.which("fc-list") or "/usr/bin/fc-list"))
            watcher = threading.Thread(target=self._session_fault, args=(host, fifo), daemon=True)
            watcher.start()
            self._watchers.append(watcher)
        return mounts

    def _session_fault(self, host: Host, fifo: Path) -> None:
        """When the collector reaches fc-list: SIGSTOP every sshd of the host ("hung"), or
        kill the collector's shell ("killed"), so the session breaks off in the middle."""
        while not self._closed:
            try:
                with open(fifo, encoding="utf-8") as reader:
                    reader.read()
            except OSError:
                return
            if self._closed:
                return
            self._break_session(host)

    def _break_session(self, host: Host) -> None:
        """Stop the session's processes (sshd's session process included; the listening
        sshd stays up, so a later run meets the same fault again)."""
        listener = host.process.pid if host.process else None
        for pid in self.pids(host):
            if pid == listener:
                continue
            if host.fault == "hung":
                _signal(pid, signal.SIGSTOP)
            elif _command(pid).startswith(("/bin/sh -s", "sh -s")):
                _signal(pid, signal.SIGKILL)

    def _known_hosts(self) -> None:
        key = (self.workdir / "hostkey.pub").read_text().split()[:2]
        lines = [f"{h.address} {' '.join(key)}" for h in self.hosts
                 if h.fault != "unknown_host_key"]
        self.known_hosts.write_text("\n".join(lines) + "\n", encoding="utf-8")

    def _wait_listening(self, timeout: float = 60.0) -> None:
        waiting = [h for h in self.hosts if h.fault not in ("blackhole", "lossy")]
        end = time.monotonic() + timeout
        while waiting and time.monotonic() < end:
            waiting = [h for h in waiting if not self._listening(h)]
            if waiting:
                time.sleep(0.1)
        if waiting:
            logs = (self.workdir / waiting[0].name / "sshd.log").read_text(errors="replace")
            raise RuntimeError(f"{len(waiting)} sshd did not start; {waiting[0].name}: {logs}")

    def _listening(self, host: Host) -> bool:
        if host.process and host.process.poll() is not None:
            return False
        out = run("ip", "netns", "exec", host.namespace, "ss", "-Hltn", "sport = :22",
                  check=False).stdout
        return bool(out.strip())

    # --- helpers for tests -------------------------------------------------------------------

    def host(self, fault: str) -> Host:
        return next(h for h in self.hosts if h.fault == fault)

    def pids(self, host: Host) -> list[int]:
        out = run("ip", "netns", "pids", host.namespace, check=False).stdout
        return [int(p) for p in out.split()]

    def inventory(self, path: Path, *, unit_group: str = "unit_xa_ma_thanh",
                  extra: Optional[dict[int, dict]] = None) -> Path:
        """A YAML inventory of the hosts under one unit group (pilot.yml gives its vars)."""
        lines = ["all:", "  children:", f"    {unit_group}:", "      hosts:"]
        for host in self.hosts:
            values = {"ansible_host": host.address, "ansible_user": "root",
                      "ansible_ssh_private_key_file": str(self.client_key)}
            if host.fault == "password":
                values["ansible_password"] = host.password
            if host.fault == "wrong_password":
                values["ansible_password"] = "sai-mật-khẩu"
            values.update((extra or {}).get(host.index, {}))
            lines.append(f"        {host.name}:")
            lines += [f"          {k}: {_yaml_scalar(v)}" for k, v in values.items()]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    # --- stop --------------------------------------------------------------------------------

    def close(self) -> None:
        self._closed = True
        for host in self.hosts:
            for pid in self.pids(host):
                _signal(pid, signal.SIGKILL)
                _signal(pid, signal.SIGCONT)
            if host.process:
                _signal(host.process.pid, signal.SIGKILL)
                host.process.wait(timeout=10)
            fifo = self.workdir / host.name / "session.fifo"
            if fifo.exists():  # release a watcher still waiting on its FIFO
                try:
                    fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
                    os.close(fd)
                except OSError:
                    pass
            if host.hostile:
                host.hostile.remove()
        lines = [f"netns del {h.namespace}" for h in self.hosts]
        if self.bridge:
            lines.append(f"link del {self.bridge}")
        run("ip", "-force", "-batch", "-", input="\n".join(lines) + "\n", check=False)
        for watcher in self._watchers:
            watcher.join(timeout=5)


def _yaml_scalar(value: object) -> str:
    if isinstance(value, (int, float)):
        return str(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _command(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    except OSError:
        return ""


def leftovers(tag: str) -> list[str]:
    """Namespaces or bridges of run ``tag`` still present (for the cleanup test)."""
    names = run("ip", "netns", "list", check=False).stdout.split()
    found = [n for n in names if n.startswith(f"egovws{tag}-")]
    if run("ip", "link", "show", f"egovbr-ws{tag}", check=False).returncode == 0:
        found.append(f"egovbr-ws{tag}")
    return found
