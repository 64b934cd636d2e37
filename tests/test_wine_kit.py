"""The portable Windows kit: built from the cached embeddable CPython and wheels (offline),
its interpreter's signatures checked, then unzipped into a fresh Wine prefix and run there
with no pip and no network (the Wine processes run in a network namespace of their own)."""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import pytest

from egov_probe.core.errors import InputError
from egov_probe.kit.build import TOP, build_kit, verify_manifest
from egov_probe.kit.runtime import embed_members
from egov_probe.kit.trust import verify_members
from egov_probe.core.report_file import read_report
from tests.conftest import run_probe
from tests.wine.bed import CACHE, boot, embed_zip, missing_parts, new_base, tear_down

UNIT, OFFICER = "thi-tran-yen-thanh", "Nguyễn Thị Lan"
KIT = r"C:\USB\egov-probe"


@pytest.fixture(scope="module")
def kit_zip(tmp_path_factory) -> Path:
    missing = missing_parts()
    if missing:
        pytest.fail("the kit tests need: " + "; ".join(missing))
    return build_kit(tmp_path_factory.mktemp("kit"), embed_zip(), CACHE / "wheels")


@pytest.fixture(scope="module")
def kit_bed(kit_zip: Path):
    bed = boot(new_base())
    try:
        with zipfile.ZipFile(kit_zip) as archive:
            archive.extractall(bed.host_path(r"C:\USB"))
        yield bed
    finally:
        left = tear_down(bed)
        assert not left, f"Wine processes left running: {left}"


def offline(bed, *args: str, stdin: bytes = b""):
    """A Windows command in the kit's prefix with no network at all: its own namespace."""
    if os.geteuid() != 0:
        pytest.skip("a network namespace of its own needs root (CI runs as root)")
    return bed.run("cmd", "/c", *args, stdin=stdin, timeout=600, wrapper=("unshare", "--net"))


def test_the_kit_holds_the_interpreter_the_probe_and_a_manifest_but_no_pip(kit_zip, tmp_path):
    with zipfile.ZipFile(kit_zip) as archive:
        names = archive.namelist()
        archive.extractall(tmp_path)
    folder = tmp_path / TOP
    for needed in ("python/python.exe", "python/python311._pth", "egov-probe.cmd",
                   "khao-sat.cmd", "DOC-TRUOC.txt", "manifest.json",
                   "python/Lib/site-packages/egov_probe/commands/main.py",
                   "python/Lib/site-packages/yaml/__init__.py"):
        assert f"{TOP}/{needed}" in names, needed
    assert not any("/pip/" in n or n.endswith("/pip") for n in names)
    assert verify_manifest(folder) == []
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert "Python Software Foundation" in manifest["python"]["trust"]
    assert "Nháy đúp tệp khao-sat.cmd" in (folder / "DOC-TRUOC.txt").read_text("utf-8")
    (folder / "egov-probe.cmd").write_bytes(b"@echo off\r\nformat C:\r\n")
    assert verify_manifest(folder) == ["changed egov-probe.cmd"]
    assert kit_zip.stat().st_size <= 40 * 1024 * 1024


def test_a_tampered_interpreter_is_refused(tmp_path: Path) -> None:
    members = embed_members(embed_zip())
    members["python311.dll"] = members["python311.dll"][:-64] + bytes(64)
    with pytest.raises(InputError, match="python311.dll: no valid Authenticode signature"):
        verify_members(members, None, "0" * 64)


def test_an_unsigned_zip_is_refused_unless_its_sha256_is_pinned(tmp_path: Path) -> None:
    members = embed_members(embed_zip())
    members["python.exe"] = _unsigned(members["python.exe"])
    with pytest.raises(InputError, match="python.exe: no valid Authenticode"):
        verify_members(members, None, "0" * 64)
    assert "pinned by the sysadmin" in verify_members(members, "AB" * 32, "ab" * 32)
    with pytest.raises(InputError, match="not the pinned"):
        verify_members(members, "cd" * 32, "ab" * 32)


