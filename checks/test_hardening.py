"""CIS Debian 12 Level 1 Server items of every provincial server (role egov_base), read on the
real server; expectations in checks/baseline.yml."""

from __future__ import annotations

import re
import subprocess

from checks.catalog import CONVERGE, check
from checks.expected import baseline, in_container
from checks.hostinfo import host_address


def _sshd_t(host) -> dict[str, list[str]]:
    conf: dict[str, list[str]] = {}
    for line in host.check_output("sshd -T").splitlines():
        key, _, value = line.partition(" ")
        conf.setdefault(key, []).append(value)
    return conf


@check("server.apt.security_sources", ("APT có nguồn bookworm-security và bookworm-updates",
                                       "APT knows the security and updates archives"), CONVERGE)
def test_security_and_updates_sources(host, record):
    codename = host.system_info.codename
    out = host.check_output("apt-cache policy")
    record.cite("command", "apt-cache policy", out[-3000:])
    found = {suite: f"n={suite}," in out for suite in (f"{codename}-security", f"{codename}-updates")}
    record.observed, record.expected = found, "both archives in apt's policy"
    assert all(found.values()), found
    assert "l=Debian-Security" in out


@check("server.sshd.hardening", ("SSH không chuyển tiếp, ít phiên, có cảnh báo pháp lý",
                                 "sshd: no forwarding, few sessions, legal banner"), CONVERGE)
def test_sshd_hardening(host, record):
    conf = _sshd_t(host)
    wanted = baseline()["sshd"]
    seen = {key: (conf.get(key) or [None])[0] for key in wanted}
    seen["maxsessions"] = (conf.get("maxsessions") or ["10"])[0]
    banner = host.file("/etc/issue.net")
    text = banner.content_string if banner.exists else ""
    record.cite("command", "sshd -T", str(seen))
    record.cite("file", "/etc/issue.net", text[:200])
    record.observed = {**seen, "banner_lines": len(text.splitlines())}
    record.expected = {**wanted, "maxsessions": f"<= {baseline()['sshd_max_sessions']}"}
    assert seen == {**wanted, "maxsessions": seen["maxsessions"]}, seen
    assert int(seen["maxsessions"]) <= baseline()["sshd_max_sessions"]
    assert text.strip() and not re.search(r"\\[mrsvnoOl]", text), "empty banner or OS details in it"
    assert not re.search("password", text, re.I), "the banner reads like a login prompt"


@check("server.sshd.host_keys", ("SSH chỉ đưa ra khóa máy chủ Ed25519 (hoặc RSA đủ dài)",
                                 "sshd offers only an Ed25519 (or long RSA) host key"), CONVERGE)
def test_sshd_host_keys(host, record):
    conf = _sshd_t(host)
    allowed = baseline()["ssh_host_key_types"]
    algorithms = conf.get("hostkeyalgorithms", [""])[0].split(",")
    port = conf.get("port", ["22"])[0]
    scan = subprocess.run(["ssh-keyscan", "-T", "5", "-p", port, host_address(host)],
                          capture_output=True, text=True, timeout=30, check=False).stdout
    offered = sorted({line.split()[1] for line in scan.splitlines() if not line.startswith("#")})
    record.cite("network", f"ssh-keyscan {host_address(host)}:{port}", " ".join(offered))
    record.cite("command", "sshd -T hostkey", " ".join(conf.get("hostkey", [])))
    record.observed = {"offered": offered, "hostkeyalgorithms": algorithms}
    record.expected = {"offered": allowed, "hostkeyalgorithms": baseline()["ssh_host_key_algorithms"]}
    assert offered and set(offered) <= set(allowed), offered
    assert set(algorithms) <= set(baseline()["ssh_host_key_algorithms"]), algorithms
    for path in conf.get("hostkey", []):
        if "rsa" in path:
            bits = int(host.check_output(f"ssh-keygen -lf {path}").split()[0])
            assert bits >= baseline()["ssh_rsa_min_bits"], f"{path}: {bits} bits"


def _configured_sysctls(host) -> dict[str, str]:
    """The value each key gets from the sysctl.d files, in the order systemd-sysctl reads them."""
    out = host.check_output("systemd-analyze cat-config sysctl.d 2>/dev/null || cat /etc/sysctl.d/*.conf")
    values = {}
    for line in out.splitlines():
        key, sep, value = line.partition("=")
        if sep and not line.lstrip().startswith(("#", ";")):
            values[key.strip().lstrip("-")] = value.strip()
    return values


@check("server.sysctl.hardening", ("Tham số nhân và mạng an toàn (sysctl)",
                                   "Kernel and network settings are hardened (sysctl)"), CONVERGE)
def test_sysctls(host, record):
    wanted = baseline()["sysctls"]
    configured = _configured_sysctls(host)
    live, not_settable = {}, []
    for key in wanted:
        path = "/proc/sys/" + key.replace(".", "/")
        result = host.run(f"cat {path} && test -w {path}")
        live[key] = " ".join(result.stdout.split()) or None
        if result.rc != 0 and live[key] is not None:
            not_settable.append(key)
    record.cite("command", "systemd-analyze cat-config sysctl.d", str({k: configured.get(k) for k in wanted}))
    record.cite("file", "/proc/sys", str(live))
    record.observed = {"configured": {k: configured.get(k) for k in wanted}, "live": live}
    record.expected = wanted
    wrong_config = {k: configured.get(k) for k, v in wanted.items() if configured.get(k) != v}
    wrong_live = {k: live[k] for k, v in wanted.items()
                  if live[k] is not None and live[k] != v and k not in not_settable}
    assert not wrong_config, f"sysctl.d: {wrong_config}"
    assert not wrong_live, f"live: {wrong_live}"
    differs = [k for k in not_settable if live[k] != wanted[k]]
    if differs:
        record.warn(f"set by the host, not this server (a container): {', '.join(differs)}")


