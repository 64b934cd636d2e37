"""The readiness matrix: all 78 units, statuses, traces, filters, and the four output formats
(HTML opened by a real headless Chromium with no network, XLSX read back by openpyxl and
converted by LibreOffice)."""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from egov_probe.core.plan import load_plan
from egov_probe.core.units import load_units_csv
from egov_probe.matrix import MatrixFilter, load_unit_infos
from egov_probe.matrix.service import matrix_from_store
from egov_probe.render.matrix_table import COLUMN_IDS
from egov_probe.store import import_paths, open_database
from tests.test_store_factory import make_report, make_review, write_report, write_review

ROOT = Path(__file__).resolve().parent.parent
UNITS = load_units_csv()
SCREENSHOTS = ROOT / "test-results" / "screenshots"


def scenario_reports(folder: Path) -> None:
    """Mã Thành: 5 of 5 clean (ready). Tiến Thành: 2 of 5, one warning, a mailbox review 3/4
    (conditions). Lăng Thành: a failing browser (not ready). Quỳnh Lưu district: an audit that
    did not complete. A central server, all passing. October: Mã Thành had a failing RAM."""
    for i in range(5):
        write_report(make_report("xa-ma-thanh", f"mathanh-{i}", "2015-11-10T03:00:00Z"), folder)
    write_report(make_report("xa-ma-thanh", "mathanh-0", "2015-10-01T03:00:00Z",
                             statuses={"system.ram": "fail"}), folder)
    write_report(make_report("xa-tien-thanh", "tienthanh-0", "2015-11-11T03:00:00Z",
                             statuses={"clock.offset": "warn"}), folder)
    write_report(make_report("xa-tien-thanh", "tienthanh-1", "2015-11-11T04:00:00Z"), folder)
    write_review(make_review("xa-tien-thanh", officers=4, working=3), folder)
    write_report(make_report("xa-lang-thanh", "langthanh-0", "2015-11-12T03:00:00Z",
                             statuses={"browser.chrome.machine": "fail"}), folder)
    unreachable = make_report("xa-lang-thanh", "langthanh-1", "2015-11-12T03:00:00Z",
                              outcome="unreachable")
    unreachable.checks = []
    write_report(unreachable, folder)
    write_report(make_report("ubnd-huyen-quynh-luu", "ql-0", "2015-11-12T03:00:00Z",
                             outcome="partial"), folder)
    write_report(make_report(None, "egov-app-01", "2015-11-01T03:00:00Z", kind="server"), folder)


@pytest.fixture
def store(tmp_path) -> Path:
    path = tmp_path / "store.sqlite"
    database = open_database(path)
    scenario_reports(tmp_path / "usb")
    summary = import_paths(database, [tmp_path / "usb"], [u.unit_id for u in UNITS],
                           tmp_path / "quarantine")
    assert summary.quarantined == []
    database.close()
    return path


def build(store: Path, filters: MatrixFilter = MatrixFilter(), inventory=None):
    database = open_database(store)
    try:
        return matrix_from_store(database, load_unit_infos(inventory or ROOT / "inventory"),
                                 load_plan(), filters)
    finally:
        database.close()


def rows_by_id(matrix):
    return {row.unit.unit_id: row for row in matrix.rows}


def test_every_unit_has_a_row_and_units_without_reports_are_not_surveyed(store):
    matrix = build(store)
    rows = rows_by_id(matrix)
    assert sorted(rows) == sorted(u.unit_id for u in UNITS) and len(rows) == 78
    assert rows["xa-ma-thanh"].status == "ready"
    assert rows["xa-tien-thanh"].status == "ready_with_conditions"
    assert rows["xa-lang-thanh"].status == "not_ready"
    assert rows["ubnd-huyen-quynh-luu"].status == "not_ready"
    assert matrix.status_counts() == {"ready": 1, "ready_with_conditions": 1, "not_ready": 2,
                                      "not_surveyed": 74}
    assert rows["xa-quynh-tho"].cells["browsers"].text == "—"


def test_cells_count_hosts_and_trace_back_to_reports_and_checks(store):
    rows = rows_by_id(build(store))
    tien = rows["xa-tien-thanh"]
    assert tien.cells["workstations"].text == "2/5"
    assert (tien.cells["system"].text, tien.cells["system"].status) == ("2/2", "warn")
    assert tien.cells["mailbox"].text == "3/4"  # the review wins over the workstation checks
    assert tien.cells["servers"].text == "1/1"
    keys = {item.key: item for item in tien.items}
    assert keys["clock.offset"].hosts == ["tienthanh-0"] and keys["clock.offset"].remedy.en
    assert {"matrix.item.coverage", "matrix.item.mailbox_review"} <= set(keys)
    lang = rows["xa-lang-thanh"]
    assert lang.cells["browsers"].text == "0/1" and lang.cells["browsers"].status == "fail"
    [trace] = [t for t in lang.cells["browsers"].trace if t.status == "fail"]
    assert (trace.hostname, trace.check_id) == ("langthanh-0", "browser.chrome.machine")
    assert len(trace.report_id) == 32
    assert lang.cells["workstations"].text == "1/5"  # the unreachable host is not audited
    assert [i.key for i in lang.items if i.severity == "block"] == [
        "browser.chrome.machine", "matrix.item.outcome"]
    assert lang.items[-1].hosts == ["langthanh-1 (unreachable)"]


