"""The pilot plan: phases, dates (31/9/2015 does not exist) and units."""

from __future__ import annotations

import datetime as dt

import pytest

from egov_probe.core.errors import InputError
from egov_probe.core.plan import load_plan, shipped_plan_path
from egov_probe.core.units import load_units_csv


def test_shipped_plan_has_both_phases_and_every_unit():
    units = load_units_csv()
    plan = load_plan(units=units)
    first, second = plan.phases
    assert (first.start, first.end) == (dt.date(2015, 7, 1), dt.date(2015, 12, 1))
    assert (second.start, second.end) == (dt.date(2015, 9, 30), dt.date(2015, 12, 31))
    assert len(first.units) + len(second.units) == 78
    assert plan.phase_of("ubnd-huyen-quynh-luu").number == 1
    assert plan.phase_of("xa-ma-thanh").number == 2


def test_shipped_plan_says_why_phase_two_starts_on_30_september():
    text = shipped_plan_path().read_text(encoding="utf-8")
    assert "31/9/2015" in text and "không tồn tại" in text and "does not exist" in text


def _plan_with(tmp_path, old: str, new: str):
    path = tmp_path / "plan.yml"
    path.write_text(shipped_plan_path().read_text(encoding="utf-8").replace(old, new, 1),
                    encoding="utf-8")
    return path


def _line_of(path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                if needle in line)


def test_impossible_date_names_file_line_and_field(tmp_path):
    path = _plan_with(tmp_path, "start: 2015-09-30", "start: 2015-09-31")
    with pytest.raises(InputError) as caught:
        load_plan(path)
    line = _line_of(path, "start: 2015-09-31")
    assert str(caught.value) == (f"{path}:{line}: phases.2.start: invalid value '2015-09-31': "
                                 "day is out of range for month")


def test_date_written_as_text_is_refused(tmp_path):
    path = _plan_with(tmp_path, "start: 2015-09-30", "start: 31/9/2015")
    with pytest.raises(InputError) as caught:
        load_plan(path)
    assert "phases.2.start: expected" in str(caught.value)
    assert f":{_line_of(path, 'start: 31/9/2015')}:" in str(caught.value)


def test_phase_ending_before_it_starts(tmp_path):
    path = _plan_with(tmp_path, "end: 2015-12-01", "end: 2015-06-01")
    with pytest.raises(InputError, match=r"phases\.1\.end: phase ends \(2015-06-01\) before"):
        load_plan(path)


def test_unit_in_two_phases_and_unknown_unit(tmp_path):
    doubled = _plan_with(tmp_path, "- ubnd-huyen-quynh-luu", "- ubnd-huyen-quynh-luu\n    - xa-ma-thanh")
    with pytest.raises(InputError, match="'xa-ma-thanh' is already in phase 1"):
        load_plan(doubled, units=load_units_csv())
    unknown = _plan_with(tmp_path, "- xa-ma-thanh", "- xa-ma-thanhh")
    with pytest.raises(InputError, match="unknown unit id 'xa-ma-thanhh'"):
        load_plan(unknown, units=load_units_csv())


def test_unit_left_out_of_every_phase(tmp_path):
    path = _plan_with(tmp_path, "    - xa-ma-thanh\n", "")
    with pytest.raises(InputError, match="units in no phase: xa-ma-thanh"):
        load_plan(path, units=load_units_csv())
