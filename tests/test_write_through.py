"""Writers replace regular files only: devices, FIFOs and ``-`` are written through.

The bug this guards against: ``egov-probe evidence --out /dev/null`` in a root shell left a
regular file where the machine's /dev/null had been. These tests never touch the host's own
device nodes: they make their own (a FIFO, and as root a private null device in a temporary
folder, removed afterwards)."""

from __future__ import annotations

import json
import os
import stat
import threading
from pathlib import Path

import pytest

from egov_probe.core.atomic import write_atomic_with, write_json_atomic, writes_through
from tests.conftest import run_probe


def _read_fifo_in_background(fifo: Path) -> tuple[threading.Thread, list[bytes]]:
    got: list[bytes] = []

    def read() -> None:
        with open(fifo, "rb") as reader:
            got.append(reader.read())
    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    return thread, got


def test_a_fifo_is_written_through_and_stays_a_fifo(tmp_path):
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    thread, got = _read_fifo_in_background(fifo)
    write_json_atomic(fifo, {"đơn_vị": "Mã Thành"})
    thread.join(timeout=10)
    assert json.loads(got[0].decode("utf-8")) == {"đơn_vị": "Mã Thành"}
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe.json"]  # no debris beside it


@pytest.mark.skipif(os.geteuid() != 0, reason="making a device node needs root")
def test_a_device_is_written_through_and_stays_a_device(tmp_path):
    node = tmp_path / "null"
    os.mknod(node, 0o666 | stat.S_IFCHR, os.makedev(1, 3))  # a private null device
    try:
        write_json_atomic(node, {"a": 1})
        result = run_probe("evidence", "--out", str(node))
        mode = os.lstat(node).st_mode
        assert stat.S_ISCHR(mode) and os.major(os.lstat(node).st_rdev) == 1
        assert result.returncode == 0, result.stderr
        assert result.stdout == ""  # the data went into the device; nothing else is printed
    finally:
        node.unlink()


def test_dash_is_standard_output(capsys):
    write_json_atomic(Path("-"), {"x": "ý"})
    assert json.loads(capsys.readouterr().out) == {"x": "ý"}


def test_evidence_dash_prints_the_evidence_alone():
    result = run_probe("evidence", "--out", "-")
    assert result.returncode == 0, result.stderr
    assert isinstance(json.loads(result.stdout), dict)


def test_a_writer_callback_sees_a_file_even_for_a_pipe(tmp_path):
    fifo = tmp_path / "book.xlsx"
    os.mkfifo(fifo)
    thread, got = _read_fifo_in_background(fifo)
    write_atomic_with(fifo, lambda part: part.write_bytes(b"PK\x03\x04" + part.suffix.encode()))
    thread.join(timeout=10)
    assert got == [b"PK\x03\x04.xlsx"]


def test_regular_files_and_new_paths_are_replaced_atomically(tmp_path):
    existing = tmp_path / "r.json"
    existing.write_text("old", encoding="utf-8")
    inode = existing.stat().st_ino
    assert not writes_through(existing) and not writes_through(tmp_path / "new.json")
    write_json_atomic(existing, {"n": 2})
    assert existing.stat().st_ino != inode  # replaced by rename, not rewritten in place
    assert json.loads(existing.read_text(encoding="utf-8")) == {"n": 2}
