"""``egov-probe mailboxes`` against a real OpenLDAP server (slapd) started by the tests.

The test directory (tests/fixtures/rosters/directory_people.ldif) holds present, disabled and
mismatched accounts and a namesake in another unit; slapd requires TLS for every operation.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import time
from importlib import resources
from pathlib import Path

import pytest

from tests.ldap_server import READER_DN, WRITER_DN, LdapServer
from tests.servers.ca import TestCA

pytestmark = pytest.mark.services

ROSTERS = Path(__file__).parent / "fixtures" / "rosters"
ROSTER = ROSTERS / "ma_thanh.csv"
PEOPLE = (ROSTERS / "directory_people.ldif").read_text(encoding="utf-8")
PASSWORDS = {"admin": "Adm1n-Qu4n-Tri!", "reader": "R3ad-Chi-Doc-7Qx", "writer": "Wr1te-Ghi-9Zp"}
EXPECTED = {  # (name, position) → (outcome, directory address, proposed address)
    ("Trần Văn Bình", "Chủ tịch UBND xã"): ("found", "binhtv@nghean.gov.vn", None),
    ("Nguyễn Thị Thu Hà", "Văn phòng - Thống kê"): ("found", "hantt@nghean.gov.vn", None),
    ("Đặng Đình Đức", "Tư pháp - Hộ tịch"): ("disabled", "ducdd@nghean.gov.vn", None),
    ("Lê Thị Mai", "Địa chính - Xây dựng"): ("disabled", "mailt@nghean.gov.vn", None),
    ("Hoàng Văn Nam", "Phó Chủ tịch UBND xã"): ("address_mismatch", "namhv@nghean.gov.vn", None),
    ("Nguyễn Thị Minh Khai", "Văn hóa - Xã hội"): ("missing", None, "khaintm@nghean.gov.vn"),
    # hantt is taken in the directory, annv by the namesake of Xã Tiến Thành
    ("Ngô Thị Thúy Hà", "Tài chính - Kế toán"): ("missing", None, "hantt2@nghean.gov.vn"),
    ("Nguyễn Văn An", "Chỉ huy trưởng Quân sự"): ("missing", None, "annv2@nghean.gov.vn"),
    ("Nguyễn Văn An", "Trưởng Công an xã"): ("missing", None, "annv3@nghean.gov.vn"),
}


def _start(tmp_path_factory, name: str) -> LdapServer:
    return LdapServer.start(tmp_path_factory.mktemp(name), PEOPLE, PASSWORDS)


@pytest.fixture(autouse=True)
def own_store(tmp_path_factory, monkeypatch):
    """Each test records its proposed addresses in a store of its own (not ./egov-store.sqlite)."""
    store = tmp_path_factory.mktemp("store") / "reservations.sqlite"
    monkeypatch.setenv("EGOV_STORE", str(store))
    return store


@pytest.fixture(scope="module")
def directory(tmp_path_factory):
    server = _start(tmp_path_factory, "slapd")
    yield server
    server.stop()


def mailboxes(server: LdapServer, out: Path, *extra: str, env: dict | None = None,
              url: str | None = None, ca: bool = True, rosters: tuple = (ROSTER,)
              ) -> subprocess.CompletedProcess:
    """A review of ``rosters`` (by default the Xã Mã Thành roster) with the read account."""
    return run_mailboxes(*map(str, rosters), "--directory", url or server.url, "--bind-dn",
                         READER_DN, "--out", str(out), *extra,
                         *(["--ca-file", str(server.ca_file)] if ca else []), env=env)


def apply(server: LdapServer, plan: Path, out: Path, *extra: str,
          env: dict | None = None) -> subprocess.CompletedProcess:
    """``--apply PLAN`` with the write account."""
    return run_mailboxes("--apply", str(plan), "--write-bind-dn", WRITER_DN, "--ca-file",
                         str(server.ca_file), "--out", str(out), *extra,
                         env={"EGOV_LDAP_WRITE_PASSWORD": PASSWORDS["writer"], **(env or {})})


def run_mailboxes(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "PYTHONIOENCODING": "utf-8",
                "EGOV_LDAP_BIND_PASSWORD": PASSWORDS["reader"], **(env or {})}
    return subprocess.run([sys.executable, "-m", "egov_probe", "mailboxes", *args],
                          capture_output=True, text=True, encoding="utf-8", env=full_env,
                          stdin=subprocess.DEVNULL, timeout=120, check=False)


def only(folder: Path, suffix: str) -> Path:
    [path] = sorted(folder.glob(f"*{suffix}"))
    return path


def outcomes(review: dict) -> dict:
    return {(o["full_name"], o["position"]): (o["outcome"], o["directory_address"],
                                              o["proposed_address"]) for o in review["officers"]}


def test_one_command_tells_who_lacks_a_mailbox_and_proposes_addresses(directory, tmp_path):
    result = mailboxes(directory, tmp_path)
    assert result.returncode == 1, result.stderr  # some officers lack a working mailbox
    review = json.loads(only(tmp_path, ".json").read_text(encoding="utf-8"))
    assert outcomes(review) == EXPECTED
    assert review["summary"] == {"officers": 9, "working_mailbox": 3}
    assert review["directory"] == directory.url and review["unit_id"] == "xa-ma-thanh"
    out = result.stdout
    assert "Xã Mã Thành (xa-ma-thanh): 3/9 cán bộ có hòm thư công vụ đang hoạt động" in out
    assert "Chưa có hòm thư: Nguyễn Thị Minh Khai (Văn hóa - Xã hội), đề xuất " \
           "khaintm@nghean.gov.vn" in out
    assert "Hòm thư bị khóa: Lê Thị Mai (Địa chính - Xây dựng), mailt@nghean.gov.vn " \
           "[shadowExpire: 19000]" in out
    assert "Địa chỉ không khớp: Hoàng Văn Nam" in out


def test_the_review_document_has_the_fixed_format(directory, tmp_path):
    mailboxes(directory, tmp_path)
    review = json.loads(only(tmp_path, ".json").read_text(encoding="utf-8"))
    assert list(review) == ["schema_version", "kind", "review_id", "unit_id", "generated_at",
                            "directory", "officers", "summary"]
    assert review["schema_version"] == "1.0" and review["kind"] == "mailbox_review"
    assert len(review["review_id"]) == 32 and int(review["review_id"], 16) >= 0
    assert review["generated_at"][-1] == "Z" and len(review["generated_at"]) == 27
    schema_file = resources.files("egov_probe.schema").joinpath("mailbox_review.schema.json")
    if not schema_file.is_file():
        pytest.skip("the store's mailbox_review.schema.json is not published yet")
    import jsonschema

    jsonschema.Draft202012Validator(json.loads(schema_file.read_text("utf-8"))).validate(review)


def test_the_ldif_and_csv_list_the_missing_officers_for_the_mail_administrators(directory,
                                                                                 tmp_path):
    mailboxes(directory, tmp_path, "--lang", "en")
    ldif = only(tmp_path, ".ldif").read_text(encoding="ascii")
    assert ldif.count("changetype: add") == 4
    assert "dn: uid=hantt2,ou=people,dc=nghean,dc=gov,dc=vn\n" in ldif
    with only(tmp_path, ".csv").open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["full_name"], r["proposed_address"]) for r in rows] == [
        ("Nguyễn Thị Minh Khai", "khaintm@nghean.gov.vn"),
        ("Ngô Thị Thúy Hà", "hantt2@nghean.gov.vn"),
        ("Nguyễn Văn An", "annv2@nghean.gov.vn"), ("Nguyễn Văn An", "annv3@nghean.gov.vn")]
    assert rows[0]["phone"] == "0911000111" and rows[0]["unit_name"] == "Xã Mã Thành"


def test_the_ldif_is_accepted_by_openldap_as_written(tmp_path_factory, tmp_path):
    server = _start(tmp_path_factory, "slapd-ldif")
    try:
        mailboxes(server, tmp_path)
        env = {**os.environ, "LDAPTLS_CACERT": str(server.ca_file)}
        loaded = subprocess.run(["ldapmodify", "-ZZ", "-x", "-H", server.url, "-D", WRITER_DN,
                                 "-y", str(_secret_file(tmp_path, PASSWORDS["writer"])),
                                 "-f", str(only(tmp_path, ".ldif"))],
                                capture_output=True, text=True, env=env, check=False)
        assert loaded.returncode == 0, loaded.stderr
        again = tmp_path / "again"
        assert mailboxes(server, again).returncode == 1  # two are still disabled
        review = json.loads(only(again, ".json").read_text(encoding="utf-8"))
        assert review["summary"] == {"officers": 9, "working_mailbox": 7}
        khai = next(o for o in review["officers"] if o["full_name"] == "Nguyễn Thị Minh Khai")
        assert (khai["outcome"], khai["directory_address"]) == ("found", "khaintm@nghean.gov.vn")
    finally:
        server.stop()


def _secret_file(folder: Path, value: str) -> Path:
    path = folder / "pw"
    path.write_text(value, encoding="utf-8")  # ldapmodify -y reads it verbatim, no newline
    path.chmod(0o600)
    return path


def test_apply_adds_the_entries_with_the_write_account(tmp_path_factory, tmp_path):
    server = _start(tmp_path_factory, "slapd-apply")
    try:
        assert mailboxes(server, tmp_path / "review").returncode == 1
        plan = only(tmp_path / "review", ".plan")
        result = apply(server, plan, tmp_path)
        assert result.returncode == 0, result.stderr
        assert f"Đã áp dụng kế hoạch {plan}: tạo 4 mục mới, thêm địa chỉ vào 0 mục có sẵn, 0 " \
               "thay đổi đã có từ trước." in result.stdout
        review = json.loads(only(tmp_path, ".json").read_text(encoding="utf-8"))
        assert review["summary"] == {"officers": 9, "working_mailbox": 7}
        assert {o["directory_address"] for o in review["officers"]} >= {
            "khaintm@nghean.gov.vn", "hantt2@nghean.gov.vn", "annv2@nghean.gov.vn",
            "annv3@nghean.gov.vn"}
        env = {**os.environ, "LDAPTLS_CACERT": str(server.ca_file)}
        entry = subprocess.run(["ldapsearch", "-ZZ", "-x", "-LLL", "-o", "ldif-wrap=no", "-H",
                                server.url, "-D", READER_DN, "-y",
                                str(_secret_file(tmp_path, PASSWORDS["reader"])), "-b",
                                "uid=annv3,ou=people,dc=nghean,dc=gov,dc=vn", "title", "ou"],
                               capture_output=True, text=True, env=env, check=True).stdout
        assert "ou: xa-ma-thanh" in entry and "title:: " in entry  # "Trưởng Công an xã"
    finally:
        server.stop()


def test_nothing_is_written_without_apply_and_the_read_account_cannot_write(directory,
                                                                            tmp_path):
    before = mailboxes(directory, tmp_path / "1")
    assert before.returncode == 1
    plan = only(tmp_path / "1", ".plan")
    refused = apply(directory, plan, tmp_path / "2", "--write-bind-dn", READER_DN,
                    env={"EGOV_LDAP_WRITE_PASSWORD": PASSWORDS["reader"]})
    assert refused.returncode == 3
    assert "cannot add uid=khaintm,ou=people,dc=nghean,dc=gov,dc=vn: insufficientAccessRights" \
        in refused.stderr and "after 0 entries added" in refused.stderr
    assert only(tmp_path / "1", ".ldif").read_text().count("changetype: add") == 4  # kept
    after = mailboxes(directory, tmp_path / "3")
    review = json.loads(only(tmp_path / "3", ".json").read_text(encoding="utf-8"))
    assert review["summary"]["working_mailbox"] == 3  # the directory is unchanged


def test_apply_needs_a_write_account_and_no_rosters(directory, tmp_path):
    mailboxes(directory, tmp_path)
    plan = only(tmp_path, ".plan")
    result = run_mailboxes("--apply", str(plan), "--out", str(tmp_path / "a"))
    assert result.returncode == 2 and "--apply needs --write-bind-dn" in result.stderr
    mixed = run_mailboxes(str(ROSTER), "--apply", str(plan), "--write-bind-dn", WRITER_DN)
    assert mixed.returncode == 2 and "--apply takes a reviewed plan, not rosters" in mixed.stderr
    elsewhere = apply(directory, plan, tmp_path / "c", "--directory", directory.ldaps_url)
    assert elsewhere.returncode == 2 and f"the plan was reviewed against {directory.url}, not " \
        f"{directory.ldaps_url}" in elsewhere.stderr
    review = only(tmp_path, ".json")  # a review document is not a plan
    wrong = apply(directory, review, tmp_path / "b")
    assert wrong.returncode == 2 and "expected a plan written by `egov-probe mailboxes`" \
        in wrong.stderr and str(review) in wrong.stderr
    assert not any((tmp_path / name).exists() for name in "abc")


def test_ldaps_works_like_starttls(directory, tmp_path):
    result = mailboxes(directory, tmp_path, url=directory.ldaps_url)
    assert result.returncode == 1, result.stderr
    review = json.loads(only(tmp_path, ".json").read_text(encoding="utf-8"))
    assert outcomes(review) == EXPECTED and review["directory"] == directory.ldaps_url


@pytest.mark.parametrize("url_kind", ["starttls", "ldaps"])
def test_a_certificate_from_an_untrusted_ca_is_refused(directory, tmp_path, url_kind):
    other = TestCA(tmp_path / "other", common_name="Another CA").root
    url = directory.url if url_kind == "starttls" else directory.ldaps_url
    result = mailboxes(directory, tmp_path / "out", "--ca-file", str(other.cert), url=url,
                       ca=False)
    assert result.returncode == 3
    assert "certificate" in result.stderr and "--ca-file" in result.stderr
    assert not (tmp_path / "out").exists()  # no review of a directory we could not trust


def test_without_a_ca_file_the_system_trust_store_is_used_and_refuses_the_test_ca(directory,
                                                                                   tmp_path):
    result = mailboxes(directory, tmp_path / "out", ca=False)
    assert result.returncode == 3 and "certificate" in result.stderr


def test_a_certificate_for_another_host_is_refused(tmp_path_factory, tmp_path):
    """The certificate must name the host we connect to: 127.0.0.1 is not 'localhost'."""
    server = _start(tmp_path_factory, "slapd-name")
    try:
        result = mailboxes(server, tmp_path, url=f"ldap://localhost:{server.port}")
        assert result.returncode == 3 and "doesn't match" in result.stderr
    finally:
        server.stop()


def test_turning_verification_off_is_explicit_and_loud(directory, tmp_path):
    result = mailboxes(directory, tmp_path, "--no-verify-tls", ca=False)
    assert result.returncode == 1
    assert "CẢNH BÁO: KHÔNG kiểm tra chứng chỉ TLS" in result.stderr
    assert "WARNING: the directory's TLS certificate is NOT verified" in result.stderr


def test_a_plain_ldap_client_is_refused_by_the_test_directory(directory, tmp_path):
    """The directory requires TLS, so the reviews above prove the tool encrypts."""
    plain = subprocess.run(["ldapsearch", "-x", "-H", directory.url, "-D", READER_DN, "-y",
                            str(_secret_file(tmp_path, PASSWORDS["reader"])), "-b",
                            "dc=nghean,dc=gov,dc=vn", "(uid=hantt)"],
                           capture_output=True, text=True, check=False)
    assert plain.returncode != 0 and "confidentiality required" in plain.stderr.lower()


def test_a_wrong_password_is_refused_without_showing_it(directory, tmp_path):
    result = mailboxes(directory, tmp_path, env={"EGOV_LDAP_BIND_PASSWORD": "Sai-Mat-Khau-42"})
    assert result.returncode == 3 and "invalidCredentials" in result.stderr
    assert "Sai-Mat-Khau-42" not in result.stdout + result.stderr


def test_no_password_and_no_terminal_is_an_input_error(directory, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "EGOV_LDAP_BIND_PASSWORD"}
    result = subprocess.run([sys.executable, "-m", "egov_probe", "mailboxes", str(ROSTER),
                             "--directory", directory.url, "--bind-dn", READER_DN,
                             "--out", str(tmp_path)], capture_output=True, text=True, env=env,
                            stdin=subprocess.DEVNULL, check=False)
    assert result.returncode == 2 and "EGOV_LDAP_BIND_PASSWORD" in result.stderr


def _vault(tmp_path: Path) -> tuple[Path, Path]:
    from ansible.parsing.vault import VaultLib, VaultSecret

    vault_password = b"Vault-Pass-Tinh-Nghe-An"
    secrets = f"ldap_bind_password: {PASSWORDS['reader']}\n"
    vault = VaultLib([("default", VaultSecret(vault_password))])
    vault_file = tmp_path / "ldap_secrets.yml"
    vault_file.write_bytes(vault.encrypt(secrets.encode("utf-8")))
    password_file = tmp_path / "vault_pass"
    password_file.write_bytes(vault_password + b"\n")
    password_file.chmod(0o600)
    return vault_file, password_file


def test_the_password_from_ansible_vault_never_shows_in_outputs_logs_or_process_list(
        tmp_path_factory, tmp_path):
    server = _start(tmp_path_factory, "slapd-secret")
    vault_file, password_file = _vault(tmp_path)
    out, log = tmp_path / "out", tmp_path / "ldap-debug.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("EGOV_LDAP")}
    env.update(PYTHONIOENCODING="utf-8", ANSIBLE_VAULT_PASSWORD_FILE=str(password_file))
    args = [sys.executable, "-m", "egov_probe", "mailboxes", str(ROSTER), "--directory",
            server.url, "--bind-dn", READER_DN, "--ca-file", str(server.ca_file),
            "--vault-file", str(vault_file), "--out", str(out), "--debug-log", str(log),
            "--store", str(tmp_path / "store.sqlite")]
    secret = PASSWORDS["reader"].encode()
    server.pause()  # the tool connects, then waits for slapd: look at it while it runs
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                               stdin=subprocess.DEVNULL)
    try:
        _wait_for_connection(process.pid, server.port)
        seen = _process_list()
        assert any(str(vault_file).encode() in line for line in seen)  # the listing is real
        assert not [line for line in seen if secret in line]
        assert secret not in Path(f"/proc/{process.pid}/environ").read_bytes()
    finally:
        server.resume()
        stdout, stderr = process.communicate(timeout=60)
        server.stop()
    assert process.returncode == 1, stderr.decode()
    review = json.loads(only(out, ".json").read_text(encoding="utf-8"))
    assert review["summary"]["working_mailbox"] == 3  # the vault's password did bind
    assert b"bind" in log.read_bytes().lower()  # the library did log the bind...
    files = [p for p in [*out.iterdir(), *tmp_path.glob("store.sqlite*")] if p.is_file()]
    assert any(p.suffix == ".plan" for p in files) and any(p.suffix == ".sqlite" for p in files)
    for blob in [stdout, stderr, log.read_bytes()] + [p.read_bytes() for p in files]:
        assert secret not in blob                   # ...but never the password


def _wait_for_connection(pid: int, port: int) -> None:
    """Until ``pid`` holds a TCP connection to ``port`` (slapd is paused: it stays open)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = subprocess.run(["ss", "-Htnp", "state", "established", "dport", f"= :{port}"],
                               capture_output=True, text=True, check=False).stdout
        if f"pid={pid}," in found:
            return
        time.sleep(0.05)
    raise AssertionError("the tool never connected")


