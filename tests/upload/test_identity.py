"""The probe's identity on disk: a private key file, the default folders, clones refused."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from egov_probe.core.errors import InputError
from egov_probe.core.private_file import create_private
from egov_probe.core.signing import generate_private_key, key_id_of
from egov_probe.upload.identity import (CloneError, PendingKey, default_identity_dir,
                                        enrolled_units, has_identity, load_identity)
from tests.upload.support import MACHINE, OTHER_MACHINE, make_identity


def test_default_folders():
    assert default_identity_dir({"EGOV_IDENTITY": "/x/id"}) == Path("/x/id")
    assert default_identity_dir({}, "linux", is_root=True) == Path("/var/lib/egov-probe/identity")
    assert default_identity_dir({}, "linux", is_root=False, home=Path("/home/lan")) == \
        Path("/home/lan/.local/share/egov-probe/identity")
    assert str(default_identity_dir({"ProgramData": "C:\\ProgramData"}, "win32")).replace(
        "\\", "/").endswith("ProgramData/egov-probe/identity")


def test_identity_is_made_private_and_loads(tmp_path):
    folder = tmp_path / "identity"
    made = make_identity(folder)
    key_file = folder / "xa-ma-thanh.key"
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
    assert key_file.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    record = json.loads((folder / "xa-ma-thanh.json").read_text())
    assert record["machine_id"] == MACHINE and record["key_id"] == key_id_of(record["public_key"])
    assert set(record) >= {"server", "unit_id", "key_id", "public_key", "machine_id",
                           "enrolled_at", "ca_file"}
    loaded = load_identity(folder, "xa-ma-thanh", MACHINE)
    assert loaded.key_id == made.key_id and "private_key" not in repr(loaded)
    assert enrolled_units(folder) == ["xa-ma-thanh"] and has_identity(folder, "xa-ma-thanh")
    assert not [p for p in folder.iterdir() if p.name.startswith(".pending")]


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660])
def test_a_key_readable_by_others_is_refused(tmp_path, mode):
    make_identity(tmp_path)
    os.chmod(tmp_path / "xa-ma-thanh.key", mode)
    with pytest.raises(InputError, match="chmod 600"):
        load_identity(tmp_path, "xa-ma-thanh", MACHINE)


def test_a_cloned_disk_is_refused_and_told_to_enroll(tmp_path):
    make_identity(tmp_path, machine_id=MACHINE)
    with pytest.raises(CloneError) as error:
        load_identity(tmp_path, "xa-ma-thanh", OTHER_MACHINE)
    assert "new token" in str(error.value) and "egov-probe enroll" in str(error.value)
    # the identity itself is untouched
    assert (tmp_path / "xa-ma-thanh.key").exists() and (tmp_path / "xa-ma-thanh.json").exists()


def test_an_unknown_machine_id_does_not_block(tmp_path):
    make_identity(tmp_path, machine_id=None)
    load_identity(tmp_path, "xa-ma-thanh", OTHER_MACHINE)
    make_identity(tmp_path / "b", machine_id=MACHINE)
    load_identity(tmp_path / "b", "xa-ma-thanh", None)


def test_no_identity_says_enroll(tmp_path):
    with pytest.raises(InputError, match="enroll"):
        load_identity(tmp_path, "xa-ma-thanh", MACHINE)


def test_a_record_not_matching_its_key_is_refused(tmp_path):
    make_identity(tmp_path)
    other = make_identity(tmp_path / "other")
    record = json.loads((tmp_path / "xa-ma-thanh.json").read_text())
    record["public_key"], record["key_id"] = other.record.public_key, other.key_id
    (tmp_path / "xa-ma-thanh.json").write_text(json.dumps(record))
    with pytest.raises(InputError, match="does not match"):
        load_identity(tmp_path, "xa-ma-thanh", MACHINE)


def test_enrolling_again_keeps_the_old_identity_aside(tmp_path):
    first = make_identity(tmp_path)
    second = make_identity(tmp_path)
    assert load_identity(tmp_path, "xa-ma-thanh", MACHINE).key_id == second.key_id
    kept = sorted(p.name for p in tmp_path.iterdir() if ".replaced-" in p.name)
    assert len(kept) == 2 and first.key_id != second.key_id


def test_private_file_is_never_opened_over_another(tmp_path):
    path = tmp_path / "k"
    create_private(path, b"one")
    with pytest.raises(FileExistsError):
        create_private(path, b"two")
    assert path.read_bytes() == b"one" and path.stat().st_mode & 0o777 == 0o600


def test_a_unit_id_cannot_escape_the_folder(tmp_path):
    pending = PendingKey(tmp_path, generate_private_key())
    from egov_probe.upload.identity import new_record
    with pytest.raises(InputError):
        new_record("https://x", {"unit_id": "../../etc/x"}, pending.public_key, None, None)
    pending.discard()
    assert list(tmp_path.iterdir()) == []
