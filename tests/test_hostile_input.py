"""The worst files of a season of field work: each gets one clear line, never a traceback.

Every case runs the real ``egov-probe`` command and checks the exit code, that the message
names the file (and the key where there is one), and that no traceback reaches the user.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from egov_probe.judge.policy import default_policy_path
from tests.test_store_factory import make_report, write_report

BOMB = "\n".join(["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"] +
                 [f"{c}: &{c} [{', '.join([f'*{p}'] * 9)}]"
                  for p, c in zip("abcdefgh", "bcdefghi")]) + "\n"


def _policy_text(old: str = "", new: str = "") -> str:
    text = default_policy_path().read_text(encoding="utf-8")
    if old:
        assert old in text, old
        text = text.replace(old, new, 1)
    return text


def _clear(result: subprocess.CompletedProcess, *phrases: str) -> None:
    """Exit 2, one line on stderr holding every phrase, no traceback."""
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert "internal error" not in result.stderr
    for phrase in phrases:
        assert phrase in result.stderr, (phrase, result.stderr)


def test_an_alias_bomb_is_refused_by_every_reader_at_once(probe, tmp_path):
    bomb = tmp_path / "bomb.yml"
    bomb.write_text(BOMB, encoding="utf-8")
    for args in (["policy-check", str(bomb)], ["units", "-i", str(bomb)],
                 ["audit", "--policy", str(bomb), "--out", str(tmp_path / "r")],
                 ["matrix", "-i", str(bomb), "--store", str(tmp_path / "s.sqlite"),
                  "--out", str(tmp_path / "m")]):
        result = probe(*args, timeout=30)
        _clear(result, f"{bomb}:", "YAML aliases")


@pytest.mark.parametrize("name,text,phrases", [
    ("mapping-key.yml", "? {a: 1}\n: v\n", ["mapping-key.yml:1:", "a key must be text"]),
    ("deep.yml", "x: " + "[" * 5000 + "]" * 5000 + "\n", ["deep.yml:"]),
    ("self.yml", "x: &a [*a]\n", ["self.yml:1:", "nested deeper"]),
    ("number.yml", "policy_id: x\nversion: " + "7" * 5000 + "\n",
     ["number.yml:2: version: a number of 5000 characters"]),
    ("latin1.yml", None, ["latin1.yml", "not UTF-8"]),
])
def test_hostile_yaml_names_the_file_and_line(probe, tmp_path, name, text, phrases):
    path = tmp_path / name
    if text is None:
        path.write_bytes("policy_id: Mã Thành\n".encode("latin-1"))
    else:
        path.write_text(text, encoding="utf-8")
    result = probe("policy-check", str(path))
    _clear(result, *phrases)
    assert "7777777777" not in result.stderr  # the huge number is never echoed


@pytest.mark.parametrize("old,new,phrase", [
    ("step_timeout_s: 5", "step_timeout_s: .inf", "network.step_timeout_s: expected a finite"),
    ("step_timeout_s: 5", "step_timeout_s: 1.0e+300", "network.step_timeout_s: expected a number"),
    ('resolvers: []', 'resolvers: ["999.1.1.1"]', "network.resolvers.0: expected an IP address"),
    ("ram_mb: {warn_below: 4096, fail_below: 2048}", "ram_mb: {warn_below: 1024, fail_below: 2048}",
     "system.ram_mb.warn_below: warn_below (1024) must be >= fail_below (2048)"),
    ("url: https://qlvb.nghean.gov.vn/",
     "url: https://qlvb.nghean.gov.vn:0/", "port 0 is not a port"),
    ("url: https://qlvb.nghean.gov.vn/",
     "url: https://qlvb.nghean.gov.vn:70000/", "Port out of range"),
    ("signing_service_port: 8987", "signing_service_port: 70000",
     "signature.signing_service_port: expected a number from 1 to 65535"),
])
def test_policy_check_applies_the_rules_types_cannot_say(probe, tmp_path, old, new, phrase):
    path = tmp_path / "policy.yml"
    path.write_text(_policy_text(old, new), encoding="utf-8")
    _clear(probe("policy-check", str(path)), f"{path}:", phrase)


def test_two_endpoints_with_one_id_are_refused(probe, tmp_path):
    text = _policy_text()
    start = text.index("    - id: ")
    end = text.index("    - id: ", start + 1)
    path = tmp_path / "policy.yml"
    path.write_text(text[:end] + text[start:end] + text[end:], encoding="utf-8")
    _clear(probe("policy-check", str(path)), f"{path}:", "is used twice")


def test_a_policy_folder_and_a_bom_policy(probe, tmp_path):
    _clear(probe("policy-check", str(tmp_path)), str(tmp_path), "found a folder")
    _clear(probe("audit", "--policy", str(tmp_path), "--out", str(tmp_path / "r")),
           "found a folder")
    bom = tmp_path / "bom.yml"
    bom.write_bytes(b"\xef\xbb\xbf" + _policy_text().encode("utf-8"))
    assert probe("policy-check", str(bom)).returncode == 0


def _report_variants(tmp_path: Path) -> dict[str, tuple[bytes, str]]:
    """Reports that validate and import must both refuse: name: (bytes, phrase)."""
    def mutated(**changes) -> bytes:
        data = make_report().to_dict()
        for key, value in changes.items():
            data[key] = value
        return json.dumps(data).encode()

    dup = make_report().to_dict()
    dup["checks"].append(dict(dup["checks"][0]))
    deep = b'{"schema_version": "1.0", "report_id": ' + b"[" * 1000 + b"]" * 1000 + b"}"
    huge = b'{"schema_version": "1.0", "report_id": ' + b"9" * 5000 + b"}"
    surrogate = mutated(probe_version="X").replace(b'"X"', b'"\\ud800"')
    return {
        "finished-impossible.json": (mutated(finished_at="2015-09-31T08:00:00Z"),
                                     "finished_at: 2015-09-31T08:00:00Z is not a real date"),
        "year-zero.json": (mutated(started_at="0000-01-01T00:00:00Z",
                                   finished_at="0000-01-01T00:00:00Z"), "not a real date"),
        "finished-first.json": (mutated(finished_at="2015-11-10T02:00:00Z"),
                                "is before started_at"),
        "future.json": (mutated(started_at="2999-01-01T00:00:00Z",
                                finished_at="2999-01-01T00:00:00Z"), "in the future"),
        "unknown-unit.json": (json.dumps(make_report(unit_id="xa-ma-thahn").to_dict()).encode(),
                              "did you mean: xa-ma-thanh"),
        "duplicate-check.json": (json.dumps(dup).encode(), "appears twice"),
        "schema-one.json": (mutated(schema_version=1), 'expected the text "1.0" (in quotes)'),
        "deep.json": (deep, "nested deeper than"),
        "huge-number.json": (huge, "a number of 5000 characters"),
        "surrogate.json": (surrogate, "lone surrogate"),
    }


def test_validate_and_import_agree_on_every_hostile_report(probe, tmp_path):
    usb = tmp_path / "usb"
    usb.mkdir()
    variants = _report_variants(tmp_path)
    for name, (content, _) in variants.items():
        (usb / name).write_bytes(content)
    good = write_report(make_report(), usb)
    bom = usb / "bom.json"
    bom.write_bytes(b"\xef\xbb\xbf" + json.dumps(make_report(hostname="ws9").to_dict()).encode())
    for name, (_, phrase) in variants.items():
        result = probe("validate", str(usb / name))
        _clear(result, f"{usb / name}", phrase)
        assert "9999999999" not in result.stderr
    assert probe("validate", str(good), str(bom)).returncode == 0
    result = probe("import", str(usb), "--store", str(tmp_path / "s.sqlite"))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "imported 2" in result.stdout
    for name in variants:
        assert f"CÁCH LY / QUARANTINED {usb / name}:" in result.stderr, name


def test_dates_beyond_the_calendar_and_unknown_files(probe, tmp_path):
    store = str(tmp_path / "s.sqlite")
    for value in ("9999-12-31", "0001-01-01"):
        _clear(probe("matrix", "--store", store, "--as-of", value, "--out", str(tmp_path / "m")),
               "--as-of: expected a date between 2000 and 2999")
    _clear(probe("validate", str(tmp_path / "absent.json")), "absent.json", "not found")
    _clear(probe("validate", str(tmp_path)), "found a folder")


def test_debug_shows_the_traceback_and_the_line_stays(probe, tmp_path):
    result = probe("policy-check", str(tmp_path / "absent.yml"), "--debug")
    assert result.returncode == 2 and "Traceback" in result.stderr
    assert "policy file not found" in result.stderr


@pytest.fixture
def small_stick(tmp_path):
    """A 64 KB tmpfs (a nearly full USB stick), mounted for the test and unmounted after."""
    mount = tmp_path / "stick"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=True)


def test_a_full_stick_under_out_is_one_line_and_no_partial_file(probe, small_stick):
    fd = os.open(small_stick / "filler.bin", os.O_WRONLY | os.O_CREAT)
    try:  # fill the stick
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError:
        pass
    finally:
        os.close(fd)
    out = small_stick / "reports"
    result = probe("evidence", "--out", str(out / "e.json"))
    _clear(result, "không ghi được / cannot write", str(out), "No space left on device")
    result = probe("audit", "--unit", "xa-ma-thanh", "--out", str(out))
    _clear(result, "cannot write", "No space left on device")
    assert not any(p.suffix == ".part" for p in small_stick.rglob("*"))


def test_a_read_only_stick_under_out(probe, small_stick):
    subprocess.run(["mount", "-o", "remount,ro", str(small_stick)], check=True)
    result = probe("audit", "--unit", "xa-ma-thanh", "--out", str(small_stick / "r"))
    _clear(result, "cannot write", "Read-only file system")


def test_a_port_that_is_not_ssh_is_unreachable_without_a_traceback(probe, tmp_path):
    """paramiko logs a traceback when the banner is not SSH's; the user sees the host's line."""
    import socket
    import threading

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    port = server.getsockname()[1]
    stop = threading.Event()

    def answer_http() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            with conn:
                conn.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n" * 40)
                time.sleep(0.2)

    thread = threading.Thread(target=answer_http, daemon=True)
    thread.start()
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(
        "all:\n  children:\n    unit_xa_ma_thanh:\n      vars:\n        unit_id: xa-ma-thanh\n"
        "        unit_name_vi: Xã Mã Thành\n        unit_kind: xa\n        unit_phase: 1\n"
        "        unit_planned_trainees: 1\n      hosts:\n        ws1:\n"
        f"          ansible_host: 127.0.0.1\n          ansible_port: {port}\n"
        "          ansible_user: root\n", encoding="utf-8")
    try:
        result = probe("fleet", "-i", str(inventory), "--out", str(tmp_path / "r"),
                       "--retries", "1",
                       "--connect-timeout", "3", "--insecure-skip-host-key-check",
                       env={"HOME": str(tmp_path)}, timeout=120)
    finally:
        stop.set()
        thread.join()
        server.close()
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    assert result.returncode in (1, 2), result.stdout + result.stderr
    assert "ws1" in result.stdout + result.stderr


def test_file_names_in_another_encoding_are_imported_and_printed(probe, tmp_path):
    """An old stick's names in a legacy code page: the report is stored, the name escaped."""
    usb = tmp_path / "usb"
    usb.mkdir()
    good = os.path.join(os.fsencode(usb), b"m\xe1y-1.json")
    with open(good, "wb") as handle:
        handle.write(json.dumps(make_report().to_dict()).encode())
    with open(os.path.join(os.fsencode(usb), b"h\xf4ng.json"), "wb") as handle:
        handle.write(b'{"report_id": ')
    result = probe("import", str(usb), "--store", str(tmp_path / "s.sqlite"))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "imported 1" in result.stdout and "quarantined 1" in result.stdout
    assert "h\\xf4ng.json: line 1: not JSON" in result.stderr
    validated = probe("validate", os.fsdecode(good))
    assert validated.returncode == 0 and "OK" in validated.stdout
