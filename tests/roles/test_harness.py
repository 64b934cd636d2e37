"""The nspawn harness: servers reachable with verified host keys, and nothing left behind."""

from __future__ import annotations

import os
import subprocess

import pytest

from pathlib import Path

from tests.harness.nspawn import (CGROUP_GROUP, CGROUP_ROOTS, ServerLab, chroot_command,
                                 ensure_rootfs)

pytestmark = pytest.mark.servers


def link_exists(name: str) -> bool:
    return subprocess.run(["ip", "link", "show", name], capture_output=True,
                          check=False).returncode == 0


def test_lab_boots_a_server_and_removes_everything_it_made(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("systemd-nspawn servers, overlays, bridges and cgroups need root")
    with ServerLab(tmp_path) as lab:
        [server] = lab.boot(["egov-harness"])
        state = lab.ssh(server, "systemctl is-system-running; cat /proc/1/comm").stdout.split()
        unknown = subprocess.run(
            ["ssh", "-o", f"UserKnownHostsFile={tmp_path / 'empty_known_hosts'}",
             "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "-i", str(lab.ssh_key),
             f"root@{server.address}", "true"], capture_output=True, text=True, check=False)
        pid, merged, workdir = server.proc.pid, server.merged, lab.workdir
    assert state[0] in ("running", "degraded") and state[1] == "systemd"
    assert unknown.returncode == 255 and "Host key verification failed" in unknown.stderr
    assert not os.path.ismount(merged) and not workdir.exists()
    assert not os.path.exists(f"/proc/{pid}")
    assert not link_exists(lab.net.bridge) and not link_exists("vb-egov-harness")
    assert not any((root / CGROUP_GROUP).exists() for root in CGROUP_ROOTS)


def test_package_scripts_in_the_image_build_never_see_the_hosts_dev():
    """The image build's chroot gets a /dev of its own: a marker written there stays there."""
    if os.geteuid() != 0:
        pytest.skip("chroot and mount namespaces need root")
    rootfs = ensure_rootfs()
    marker = Path("/dev/egov-harness-marker")
    mounts = Path("/proc/self/mountinfo").read_text()
    try:
        inside = subprocess.run(
            chroot_command(rootfs, "sh", "-c", f"stat -f -c %T /dev; : > {marker}; ls /dev"),
            capture_output=True, text=True, check=True).stdout.split()
        assert inside[0] == "tmpfs"
        assert {"null", "zero", "urandom", "pts", "ptmx"} <= set(inside)
        assert not marker.exists()  # the host's /dev was never the chroot's
        assert not (rootfs / "dev" / marker.name).exists()
        assert Path("/proc/self/mountinfo").read_text() == mounts  # nothing mounted here
    finally:
        marker.unlink(missing_ok=True)
