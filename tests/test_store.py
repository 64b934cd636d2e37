"""The readiness store on SQLite and on a real PostgreSQL: import, idempotence, quarantine."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import uuid
import zipfile
from pathlib import Path

import pytest

from egov_probe.core.errors import InputError
from egov_probe.core.units import load_units_csv
from egov_probe.store import import_paths, latest_hosts, latest_mailbox_reviews, open_database
from egov_probe.store.migrations import MIGRATIONS, Migration, applied_versions, migrate
from egov_probe.store import sources
from egov_probe.store.queries import count_reports
from egov_probe.store.sources import read_at_most
from tests.test_store_factory import (database, make_report, make_review, pg_server,  # noqa: F401
                                store_target, write_report, write_review)

UNIT_IDS = [unit.unit_id for unit in load_units_csv()]


def run_import(database, tmp_path, *paths):
    return import_paths(database, paths, UNIT_IDS, tmp_path / "quarantine")


def reason_of(quarantined_file: str) -> str:
    return Path(quarantined_file + ".reason.txt").read_text(encoding="utf-8")


def test_migrations_are_applied_in_order_once_and_recorded(store_target):
    first = open_database(store_target)
    assert applied_versions(first) == [m.version for m in MIGRATIONS]
    assert migrate(first) == []
    first.close()
    again = open_database(store_target)
    assert applied_versions(again) == [m.version for m in MIGRATIONS]
    again.close()


def test_a_failing_migration_changes_nothing_and_is_not_recorded(database):
    broken = Migration(len(MIGRATIONS) + 1, "half a migration", ("CREATE TABLE trend_cache (month TEXT)",
                                               "CREATE TABLE broken (("))
    with pytest.raises(Exception):
        migrate(database, MIGRATIONS + (broken,))
    assert applied_versions(database) == [m.version for m in MIGRATIONS]
    database.execute("CREATE TABLE trend_cache (month TEXT)")  # the first statement was undone
    good = Migration(len(MIGRATIONS) + 1, "trend cache",
                     ("CREATE TABLE trend_cache2 (month TEXT)",))
    assert migrate(database, MIGRATIONS + (good,)) == [len(MIGRATIONS) + 1]


def test_the_same_report_twice_counts_once(database, tmp_path):
    usb = tmp_path / "usb"
    reports = [make_report(hostname=f"ws{i}") for i in range(3)]
    paths = [write_report(r, usb) for r in reports]
    copy = usb / "copy" / "reformatted.json"  # same report, other layout and file name
    copy.parent.mkdir()
    copy.write_text(json.dumps(json.loads(paths[0].read_text("utf-8")), indent=None,
                               ensure_ascii=True), encoding="utf-8")
    summary = run_import(database, tmp_path, usb)
    assert (len(summary.imported), len(summary.duplicates), summary.quarantined) == (3, 1, [])
    again = run_import(database, tmp_path, usb)
    assert (len(again.imported), len(again.duplicates)) == (0, 4)
    assert count_reports(database) == 3
    assert all(p.exists() for p in paths)  # good files stay where they were


def test_zip_files_are_imported_member_by_member(database, tmp_path):
    good = [make_report(hostname=f"ws{i}") for i in range(2)]
    archive = tmp_path / "usb" / "xa-ma-thanh.zip"
    archive.parent.mkdir()
    with zipfile.ZipFile(archive, "w") as zf:
        for report in good:
            zf.writestr(f"reports/{report.host.hostname}.json", json.dumps(report.to_dict()))
        zf.writestr("reports/broken.json", '{"report_id": not json')
        zf.writestr("reports/settings.json", '{"theme": "dark"}')  # not a report: skipped
    summary = run_import(database, tmp_path, archive.parent)
    assert len(summary.imported) == 2
    [(origin, reason, target)] = summary.quarantined
    assert origin.endswith("xa-ma-thanh.zip!reports/broken.json") and "not JSON" in reason
    assert Path(target).read_text() == '{"report_id": not json' and archive.exists()
    assert summary.not_reports == [f"{archive}!reports/settings.json"]
    assert "xa-ma-thanh.zip!reports/broken.json" in reason_of(target)
    assert len(run_import(database, tmp_path, archive).duplicates) == 2


def test_a_damaged_zip_goes_to_quarantine_whole(database, tmp_path):
    archive = tmp_path / "usb" / "half-copied.zip"
    archive.parent.mkdir()
    archive.write_bytes(b"PK\x03\x04 truncated")
    [(_, reason, target)] = run_import(database, tmp_path, archive.parent).quarantined
    assert "not a readable zip" in reason and archive.read_bytes() == b"PK\x03\x04 truncated"
    assert Path(target).read_bytes() == b"PK\x03\x04 truncated"


def _bad_documents(tmp_path: Path) -> dict[str, tuple[bytes, str]]:
    """file name: (content, a phrase its quarantine reason must hold)."""
    other = make_report().to_dict()
    other["schema_version"] = "2.0"
    no_remedy = make_report(statuses={"system.ram": "fail"}).to_dict()
    no_remedy["checks"][0]["remedy"] = None
    future = make_report(started_at="2999-01-01T00:00:00Z").to_dict()
    unknown = make_report(unit_id="xa-ma-thahn").to_dict()
    no_unit = make_report(unit_id=None).to_dict()
    impossible = make_report(started_at="2015-09-31T08:00:00Z").to_dict()
    return {
        "malformed.json": (b'{"report_id": ', "not JSON"),
        "latin1.json": ('{"report_id": "Mã Thành"}'.encode("latin-1"), "not UTF-8"),
        "list.json": (b'[{"report_id": 1}]', "expected a JSON object"),
        "other-schema.json": (json.dumps(other).encode(), "schema_version '2.0' is not supported"),
        "invalid.json": (json.dumps(no_remedy).encode(), "checks/0/remedy"),
        "future.json": (json.dumps(future).encode(), "is in the future"),
        "unknown-unit.json": (json.dumps(unknown).encode(), "did you mean: xa-ma-thanh"),
        "no-unit.json": (json.dumps(no_unit).encode(), "without a unit"),
        "impossible-date.json": (json.dumps(impossible).encode(), "not a real date"),
    }


def test_bad_files_are_quarantined_with_the_reason_and_nothing_is_lost(database, tmp_path):
    usb = tmp_path / "usb"
    usb.mkdir()
    bad = _bad_documents(tmp_path)
    for name, (content, _) in bad.items():
        (usb / name).write_bytes(content)
    good = write_report(make_report(), usb)
    (usb / "notes.txt").write_text("ghi chú", encoding="utf-8")
    summary = run_import(database, tmp_path, usb)
    assert summary.imported == [str(good)] and summary.ignored == [str(usb / "notes.txt")]
    by_name = {Path(origin).name: target for origin, _, target in summary.quarantined}
    assert set(by_name) == set(bad)
    for name, (content, phrase) in bad.items():
        assert (usb / name).read_bytes() == content  # never moved nor modified
        assert Path(by_name[name]).read_bytes() == content  # copied whole, not rewritten
        assert phrase in reason_of(by_name[name]), name
    assert count_reports(database) == 1
    kept = sorted(p.name for p in (tmp_path / "quarantine").iterdir())
    again = run_import(database, tmp_path, usb)  # quarantine is never re-read ...
    assert {Path(o).name for o, _, _ in again.quarantined} == set(bad)
    assert {t for _, _, t in again.quarantined} == set(by_name.values())  # ... nor copied twice
    assert sorted(p.name for p in (tmp_path / "quarantine").iterdir()) == kept


def test_an_edited_copy_of_a_stored_report_is_refused(database, tmp_path):
    report = make_report()
    run_import(database, tmp_path, write_report(report, tmp_path / "a"))
    report.host.officer = "Người khác"
    [(_, reason, _)] = run_import(database, tmp_path, write_report(report, tmp_path / "b")).quarantined
    assert f"report_id {report.report_id} is already stored with other content" in reason
    [host] = latest_hosts(database)
    assert host.officer == "Nguyễn Thị Thu Hà"


def test_a_failure_mid_import_leaves_nothing_half_imported(database, tmp_path, monkeypatch):
    path = write_report(make_report(), tmp_path / "usb")

    def broken(*args, **kwargs):
        raise RuntimeError("disk full while writing the checks")

    monkeypatch.setattr(database, "executemany", broken)
    with pytest.raises(RuntimeError):
        run_import(database, tmp_path, path)
    assert count_reports(database) == 0
    monkeypatch.undo()
    assert len(run_import(database, tmp_path, path).imported) == 1
    assert len(latest_hosts(database)[0].checks) == 6


def test_the_latest_report_per_host_counts_and_history_is_kept(database, tmp_path):
    usb = tmp_path / "usb"
    write_report(make_report(hostname="ws1", started_at="2015-10-05T01:00:00Z",
                             statuses={"system.ram": "fail"}), usb)
    write_report(make_report(hostname="ws1", started_at="2015-11-05T01:00:00.5Z"), usb)
    write_report(make_report(hostname="ws2", started_at="2015-10-06T01:00:00Z"), usb)
    write_report(make_report(hostname="ws1", unit_id="xa-tien-thanh",
                             started_at="2015-09-01T01:00:00Z"), usb)
    assert len(run_import(database, tmp_path, usb).imported) == 4
    latest = {(h.unit_id, h.hostname): h for h in latest_hosts(database)}
    assert len(latest) == 3
    assert latest[("xa-ma-thanh", "ws1")].readiness == "ready"
    october = {(h.unit_id, h.hostname): h for h in latest_hosts(database, before="2015-11-01")}
    assert october[("xa-ma-thanh", "ws1")].readiness == "not_ready"
    assert [h.hostname for h in latest_hosts(database, since="2015-10-07")] == ["ws1"]
    assert count_reports(database) == 4


def test_mailbox_reviews_are_imported_once_and_the_latest_counts(database, tmp_path):
    usb = tmp_path / "usb"
    old = make_review(working=1, generated_at="2015-10-01T00:00:00.000000Z")
    new = make_review(working=4, generated_at="2015-11-01T00:00:00.000000Z")
    broken = make_review()
    del broken["summary"]
    for review in (old, new, broken):
        write_review(review, usb)
    summary = run_import(database, tmp_path, usb)
    assert len(summary.imported) == 2
    [(_, reason, _)] = summary.quarantined
    assert "not a valid mailbox review" in reason and "summary" in reason
    assert len(run_import(database, tmp_path, usb).duplicates) == 2
    assert latest_mailbox_reviews(database)["xa-tien-thanh"].working_mailbox == 4
    before = latest_mailbox_reviews(database, before="2015-10-15")
    assert before["xa-tien-thanh"].review_id == old["review_id"]


def test_a_real_audit_report_goes_through_the_command_line_import(store_target, tmp_path, probe):
    reports = tmp_path / "usb"
    audit = probe("audit", "--unit", "xa-ma-thanh", "--officer", "Nguyễn Văn A", "--out",
                  str(reports))
    assert audit.returncode in (0, 1), audit.stderr
    first = probe("import", str(reports), "--store", store_target, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "imported 1" in first.stdout
    second = probe("import", str(reports), "--store", store_target, cwd=tmp_path)
    assert "imported 0" in second.stdout and "duplicates 1" in second.stdout
    db = open_database(store_target)
    [host] = latest_hosts(db)
    db.close()
    assert host.unit_id == "xa-ma-thanh" and host.officer == "Nguyễn Văn A"
    assert {c.category for c in host.checks} >= {"system", "browser"}


def test_the_import_command_names_bad_files_and_exits_non_zero(tmp_path, probe):
    usb = tmp_path / "usb"
    usb.mkdir()
    (usb / "broken.json").write_text('{"report_id": ', encoding="utf-8")
    result = probe("import", str(usb), "--store", str(tmp_path / "s.sqlite"))
    assert result.returncode == 2
    assert "broken.json" in result.stderr and "not JSON" in result.stderr
    assert (tmp_path / "egov-quarantine" / "broken.json.reason.txt").exists()


def test_bad_store_locations_are_input_errors_without_the_password(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        open_database(tmp_path / "missing" / "store.sqlite")
    not_sqlite = tmp_path / "store.sqlite"
    not_sqlite.write_text("plain text, not a database" * 100)
    with pytest.raises(InputError, match="not an SQLite store"):
        open_database(not_sqlite)
    socket_dir = tmp_path / "nosock"
    socket_dir.mkdir()
    with pytest.raises(InputError) as caught:
        open_database(f"postgresql://egov:s3cr3t-pw@/egov?host={socket_dir}&port=1")
    assert "s3cr3t-pw" not in str(caught.value) and "egov:***@" in str(caught.value)


def test_a_large_import_prepared_by_worker_processes_keeps_order_and_outcomes(database, tmp_path):
    usb = tmp_path / "usb"
    good = [write_report(make_report(hostname=f"ws{i}"), usb) for i in range(6)]
    (usb / "zz-broken.json").write_text('{"schema_version": [', encoding="utf-8")
    summary = import_paths(database, [usb], UNIT_IDS, tmp_path / "q", parallel_from=1)
    assert summary.imported == [str(p) for p in sorted(good)]
    assert [Path(o).name for o, _, _ in summary.quarantined] == ["zz-broken.json"]
    again = import_paths(database, [usb], UNIT_IDS, tmp_path / "q", parallel_from=1)
    assert len(again.duplicates) == 6 and count_reports(database) == 6


def test_a_bad_file_on_a_read_only_stick_is_copied_to_quarantine(database, tmp_path):
    stick = tmp_path / "stick"
    stick.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(stick)], check=True)
    try:
        (stick / "broken.json").write_text('{"report_id": ', encoding="utf-8")
        subprocess.run(["mount", "-o", "remount,ro", str(stick)], check=True)
        [(_, reason, target)] = run_import(database, tmp_path, stick).quarantined
        assert "not JSON" in reason
        assert (stick / "broken.json").read_text() == Path(target).read_text() == '{"report_id": '
    finally:
        subprocess.run(["umount", str(stick)], check=True)


def test_an_edited_copy_in_the_same_import_is_refused_and_the_first_kept(database, tmp_path):
    report = make_report()
    usb = tmp_path / "usb"
    first = write_report(report, usb / "a")
    report.host.officer = "Người khác"
    second = write_report(report, usb / "b")
    summary = run_import(database, tmp_path, usb)
    assert summary.imported == [str(first)]
    [(origin, reason, _)] = summary.quarantined
    assert origin == str(second) and "already stored with other content" in reason
    assert count_reports(database) == 1


def test_a_password_on_the_command_line_is_refused_without_echoing_it(tmp_path, probe):
    result = probe("import", str(tmp_path), "--store",
                   "postgresql://egov:s3cr3t-pw@/egov?host=/nonexistent")
    assert result.returncode == 2 and "PGPASSWORD" in result.stderr
    assert "s3cr3t-pw" not in result.stderr + result.stdout


def _mixed_usb(tmp_path: Path) -> tuple[Path, list[Path]]:
    """A stick with good reports among every kind of bad file; returns it and the good ones."""
    usb = tmp_path / "usb"
    usb.mkdir()
    for name, (content, _) in _bad_documents(tmp_path).items():
        (usb / name).write_bytes(content)
    good = [write_report(make_report(hostname=f"ws{i}"), usb / ("a" if i % 2 else "b"))
            for i in range(6)]
    dup = make_report(hostname="dup").to_dict()
    dup["checks"].append(dict(dup["checks"][0]))
    (usb / "dup-check.json").write_text(json.dumps(dup), encoding="utf-8")
    (usb / "deep.json").write_bytes(b'{"report_id": ' + b"[" * 5000 + b"]" * 5000 + b"}")
    (usb / "huge.json").write_bytes(b'{"report_id": ' + b"9" * 5000 + b"}")
    (usb / ".mozilla").mkdir()
    (usb / ".mozilla" / "prefs.json").write_text('{"theme": "dark"}', encoding="utf-8")
    (usb / "notes.txt").write_text("ghi chú", encoding="utf-8")
    with zipfile.ZipFile(usb / "bomb.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("r.json", b'{"report_id": "' + b"0" * (40 * 1024 * 1024) + b'"}')
    with zipfile.ZipFile(usb / "mixed.zip", "w") as zf:
        extra = make_report(hostname="zipped")
        zf.writestr("reports/zipped.json", json.dumps(extra.to_dict()))
        zf.writestr("reports/broken.json", '{"schema_version": ')
        zf.writestr("settings.json", '{"a": 1}')
    big = usb / "big.json"
    with open(big, "wb") as handle:
        handle.write(b'{"report_id": "')
        handle.truncate(17 * 1024 * 1024)
    return usb, good


def test_a_mixed_stick_stores_every_good_report_and_changes_no_file(database, tmp_path):
    usb, good = _mixed_usb(tmp_path)
    before = {p: p.read_bytes() for p in usb.rglob("*") if p.is_file()}
    stats = {p: p.stat() for p in before}
    summary = run_import(database, tmp_path, usb)
    assert sorted(summary.imported) == sorted([str(p) for p in good] +
                                              [f"{usb / 'mixed.zip'}!reports/zipped.json"])
    reasons = {Path(origin.split("!")[0]).name + ("!" + origin.split("!")[1] if "!" in origin
                                                  else ""): reason
               for origin, reason, _ in summary.quarantined}
    assert "appears twice" in reasons["dup-check.json"]
    assert "nested deeper than" in reasons["deep.json"]
    assert "a number of 5000 characters" in reasons["huge.json"]
    assert "larger than the limit of 16.0 MB" in reasons["big.json"]
    assert "once uncompressed" in reasons["bomb.zip"] or "zip bomb" in reasons["bomb.zip"]
    assert "not JSON" in reasons["mixed.zip!reports/broken.json"]
    assert summary.not_reports == sorted([str(usb / ".mozilla" / "prefs.json"),
                                          f"{usb / 'mixed.zip'}!settings.json"])
    assert summary.ignored == [str(usb / "notes.txt")]
    for path, content in before.items():  # byte for byte, and not even touched
        assert path.read_bytes() == content, path
        assert path.stat().st_mtime_ns == stats[path].st_mtime_ns, path
    assert not (tmp_path / "quarantine" / "big.json").exists()  # over the limit: not copied
    assert count_reports(database) == 7


def test_one_document_the_database_refuses_does_not_cost_its_batch(database, tmp_path,
                                                                   monkeypatch):
    from egov_probe.store import writer

    usb = tmp_path / "usb"
    paths = [write_report(make_report(hostname=f"ws{i}"), usb) for i in range(4)]
    poisoned = json.loads(paths[2].read_text("utf-8"))["report_id"]
    original = writer._insert

    def insert(db, table, documents):
        if any(d.doc_id == poisoned for d in documents):
            db.execute("INSERT INTO reports (report_id) VALUES (NULL)")  # a NOT NULL violation
        original(db, table, documents)

    monkeypatch.setattr(writer, "_insert", insert)
    summary = run_import(database, tmp_path, usb)
    assert sorted(summary.imported) == sorted(str(p) for i, p in enumerate(paths) if i != 2)
    [(origin, reason, _)] = summary.quarantined
    assert origin == str(paths[2]) and "the store refused it" in reason
    assert count_reports(database) == 3


CONCURRENT = """
import sys, time
from pathlib import Path
from egov_probe.store import ingest, import_paths, open_database
from egov_probe.core.units import load_units_csv
ingest.BATCH = 2  # many short transactions, so that the two imports' writes interleave
units = [u.unit_id for u in load_units_csv()]
while not Path(sys.argv[4]).exists():  # both start together
    time.sleep(0.01)