@check("server.coredumps.disabled", ("Không ghi core dump", "Core dumps are disabled"), CONVERGE)
def test_core_dumps_disabled(host, record):
    limit = host.check_output("ulimit -Hc")
    coredump = host.check_output("cat /etc/systemd/coredump.conf /etc/systemd/coredump.conf.d/*.conf "
                                 "2>/dev/null || true")
    storage = re.findall(r"^Storage=(\S+)", coredump, re.M)
    record.cite("command", "ulimit -Hc (an SSH session)", limit)
    record.cite("file", "/etc/systemd/coredump.conf{,.d/*.conf}", storage)
    record.observed = {"hard_core_limit": limit, "coredump_storage": storage[-1:] or None}
    record.expected = {"hard_core_limit": "0", "coredump_storage": ["none"]}
    assert limit == "0" and storage[-1:] == ["none"]


@check("server.pam.password_hashing", ("Mật khẩu băm bằng yescrypt với chi phí cao",
                                       "Passwords are hashed with yescrypt at a raised cost"),
       CONVERGE)
def test_password_hashing(host, record):
    login_defs = dict(re.findall(r"^\s*(ENCRYPT_METHOD|YESCRYPT_COST_FACTOR)\s+(\S+)",
                                 host.file("/etc/login.defs").content_string, re.M))
    unix = [line for line in host.file("/etc/pam.d/common-password").content_string.splitlines()
            if "pam_unix.so" in line and not line.lstrip().startswith("#")]
    rounds = re.findall(r"\brounds=(\d+)", " ".join(unix))
    record.cite("file", "/etc/login.defs", login_defs)
    record.cite("file", "/etc/pam.d/common-password", unix)
    least = baseline()["yescrypt_min_cost"]
    record.observed = {"login.defs": login_defs, "pam_unix": unix}
    record.expected = f"yescrypt, cost >= {least}, in login.defs and pam_unix"
    assert login_defs.get("ENCRYPT_METHOD") == "YESCRYPT"
    assert int(login_defs.get("YESCRYPT_COST_FACTOR", 0)) >= least
    assert unix and "yescrypt" in unix[0] and rounds and int(rounds[0]) >= least


@check("server.packages.hardening", ("Có gói bảo mật cần thiết, không có dịch vụ thừa",
                                     "Hardening packages present, unneeded ones absent"), CONVERGE)
def test_packages(host, record):
    states = {}
    for name in baseline()["packages_present"] + baseline()["packages_absent"]:
        states[name] = host.package(name).is_installed
    record.cite("command", "dpkg-query -W", states)
    record.observed = states
    record.expected = {"installed": baseline()["packages_present"],
                       "absent": baseline()["packages_absent"]}
    assert all(states[n] for n in baseline()["packages_present"]), states
    assert not any(states[n] for n in baseline()["packages_absent"]), states


@check("server.cron.permissions", ("Thư mục cron chỉ root truy cập",
                                   "Cron files and directories are root's only"), CONVERGE)
def test_cron_permissions(host, record):
    seen = {}
    for path in baseline()["cron_modes"]:
        f = host.file(path)
        seen[path] = f"{f.user}:{f.group} {oct(f.mode)}" if f.exists else None
    record.cite("file", "/etc/cron*", seen)
    record.observed = seen
    record.expected = {p: f"root:root {m}" for p, m in baseline()["cron_modes"].items()}
    assert seen == record.expected, seen


@check("server.fail2ban.jail_local", ("fail2ban dùng jail.local riêng",
                                      "fail2ban reads its own jail.local"), CONVERGE)
def test_fail2ban_jail_local(host, record):
    local = host.file("/etc/fail2ban/jail.local")
    dump = host.run("fail2ban-client -d")
    record.cite("file", local.path, local.exists)
    record.observed = {"jail.local": local.exists, "sshd_jail": "['add', 'sshd'" in dump.stdout}
    record.expected = {"jail.local": True, "sshd_jail": True}
    assert local.exists and dump.rc == 0 and "['add', 'sshd'" in dump.stdout


@check("server.auditd.rules", ("auditd ghi đăng nhập, dùng quyền quản trị, thay đổi /etc/egov",
                               "auditd records logins, privilege use and /etc/egov changes"),
       ("Chạy lại playbook; trong container, auditd thuộc về máy chủ vật lý.",
        "Run the playbook again; in a container, auditd belongs to the host."))
def test_audit_rules(host, record):
    keys = baseline()["audit_keys"]
    written = host.check_output("cat /etc/audit/rules.d/*.rules 2>/dev/null || true")
    written_keys = set(re.findall(r"-k (\S+)", written))
    record.cite("file", "/etc/audit/rules.d/*.rules", " ".join(sorted(written_keys)))
    missing_written = sorted(set(keys) - written_keys)
    if in_container(host):
        record.observed = {"container": True, "rule_keys": sorted(written_keys)}
        record.expected = {"rule_keys": keys}
        assert not missing_written, missing_written
        record.warn("a container: the host's auditd owns the kernel audit log; rules are written "
                    "for a VM, not loaded here")
        return
    loaded = host.check_output("auditctl -l")
    loaded_keys = set(re.findall(r"(?:-k |key=)(\S+)", loaded))
    record.cite("command", "auditctl -l", loaded[:2000])
    record.observed = {"running": host.service("auditd").is_running, "loaded": sorted(loaded_keys)}
    record.expected = {"running": True, "loaded": keys}
    assert host.service("auditd").is_running
    assert set(keys) <= loaded_keys, sorted(set(keys) - loaded_keys)
