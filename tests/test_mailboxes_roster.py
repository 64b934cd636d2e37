"""Officer rosters (CSV and XLSX): imported with NFC names, rejected with every bad line named."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest

from egov_probe.core.errors import InputError
from egov_probe.core.units import load_units_csv
from egov_probe.mailboxes.config import load_config
from egov_probe.mailboxes.roster import RosterError, load_rosters

ROSTERS = Path(__file__).parent / "fixtures" / "rosters"
HEADER = "Họ và tên,Chức vụ,Đơn vị,Hòm thư công vụ,Điện thoại\n"


@pytest.fixture(scope="module")
def units():
    return load_units_csv()


@pytest.fixture(scope="module")
def columns():
    return load_config().roster_columns


def test_a_commune_roster_is_imported(units, columns):
    officers = load_rosters([ROSTERS / "ma_thanh.csv"], units, columns)
    assert len(officers) == 9
    first, second = officers[:2]
    assert (first.full_name, first.position, first.unit_id, first.address, first.phone,
            first.line) == ("Trần Văn Bình", "Chủ tịch UBND xã", "xa-ma-thanh",
                            "binhtv@nghean.gov.vn", "0912 345 678", 2)
    assert second.unit_id == "xa-ma-thanh"  # given by its name, "Xã Mã Thành"
    assert second.address is None and second.phone == "0987654321"


def test_names_are_stored_nfc_with_single_spaces(tmp_path, units, columns):
    nfd = unicodedata.normalize("NFD", "  Nguyễn   Thị Thu Hà ")
    path = tmp_path / "nfd.csv"
    path.write_text(HEADER + f"{nfd},Văn thư,xa-ma-thanh,,\n", encoding="utf-8")
    [officer] = load_rosters([path], units, columns)
    assert officer.full_name == "Nguyễn Thị Thu Hà"
    assert unicodedata.is_normalized("NFC", officer.full_name)


def test_every_problem_of_a_bad_roster_is_reported_with_its_line(units, columns):
    with pytest.raises(RosterError) as caught:
        load_rosters([ROSTERS / "bad_roster.csv"], units, columns)
    found = {(p.line, p.field) for p in caught.value.problems}
    assert found == {(3, "unit"), (4, "full_name"), (5, "address"), (6, "full_name"),
                     (6, "address"), (7, "position"), (7, "phone")}
    text = str(caught.value)
    assert f"{ROSTERS / 'bad_roster.csv'}:3: unit: unknown unit 'xa-ma-thanhh'; did you mean: " \
           "xa-ma-thanh" in text
    assert "duplicate officer: Trần Văn Bình (Chủ tịch UBND xã) is already at" in text
    assert "'lan@@nghean'" in text


def test_a_bad_roster_fails_the_command_with_exit_2_and_writes_nothing(tmp_path, probe):
    result = probe("mailboxes", str(ROSTERS / "bad_roster.csv"), "--directory",
                   "ldap://127.0.0.1:9", "--bind-dn", "cn=reader", "--out", str(tmp_path / "out"))
    assert result.returncode == 2
    assert "bad_roster.csv:5: address:" in result.stderr
    assert not (tmp_path / "out").exists()


def test_xlsx_problems_name_the_sheet_and_row(tmp_path, units, columns):
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Cán bộ"
    sheet.append(["DANH SÁCH CÁN BỘ, CÔNG CHỨC XÃ MÃ THÀNH"])
    sheet.append([])
    sheet.append(["STT", "Họ và tên", "Chức vụ", "Đơn vị", "Email", "Điện thoại"])
    sheet.append([1, "Trần Văn Bình", "Chủ tịch UBND xã", "xa-ma-thanh", None, 912345678])
    sheet.append([2, "Lê Thị Mai", "Địa chính", "Xã Không Có", None, None])
    book.create_sheet("Ghi chú")  # an empty sheet is skipped
    path = tmp_path / "roster.xlsx"
    book.save(path)
    with pytest.raises(RosterError) as caught:
        load_rosters([path], units, columns)
    [problem] = caught.value.problems
    assert (problem.source, problem.line, problem.field) == (f"{path} [Cán bộ]", 5, "unit")
    sheet.delete_rows(5)
    book.save(path)
    [officer] = load_rosters([path], units, columns)
    assert (officer.full_name, officer.phone, officer.line) == ("Trần Văn Bình", "912345678", 4)


def test_a_sheet_with_data_but_no_header_is_an_error_not_skipped(tmp_path, units, columns):
    import openpyxl

    book = openpyxl.Workbook()
    book.active.append(["Trần Văn Bình", "Chủ tịch UBND xã", "xa-ma-thanh"])
    path = tmp_path / "noheader.xlsx"
    book.save(path)
    with pytest.raises(RosterError, match="no header row with the columns"):
        load_rosters([path], units, columns)


def test_a_csv_that_is_not_utf8_names_its_line(tmp_path, units, columns):
    path = tmp_path / "cp1258.csv"
    path.write_bytes(HEADER.encode("utf-8") + "Tran Van Binh,Van thu,xa-ma-thanh,,\n".encode()
                     + "Lê Văn Tâm,Văn thư,xa-ma-thanh,,\n".encode("cp1258"))
    with pytest.raises(InputError) as caught:
        load_rosters([path], units, columns)
    assert caught.value.line == 3 and "not UTF-8" in str(caught.value)


def test_semicolon_csv_from_excel_and_a_bom_are_read(tmp_path, units, columns):
    path = tmp_path / "excel.csv"
    path.write_bytes("\ufeffHọ và tên;Chức vụ;Đơn vị\nĐặng Đình Đức;Tư pháp;xa-ma-thanh\n"
                     .encode("utf-8"))
    [officer] = load_rosters([path], units, columns)
    assert (officer.full_name, officer.address) == ("Đặng Đình Đức", None)


def test_one_address_for_two_officers_is_refused(tmp_path, units, columns):
    path = tmp_path / "same.csv"
    path.write_text(HEADER + "Lê Thị Mai,Văn thư,xa-ma-thanh,mailt@nghean.gov.vn,\n"
                    "Lê Văn Mạnh,Kế toán,xa-ma-thanh,MAILT@nghean.gov.vn,\n", encoding="utf-8")
    with pytest.raises(RosterError, match=r"same.csv:3: address: address mailt@nghean.gov.vn is "
                                          r"already Lê Thị Mai's"):
        load_rosters([path], units, columns)


def test_the_same_officer_in_two_rosters_is_a_duplicate(tmp_path, units, columns):
    for name in ("a.csv", "b.csv"):
        (tmp_path / name).write_text(HEADER + "Lê Thị Mai,Văn thư,xa-ma-thanh,,\n", "utf-8")
    with pytest.raises(RosterError, match="b.csv:2: full_name: duplicate officer"):
        load_rosters([tmp_path / "a.csv", tmp_path / "b.csv"], units, columns)


def test_a_roster_without_a_unit_column_is_the_unit_given(tmp_path, units, columns):
    path = tmp_path / "own.csv"
    path.write_text("Họ và tên,Chức vụ\nĐặng Đình Đức,Tư pháp - Hộ tịch\n", encoding="utf-8")
    with pytest.raises(RosterError, match=r"unit \(Đơn vị / Unit\).*or pass --unit"):
        load_rosters([path], units, columns)
    [officer] = load_rosters([path], units, columns, default_unit="xa-ma-thanh")
    assert (officer.unit_id, officer.line) == ("xa-ma-thanh", 2)
