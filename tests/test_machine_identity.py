"""Machines told apart by their own id (report schema 1.1), and "Sẵn sàng" only for what was
checked (issue 14). Every store test runs on SQLite and on a real PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from egov_probe.core.plan import load_plan
from egov_probe.core.units import load_units_csv
from egov_probe.matrix import MatrixFilter, load_unit_infos
from egov_probe.matrix.service import matrix_from_store
from egov_probe.render.matrix_files import write_matrix
from egov_probe.store import import_paths, latest_hosts
from tests.test_store_factory import (DEFAULT_CHECKS, database, make_report,  # noqa: F401
                                      make_review, pg_server, store_target, write_report,
                                      write_review)

ROOT = Path(__file__).resolve().parent.parent
UNIT_IDS = [u.unit_id for u in load_units_csv()]
ID_A, ID_B = "3d1219c7c4c5404aaa1f6d2a48adfda4", "9e0c5b2a11d74f0c8a6b2f1e7d3c4b5a"
WHEN = "2015-11-10T03:00:00.000000Z"
LATER = "2015-11-12T03:00:00.000000Z"


def store(database, folder: Path, *reports, reviews=()) -> None:
    for report in reports:
        write_report(report, folder)
    for review in reviews:
        write_review(review, folder)
    summary = import_paths(database, [folder], UNIT_IDS, folder.parent / "quarantine")
    assert summary.quarantined == [], summary.quarantined


def matrix(database):
    return matrix_from_store(database, load_unit_infos(ROOT / "inventory"), load_plan(),
                             MatrixFilter())


def row(database, unit_id: str):
    return next(r for r in matrix(database).rows if r.unit.unit_id == unit_id)


# --- host identity ---------------------------------------------------------------------------

def test_two_cloned_pcs_under_one_name_count_as_two(database, tmp_path):
    store(database, tmp_path / "usb",
          make_report("xa-ma-thanh", "USER-PC", WHEN, machine_id=ID_A),
          make_report("xa-ma-thanh", "USER-PC", WHEN, machine_id=ID_B,
                      statuses={"browser.chrome.machine": "fail"}))
    hosts = latest_hosts(database)
    assert sorted(h.machine_id for h in hosts) == sorted([ID_A, ID_B])
    mathanh = row(database, "xa-ma-thanh")
    assert mathanh.audited == 2 and mathanh.cells["workstations"].text == "2/5"
    # the second machine's failure is not hidden by the first one's clean report
    assert mathanh.status == "not_ready"
    assert "matrix.item.cloned" not in {i.key for i in mathanh.items}  # two ids: no clone


def test_one_machine_id_in_two_units_is_a_blocking_item_in_both(database, tmp_path):
    store(database, tmp_path / "usb",
          make_report("xa-ma-thanh", "USER-PC", WHEN, machine_id=ID_A),
          make_report("xa-tien-thanh", "KETOAN-PC", WHEN, machine_id=ID_A.upper()),
          make_report("xa-tien-thanh", "VANTHU-PC", WHEN, machine_id=ID_B))
    for unit_id in ("xa-ma-thanh", "xa-tien-thanh"):
        found = row(database, unit_id)
        item = {i.key: i for i in found.items}["matrix.item.cloned"]
        assert item.severity == "block" and found.status == "not_ready"
        assert item.hosts == ["USER-PC (xa-ma-thanh, 3d1219c7)",
                              "KETOAN-PC (xa-tien-thanh, 3d1219c7)"]
        assert "sysprep" in item.title.vi and "sysprep" in item.remedy.vi
        assert "cloned without sysprep" in item.title.en.lower()
    assert [(i, n) for i, n in matrix(database).common_items() if i.key == "matrix.item.cloned"
            ][0][1] == 2


def test_one_id_under_two_names_or_on_two_boards_is_flagged_one_renamed_pc_is_not(database,
                                                                                  tmp_path):
    store(database, tmp_path / "usb",  # same name and id, two different boards: clones
          make_report("xa-ma-thanh", "USER-PC", WHEN, machine_id=ID_A, smbios_uuid="4c4c-1"),
          make_report("xa-ma-thanh", "USER-PC", "2015-11-10T03:05:00.000000Z", machine_id=ID_A,
                      smbios_uuid="4c4c-2"),
          # one board renamed: the same machine under its old and its new name
          make_report("xa-tien-thanh", "OLD-NAME", WHEN, machine_id=ID_B, smbios_uuid="4c4c-9"),
          make_report("xa-tien-thanh", "NEW-NAME", LATER, machine_id=ID_B, smbios_uuid="4c4c-9"))
    assert "matrix.item.cloned" in {i.key for i in row(database, "xa-ma-thanh").items}
    assert row(database, "xa-ma-thanh").audited == 2
    assert "matrix.item.cloned" not in {i.key for i in row(database, "xa-tien-thanh").items}


def test_a_schema_1_0_report_still_imports_and_a_newer_one_with_an_id_replaces_it(database,
                                                                                  tmp_path):
    old = make_report("xa-ma-thanh", "USER-PC", WHEN).to_dict()
    old["schema_version"] = "1.0"
    del old["host"]["machine_id"], old["host"]["smbios_uuid"]
    usb = tmp_path / "usb"
    usb.mkdir()
    (usb / "old.json").write_text(json.dumps(old, ensure_ascii=False), encoding="utf-8")
    summary = import_paths(database, [usb], UNIT_IDS, tmp_path / "quarantine")
    assert summary.imported == [str(usb / "old.json")] and summary.quarantined == []
    [host] = latest_hosts(database)
    assert host.machine_id is None and host.hostname == "USER-PC"
    store(database, tmp_path / "usb2", make_report("xa-ma-thanh", "USER-PC", LATER,
                                                   machine_id=ID_A))
    [host] = latest_hosts(database)  # one machine, better known since: counted once
    assert host.machine_id == ID_A
    assert row(database, "xa-ma-thanh").audited == 1
    # the state before the second report still has the old one
    assert [h.machine_id for h in latest_hosts(database, before="2015-11-11")] == [None]


# --- "Sẵn sàng" only for what was checked ------------------------------------------------------

NO_NETWORK = {k: v for k, v in DEFAULT_CHECKS.items() if v != "network"}


def test_ready_needs_network_from_a_workstation_of_the_unit(database, tmp_path):
    fleet_like = make_report("xa-ma-thanh", "ws0", WHEN, machine_id=ID_A, checks={
        **NO_NETWORK, "network.not_checked": "network"},
        statuses={"network.not_checked": "skipped"})
    store(database, tmp_path / "usb", fleet_like,
          *[make_report("xa-ma-thanh", f"ws{i}", WHEN, checks=NO_NETWORK) for i in range(1, 5)])
    found = row(database, "xa-ma-thanh")
    assert found.status == "ready_with_conditions" and found.not_checked == ["network"]
    assert found.cells["network"].status == "none" and found.cells["network"].text == "—"
    item = {i.key: i for i in found.items}["matrix.item.missing.network"]
    assert item.severity == "condition" and "--network" in item.remedy.vi
    assert item.title.vi == "Chưa kiểm tra: Mạng"
    # one workstation that checked the network is enough
    store(database, tmp_path / "usb2", make_report("xa-ma-thanh", "ws1", LATER))
    found = row(database, "xa-ma-thanh")
    assert found.status == "ready" and found.not_checked == []
    assert found.cells["network"].text == "1/1"


def test_an_unreachable_host_is_no_network_check(database, tmp_path):
    unreachable = make_report("xa-ma-thanh", "ws9", WHEN, outcome="unreachable",
                              checks={"fleet.connection": "network"},
                              statuses={"fleet.connection": "error"})
    store(database, tmp_path / "usb", unreachable,
          *[make_report("xa-ma-thanh", f"ws{i}", WHEN, checks=NO_NETWORK) for i in range(5)])
    found = row(database, "xa-ma-thanh")
    assert "network" in found.not_checked
    assert found.status == "not_ready"  # the unreachable host blocks on its own item
    assert {i.key for i in found.items} >= {"matrix.item.outcome", "matrix.item.missing.network",
                                            "fleet.connection"}  # its own remedy kept
    assert found.cells["network"].trace == []


def test_every_required_area_missing_is_listed(database, tmp_path):
    only_browsers = {"browser.chrome.machine": "browser"}
    store(database, tmp_path / "usb", *[make_report("xa-ma-thanh", f"ws{i}", WHEN,
                                                    checks=only_browsers) for i in range(5)])
    found = row(database, "xa-ma-thanh")
    assert found.status == "ready_with_conditions"
    assert found.not_checked == ["network", "mailbox", "system"]
    # a mailbox review checks the mailboxes
    store(database, tmp_path / "usb2", reviews=[make_review("xa-ma-thanh", officers=2,
                                                            working=2)])
    assert row(database, "xa-ma-thanh").not_checked == ["network", "system"]


def test_outputs_list_what_was_not_checked(database, tmp_path):
    store(database, tmp_path / "usb", *[make_report("xa-ma-thanh", f"ws{i}", WHEN,
                                                    checks=NO_NETWORK) for i in range(5)])
    built = matrix(database)
    out = tmp_path / "out"
    for lang in ("vi", "en"):
        paths = {p.suffix: p for p in write_matrix(built, out, f"m-{lang}",
                                                   ("csv", "json", "html", "xlsx"), lang)}
        rows = {r["unit_id"]: r for r in csv.DictReader(io.StringIO(
            paths[".csv"].read_text(encoding="utf-8-sig")))}
        assert rows["xa-ma-thanh"]["not_checked"] == "network"
        assert rows["xa-ma-thanh"]["status"] == "ready_with_conditions"
        assert rows["xa-quynh-tho"]["not_checked"] == ""  # not surveyed: nothing to list
        data = json.loads(paths[".json"].read_text(encoding="utf-8"))
        unit = next(r for r in data["rows"] if r["unit_id"] == "xa-ma-thanh")
        assert unit["not_checked"] == "network"
        assert "matrix.item.missing.network" in [i["key"] for i in unit["items"]]
        words = "Mạng" if lang == "vi" else "Network"
        html = paths[".html"].read_text(encoding="utf-8")
        assert f'data-not-checked="network">' in html and f": {words}</span>" in html
        from openpyxl import load_workbook
        sheet = load_workbook(paths[".xlsx"]).worksheets[0]
        header = [c.value for c in sheet[1]]
        column = header.index("Mục chưa kiểm tra" if lang == "vi" else "Not checked")
        values = {r[0].value: r[column].value for r in sheet.iter_rows(min_row=2)}
        assert values["xa-ma-thanh"] == words