def _process_list() -> list[bytes]:
    lines = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            lines.append(Path(f"/proc/{pid}/cmdline").read_bytes())
        except OSError:  # the process has ended meanwhile
            continue
    ps = subprocess.run(["ps", "-eo", "pid,args", "ww"], capture_output=True, check=True).stdout
    return lines + ps.splitlines()


def test_the_password_can_be_typed_at_a_prompt_and_is_not_echoed(directory, tmp_path):
    import pty
    import select

    env = {k: v for k, v in os.environ.items() if not k.startswith("EGOV_LDAP")}
    args = [sys.executable, "-m", "egov_probe", "mailboxes", str(ROSTER), "--directory",
            directory.url, "--bind-dn", READER_DN, "--ca-file", str(directory.ca_file),
            "--out", str(tmp_path)]
    pid, terminal = pty.fork()
    if pid == 0:  # the child: the tool in a terminal, as an official would run it
        try:
            os.execve(sys.executable, args, env)
        finally:
            os._exit(127)
    seen, typed = b"", False
    while True:
        ready, _, _ = select.select([terminal], [], [], 60)
        if not ready:
            break
        try:
            chunk = os.read(terminal, 4096)
        except OSError:  # EIO: the child has ended
            break
        if not chunk:
            break
        seen += chunk
        if not typed and b"password (" in seen:
            os.write(terminal, PASSWORDS["reader"].encode() + b"\n")
            typed = True
    _, status = os.waitpid(pid, 0)
    os.close(terminal)
    assert typed and os.waitstatus_to_exitcode(status) == 1, seen.decode(errors="replace")
    assert PASSWORDS["reader"].encode() not in seen
    assert "3/9 cán bộ" in seen.decode("utf-8", errors="replace")


