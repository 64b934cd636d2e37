"""``egov-probe import`` checks the signatures that travel on a stick (docs/collector.md):
a report altered after signing, or unsigned from an enrolled machine, goes to quarantine."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

from egov_probe.collector.access import EnrollmentRequest, create_token, enroll, revoke_unit
from egov_probe.core.signing import (generate_private_key, public_key_text, sidecar_path,
                                     sign_report)
from egov_probe.store import import_paths
from egov_probe.store.queries import count_reports
from tests.test_store_factory import database, make_report, write_report  # noqa: F401

UNIT, OTHER_UNIT = "xa-ma-thanh", "xa-tien-thanh"
NOW = dt.datetime.now(dt.timezone.utc)


def enrolled_key(database, unit_id: str = UNIT, machine_id: str = "m-1"):  # noqa: F811
    key = generate_private_key()
    token = create_token(database, unit_id, NOW).token
    enroll(database, EnrollmentRequest(token, public_key_text(key), "ws1", machine_id), NOW)
    return key


def signed_on_stick(key, folder: Path, unit_id: str = UNIT, machine_id: str = "m-1",
                    hostname: str = "ws1") -> Path:
    path = write_report(make_report(unit_id=unit_id, machine_id=machine_id, hostname=hostname),
                        folder)
    sidecar_path(path).write_text(sign_report(key, path.read_bytes()).to_json())
    return path


def run_import(database, tmp_path, *paths):  # noqa: F811
    return import_paths(database, paths, [UNIT, OTHER_UNIT], tmp_path / "quarantine")


def test_a_signed_report_is_imported_with_its_key(database, tmp_path):  # noqa: F811
    key = enrolled_key(database)
    path = signed_on_stick(key, tmp_path / "usb")
    summary = run_import(database, tmp_path, tmp_path / "usb")
    assert summary.imported == [str(path)] and summary.ignored == [] and not summary.quarantined
    [(key_id, signature)] = database.query("SELECT key_id, signature FROM reports")
    assert key_id and signature == sign_report(key, path.read_bytes()).signature


def test_a_report_altered_after_signing_is_quarantined(database, tmp_path):  # noqa: F811
    path = signed_on_stick(enrolled_key(database), tmp_path / "usb")
    path.write_bytes(path.read_bytes().replace(b"Nguy", b"Nguy "))  # still a valid report
    [(origin, reason, target)] = run_import(database, tmp_path, tmp_path / "usb").quarantined
    assert origin == str(path) and reason.startswith("đã bị sửa sau khi ký")
    assert "altered after signing" in reason and Path(target).exists()
    assert count_reports(database) == 0


def test_an_unsigned_report_of_an_enrolled_machine_is_quarantined(database, tmp_path):  # noqa: F811
    enrolled_key(database, machine_id="M-1")
    path = write_report(make_report(unit_id=UNIT, machine_id="m-1"), tmp_path / "usb")
    [(_, reason, _)] = run_import(database, tmp_path, path).quarantined
    assert "unsigned report from an enrolled probe" in reason
    other = write_report(make_report(unit_id=UNIT, machine_id="m-2"), tmp_path / "usb2")
    assert len(run_import(database, tmp_path, other).imported) == 1  # not enrolled: as before


def test_a_revoked_unit_no_longer_requires_signatures(database, tmp_path):  # noqa: F811
    enrolled_key(database)
    revoke_unit(database, UNIT, NOW)
    path = write_report(make_report(unit_id=UNIT, machine_id="m-1"), tmp_path / "usb")
    assert len(run_import(database, tmp_path, path).imported) == 1


def test_a_report_signed_with_another_units_key_is_quarantined(database, tmp_path):  # noqa: F811
    key = enrolled_key(database, OTHER_UNIT)
    signed_on_stick(key, tmp_path / "usb")
    [(_, reason, _)] = run_import(database, tmp_path, tmp_path / "usb").quarantined
    assert "another unit" in reason and OTHER_UNIT in reason


def test_signatures_are_read_from_zip_files_and_damaged_ones_refused(database, tmp_path):  # noqa: F811
    key = enrolled_key(database)
    good = signed_on_stick(key, tmp_path / "files")
    bad = signed_on_stick(key, tmp_path / "files", hostname="ws2")
    sidecar_path(bad).write_text("{not json")
    archive = tmp_path / "usb" / "reports.zip"
    archive.parent.mkdir()
    with zipfile.ZipFile(archive, "w") as zf:
        for path in (good, bad):
            zf.write(path, f"r/{path.name}")
            zf.write(sidecar_path(path), f"r/{path.name}.sig")
    summary = run_import(database, tmp_path, archive.parent)
    assert len(summary.imported) == 1
    [(_, reason, _)] = summary.quarantined
    assert "unreadable signature file" in reason


def test_a_lone_signature_file_is_listed_as_ignored(database, tmp_path):  # noqa: F811
    path = signed_on_stick(generate_private_key(), tmp_path / "usb", machine_id="m-9")
    moved = tmp_path / "usb" / "lone.json.sig"
    sidecar_path(path).rename(moved)
    summary = run_import(database, tmp_path, tmp_path / "usb")
    assert summary.ignored == [str(moved)] and len(summary.imported) == 1
