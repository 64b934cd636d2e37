"""Judging directory entries (disabled markers from the YAML) and reading bind passwords."""

from __future__ import annotations

import datetime as dt
import io

import pytest

from egov_probe.core.errors import InputError
from egov_probe.core.secret import Secret
from egov_probe.mailboxes.config import load_config
from egov_probe.mailboxes.credentials import PasswordSource, read_password
from egov_probe.mailboxes.directory import DirectoryAddress, DirectoryEntry
from egov_probe.mailboxes.directory import NewEntry
from egov_probe.mailboxes.outputs import ldif_text
from egov_probe.mailboxes.review import disabled_marker

TODAY = dt.date(2026, 11, 28)  # 20785 days after 1970-01-01


@pytest.fixture(scope="module")
def markers():
    return load_config().disabled_markers


def entry(**attributes: str) -> DirectoryEntry:
    return DirectoryEntry("uid=x,ou=people", {k.lower(): (v,) for k, v in attributes.items()})


@pytest.mark.parametrize("attributes, expected", [
    ({"pwdAccountLockedTime": "000001010000Z"}, "pwdAccountLockedTime: 000001010000Z"),
    ({"nsAccountLock": "TRUE"}, "nsAccountLock: TRUE"),
    ({"nsAccountLock": "false"}, None),
    ({"zimbraAccountStatus": "closed"}, "zimbraAccountStatus: closed"),
    ({"zimbraAccountStatus": "locked"}, "zimbraAccountStatus: locked"),
    ({"zimbraAccountStatus": "active"}, None),
    ({"shadowExpire": "20784"}, "shadowExpire: 20784"),   # yesterday
    ({"shadowExpire": "20785"}, None),                    # expires today: still usable
    ({"shadowExpire": "-1"}, None),                       # never expires
    ({"userAccountControl": "514"}, "userAccountControl: 514"),  # AD: 512 + ACCOUNTDISABLE
    ({"userAccountControl": "512"}, None),
    ({"mail": "hantt@nghean.gov.vn"}, None),
])
def test_disabled_markers_come_from_the_yaml(markers, attributes, expected):
    assert disabled_marker(entry(**attributes), markers, TODAY) == expected


def test_attribute_names_are_matched_without_case(markers):
    found = DirectoryEntry("uid=x", {"pwdaccountlockedtime": ("20250101000000Z",)})
    assert disabled_marker(found, markers, TODAY) == "pwdAccountLockedTime: 20250101000000Z"


def test_directory_urls(tmp_path):
    assert DirectoryAddress.parse("ldap://ldap.nghean.gov.vn").url() == \
        "ldap://ldap.nghean.gov.vn:389"
    assert DirectoryAddress.parse("ldaps://u:pw@10.0.0.5/").url() == "ldaps://10.0.0.5:636"
    for bad in ("http://ldap", "ldap://", "ldap://h/dc=x", "ldapi:///"):
        with pytest.raises(ValueError):
            DirectoryAddress.parse(bad)


def test_a_secret_never_prints_itself():
    secret = Secret("Mat-Khau-1")
    assert "Mat-Khau-1" not in f"{secret} {secret!r} {[secret]}"
    assert secret.reveal() == "Mat-Khau-1"


def test_the_environment_variable_is_used_when_there_is_no_vault():
    source = PasswordSource("cn=reader", "EGOV_TEST_PW")
    assert read_password(source, {"EGOV_TEST_PW": "pw-1"}).reveal() == "pw-1"


def test_the_prompt_is_used_in_a_terminal(monkeypatch):
    monkeypatch.setattr("sys.stdin", _Tty())
    asked = []
    secret = read_password(PasswordSource("cn=reader", "EGOV_TEST_PW"), {},
                           prompt=lambda text: asked.append(text) or "typed-pw")
    assert secret.reveal() == "typed-pw" and "cn=reader" in asked[0]


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def _vault_files(tmp_path, content: bytes, vault_password: bytes = b"vault-pw"):
    from ansible.parsing.vault import VaultLib, VaultSecret

    vault = VaultLib([("default", VaultSecret(vault_password))])
    path = tmp_path / "secrets.yml"
    path.write_bytes(vault.encrypt(content))
    password_file = tmp_path / "vault-pass"
    password_file.write_bytes(b"vault-pw\n")
    return path, password_file