def test_several_units_in_one_roster_give_one_review_each(directory, tmp_path):
    roster = tmp_path / "two_units.csv"
    roster.write_text(ROSTER.read_text(encoding="utf-8")
                      + "Nguyễn Văn An,Công chức Văn phòng,xa-tien-thanh,,\n"
                      + "Nguyễn Thị Thanh Hà,Kế toán,Xã Tiến Thành,,\n", encoding="utf-8")

    def run(out: Path, *extra: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "egov_probe", "mailboxes", str(roster), "--directory",
             directory.url, "--bind-dn", READER_DN, "--ca-file", str(directory.ca_file),
             "--out", str(out), *extra], capture_output=True, text=True, encoding="utf-8",
            check=False, env={**os.environ, "EGOV_LDAP_BIND_PASSWORD": PASSWORDS["reader"]})

    result = run(tmp_path / "all")
    assert result.returncode == 1, result.stderr
    reviews = {r["unit_id"]: r for r in (json.loads(p.read_text(encoding="utf-8"))
                                         for p in (tmp_path / "all").glob("*.json"))}
    assert set(reviews) == {"xa-ma-thanh", "xa-tien-thanh"}
    assert outcomes(reviews["xa-tien-thanh"]) == {
        ("Nguyễn Văn An", "Công chức Văn phòng"): ("found", "annv@nghean.gov.vn", None),
        # hantt, hantt2 (proposed in Xã Mã Thành a moment before) are taken
        ("Nguyễn Thị Thanh Hà", "Kế toán"): ("missing", None, "hantt3@nghean.gov.vn")}
    assert outcomes(reviews["xa-ma-thanh"]) == EXPECTED
    assert run(tmp_path / "one", "--unit", "xa-tien-thanh").returncode == 1
    [one] = (tmp_path / "one").glob("*.json")
    assert json.loads(one.read_text(encoding="utf-8"))["summary"] == {"officers": 2,
                                                                      "working_mailbox": 1}
    none = mailboxes(directory, tmp_path / "none", "--unit", "xa-tien-thanh")
    assert none.returncode == 2  # ma_thanh.csv has no officer of Xã Tiến Thành
    assert "no officer of xa-tien-thanh" in none.stderr


