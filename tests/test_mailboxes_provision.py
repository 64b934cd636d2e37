"""Provisioning as plan, then apply (issue 18), against a real OpenLDAP server (slapd).

Each test that changes the directory starts its own slapd (tests/ldap_server.py) with the test
people of tests/fixtures/rosters/directory_people.ldif plus what the test needs.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.ldap_server import READER_DN, WRITER_DN, LdapServer
from tests.test_mailboxes_directory import (PASSWORDS, PEOPLE, ROSTER, _secret_file, apply,
                                            mailboxes, only, outcomes, own_store)

pytestmark = pytest.mark.services
__all__ = ["own_store"]  # the autouse fixture: a store of each test's own

PEOPLE_DN = "ou=people,dc=nghean,dc=gov,dc=vn"
HEADER = "Họ và tên,Chức vụ,Đơn vị,Hòm thư công vụ,Điện thoại\n"
# an entry of the officer without a mail address, as the issue found it
BUI_LAN = f"""
dn: uid=bui.lan,{PEOPLE_DN}
objectClass: inetOrgPerson
uid: bui.lan
cn: Bùi Thị Lan
sn: Bùi
ou: xa-ma-thanh
title: Văn thư
"""
# a name in the directory that ends in a zero-width space
ZWSP_NAME = base64.b64encode("Trần Thanh Bình\u200b".encode()).decode()
BINH_ZWSP = f"""
dn: uid=tranbinh,{PEOPLE_DN}
objectClass: inetOrgPerson
uid: tranbinh
cn:: {ZWSP_NAME}
sn: Trần
mail: binhtt@nghean.gov.vn
ou: xa-ma-thanh
"""


@pytest.fixture()
def server(tmp_path_factory):
    server = LdapServer.start(tmp_path_factory.mktemp("slapd"), PEOPLE + BUI_LAN + BINH_ZWSP,
                              PASSWORDS)
    yield server
    server.stop()


def roster(folder: Path, name: str, *rows: str) -> Path:
    path = folder / name
    path.write_text(HEADER + "".join(row + "\n" for row in rows), encoding="utf-8")
    return path


def snapshot(server: LdapServer, folder: Path) -> str:
    """Every entry with its operational attributes (entryCSN, modifyTimestamp): any add or
    modify shows."""
    env = {**os.environ, "LDAPTLS_CACERT": str(server.ca_file)}
    return subprocess.run(["ldapsearch", "-ZZ", "-x", "-LLL", "-o", "ldif-wrap=no", "-H",
                           server.url, "-D", READER_DN, "-y",
                           str(_secret_file(folder, PASSWORDS["reader"])), "-b",
                           "dc=nghean,dc=gov,dc=vn", "(objectClass=*)", "*", "+"],
                          capture_output=True, text=True, env=env, check=True).stdout


def ldap_add(server: LdapServer, folder: Path, ldif: str) -> None:
    """Someone else changes the directory (with the write account, as a mail admin would)."""
    env = {**os.environ, "LDAPTLS_CACERT": str(server.ca_file)}
    subprocess.run(["ldapmodify", "-ZZ", "-x", "-H", server.url, "-D", WRITER_DN, "-y",
                    str(_secret_file(folder, PASSWORDS["writer"]))], input=ldif, text=True,
                   capture_output=True, env=env, check=True)


def people_with(server: LdapServer, folder: Path, line: str) -> list[str]:
    """The DNs of the entries with ``line`` (e.g. "cn: Bùi Thị Lan\n", base64 decoded)."""
    blocks = [b for b in snapshot(server, folder).split("\n\n") if b.strip()]
    return [b.splitlines()[0] for b in blocks if line in _decoded(b)]


def _decoded(block: str) -> str:
    lines = []
    for line in block.splitlines():
        name, encoded, value = line.partition(":: ")
        lines.append(f"{name}: {base64.b64decode(value).decode()}" if encoded else line)
    return "\n".join(lines) + "\n"


def test_review_apply_twice_leaves_one_mailbox_per_officer(server, tmp_path):
    ma_thanh = roster(tmp_path, "ma_thanh.csv", *ROSTER.read_text("utf-8").splitlines()[1:],
                      "Bùi Thị Lan,Văn thư,xa-ma-thanh,,")
    assert mailboxes(server, tmp_path / "r1", rosters=(ma_thanh,)).returncode == 1
    plan = only(tmp_path / "r1", ".plan")
    text = only(tmp_path / "r1", ".plan.txt").read_text("utf-8")
    assert f"1. Thêm mục mới uid=khaintm,{PEOPLE_DN}: Nguyễn Thị Minh Khai (Văn hóa - Xã hội), " \
           "hòm thư khaintm@nghean.gov.vn" in text
    assert f"5. Thêm địa chỉ lanbt@nghean.gov.vn vào mục có sẵn uid=bui.lan,{PEOPLE_DN}: " \
           "Bùi Thị Lan (Văn thư)" in text

    first = apply(server, plan, tmp_path / "a1")
    assert first.returncode == 0, first.stderr
    assert "tạo 4 mục mới, thêm địa chỉ vào 1 mục có sẵn, 0 thay đổi đã có từ trước" \
        in first.stdout
    after_first = snapshot(server, tmp_path)

    second = apply(server, plan, tmp_path / "a2")  # the same plan again: nothing changes
    assert second.returncode == 0, second.stderr
    assert "tạo 0 mục mới, thêm địa chỉ vào 0 mục có sẵn, 5 thay đổi đã có từ trước" \
        in second.stdout
    assert snapshot(server, tmp_path) == after_first

    assert mailboxes(server, tmp_path / "r2", rosters=(ma_thanh,)).returncode == 1  # 2 disabled
    again = json.loads(only(tmp_path / "r2", ".json").read_text("utf-8"))
    assert [o for o in again["officers"] if o["outcome"] == "missing"] == []
    assert json.loads(only(tmp_path / "r2", ".plan").read_text("utf-8"))["changes"] == []
    assert "Không có gì cần thay đổi trong thư mục." in \
        only(tmp_path / "r2", ".plan.txt").read_text("utf-8")
    third = apply(server, only(tmp_path / "r2", ".plan"), tmp_path / "a3")
    assert third.returncode == 0 and "tạo 0 mục mới" in third.stdout
    assert snapshot(server, tmp_path) == after_first
    for name in ("Bùi Thị Lan", "Nguyễn Thị Minh Khai", "Ngô Thị Thúy Hà"):
        assert len(people_with(server, tmp_path, f"cn: {name}\n")) == 1, name
    assert len(people_with(server, tmp_path, "cn: Nguyễn Văn An\n")) == 3  # the namesake + 2
    written = [p for p in tmp_path.rglob("*") if p.is_file() and p.name != "pw"]
    for blob in [r.stdout + r.stderr for r in (first, second, third)] + \
            [p.read_text("utf-8", "replace") for p in written]:
        assert PASSWORDS["writer"] not in blob and PASSWORDS["reader"] not in blob


def test_an_entry_without_mail_gets_the_mail_never_a_second_entry(server, tmp_path):
    lan = roster(tmp_path, "lan.csv", "Bùi Thị Lan,Văn thư,xa-ma-thanh,,")
    assert mailboxes(server, tmp_path / "r", rosters=(lan,)).returncode == 1
    review = json.loads(only(tmp_path / "r", ".json").read_text("utf-8"))
    assert outcomes(review) == {("Bùi Thị Lan", "Văn thư"): ("missing", None,
                                                            "lanbt@nghean.gov.vn")}
    ldif = only(tmp_path / "r", ".ldif").read_text("ascii")
    assert f"dn: uid=bui.lan,{PEOPLE_DN}\nchangetype: modify\nadd: mail\n" \
           "mail: lanbt@nghean.gov.vn\n-\n" in ldif and "changetype: add" not in ldif
    result = apply(server, only(tmp_path / "r", ".plan"), tmp_path / "a")
    assert result.returncode == 0, result.stderr
    after = json.loads(only(tmp_path / "a", ".json").read_text("utf-8"))
    assert outcomes(after) == {("Bùi Thị Lan", "Văn thư"): ("found", "lanbt@nghean.gov.vn", None)}
    assert people_with(server, tmp_path, "cn: Bùi Thị Lan\n") == [f"dn: uid=bui.lan,{PEOPLE_DN}"]


def test_a_plan_is_refused_whole_when_its_address_was_taken_meanwhile(server, tmp_path):
    assert mailboxes(server, tmp_path / "r").returncode == 1
    before = snapshot(server, tmp_path)
    ldap_add(server, tmp_path, f"dn: uid=khaintm,{PEOPLE_DN}\nchangetype: add\n"
                               "objectClass: inetOrgPerson\nuid: khaintm\ncn: Khai Nguyen\n"
                               "sn: Nguyen\nmail: khaintm@nghean.gov.vn\n")
    taken = snapshot(server, tmp_path)
    result = apply(server, only(tmp_path / "r", ".plan"), tmp_path / "a")
    assert result.returncode == 4, result.stdout + result.stderr
    assert "thư mục đã thay đổi từ lúc rà soát, không ghi gì cả" in result.stderr
    assert "địa chỉ khaintm@nghean.gov.vn (đề xuất cho Nguyễn Thị Minh Khai) đã được dùng: " \
           f"uid=khaintm,{PEOPLE_DN}" in result.stderr
    assert snapshot(server, tmp_path) == taken != before  # hantt2, annv2, annv3 not added
    assert not (tmp_path / "a").exists()


def test_a_plan_is_refused_when_the_entry_got_a_mail_meanwhile(server, tmp_path):
    lan = roster(tmp_path, "lan.csv", "Bùi Thị Lan,Văn thư,xa-ma-thanh,,")
    assert mailboxes(server, tmp_path / "r", rosters=(lan,)).returncode == 1
    ldap_add(server, tmp_path, f"dn: uid=bui.lan,{PEOPLE_DN}\nchangetype: modify\nadd: mail\n"
                               "mail: lan.bui@nghean.gov.vn\n-\n")
    result = apply(server, only(tmp_path / "r", ".plan"), tmp_path / "a", "--lang", "en")
    assert result.returncode == 4
    assert f"the entry uid=bui.lan,{PEOPLE_DN} has the address lan.bui@nghean.gov.vn now " \
           "(the plan would add lanbt@nghean.gov.vn)" in result.stderr


def test_the_officers_own_roster_address_is_proposed_when_free(server, tmp_path):
    tuan = roster(tmp_path, "tuan.csv", "Nguyễn Văn Tuấn,Phó Chủ tịch,xa-ma-thanh,"
                                        "tuannv@nghean.gov.vn,",
                  "Nguyễn Văn Tuấn,Công an viên,xa-ma-thanh,,",
                  "Ngô Văn Tuấn,Văn thư,xa-ma-thanh,,")
    assert mailboxes(server, tmp_path / "r", rosters=(tuan,)).returncode == 1
    review = json.loads(only(tmp_path / "r", ".json").read_text("utf-8"))
    assert [o["proposed_address"] for o in review["officers"]] == [
        "tuannv@nghean.gov.vn", "tuannv2@nghean.gov.vn", "tuannv3@nghean.gov.vn"]


def test_look_alike_and_invisible_characters_are_normalised_and_noted(server, tmp_path, probe):
    names = roster(tmp_path, "names.csv",
                   "\u00d0inh V\u0103n To\u00e0n,Văn thư,xa-ma-thanh,,",       # Ð U+00D0
                   "Trần Văn Bình\u200b,Chủ tịch UBND xã,xa-ma-thanh,,",          # zero-width
                   "Trần Thanh Bình,Phó Chủ tịch,xa-ma-thanh,,",   # the entry's cn ends in ZWSP
                   "Lê Văn\u00ad Hùng\ufeff,Kế toán,xa-ma-thanh,,")              # soft hyphen, BOM
    result = mailboxes(server, tmp_path / "r", rosters=(names,))
    assert result.returncode == 1, result.stderr
    review = json.loads(only(tmp_path / "r", ".json").read_text("utf-8"))
    assert outcomes(review) == {
        ("Đinh Văn Toàn", "Văn thư"): ("missing", None, "toandv@nghean.gov.vn"),
        ("Trần Văn Bình", "Chủ tịch UBND xã"): ("found", "binhtv@nghean.gov.vn", None),
        ("Trần Thanh Bình", "Phó Chủ tịch"): ("found", "binhtt@nghean.gov.vn", None),
        ("Lê Văn Hùng", "Kế toán"): ("missing", None, "hunglv@nghean.gov.vn")}
    toan = review["officers"][0]
    assert toan["full_name"] == "\u0110inh Văn Toàn" and toan["corrections"] == [
        "full_name: thay / replaced Ð U+00D0 LATIN CAPITAL LETTER ETH → Đ U+0110 LATIN CAPITAL "
        "LETTER D WITH STROKE"]
    assert "corrections" not in review["officers"][2]  # nothing to correct in the roster
    out = result.stdout
    assert f"Tên đã được chuẩn hóa, cần sửa trong danh sách: Trần Văn Bình ({names}:3): " \
           "full_name: bỏ ký tự ẩn / removed invisible U+200B ZERO WIDTH SPACE" in out
    assert "U+00AD SOFT HYPHEN" in out and "U+FEFF ZERO WIDTH NO-BREAK SPACE" in out
    assert f"Tên đã được chuẩn hóa, cần sửa trong danh sách: Đinh Văn Toàn ({names}:2)" in \
        only(tmp_path / "r", ".plan.txt").read_text("utf-8")
    imported = probe("import", str(tmp_path / "r"), "--store", str(tmp_path / "s.sqlite"))
    assert imported.returncode == 0, imported.stderr  # the store takes the noted corrections
    assert "đã nhập / imported 1," in imported.stdout


def test_two_units_reviewed_in_sequence_propose_different_addresses(server, tmp_path):
    tien_thanh = roster(tmp_path, "tien_thanh.csv", "Nguyễn Thị Thanh Hà,Kế toán,xa-tien-thanh,,")
    assert mailboxes(server, tmp_path / "ma", "--unit", "xa-ma-thanh").returncode == 1
    assert mailboxes(server, tmp_path / "tien", rosters=(tien_thanh,)).returncode == 1
    first = outcomes(json.loads(only(tmp_path / "ma", ".json").read_text("utf-8")))
    second = outcomes(json.loads(only(tmp_path / "tien", ".json").read_text("utf-8")))
    assert first[("Ngô Thị Thúy Hà", "Tài chính - Kế toán")][2] == "hantt2@nghean.gov.vn"
    assert second[("Nguyễn Thị Thanh Hà", "Kế toán")][2] == "hantt3@nghean.gov.vn"
    # the same unit reviewed again keeps its officers' proposals (no hantt4)
    assert mailboxes(server, tmp_path / "ma2", "--unit", "xa-ma-thanh").returncode == 1
    assert outcomes(json.loads(only(tmp_path / "ma2", ".json").read_text("utf-8"))) == first
    for folder in ("ma", "tien"):  # both plans apply: no "already exists"
        result = apply(server, only(tmp_path / folder, ".plan"), tmp_path / f"a-{folder}")
        assert result.returncode == 0, result.stderr
    assert people_with(server, tmp_path, "uid: hantt3\n")
    # applied: a new review of another unit numbers past them
    new = roster(tmp_path, "new.csv", "Nguyễn Thị Thúy Hà,Văn thư,xa-tien-thanh,,")
    assert mailboxes(server, tmp_path / "new", rosters=(new,)).returncode == 1
    assert outcomes(json.loads(only(tmp_path / "new", ".json").read_text("utf-8")))[
        ("Nguyễn Thị Thúy Hà", "Văn thư")][2] == "hantt4@nghean.gov.vn"


def test_the_locked_line_shows_the_directorys_mailbox(server, tmp_path):
    mai = roster(tmp_path, "mai.csv", "Lê Thị Mai,Địa chính - Xây dựng,xa-ma-thanh,"
                                      "le.mai@nghean.gov.vn,")
    result = mailboxes(server, tmp_path / "r", rosters=(mai,))
    assert "Hòm thư bị khóa: Lê Thị Mai (Địa chính - Xây dựng), mailt@nghean.gov.vn " \
           "[shadowExpire: 19000]" in result.stdout


def test_an_xlsx_without_officers_and_a_ca_file_that_is_not_pem_are_bad_input(server,
                                                                              tmp_path):
    import openpyxl

    book = openpyxl.Workbook()
    book.active.append(["Họ và tên", "Chức vụ", "Đơn vị"])
    empty = tmp_path / "empty.xlsx"
    book.save(empty)
    result = mailboxes(server, tmp_path / "r", rosters=(empty,))
    assert result.returncode == 2, result.stderr
    assert "None" not in result.stderr
    assert f"{empty}: danh sách không có cán bộ nào / the rosters list no officer" \
        in result.stderr
    not_pem = tmp_path / "ca.der"
    not_pem.write_bytes(b"\x30\x82\x01\x0a not a certificate")
    bad_ca = mailboxes(server, tmp_path / "r", "--ca-file", str(not_pem), ca=False)
    assert bad_ca.returncode == 2, bad_ca.stderr
    assert f"{not_pem}: --ca-file: expected CA certificate(s) in PEM format" in bad_ca.stderr
    assert not (tmp_path / "r").exists()


def test_the_server_refuses_a_mail_added_meanwhile_between_check_and_write(server, tmp_path):
    """The modify carries an LDAP assertion (no mail yet): slapd itself refuses it if the entry
    was given a mail after the plan was checked."""
    from egov_probe.mailboxes.config import load_config
    from egov_probe.mailboxes.credentials import Secret
    from egov_probe.mailboxes.directory import DirectoryAddress, TlsSettings, open_directory

    writer = open_directory(DirectoryAddress.parse(server.url), TlsSettings(str(server.ca_file)),
                            WRITER_DN, Secret(PASSWORDS["writer"]), load_config().directory,
                            write=True)
    try:
        dn = f"uid=bui.lan,{PEOPLE_DN}"
        ldap_add(server, tmp_path, f"dn: {dn}\nchangetype: modify\nadd: mail\n"
                                   "mail: lan.bui@nghean.gov.vn\n-\n")
        assert not writer.add_mail(dn, "lanbt@nghean.gov.vn")
        assert "assertionFailed" in writer.last_error
        assert writer.read(dn).values("mail") == ("lan.bui@nghean.gov.vn",)
        ldap_add(server, tmp_path, f"dn: {dn}\nchangetype: modify\ndelete: mail\n-\n")
        assert writer.add_mail(dn, "lanbt@nghean.gov.vn")  # without a mail, it is added
        assert writer.read(dn).values("mail") == ("lanbt@nghean.gov.vn",)
    finally:
        writer.close()


def test_a_disabled_entry_without_mail_is_disabled_not_given_a_second_entry(server, tmp_path):
    khoa = roster(tmp_path, "khoa.csv", "Hồ Văn Khoa,Văn hóa,xa-ma-thanh,,")
    ldap_add(server, tmp_path, f"dn: uid=ho.khoa,{PEOPLE_DN}\nchangetype: add\n"
                               "objectClass: inetOrgPerson\nuid: ho.khoa\n"
                               "cn:: " + base64.b64encode("Hồ Văn Khoa".encode()).decode() +
                               "\nsn: Ho\nou: xa-ma-thanh\n")
    ldap_add(server, tmp_path, f"dn: uid=ho.khoa,{PEOPLE_DN}\nchangetype: modify\n"
                               "add: objectClass\nobjectClass: shadowAccount\n-\n"
                               "add: shadowExpire\nshadowExpire: 100\n-\n")
    result = mailboxes(server, tmp_path / "r", rosters=(khoa,))
    assert result.returncode == 1, result.stderr
    review = json.loads(only(tmp_path / "r", ".json").read_text("utf-8"))
    assert outcomes(review) == {("Hồ Văn Khoa", "Văn hóa"): ("disabled", None, None)}
    assert "Hòm thư bị khóa: Hồ Văn Khoa (Văn hóa), — [shadowExpire: 100]" in result.stdout
    assert json.loads(only(tmp_path / "r", ".plan").read_text("utf-8"))["changes"] == []


def test_proposals_can_be_held_in_the_directory_instead_of_the_store(server, tmp_path):
    ldap_add(server, tmp_path, "dn: ou=reserved,dc=nghean,dc=gov,dc=vn\nchangetype: add\n"
                               "objectClass: organizationalUnit\nou: reserved\n")
    tien_thanh = roster(tmp_path, "tien_thanh.csv", "Nguyễn Thị Thanh Hà,Kế toán,xa-tien-thanh,,")
    held = ("--reserve-in", "directory", "--write-bind-dn", WRITER_DN)
    env = {"EGOV_LDAP_WRITE_PASSWORD": PASSWORDS["writer"]}
    # two machines, each with a store of its own: the directory alone keeps them apart
    first = mailboxes(server, tmp_path / "ma", "--unit", "xa-ma-thanh", *held, "--store",
                      str(tmp_path / "one.sqlite"), env=env)
    assert first.returncode == 1, first.stderr
    second = mailboxes(server, tmp_path / "tien", *held, "--store", str(tmp_path / "two.sqlite"),
                       rosters=(tien_thanh,), env=env)
    assert second.returncode == 1, second.stderr
    assert outcomes(json.loads(only(tmp_path / "tien", ".json").read_text("utf-8")))[
        ("Nguyễn Thị Thanh Hà", "Kế toán")][2] == "hantt3@nghean.gov.vn"
    reserved = people_with(server, tmp_path, "objectClass: account\n")
    assert sorted(reserved) == sorted(f"dn: uid={local},ou=reserved,dc=nghean,dc=gov,dc=vn"
                                      for local in ("khaintm", "hantt2", "annv2", "annv3",
                                                    "hantt3"))
    assert not list(tmp_path.glob("*.sqlite"))  # the stores were never used
    for folder in ("ma", "tien"):
        result = apply(server, only(tmp_path / folder, ".plan"), tmp_path / f"a-{folder}")
        assert result.returncode == 0, result.stderr
    assert people_with(server, tmp_path, "objectClass: account\n") == []  # applied: released
    assert len(people_with(server, tmp_path, "uid: hantt3\n")) == 1


def test_holding_proposals_in_the_directory_needs_the_write_account(server, tmp_path):
    result = mailboxes(server, tmp_path / "r", "--reserve-in", "directory")
    assert result.returncode == 2 and "--reserve-in directory needs --write-bind-dn" \
        in result.stderr


def test_a_plan_is_refused_when_the_officer_was_given_an_entry_meanwhile(server, tmp_path):
    khai = roster(tmp_path, "khai.csv", "Nguyễn Thị Minh Khai,Văn hóa - Xã hội,xa-ma-thanh,,")
    assert mailboxes(server, tmp_path / "r", rosters=(khai,)).returncode == 1
    ldap_add(server, tmp_path, f"dn: uid=khai.ntm,{PEOPLE_DN}\nchangetype: add\n"
                               "objectClass: inetOrgPerson\nuid: khai.ntm\ncn:: "
                               + base64.b64encode("Nguyễn Thị Minh Khai".encode()).decode()
                               + "\nsn: Nguyen\nou: xa-ma-thanh\nmail: khai.ntm@nghean.gov.vn\n")
    result = apply(server, only(tmp_path / "r", ".plan"), tmp_path / "a")
    assert result.returncode == 4
    assert f"Nguyễn Thị Minh Khai đã có mục uid=khai.ntm,{PEOPLE_DN} trong thư mục từ sau lần " \
           "rà soát" in result.stderr
    assert people_with(server, tmp_path, "uid: khaintm\n") == []  # no second mailbox


def test_a_plan_is_refused_when_its_entry_changed_or_went_meanwhile(server, tmp_path):
    lan = roster(tmp_path, "lan.csv", "Bùi Thị Lan,Văn thư,xa-ma-thanh,,")
    assert mailboxes(server, tmp_path / "r", rosters=(lan,)).returncode == 1
    plan, dn = only(tmp_path / "r", ".plan"), f"uid=bui.lan,{PEOPLE_DN}"
    ldap_add(server, tmp_path, f"dn: {dn}\nchangetype: modify\nreplace: ou\nou: xa-tien-thanh\n-\n")
    moved = apply(server, plan, tmp_path / "a")
    assert moved.returncode == 4 and f"mục {dn} đã thay đổi từ lúc rà soát (ou)" in moved.stderr
    ldap_add(server, tmp_path, f"dn: {dn}\nchangetype: delete\n")
    gone = apply(server, plan, tmp_path / "a")
    assert gone.returncode == 4 and f"mục {dn} không còn trong thư mục" in gone.stderr
    assert people_with(server, tmp_path, "cn: Bùi Thị Lan\n") == []  # nothing was added
