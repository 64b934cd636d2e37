"""The monthly progress report: each phase at the month's end against the month before,
units behind their phase's deadline and what blocks them; HTML and XLSX."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from egov_probe.core.plan import load_plan
from egov_probe.core.units import load_units_csv
from egov_probe.matrix import load_unit_infos
from egov_probe.matrix.monthly import monthly_report
from egov_probe.store import import_paths, open_database
from tests.test_matrix import chromium
from tests.test_store_factory import make_report, write_report

ROOT = Path(__file__).resolve().parent.parent
UNIT_IDS = [u.unit_id for u in load_units_csv()]


@pytest.fixture
def store(tmp_path) -> Path:
    """November: Mã Thành ready, Quỳnh Lưu district blocked. December: Mã Thành and Tiến Thành
    ready, the provincial DIC blocked by its browser."""
    usb = tmp_path / "usb"
    for i in range(5):
        write_report(make_report("xa-ma-thanh", f"mt-{i}", "2015-11-20T03:00:00Z"), usb)
        write_report(make_report("xa-tien-thanh", f"tt-{i}", "2015-12-02T03:00:00Z"), usb)
    write_report(make_report("ubnd-huyen-quynh-luu", "ql-0", "2015-11-25T03:00:00Z",
                             statuses={"system.ram": "fail"}), usb)
    write_report(make_report("so-thong-tin-va-truyen-thong-nghe-an", "dic-0",
                             "2015-12-31T16:30:00Z",  # 23:30 on 31/12 in Vietnam: December
                             statuses={"browser.chrome.machine": "fail"}), usb)
    write_report(make_report("xa-lang-thanh", "lt-0", "2015-12-31T17:30:00Z"), usb)  # 1/1/2016
    path = tmp_path / "store.sqlite"
    database = open_database(path)
    assert import_paths(database, [usb], UNIT_IDS, tmp_path / "q", ).quarantined == []
    database.close()
    return path


def build(store: Path, year: int, month: int):
    database = open_database(store)
    try:
        return monthly_report(database, load_unit_infos(ROOT / "inventory"), load_plan(), year,
                              month)
    finally:
        database.close()


def test_december_against_november(store):
    report = build(store, 2015, 12)
    assert (report.month_text, report.previous_text) == ("12/2015", "11/2015")
    phase1, phase2 = report.phases
    assert (phase1.ready(phase1.before), phase1.ready(phase1.now)) == (0, 0)
    assert (phase2.ready(phase2.before), phase2.ready(phase2.now), phase2.change) == (1, 2, 1)
    assert phase1.now["not_ready"] == 2 and phase1.total == 3
    behind1 = {row.unit.unit_id: (days, row) for row, days in phase1.behind}
    assert set(behind1) == set(load_plan().phases[0].units)
    days, dic = behind1["so-thong-tin-va-truyen-thong-nghe-an"]
    assert days == 30  # phase 1 ended on 1/12/2015
    assert [i.key for i in dic.items if i.severity == "block"] == ["browser.chrome.machine"]
    assert len(phase2.behind) == 75 - 2  # phase 2 ends 31/12: every unit not ready is late
    months = [month for month, _ in report.trend]
    assert months == ["07/2015", "08/2015", "09/2015", "10/2015", "11/2015", "12/2015"]
    assert [counts["not_surveyed"] for _, counts in report.trend] == [78] * 4 + [76, 74]
    changed = {row.unit.unit_id: old for row, old in report.changed}
    assert changed == {"xa-tien-thanh": "not_surveyed",
                       "so-thong-tin-va-truyen-thong-nghe-an": "not_surveyed"}


def test_before_a_phase_ends_nobody_is_behind_it(store):
    november = build(store, 2015, 11)
    phase1, phase2 = november.phases
    assert phase1.behind == [] and phase2.behind == []
    assert phase2.ready(phase2.now) == 1 and phase2.ready(phase2.before) == 0


def test_the_command_writes_html_and_xlsx(store, tmp_path, probe):
    from openpyxl import load_workbook

    result = probe("report", "monthly", "--month", "2015-12", "--store", str(store), "-i",
                   str(ROOT / "inventory"), "--out", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    html = tmp_path / "out" / "monthly-2015-12.html"
    text = html.read_text(encoding="utf-8")
    assert "BÁO CÁO SƠ KẾT THÁNG 12/2015" in text and "Sẵn sàng cuối tháng 11/2015" in text
    assert "Mục chrome.machine" in text and "Khắc phục chrome.machine" in text
    book = load_workbook(tmp_path / "out" / "monthly-2015-12.xlsx")
    progress = [[c.value for c in row] for row in book.worksheets[0].iter_rows(min_row=2)]
    assert [row[3:6] for row in progress] == [[0, 0, 0], [1, 2, 1]]
    behind = book.worksheets[1]
    assert behind.max_row == 1 + 3 + 73 and behind.freeze_panes == "B2"
    trend = [[c.value for c in row] for row in book.worksheets[-1].iter_rows(min_row=2)]
    assert trend[-1] == ["12/2015", 2, 0, 2, 74]
    english = probe("report", "monthly", "--month", "2015-12", "--store", str(store), "--lang",
                    "en", "--format", "html", "--out", str(tmp_path / "en"))
    assert english.returncode == 0, english.stderr
    assert "MONTHLY PROGRESS REPORT 12/2015" in (tmp_path / "en" / "monthly-2015-12.html").read_text(
        encoding="utf-8")


@pytest.mark.browsers
def test_the_monthly_html_renders_in_chromium(store, tmp_path, probe):
    probe("report", "monthly", "--month", "2015-12", "--store", str(store), "--format", "html",
          "--out", str(tmp_path))
    dom = chromium(["--dump-dom", (tmp_path / "monthly-2015-12.html").as_uri()], tmp_path / "p")
    assert dom.returncode == 0, dom.stderr
    assert len(re.findall(r'<tr class="phase"', dom.stdout)) == 2
    assert len(re.findall(r'<tr class="unit"', dom.stdout)) == 76


def test_a_bad_month_is_an_input_error(store, probe):
    for month in ("2015-13", "12/2015"):
        result = probe("report", "monthly", "--month", month, "--store", str(store))
        assert result.returncode == 2 and "--month" in result.stderr