def test_the_matrix_counts_the_units_officers(directory, tmp_path, probe):
    pytest.importorskip("egov_probe.store")
    assert mailboxes(directory, tmp_path / "reviews").returncode == 1
    store = str(tmp_path / "store.sqlite")
    imported = probe("import", str(tmp_path / "reviews"), "--store", store)
    assert imported.returncode == 0, imported.stderr
    matrix = probe("matrix", "--store", store, "--format", "json", "--out", str(tmp_path / "m"))
    assert matrix.returncode == 0, matrix.stderr
    [path] = (tmp_path / "m").glob("*.json")
    [row] = [r for r in json.loads(path.read_text(encoding="utf-8"))["rows"]
             if r["unit_id"] == "xa-ma-thanh"]
    assert row["mailbox"] == "3/9"


def test_a_units_own_xlsx_roster_without_a_unit_column(directory, tmp_path):
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "CBCC"
    sheet.append(["DANH SÁCH CÁN BỘ, CÔNG CHỨC UBND XÃ MÃ THÀNH"])
    with ROSTER.open(encoding="utf-8", newline="") as handle:
        for row in csv.reader(handle):
            sheet.append([cell or None for cell in row[:2] + row[3:]])  # no Đơn vị column
    path = tmp_path / "ma_thanh.xlsx"
    book.save(path)
    result = subprocess.run(
        [sys.executable, "-m", "egov_probe", "mailboxes", str(path), "--unit", "xa-ma-thanh",
         "--directory", directory.url, "--bind-dn", READER_DN, "--ca-file",
         str(directory.ca_file), "--out", str(tmp_path / "out")], capture_output=True,
        text=True, encoding="utf-8", check=False,
        env={**os.environ, "EGOV_LDAP_BIND_PASSWORD": PASSWORDS["reader"]})
    assert result.returncode == 1, result.stderr
    assert outcomes(json.loads(only(tmp_path / "out", ".json").read_text("utf-8"))) == EXPECTED


