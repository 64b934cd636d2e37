"""Cached Debian 12 root file system for systemd-nspawn test servers.

Built once with debootstrap from the mirror that the machine's own apt sources name, with the
packages the roles install pre-installed (so a converge needs little network), then reused
read-only as the lower layer of every container's overlay.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

SUITE = "bookworm"
CACHE_DIR = Path("/var/cache/egov-toolkit")
BOOTSTRAP_INCLUDE = (
    "systemd", "systemd-sysv", "dbus", "openssh-server", "iproute2", "python3",
    "ca-certificates",
)
PACKAGES = (
    "python3-apt", "python3-psycopg2", "python3-systemd", "acl", "sudo", "locales", "tzdata",
    "chrony", "unattended-upgrades", "nftables", "fail2ban", "postgresql-15",
    "postgresql-client-15", "nginx", "postfix", "libsasl2-modules", "openssl", "procps", "curl",
    "python3-cryptography",
)
# Services the packages enable on install: off in the image, so only the roles turn them on.
DISABLED_SERVICES = ("postgresql", "nginx", "postfix", "fail2ban")
APT_SOURCE_FILES = ("/etc/apt/sources.list",)
APT_SOURCE_DIR = "/etc/apt/sources.list.d"


def _source_texts() -> list[tuple[str, str]]:
    files = [Path(p) for p in APT_SOURCE_FILES]
    src_dir = Path(APT_SOURCE_DIR)
    if src_dir.is_dir():
        files += sorted(src_dir.glob("*.list")) + sorted(src_dir.glob("*.sources"))
    return [(f.suffix, f.read_text()) for f in files if f.is_file()]


def _one_line_mirrors(text: str) -> list[str]:
    pattern = re.compile(rf"^\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+{SUITE}\s", re.M)
    return pattern.findall(text)


def _deb822_mirrors(text: str) -> list[str]:
    found = []
    for stanza in re.split(r"\n\s*\n", text):
        fields = dict(re.findall(r"^(\w[\w-]*):\s*(.*)$", stanza, re.M))
        if "deb" in fields.get("Types", "").split() and SUITE in fields.get("Suites", "").split():
            found += fields.get("URIs", "").split()
    return found


def debian_mirror() -> str:
    """The Debian mirror this machine's apt sources use for the bookworm suite."""
    for suffix, text in _source_texts():
        mirrors = _deb822_mirrors(text) if suffix == ".sources" else _one_line_mirrors(text)
        if mirrors:
            return mirrors[0]
    raise RuntimeError(f"no apt source for suite {SUITE} in {APT_SOURCE_FILES} or {APT_SOURCE_DIR}")


@dataclass(frozen=True)
class Recipe:
    """What a cached root file system holds beyond debootstrap's minbase."""

    packages: tuple[str, ...] = PACKAGES
    disabled_services: tuple[str, ...] = DISABLED_SERVICES

    def key(self) -> str:
        text = "\n".join((SUITE, *BOOTSTRAP_INCLUDE, "--", *self.packages, "--",
                          *self.disabled_services))
        return hashlib.sha256(text.encode()).hexdigest()[:12]


# Everything the roles install, pre-installed: converges need the network only for apt lists.
PRELOADED = Recipe()
# Only what Ansible's apt module needs: the roles install the rest through the apt proxy.
BARE = Recipe(packages=("python3-apt",), disabled_services=())


def _run(cmd: list[str], **kwargs) -> None:
    subprocess.run(cmd, check=True, stdin=subprocess.DEVNULL, **kwargs)


# Runs a command chrooted into $1 inside a private mount namespace (``unshare --mount``): /proc,
# a read-only /sys and a /dev of its own (a tmpfs with the few nodes apt and package scripts
# use, and a new devpts instance). The host's /dev is never visible to package scripts, and
# every mount vanishes with the namespace, even if the build is killed.
CHROOT_SCRIPT = r"""
set -eu
root=$1; shift
mount -t proc proc "$root/proc"
mount -t sysfs -o ro sysfs "$root/sys"
mount -t tmpfs -o mode=755,nosuid,size=8m egov-build-dev "$root/dev"
mknod -m 666 "$root/dev/null" c 1 3
mknod -m 666 "$root/dev/zero" c 1 5
mknod -m 666 "$root/dev/full" c 1 7
mknod -m 666 "$root/dev/random" c 1 8
mknod -m 666 "$root/dev/urandom" c 1 9
mknod -m 666 "$root/dev/tty" c 5 0
mkdir "$root/dev/pts" "$root/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666,mode=620 devpts "$root/dev/pts"
ln -s pts/ptmx "$root/dev/ptmx"
ln -s /proc/self/fd "$root/dev/fd"
ln -s /proc/self/fd/0 "$root/dev/stdin"
ln -s /proc/self/fd/1 "$root/dev/stdout"
ln -s /proc/self/fd/2 "$root/dev/stderr"
exec chroot "$root" "$@"
"""