def test_a_whole_file_vault(tmp_path):
    path, password_file = _vault_files(tmp_path, b"ldap_bind_password: 'Doc#Chi:9'\n")
    source = PasswordSource("cn=reader", "UNUSED", path, "ldap_bind_password", password_file)
    assert read_password(source, {}).reveal() == "Doc#Chi:9"


def test_an_inline_vault_value_and_the_password_file_from_the_environment(tmp_path):
    from ansible.parsing.vault import VaultLib, VaultSecret

    encrypted = VaultLib([("default", VaultSecret(b"vault-pw"))]).encrypt(b"Inline-Pw-5")
    indented = "\n".join("  " + line for line in encrypted.decode().splitlines())
    path = tmp_path / "vars.yml"
    path.write_text(f"ldap_server: ldap.nghean.gov.vn\nldap_bind_password: !vault |\n{indented}\n")
    (tmp_path / "vp").write_bytes(b"vault-pw")
    source = PasswordSource("cn=reader", "UNUSED", path, "ldap_bind_password")
    environ = {"ANSIBLE_VAULT_PASSWORD_FILE": str(tmp_path / "vp")}
    assert read_password(source, environ).reveal() == "Inline-Pw-5"


def test_a_wrong_vault_password_or_key_is_an_input_error_naming_the_file(tmp_path):
    path, password_file = _vault_files(tmp_path, b"ldap_bind_password: x\n", b"other-pw")
    source = PasswordSource("cn=reader", "UNUSED", path, "ldap_bind_password", password_file)
    with pytest.raises(InputError, match="cannot open the vault file") as caught:
        read_password(source, {})
    assert caught.value.path == str(path)
    path, password_file = _vault_files(tmp_path, b"ldap_password: x\n")
    with pytest.raises(InputError, match="no variable 'ldap_bind_password'"):
        read_password(PasswordSource("cn=reader", "UNUSED", path, "ldap_bind_password",
                                     password_file), {})


def test_ldif_encodes_vietnamese_in_base64_and_folds_long_lines():
    import base64

    long_title = "Phó Chủ tịch Ủy ban nhân dân xã phụ trách văn hóa, xã hội, giáo dục và y tế"
    text = ldif_text([NewEntry("uid=hantt,ou=people,dc=nghean,dc=gov,dc=vn", ("inetOrgPerson",),
                               {"cn": "Nguyễn Thị Thu Hà", "uid": "hantt",
                                "title": long_title})])
    assert text.startswith("version: 1\n\ndn: uid=hantt,ou=people,dc=nghean,dc=gov,dc=vn\n")
    assert "uid: hantt\n" in text
    lines = text.splitlines()
    assert all(len(line) <= 76 for line in lines)
    title = next(i for i, line in enumerate(lines) if line.startswith("title:: "))
    joined = lines[title][len("title:: "):] + "".join(l[1:] for l in lines[title + 1:]
                                                     if l.startswith(" "))
    assert base64.b64decode(joined).decode("utf-8") == long_title


def test_a_plan_file_edited_into_another_kind_of_change_is_refused(tmp_path):
    import json

    from egov_probe.mailboxes.plan import load_plan

    change = {"action": "delete_entry", "dn": "uid=x,ou=people", "address": "x@nghean.gov.vn",
              "officer": {"full_name": "Hà", "position": "Văn thư", "unit_id": "xa-ma-thanh",
                          "address": None, "phone": None, "source": "r.csv", "line": 2}}
    plan = {"schema_version": "1.0", "kind": "mailbox_plan", "plan_id": "p", "unit_id":
            "xa-ma-thanh", "directory": "ldap://127.0.0.1:389", "generated_at": "t",
            "reserved_in": "store", "changes": [change], "officers": []}
    path = tmp_path / "x.plan"
    path.write_text(json.dumps(plan), encoding="utf-8")
    with pytest.raises(InputError, match="delete_entry") as caught:
        load_plan(path)
    assert caught.value.path == str(path) and caught.value.field == "--apply"
    change["action"] = "add_mail"
    path.write_text(json.dumps(plan), encoding="utf-8")
    assert load_plan(path).changes[0].officer.full_name == "Hà"
