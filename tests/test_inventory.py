"""The pilot inventory: all 78 units, the groups of the plan, read by Ansible itself."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from collections import Counter

import pytest

from egov_probe.core.errors import InputError
from egov_probe.core.units import find_unit, load_units_csv, shipped_units_csv, units_from_inventory


def test_shipped_units_are_the_78_of_the_decision():
    units = load_units_csv()
    assert len(units) == 78
    kinds = Counter(u.kind for u in units)
    assert kinds["province-office"] == 2 and kinds["department"] == 2 and kinds["district"] == 2
    assert kinds["xa"] + kinds["thi-tran"] == 72
    communes = Counter(u.district_gso for u in units if u.kind in ("xa", "thi-tran"))
    assert communes == {"426": 39, "421": 33}
    assert Counter(u.phase for u in units) == {1: 3, 2: 75}


def test_inventory_carries_every_csv_fact(project_root):
    with shipped_units_csv().open(encoding="utf-8") as handle:
        rows = {row["unit_id"]: row for row in csv.DictReader(handle)}
    units = {u.unit_id: u for u in units_from_inventory(project_root / "inventory")}
    assert set(units) == set(rows)
    for unit_id, row in rows.items():
        unit = units[unit_id]
        assert unit.name_vi == row["name_vi"]
        assert (unit.gso_code or "") == row["gso_code"]
        assert unit.phase == int(row["phase"])
        assert unit.planned_trainees == int(row["planned_trainees"])


def test_generated_files_are_up_to_date(project_root):
    result = subprocess.run([sys.executable, "scripts/build_inventory.py", "--check"],
                            cwd=project_root, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="module")
def ansible_groups(request):
    root = request.config.rootpath
    ansible_inventory = shutil.which("ansible-inventory") or str(
        root / ".venv" / "bin" / "ansible-inventory")
    result = subprocess.run([ansible_inventory, "-i", "inventory", "--list"], cwd=root,
                            capture_output=True, text=True, check=True)
    return json.loads(result.stdout)


def _member_units(groups: dict, name: str) -> set[str]:
    return set(groups[name].get("children", []))


def test_ansible_reads_phase_kind_and_district_groups(ansible_groups):
    assert len(_member_units(ansible_groups, "phase1")) == 3
    assert len(_member_units(ansible_groups, "phase2")) == 75
    assert len(_member_units(ansible_groups, "communes")) == 72
    assert len(_member_units(ansible_groups, "province_offices")) == 2
    assert len(_member_units(ansible_groups, "departments")) == 2
    assert len(_member_units(ansible_groups, "districts")) == 2
    yen_thanh = _member_units(ansible_groups, "district_yen_thanh")
    assert "unit_ubnd_huyen_yen_thanh" in yen_thanh and len(yen_thanh) == 40
    assert len(_member_units(ansible_groups, "district_quynh_luu")) == 34


def test_a_workstation_added_to_a_unit_gets_its_variables(project_root, tmp_path):
    inventory = tmp_path / "inventory"
    shutil.copytree(project_root / "inventory", inventory)
    (inventory / "workstations.yml").write_text(
        "all:\n  children:\n    unit_xa_duc_thanh:\n      hosts:\n        ducthanh-vp01: {}\n",
        encoding="utf-8")
    ansible_inventory = shutil.which("ansible-inventory") or str(
        project_root / ".venv" / "bin" / "ansible-inventory")
    result = subprocess.run([ansible_inventory, "-i", str(inventory), "--host", "ducthanh-vp01"],
                            capture_output=True, text=True, check=True)
    host_vars = json.loads(result.stdout)
    assert host_vars["unit_id"] == "xa-duc-thanh"
    assert host_vars["unit_name_vi"] == "Xã Đức Thành"
    assert host_vars["unit_phase"] == 2 and host_vars["unit_planned_trainees"] == 5
    graph = subprocess.run([ansible_inventory, "-i", str(inventory), "--graph", "phase2"],
                           capture_output=True, text=True, check=True).stdout
    assert "ducthanh-vp01" in graph


def test_unknown_unit_suggests_nearest():
    with pytest.raises(InputError) as caught:
        find_unit(load_units_csv(), "xa-ma-thanhh")
    assert "xa-ma-thanh" in str(caught.value)
    assert "--unit" in str(caught.value)


def test_bad_units_csv_names_line_and_column(tmp_path):
    bad = tmp_path / "units.csv"
    lines = shipped_units_csv().read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3].replace(",2,5", ",3,5")
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_units_csv(bad)
    assert str(caught.value) == f"{bad}:4: phase: expected 1 or 2, found '3'"


def test_inventory_without_unit_groups_is_an_error(tmp_path):
    inventory = tmp_path / "hosts.yml"
    inventory.write_text("all:\n  hosts:\n    ws1: {}\n", encoding="utf-8")
    with pytest.raises(InputError, match="no unit groups"):
        units_from_inventory(inventory)


def test_expected_workstations_override_is_read_and_checked(project_root, tmp_path):
    inventory = tmp_path / "inventory"
    shutil.copytree(project_root / "inventory", inventory)
    pilot = inventory / "pilot.yml"
    text = pilot.read_text(encoding="utf-8")
    pilot.write_text(text.replace("unit_id: xa-ma-thanh\n",
                                  "unit_id: xa-ma-thanh\n                unit_expected_workstations: 7\n"),
                     encoding="utf-8")
    units = {u.unit_id: u for u in units_from_inventory(inventory)}
    assert units["xa-ma-thanh"].workstations_expected == 7
    assert units["xa-tien-thanh"].workstations_expected == 5  # one per planned trainee
    pilot.write_text(text.replace("unit_id: xa-ma-thanh\n",
                                  "unit_id: xa-ma-thanh\n                unit_expected_workstations: many\n"),
                     encoding="utf-8")
    with pytest.raises(InputError) as caught:
        units_from_inventory(inventory)
    assert str(caught.value).endswith(
        "unit_xa_ma_thanh.vars.unit_expected_workstations: expected a whole number >= 0, found 'many'")