def private_mounts(argv: list[str]) -> list[str]:
    """``argv`` run in a private mount namespace: what it mounts never reaches the host."""
    return ["unshare", "--mount", "--propagation", "private", "--", *argv]


def chroot_command(root: Path, *argv: str) -> list[str]:
    """``argv`` run chrooted into ``root`` with private /proc, /sys and /dev (CHROOT_SCRIPT)."""
    return private_mounts(["sh", "-c", CHROOT_SCRIPT, "egov-chroot", str(root), *argv])


def _chroot_install(root: Path, packages: tuple[str, ...]) -> None:
    policy = root / "usr/sbin/policy-rc.d"
    policy.write_text("#!/bin/sh\nexit 101\n")
    policy.chmod(0o755)
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "DEBIAN_FRONTEND": "noninteractive",
           "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}
    preseed = "postfix postfix/main_mailer_type select No configuration\n"
    subprocess.run(chroot_command(root, "debconf-set-selections"), env=env,
                   input=preseed.encode(), check=True)
    _run(chroot_command(root, "apt-get", "-q", "update"), env=env, stdout=subprocess.DEVNULL)
    _run(chroot_command(root, "apt-get", "-q", "install", "-y", "--no-install-recommends",
                        *packages), env=env, stdout=subprocess.DEVNULL)
    _run(chroot_command(root, "apt-get", "clean"), env=env)
    policy.unlink()


def _clear_identity(root: Path) -> None:
    """Host keys and machine id are per container: the harness makes them at boot."""
    for key in (root / "etc/ssh").glob("ssh_host_*"):
        key.unlink()
    (root / "etc/machine-id").write_text("")
    (root / "etc/hostname").write_text("localhost\n")