def test_the_date_filter_gives_the_state_at_that_day(store):
    october = rows_by_id(build(store, MatrixFilter(as_of=dt.date(2015, 10, 31))))
    assert october["xa-ma-thanh"].status == "not_ready"
    assert october["xa-ma-thanh"].cells["workstations"].text == "1/5"
    assert october["xa-tien-thanh"].status == "not_surveyed"
    since = rows_by_id(build(store, MatrixFilter(since=dt.date(2015, 11, 11))))
    assert since["xa-ma-thanh"].status == "not_surveyed" and since["xa-lang-thanh"].audited == 1


def test_phase_and_district_filters(store):
    phase1 = build(store, MatrixFilter(phase=1))
    assert {r.unit.unit_id for r in phase1.rows} == set(load_plan().phases[0].units)
    yen_thanh = [u for u in UNITS if u.district_gso == "426"]
    by_code = build(store, MatrixFilter(district="426"))
    by_name = build(store, MatrixFilter(district="huyện yên thành"))
    assert len(by_code.rows) == len(by_name.rows) == len(yen_thanh)


def test_a_failing_central_server_blocks_every_surveyed_unit(store, tmp_path):
    database = open_database(store)
    write_report(make_report(None, "egov-app-01", "2015-11-20T03:00:00Z", kind="server",
                             statuses={"server.nginx.tls": "fail"}), tmp_path / "late")
    import_paths(database, [tmp_path / "late"], [u.unit_id for u in UNITS], tmp_path / "q")
    database.close()
    matrix = build(store)
    surveyed = [r for r in matrix.rows if r.status != "not_surveyed"]
    assert len(surveyed) == 4 and all(r.status == "not_ready" for r in surveyed)
    assert matrix.common_items()[0][0].key == "server.nginx.tls"
    assert matrix.common_items()[0][1] == 4


def test_expected_workstations_come_from_the_inventory_variable(store, tmp_path):
    inventory = tmp_path / "inventory"
    shutil.copytree(ROOT / "inventory", inventory)
    pilot = inventory / "pilot.yml"
    text = pilot.read_text(encoding="utf-8")
    text = text.replace("unit_id: xa-tien-thanh\n",
                        "unit_id: xa-tien-thanh\n                unit_expected_workstations: 2\n")
    pilot.write_text(text, encoding="utf-8")
    tien = rows_by_id(build(store, inventory=inventory))["xa-tien-thanh"]
    assert tien.cells["workstations"].text == "2/2"
    assert "matrix.item.coverage" not in {i.key for i in tien.items}
    pilot.write_text(text.replace("unit_expected_workstations: 2", "unit_expected_workstations: "
                                  "many"), encoding="utf-8")
    from egov_probe.core.errors import InputError
    with pytest.raises(InputError, match="unit_expected_workstations"):
        load_unit_infos(inventory)


def _matrix_command(probe, store, out, *extra):
    result = probe("matrix", "--store", str(store), "-i", str(ROOT / "inventory"), "--out",
                   str(out), "--as-of", "2015-11-30", *extra)
    assert result.returncode == 0, result.stderr
    return {Path(line).suffix: Path(line) for line in result.stdout.splitlines()
            if line.startswith(str(out))}


def test_one_command_writes_csv_and_json_with_stable_columns(store, tmp_path, probe):
    files = _matrix_command(probe, store, tmp_path / "out")
    assert set(files) == {".html", ".xlsx", ".csv", ".json"}
    with files[".csv"].open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
    assert tuple(reader.fieldnames) == COLUMN_IDS and len(rows) == 78
    ma = next(r for r in rows if r["unit_id"] == "xa-ma-thanh")
    assert (ma["status"], ma["status_label"], ma["workstations_audited"]) == ("ready", "Sẵn sàng", "5")
    data = json.loads(files[".json"].read_text(encoding="utf-8"))
    assert data["columns"] == list(COLUMN_IDS) and len(data["rows"]) == 78
    assert data["filters"]["as_of"] == "2015-11-30"
    lang = next(r for r in data["rows"] if r["unit_id"] == "xa-lang-thanh")
    assert any(t["check_id"] == "browser.chrome.machine" and t["status"] == "fail"
               for t in lang["trace"]["browsers"])
    english = _matrix_command(probe, store, tmp_path / "en", "--lang", "en", "--format", "json")
    en_rows = json.loads(english[".json"].read_text(encoding="utf-8"))["rows"]
    assert {r["status_label"] for r in en_rows} >= {"Ready", "Not surveyed"}