def test_a_directory_without_starttls_never_gets_the_password(tmp_path_factory, tmp_path):
    """slapd without TLS: StartTLS fails, so the tool stops before the bind. Every byte the
    tool sends goes through a recorder; a plain client through the same recorder shows the
    password would be seen there, and that this directory would take it in clear."""
    from tests.servers.wire import WireRecorder

    server = LdapServer.start(tmp_path_factory.mktemp("slapd-notls"), PEOPLE, PASSWORDS,
                              tls=False)
    secret = PASSWORDS["reader"].encode()
    try:
        with WireRecorder("127.0.0.1", server.port) as wire:
            url = f"ldap://127.0.0.1:{wire.port}"
            result = mailboxes(server, tmp_path / "out", url=url)
            tool_sent = bytes(wire.sent)
            plain = subprocess.run(["ldapsearch", "-x", "-H", url, "-D", READER_DN, "-y",
                                    str(_secret_file(tmp_path, PASSWORDS["reader"])), "-b",
                                    "dc=nghean,dc=gov,dc=vn", "(uid=hantt)", "mail"],
                                   capture_output=True, text=True, check=False)
            everything = bytes(wire.sent)
    finally:
        server.stop()
    assert result.returncode == 3, result.stderr
    assert "startTLS failed" in result.stderr and "mật khẩu KHÔNG được gửi" in result.stderr
    assert b"1.3.6.1.4.1.1466.20037" in tool_sent  # the tool did ask for StartTLS...
    assert secret not in tool_sent                  # ...and never sent the password
    assert READER_DN.encode() not in tool_sent      # no bind request at all
    assert not (tmp_path / "out").exists()
    assert plain.returncode == 0 and "hantt@nghean.gov.vn" in plain.stdout, plain.stderr
    assert secret in everything[len(tool_sent):]    # the recorder does see a clear password