def build_rootfs(target: Path, recipe: Recipe) -> None:
    tmp = target.with_name(target.name + f".tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        # debootstrap makes its own device nodes in the target and mounts /proc and /sys
        # there: in a private mount namespace, those mounts never outlive it.
        _run(private_mounts(["debootstrap", "--variant=minbase",
                             "--include=" + ",".join(BOOTSTRAP_INCLUDE),
                             SUITE, str(tmp), debian_mirror()]), stdout=subprocess.DEVNULL)
        _chroot_install(tmp, recipe.packages)
        if recipe.disabled_services:
            _run(["systemctl", f"--root={tmp}", "disable", "--quiet", *recipe.disabled_services])
        _clear_identity(tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    tmp.rename(target)


def ensure_rootfs(recipe: Recipe = PRELOADED, cache_dir: Path = CACHE_DIR) -> Path:
    """Return the cached root file system, building it (under a lock) if absent."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    target = cache_dir / f"nspawn-{SUITE}-{recipe.key()}"
    with open(cache_dir / ".rootfs.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not target.is_dir():
            build_rootfs(target, recipe)
    return target


# ---------------------------------------------------------------------------------------------
# Network: one bridge on the host, a private /24, and an HTTP proxy for apt inside containers.

@dataclass(frozen=True)
class Network:
    bridge: str = "egovbr-srv"
    prefix: str = "10.213.100"
    proxy_port: int = 18888  # not tinyproxy's default 8888, should Debian's own one run

    @property
    def gateway(self) -> str:
        return f"{self.prefix}.1"

    @property
    def cidr(self) -> str:
        return f"{self.prefix}.0/24"

    def address(self, index: int) -> str:
        return f"{self.prefix}.{10 + index}"


def _quiet(cmd: list[str]) -> None:
    subprocess.run(cmd, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@contextlib.contextmanager
def network_lock(net: Network, cache_dir: Path = CACHE_DIR):
    """Hold the lab network's bridge and addresses alone: a second test run (or benchmark) on
    the same machine waits here instead of tearing down the first one's bridge."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    with open(cache_dir / f".{net.bridge}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


@contextlib.contextmanager
def bridge(net: Network):
    _quiet(["ip", "link", "del", net.bridge])
    _run(["ip", "link", "add", net.bridge, "type", "bridge"])
    try:
        _run(["ip", "addr", "add", f"{net.gateway}/24", "dev", net.bridge])
        _run(["ip", "link", "set", net.bridge, "up"])
        yield net
    finally:
        _quiet(["ip", "link", "del", net.bridge])


TINYPROXY_CONF = """\
User nobody
Group nogroup
Port {port}
Listen {listen}
Timeout 600
MaxClients 20
Allow {allow}
ConnectPort 443
"""


def _wait_listening(address: str, port: int, proc: subprocess.Popen, log: Path,
                   timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        with contextlib.suppress(OSError), socket.create_connection((address, port), timeout=1):
            return
        time.sleep(0.1)
    raise RuntimeError(f"tinyproxy is not listening on {address}:{port}: {log.read_text()}")


@contextlib.contextmanager
def apt_proxy(net: Network, workdir: Path):
    """tinyproxy on the bridge address: the containers' only way to the Debian mirror."""
    conf = workdir / "tinyproxy.conf"
    conf.write_text(TINYPROXY_CONF.format(port=net.proxy_port, listen=net.gateway,
                                          allow=net.cidr))
    log = open(workdir / "tinyproxy.log", "wb")
    proc = subprocess.Popen(["tinyproxy", "-d", "-c", str(conf)], stdout=log, stderr=log,
                            stdin=subprocess.DEVNULL)
    try:
        _wait_listening(net.gateway, net.proxy_port, proc, workdir / "tinyproxy.log")
        yield f"http://{net.gateway}:{net.proxy_port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


# ---------------------------------------------------------------------------------------------
# Containers

CGROUP_ROOTS = (Path("/sys/fs/cgroup/systemd"), Path("/sys/fs/cgroup/unified"))
CGROUP_GROUP = "egovtest"
HOST_KEY_TYPES = ("ed25519", "ecdsa", "rsa")
NETWORK_UNIT = """\
[Match]
Name=host0

[Network]
Address={address}/24
Gateway={gateway}
LinkLocalAddressing=no
IPv6AcceptRA=no
"""


def _write(path: Path, text: str, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(mode)


def _cgroup_dirs(name: str) -> list[Path]:
    return [root / CGROUP_GROUP / name for root in CGROUP_ROOTS if root.is_dir()]


def _cgroup_pids(path: Path) -> list[int]:
    pids = []
    for procs in path.rglob("cgroup.procs"):
        with contextlib.suppress(OSError):
            pids += [int(p) for p in procs.read_text().split()]
    return pids


def _remove_cgroup_tree(path: Path, timeout: float = 10) -> None:
    """Wait for the container's last processes to leave (kill stragglers), then rmdir all."""
    deadline = time.monotonic() + timeout
    while path.is_dir() and _cgroup_pids(path) and time.monotonic() < deadline:
        time.sleep(0.2)
    for pid in _cgroup_pids(path) if path.is_dir() else []:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    for _attempt in range(50):
        for sub, dirs, _files in os.walk(path, topdown=False):
            for d in dirs:
                _quiet(["rmdir", os.path.join(sub, d)])
        _quiet(["rmdir", str(path)])
        if not path.exists():
            return
        time.sleep(0.1)


@dataclass
class Container:
    """One systemd-nspawn 'server': an overlay on the cached rootfs, booted with systemd."""

    name: str
    address: str
    workdir: Path
    proc: subprocess.Popen | None = None
    host_keys: list[tuple[str, str]] = field(default_factory=list)

    @property
    def merged(self) -> Path:
        return self.workdir / "merged"

    def mount(self, rootfs: Path) -> None:
        for sub in ("upper", "work", "merged"):
            (self.workdir / sub).mkdir(parents=True, exist_ok=True)
        opts = (f"lowerdir={rootfs},upperdir={self.workdir / 'upper'},"
                f"workdir={self.workdir / 'work'}")
        _run(["mount", "-t", "overlay", "overlay", "-o", opts, str(self.merged)])

    def configure(self, net: Network, authorized_key: str, proxy_url: str) -> None:
        root = self.merged
        _write(root / "etc/hostname", f"{self.name}\n")
        _write(root / "etc/hosts", f"127.0.0.1 localhost\n{self.address} {self.name}\n")
        _write(root / "etc/systemd/network/10-egov-test.network",
               NETWORK_UNIT.format(address=self.address, gateway=net.gateway))
        _run(["systemctl", f"--root={root}", "enable", "--quiet", "systemd-networkd"])
        _write(root / "etc/apt/apt.conf.d/01egov-test-proxy",
               f'Acquire::http::Proxy "{proxy_url}";\n')
        _write(root / "root/.ssh/authorized_keys", authorized_key, 0o600)
        (root / "root/.ssh").chmod(0o700)
        self.host_keys = [self._host_key(kind) for kind in HOST_KEY_TYPES]

    def _host_key(self, kind: str) -> tuple[str, str]:
        key = self.merged / f"etc/ssh/ssh_host_{kind}_key"
        _run(["ssh-keygen", "-q", "-t", kind, "-N", "", "-C", self.name, "-f", str(key)])
        kind_name, blob = key.with_suffix(".pub").read_text().split()[:2]
        return kind_name, blob

    def boot(self, net: Network) -> None:
        cgroups = _cgroup_dirs(self.name)
        for cg in cgroups:
            cg.mkdir(parents=True, exist_ok=True)
        join = "".join(f"echo $$ > {cg}/cgroup.procs; " for cg in cgroups)
        nspawn = ["systemd-nspawn", "-b", "-D", str(self.merged), "-M", self.name,
                  "--register=no", "--keep-unit", f"--network-bridge={net.bridge}",
                  "--console=passive", "--timezone=off", "--resolv-conf=off"]
        log = open(self.workdir / "console.log", "wb")
        self.proc = subprocess.Popen(["bash", "-c", join + 'exec "$@"', "nspawn", *nspawn],
                                     stdout=log, stderr=log, stdin=subprocess.DEVNULL,
                                     start_new_session=True)
        log.close()

    def shutdown(self, timeout: float = 60) -> None:
        """SIGTERM makes nspawn power the container off cleanly; kill if it hangs."""
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self.proc = None

    def remove(self) -> None:
        self.shutdown()
        if os.path.ismount(self.merged):
            _run(["umount", str(self.merged)])
        for cg in _cgroup_dirs(self.name):
            _remove_cgroup_tree(cg)
        shutil.rmtree(self.workdir, ignore_errors=True)


# ---------------------------------------------------------------------------------------------
# The lab: bridge + proxy + containers + SSH identity + known_hosts, all removed on exit.

class ServerLab(contextlib.AbstractContextManager):
    """Boots Debian 12 servers as nspawn containers reachable over SSH with verified host keys."""

    def __init__(self, parent: Path, net: Network | None = None,
                 recipe: Recipe = PRELOADED) -> None:
        self.workdir = Path(tempfile.mkdtemp(prefix="egov-lab-", dir=parent))
        self.net = net or Network()
        self.recipe = recipe
        self.containers: dict[str, Container] = {}
        self._stack = contextlib.ExitStack()
        self.ssh_key = self.workdir / "id_ed25519"
        self.known_hosts = self.workdir / "known_hosts"
        self.proxy_url = ""

    def __enter__(self) -> "ServerLab":
        self._stack.callback(shutil.rmtree, self.workdir, True)
        try:
            self.rootfs = ensure_rootfs(self.recipe)
            self._stack.enter_context(network_lock(self.net))
            self._stack.enter_context(bridge(self.net))
            self.proxy_url = self._stack.enter_context(apt_proxy(self.net, self.workdir))
            _run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "egov-test",
                  "-f", str(self.ssh_key)])
        except BaseException:
            self._stack.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        for container in list(self.containers.values()):
            container.remove()
        self.containers.clear()
        for root in CGROUP_ROOTS:
            _quiet(["rmdir", str(root / CGROUP_GROUP)])
        self._stack.close()

    def boot(self, names: list[str], timeout: float = 120) -> list[Container]:
        pubkey = self.ssh_key.with_suffix(".pub").read_text()
        started = []
        for name in names:
            container = Container(name, self.net.address(len(self.containers)),
                                  self.workdir / "containers" / name)
            self.containers[name] = container
            container.mount(self.rootfs)
            container.configure(self.net, pubkey, self.proxy_url)
            container.boot(self.net)
            started.append(container)
        self._write_known_hosts()
        for container in started:
            self.wait_ready(container, timeout)
        return started

    def _write_known_hosts(self) -> None:
        lines = [f"{c.address} {kind} {key}\n" for c in self.containers.values()
                 for kind, key in c.host_keys]
        _write(self.known_hosts, "".join(lines), 0o600)

    @property
    def ssh_options(self) -> list[str]:
        """Client options: this lab's key, its known_hosts, strict host key checking."""
        return ["-o", f"UserKnownHostsFile={self.known_hosts}", "-o", "StrictHostKeyChecking=yes",
                "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-o", "ConnectTimeout=5",
                "-i", str(self.ssh_key)]

    def ssh(self, container: Container, command: str, **kwargs) -> subprocess.CompletedProcess:
        return subprocess.run(["ssh", *self.ssh_options, f"root@{container.address}", command],
                              capture_output=True, text=True, stdin=subprocess.DEVNULL, **kwargs)

    def wait_ready(self, container: Container, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if container.proc.poll() is not None:
                console = (container.workdir / "console.log").read_text(errors="replace")
                raise RuntimeError(f"{container.name}: nspawn exited:\n{console[-3000:]}")
            result = self.ssh(container, "systemctl is-system-running --wait", timeout=timeout)
            if result.stdout.strip() in ("running", "degraded"):
                return
            time.sleep(0.5)
        raise TimeoutError(f"{container.name} not reachable over SSH within {timeout}s")

    def host_vars(self, container: Container) -> dict:
        return {"ansible_host": container.address, "ansible_user": "root",
                "ansible_ssh_private_key_file": str(self.ssh_key),
                "ansible_ssh_common_args": " ".join(self.ssh_options[:-2])}