db = open_database(sys.argv[1])
summary = import_paths(db, [Path(sys.argv[2])], units, Path(sys.argv[3]))
print(len(summary.imported), len(summary.duplicates), len(summary.quarantined))
"""


def test_two_imports_into_one_sqlite_store_at_once_both_succeed(tmp_path):
    store = tmp_path / "store.sqlite"
    shared = [make_report(hostname=f"both{i}") for i in range(20)]
    for side in ("a", "b"):
        for i in range(150):
            write_report(make_report(hostname=f"{side}{i}"), tmp_path / side)
        for report in shared:  # the same reports on both sticks
            write_report(report, tmp_path / side)
    go = tmp_path / "go"
    runs = [subprocess.Popen([sys.executable, "-c", CONCURRENT, str(store),
                              str(tmp_path / side), str(tmp_path / "q"), str(go)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for side in ("a", "b")]
    time.sleep(1)
    go.touch()
    outputs = [run.communicate(timeout=300) for run in runs]
    for run, (out, err) in zip(runs, outputs):
        assert run.returncode == 0, err
    counts = [tuple(map(int, out.split())) for out, _ in outputs]
    assert sum(c[0] for c in counts) == 320 and sum(c[1] for c in counts) == 20
    assert all(c[2] == 0 for c in counts)
    db = open_database(store)
    assert count_reports(db) == 320
    db.close()


@pytest.mark.services
def test_a_read_only_postgresql_role_builds_the_matrix(pg_server, tmp_path, probe):
    import psycopg

    from egov_probe.store.migrations import applied_versions

    url = pg_server.create_database("ro_" + uuid.uuid4().hex[:10])
    database = open_database(url)
    run_import(database, tmp_path, write_report(make_report(), tmp_path / "usb"))
    database.close()
    role = "reader_" + uuid.uuid4().hex[:8]
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f"CREATE ROLE {role} LOGIN")
        admin.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}")
        admin.execute(f"REVOKE CREATE ON SCHEMA public FROM PUBLIC, {role}")
    reader_url = url.replace("postgresql://postgres@", f"postgresql://{role}@")
    result = probe("matrix", "--store", reader_url, "--out", str(tmp_path / "m"),
                   "--format", "json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(next((tmp_path / "m").glob("*.json")).read_text("utf-8"))
    assert "xa-ma-thanh" in json.dumps(rows, ensure_ascii=False)
    last = MIGRATIONS[-1]
    with psycopg.connect(url, autocommit=True) as admin:  # the store is behind: one migration
        admin.execute("DELETE FROM schema_migrations WHERE version = %s", (last.version,))
        for statement in reversed(last.statements):  # undo it: tables, columns, indexes
            created = re.match(r"\s*CREATE TABLE (\w+)", statement)
            added = re.match(r"\s*ALTER TABLE (\w+) ADD COLUMN (\w+)", statement)
            indexed = re.match(r"\s*CREATE INDEX (\w+)", statement)
            if created:
                admin.execute(f"DROP TABLE {created.group(1)} CASCADE")
            elif added:
                admin.execute(f"ALTER TABLE {added.group(1)} DROP COLUMN {added.group(2)}")
            elif indexed:
                admin.execute(f"DROP INDEX IF EXISTS {indexed.group(1)}")
    result = probe("matrix", "--store", reader_url, "--out", str(tmp_path / "m"))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"lacks schema migrations {last.version}" in result.stderr
    assert "store migrate" in result.stderr
    migrate_run = probe("store", "migrate", "--store", url)
    assert migrate_run.returncode == 0, migrate_run.stderr
    owner = open_database(url, migrate=False)
    assert applied_versions(owner) == [m.version for m in MIGRATIONS]
    owner.close()
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}")
    assert probe("matrix", "--store", reader_url, "--out", str(tmp_path / "m")).returncode == 0


def test_store_status_and_migrate_commands(tmp_path, probe):
    store = str(tmp_path / "s.sqlite")
    status = probe("store", "status", "--store", store)
    assert status.returncode == 2 and "1\tmissing\treports and their checks" in status.stdout
    assert probe("store", "migrate", "--store", store).returncode == 0
    status = probe("store", "status", "--store", store)
    assert status.returncode == 0 and "2\tapplied\tmailbox reviews" in status.stdout


def test_zip_limits_per_member_and_per_zip_are_named(database, tmp_path, monkeypatch):
    from egov_probe.store import sources

    usb = tmp_path / "usb"
    usb.mkdir()
    with zipfile.ZipFile(usb / "stored.zip", "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("big.json", b'{"report_id": "' + b"0" * (17 * 1024 * 1024) + b'"}')
        zf.writestr("good.json", json.dumps(make_report().to_dict()))
    summary = run_import(database, tmp_path, usb)
    assert summary.imported == [f"{usb / 'stored.zip'}!good.json"]
    [(origin, reason, _)] = summary.quarantined
    assert origin.endswith("stored.zip!big.json")
    assert "17.0 MB once uncompressed: larger than the limit of 16.0 MB per report" in reason
    monkeypatch.setattr(sources, "MAX_ZIP_BYTES", 1024 * 1024)
    [(_, reason, _)] = run_import(database, tmp_path, usb).quarantined
    assert "more than the limit of 1.0 MB per zip" in reason
    monkeypatch.setattr(sources, "MAX_ZIP_MEMBERS", 1)
    [(_, reason, _)] = run_import(database, tmp_path, usb).quarantined
    assert "2 members: more than the limit of 1 per zip" in reason


@pytest.mark.parametrize("size", [0, 5, 9, 10, 11, 40])
def test_a_file_is_read_as_far_as_the_limit_whatever_its_size(tmp_path, size):
    path = tmp_path / "r.json"
    path.write_bytes(bytes(range(size)))
    with open(path, "rb") as handle:
        assert read_at_most(handle, 10) == bytes(range(size))[:10]


def test_a_file_that_grows_while_it_is_read_is_read_on_to_the_limit(tmp_path, monkeypatch):
    path = tmp_path / "r.json"
    path.write_bytes(b"123456789abcdef")
    stale = os.stat_result((0o100644, 0, 0, 1, 0, 0, 5, 0, 0, 0))  # its size before it grew
    monkeypatch.setattr(sources.os, "fstat", lambda fd: stale)
    with open(path, "rb") as handle:
        assert read_at_most(handle, 12) == b"123456789abc"
    with open(path, "rb") as handle:
        assert read_at_most(handle, 40) == b"123456789abcdef"