def _unsigned(pe: bytes) -> bytes:
    """The same executable with its Authenticode certificate table entry cleared."""
    data = bytearray(pe)
    offset = int.from_bytes(data[0x3C:0x40], "little")
    optional = offset + 24
    directory = optional + (112 if data[optional:optional + 2] == b"\x0b\x02" else 96)
    certificate_entry = directory + 4 * 8
    data[certificate_entry:certificate_entry + 8] = bytes(8)
    return bytes(data)


@pytest.mark.wine
def test_the_unzipped_kit_audits_offline_and_the_report_validates_and_imports(
        kit_bed, tmp_path: Path) -> None:
    result = offline(kit_bed, KIT + r"\egov-probe.cmd", "audit", "--unit", UNIT, "--officer",
                     OFFICER, "--out", r"C:\USB\bao-cao")
    assert result.returncode in (0, 1), result.stdout[-2000:] + result.stderr[-2000:]
    (report_path,) = sorted(kit_bed.host_path(r"C:\USB\bao-cao").glob("*.json"))
    report = read_report(report_path)
    assert (report.host.unit_id, report.host.officer) == (UNIT, OFFICER)
    imported = run_probe("import", "--store", str(tmp_path / "store.sqlite"), str(report_path))
    assert imported.returncode == 0, imported.stderr
    assert "1" in imported.stdout


@pytest.mark.wine
def test_double_clicking_khao_sat_asks_in_vietnamese_and_writes_beside_itself(kit_bed) -> None:
    answers = f"khong-co\n{UNIT}\n{OFFICER}\n\n".encode("utf-8")
    result = offline(kit_bed, KIT + r"\khao-sat.cmd", stdin=answers)
    assert result.returncode in (0, 1), result.stdout[-2000:] + result.stderr[-2000:]
    assert "Mã đơn vị" in result.stdout and "Họ tên cán bộ" in result.stdout
    assert "Không có đơn vị 'khong-co'" in result.stdout
    reports = sorted(kit_bed.host_path(KIT + r"\bao-cao").glob("*.json"))
    assert len(reports) == 1
    assert read_report(reports[0]).host.officer == OFFICER


def test_the_kit_command_names_a_missing_interpreter_zip(tmp_path: Path) -> None:
    result = run_probe("kit", "windows", "--out", str(tmp_path / "out"), "--python-zip",
                       str(tmp_path / "python-3.11.9-embed-amd64.zip"), "--wheels", str(tmp_path))
    assert result.returncode == 2
    assert "python-3.11.9-embed-amd64.zip: no such file" in result.stderr
    assert not (tmp_path / "out" / "egov-probe-win64.zip").exists()


@pytest.mark.wine
def test_the_kit_signs_its_report_when_the_unit_is_enrolled(kit_bed, tmp_path: Path) -> None:
    """cryptography's win_amd64 wheel is in the kit: an audit on Windows writes the
    ``.json.sig`` beside its report with the unit's identity (in %ProgramData%). Wine 8 lacks
    Windows 10's bcryptprimitives.dll, which the wheel's Rust code imports: the test prefix
    gets a shim (tests/wine/shims.py)."""
    from egov_probe.core.signing import parse_signature, sidecar_path, signature_verifies
    from tests.upload.support import make_identity
    from tests.wine.shims import plant_bcryptprimitives

    plant_bcryptprimitives(kit_bed, tmp_path / "shim")
    identity = make_identity(kit_bed.host_path(r"C:\ProgramData\egov-probe\identity"), UNIT,
                             machine_id=None)
    result = offline(kit_bed, KIT + r"\egov-probe.cmd", "audit", "--unit", UNIT, "--officer",
                     OFFICER, "--out", r"C:\USB\ky-so")
    assert result.returncode in (0, 1), result.stdout[-2000:] + result.stderr[-2000:]
    (report_path,) = sorted(kit_bed.host_path(r"C:\USB\ky-so").glob("*.json"))
    signature = parse_signature(sidecar_path(report_path).read_bytes(), "sig")
    assert signature_verifies(identity.record.public_key, report_path.read_bytes(), signature)