def test_the_xlsx_reads_back_and_libreoffice_converts_it(store, tmp_path, probe):
    from openpyxl import load_workbook

    xlsx = _matrix_command(probe, store, tmp_path / "out", "--format", "xlsx")[".xlsx"]
    book = load_workbook(xlsx)
    assert book.sheetnames == ["Ma trận", "Giai đoạn 1", "Giai đoạn 2", "Máy đã khảo sát",
                               "Việc cần làm"]
    sheet = book["Ma trận"]
    assert sheet.max_row == 79 and sheet.freeze_panes == "B2" and sheet.auto_filter.ref
    header = [c.value for c in sheet[1]]
    status_col = header.index("Kết luận") + 1
    colours = {sheet.cell(row=r, column=1).value: sheet.cell(row=r, column=status_col)
               for r in range(2, 80)}
    assert colours["xa-ma-thanh"].value == "Sẵn sàng"
    assert colours["xa-lang-thanh"].fill.fgColor.rgb.endswith("B3261E")
    assert book["Giai đoạn 1"].max_row == 4 and book["Giai đoạn 2"].max_row == 76
    assert book["Máy đã khảo sát"].max_row == 1 + 11  # 10 workstations + 1 server
    todo = [[c.value for c in row] for row in book["Việc cần làm"].iter_rows(min_row=2)]
    assert any(r[0] == "xa-lang-thanh" and "Khắc phục" in (r[6] or "") for r in todo)
    converted = _soffice(xlsx, tmp_path, "pdf")
    assert converted.read_bytes().startswith(b"%PDF")
    as_csv = _soffice(xlsx, tmp_path, "csv").read_text(encoding="utf-8", errors="replace")
    assert "xa-ma-thanh" in as_csv


def _soffice(source: Path, tmp_path: Path, fmt: str) -> Path:
    out = tmp_path / f"soffice-{fmt}"
    result = subprocess.run(
        ["soffice", f"-env:UserInstallation=file://{tmp_path}/lo-profile", "--headless",
         "--convert-to", fmt, "--outdir", str(out), str(source)],
        capture_output=True, text=True, timeout=180)
    target = out / f"{source.stem}.{fmt}"
    assert result.returncode == 0 and target.exists(), result.stderr
    return target


def chromium(args: list[str], profile: Path) -> subprocess.CompletedProcess:
    """Debian's Chromium, headless, in a new network namespace with no interface: it cannot
    reach any network, so whatever it renders came from the file alone."""
    command = ["unshare", "--net", "chromium", "--headless", "--no-sandbox", "--disable-gpu",
               "--no-first-run", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", f"--user-data-dir={profile}", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


@pytest.mark.browsers
def test_the_html_renders_all_78_units_in_chromium_without_network(store, tmp_path, probe):
    html = _matrix_command(probe, store, tmp_path / "out", "--format", "html")[".html"]
    source = html.read_text(encoding="utf-8")
    assert "<script" not in source and not re.search(r"(src|href)=\"https?:", source)
    dom = chromium(["--dump-dom", html.as_uri()], tmp_path / "profile")
    assert dom.returncode == 0, dom.stderr
    rows = re.findall(r'<tr class="unit" id="unit-([a-z0-9-]+)"', dom.stdout)
    assert sorted(rows) == sorted(u.unit_id for u in UNITS)
    assert "Chưa khảo sát" in dom.stdout and "<svg" in dom.stdout
    phase2 = re.search(r"<tr><td>2</td>((?:<td class=\"num\">\d+</td>){5})</tr>", dom.stdout)
    assert re.findall(r"\d+", phase2.group(1)) == ["1", "1", "1", "72", "75"]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shot = SCREENSHOTS / "matrix.png"
    shot.unlink(missing_ok=True)
    result = chromium([f"--screenshot={shot}", "--window-size=1400,1800", html.as_uri()],
                      tmp_path / "profile")
    assert result.returncode == 0 and shot.stat().st_size > 10_000, result.stderr
    pdf = tmp_path / "matrix.pdf"
    printed = chromium([f"--print-to-pdf={pdf}", "--no-pdf-header-footer", html.as_uri()],
                       tmp_path / "profile")
    assert printed.returncode == 0 and pdf.read_bytes().startswith(b"%PDF")
    assert b"/MediaBox [0 0 841" in pdf.read_bytes()  # A4 landscape: 841.9 x 595.3 points


def test_bad_matrix_options_are_input_errors(store, probe):
    for args, field in ((["--as-of", "2015-11-31"], "--as-of"), (["--district", "Huyện X"],
                        "--district"), (["--format", "pdf"], "--format")):
        result = probe("matrix", "--store", str(store), *args)
        assert result.returncode == 2 and field in result.stderr, args
