"""The database server (role egov_postgresql)."""

from __future__ import annotations

import ipaddress
import subprocess

import pytest

from checks.catalog import CONVERGE, check
from checks.hostinfo import age_hours, host_address
from checks.netprobe import tcp_state

DB = ("egov_db_servers",)
BACKUP_DIR = "/var/backups/egov-postgresql"


def psql(host, sql: str) -> str:
    return host.check_output(f"runuser -u postgres -- psql -XAtc {sql!r}")


@check("server.postgresql.scram", ("Mật khẩu CSDL dùng scram-sha-256",
                                   "PostgreSQL uses scram-sha-256 only"), CONVERGE, DB)
def test_scram_only(host, record):
    encryption = psql(host, "SHOW password_encryption")
    methods = set(psql(host, "SELECT DISTINCT auth_method FROM pg_hba_file_rules").split())
    record.cite("command", "SHOW password_encryption", encryption)
    record.cite("command", "pg_hba_file_rules.auth_method", " ".join(sorted(methods)))
    record.observed = {"password_encryption": encryption, "methods": sorted(methods)}
    record.expected = {"password_encryption": "scram-sha-256", "methods": "peer, scram-sha-256"}
    assert encryption == "scram-sha-256"
    assert methods <= {"peer", "scram-sha-256"}


def _allowed_networks(host) -> list[ipaddress.IPv4Network]:
    rows = psql(host, "SELECT address || '/' || netmask FROM pg_hba_file_rules "
                      "WHERE address IS NOT NULL AND type LIKE 'host%'")
    return [ipaddress.ip_network(r, strict=False) for r in rows.split() if ":" not in r]


def _my_source_address(target: str) -> ipaddress.IPv4Address:
    out = subprocess.run(["ip", "-4", "route", "get", target], capture_output=True, text=True,
                         check=True).stdout.split()
    return ipaddress.ip_address(out[out.index("src") + 1])


@check("server.postgresql.unreachable_outside",
       ("CSDL không truy cập được từ ngoài danh sách cho phép",
        "PostgreSQL is unreachable from outside its allow list"),
       ("Giới hạn listen_addresses, pg_hba.conf và tường lửa cho máy chủ ứng dụng.",
        "Restrict listen_addresses, pg_hba.conf and the firewall to the application servers."), DB)
def test_unreachable_from_outside(host, record):
    address = host_address(host)
    me = _my_source_address(address)
    if any(me in net for net in _allowed_networks(host)):
        pytest.skip(f"this machine ({me}) is in the allow list")
    state = tcp_state(address, 5432)
    record.cite("network", f"{me} -> {address}:5432", state)
    record.observed, record.expected = state, "refused or filtered"
    assert state in ("refused", "filtered")


@check("server.postgresql.listen", ("CSDL chỉ nghe trên địa chỉ cần thiết",
                                    "PostgreSQL listens only where the application servers are"),
       CONVERGE, DB)
def test_listen_addresses(host, record):
    listen = psql(host, "SHOW listen_addresses")
    record.cite("command", "SHOW listen_addresses", listen)
    record.observed, record.expected = listen, "localhost[,<own address>], never *"
    assert "*" not in listen and "0.0.0.0" not in listen


@check("server.postgresql.backup_restorable", ("Có bản sao lưu mới và khôi phục được",
                                               "A recent backup is present and restores"),
       ("Chạy: systemctl start egov-pg-backup.service và xem journalctl -u egov-pg-backup.",
        "Run systemctl start egov-pg-backup.service and read journalctl -u egov-pg-backup."), DB)
def test_backup_present_and_restorable(host, record):
    newest = host.check_output(f"find {BACKUP_DIR} -name '*.dump' -printf '%T@ %p\\n' "
                               "| sort -n | tail -n 1")
    record.cite("file", BACKUP_DIR, newest)
    assert newest, "no dump found"
    age = age_hours(float(newest.split()[0]))
    # runuser keeps root's TMPDIR (libpam-tmpdir makes it /tmp/user/0, closed to postgres).
    restore = host.run("runuser -u postgres -- env -u TMPDIR -u TMP "
                       "/usr/local/sbin/egov-pg-restore-check")
    report = host.file(f"{BACKUP_DIR}/last-restore-check.ok")
    record.cite("command", "egov-pg-restore-check", restore.rc)
    record.cite("file", report.path, report.content_string if report.exists else None)
    record.observed = {"latest_dump_age_hours": round(age, 1), "restore_rc": restore.rc}
    record.expected = {"latest_dump_age_hours": "<= 26", "restore_rc": 0}
    assert restore.rc == 0, restore.stderr
    assert report.exists
    if age > 26:
        record.warn("the latest dump is older than a day: is the timer running?")
