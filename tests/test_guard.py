"""The session guard (tests/guard.py) notices what a test session leaves behind."""

from __future__ import annotations

import os
import stat
import subprocess
import time
from pathlib import Path

import pytest

from tests.guard import TAG, Guard

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="device nodes and namespaces need root")


@pytest.fixture
def guard(monkeypatch):
    """A guard of its own, whose tag is restored afterwards (the session's guard keeps its own)."""
    monkeypatch.setenv(TAG, os.environ.get(TAG, ""))
    monkeypatch.delenv("EGOV_TEST_GUARD", raising=False)
    return Guard


@needs_root
def test_a_device_turned_into_a_regular_file_is_reported(tmp_path, guard):
    node = tmp_path / "null"
    os.mknod(node, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    watch = guard(devices=(str(node),))
    watch.start()
    node.unlink()
    node.write_text("")  # what a writer that replaces its target would leave
    try:
        assert watch.problems(grace=0) == [
            f"{node} was a character device 1,3 and is now a regular file"]
    finally:
        node.unlink()


def test_a_process_of_the_session_left_running_is_reported(guard):
    watch = guard(devices=())
    watch.start()
    process = subprocess.Popen(["sleep", "30"])
    try:
        _until_it_runs(process.pid, "sleep")
        [problem] = watch.problems(grace=0)
        assert f"process {process.pid}" in problem and "sleep 30" in problem
    finally:
        process.kill()
        process.wait()
    assert watch.problems(grace=0) == []


@needs_root
def test_a_network_namespace_left_behind_is_reported(guard):
    watch = guard(devices=(), steps_back=False)  # compare even while other sessions run
    watch.start()
    name = f"egovguard{os.getpid()}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        assert f"network namespace left behind: {name}" in watch.problems(grace=0)
    finally:
        subprocess.run(["ip", "netns", "del", name], check=True)
    assert not [p for p in watch.problems(grace=0) if name in p]


def test_another_session_at_the_same_time_limits_the_comparison(guard):
    other = subprocess.Popen(["sleep", "30"], env={**os.environ, TAG: "another-session"})
    try:
        watch = guard(devices=())
        watch.start()
        assert "another test session" in watch.limited()
        assert not guard(devices=(), steps_back=False).limited()
    finally:
        other.kill()
        other.wait()


def _until_it_runs(pid: int, program: str) -> None:
    """Until ``pid`` runs ``program``: between fork and exec, /proc shows the environment the
    parent itself started with, not the one the child is given (a race the test lost once)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0] == program.encode():
            return
        time.sleep(0.01)
    raise AssertionError(f"process {pid} never ran {program}")