@pytest.mark.parametrize("start_tls", ["returns_false", "does_nothing"])
def test_the_bind_waits_for_tls_whatever_start_tls_says(tmp_path_factory, monkeypatch,
                                                        start_tls):
    """ldap3's start_tls() may answer False without raising, and a True is not proof: against
    a real slapd without TLS, start_tls() is replaced (the one part not real here) by one that
    says False, or True without doing anything. The tool must not bind either way: the bytes it
    sends hold no password."""
    import ldap3

    from egov_probe.core.secret import Secret
    from egov_probe.mailboxes.config import load_config
    from egov_probe.mailboxes.directory import (DirectoryAddress, DirectoryError, TlsSettings,
                                                open_directory)
    from tests.servers.wire import WireRecorder

    server = LdapServer.start(tmp_path_factory.mktemp("slapd-notls"), PEOPLE, PASSWORDS,
                              tls=False)
    said = start_tls == "does_nothing"
    monkeypatch.setattr(ldap3.Connection, "start_tls", lambda self, *a, **k: said)
    try:
        with WireRecorder("127.0.0.1", server.port) as wire:
            address = DirectoryAddress.parse(f"ldap://127.0.0.1:{wire.port}")
            with pytest.raises(DirectoryError, match="the password was NOT sent"):
                open_directory(address, TlsSettings(ca_file=str(server.ca_file)), READER_DN,
                               Secret(PASSWORDS["reader"]), load_config().directory)
            sent = bytes(wire.sent)
    finally:
        server.stop()
    assert PASSWORDS["reader"].encode() not in sent and READER_DN.encode() not in sent
