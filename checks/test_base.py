"""Baseline of every provincial server (role egov_base)."""

from __future__ import annotations

import json

from checks.catalog import CONVERGE, check
from checks.hostinfo import host_groups, module_ports

BASE_SERVICES = ("ssh", "chrony", "nftables", "fail2ban", "systemd-journald")
GROUP_SERVICES = {
    "egov_db_servers": ("postgresql@15-main", "egov-pg-backup.timer"),
    "egov_proxy_servers": ("nginx",),
    "egov_mail_relay_servers": ("postfix",),
    "egov_collector_servers": ("egov-collector",),
}
MODERN_CIPHERS = {"chacha20-poly1305@openssh.com", "aes256-gcm@openssh.com",
                  "aes128-gcm@openssh.com", "aes256-ctr", "aes192-ctr", "aes128-ctr"}


def expected_services(host) -> list[str]:
    groups = host_groups(host)
    services = list(BASE_SERVICES)
    for group, names in GROUP_SERVICES.items():
        services += list(names) if group in groups else []
    if "egov_app_servers" in groups:
        services += [f"egov-{name}" for name in module_ports(host)]
    return services


def expected_public_ports(host) -> set[int]:
    groups, ports = host_groups(host), {22}
    if "egov_db_servers" in groups:
        ports.add(5432)
    if "egov_proxy_servers" in groups:
        ports |= {80, 443}
    if "egov_app_servers" in groups and "egov_proxy_servers" not in groups:
        ports |= set(module_ports(host).values())
    return ports


@check("server.systemd.services", ("Các dịch vụ cần thiết đang chạy và tự khởi động",
                                   "Required services running and enabled"), CONVERGE)
def test_services_running_and_enabled(host, record):
    states = {name: {"running": host.service(name).is_running,
                     "enabled": host.service(name).is_enabled} for name in expected_services(host)}
    record.observed = states
    record.expected = "every service running and enabled"
    record.cite("command", "systemctl is-active / is-enabled", json.dumps(states))
    assert all(s["running"] and s["enabled"] for s in states.values()), states


@check("server.network.listeners", ("Chỉ mở các cổng cần thiết ra ngoài",
                                    "Only the expected ports listen beyond loopback"),
       ("Tắt dịch vụ thừa hoặc cấu hình cho nó chỉ nghe trên 127.0.0.1.",
        "Stop the extra service or bind it to 127.0.0.1 only."))
def test_only_expected_ports_listen(host, record):
    out = record.cite("command", "ss -Htln", host.check_output("ss -Htln"))
    public = set()
    for line in out.splitlines():
        local = line.split()[3]
        address, port = local.rsplit(":", 1)
        if not address.startswith(("127.", "[::1]", "[::ffff:127.")):
            public.add(int(port))
    record.observed, record.expected = sorted(public), sorted(expected_public_ports(host))
    assert public <= expected_public_ports(host)


@check("server.sshd.effective_config", ("Cấu hình SSH an toàn (sshd -T)",
                                        "sshd's effective configuration is hardened"), CONVERGE)
def test_sshd_effective_config(host, record):
    out = record.cite("command", "sshd -T", host.check_output("sshd -T"))
    conf = dict(line.split(" ", 1) for line in out.splitlines() if " " in line)
    wanted = {"permitrootlogin": ("without-password", "prohibit-password", "no"),
              "passwordauthentication": ("no",), "kbdinteractiveauthentication": ("no",),
              "permitemptypasswords": ("no",), "x11forwarding": ("no",)}
    record.observed = {k: conf.get(k) for k in [*wanted, "ciphers", "macs", "kexalgorithms"]}
    record.expected = {**{k: list(v) for k, v in wanted.items()}, "ciphers": "modern AEAD/CTR only",
                       "macs": "encrypt-then-MAC only", "kexalgorithms": "no SHA-1"}
    assert all(conf.get(k) in v for k, v in wanted.items())
    assert set(conf["ciphers"].split(",")) <= MODERN_CIPHERS
    assert all(mac.endswith("-etm@openssh.com") for mac in conf["macs"].split(","))
    assert not any("sha1" in kex for kex in conf["kexalgorithms"].split(","))


def _input_chain(ruleset: dict) -> tuple[dict, list[dict]]:
    items = ruleset["nftables"]
    chain = next(i["chain"] for i in items if "chain" in i and i["chain"]["table"] == "egov_filter"
                 and i["chain"]["name"] == "input")
    rules = [i["rule"] for i in items if "rule" in i and i["rule"]["table"] == "egov_filter"
             and i["rule"]["chain"] == "input"]
    return chain, rules


def _accepted_ports(rules: list[dict]) -> set[int]:
    ports = set()
    for rule in rules:
        for expr in rule["expr"]:
            match = expr.get("match", {})
            if match.get("left", {}).get("payload", {}).get("field") == "dport":
                ports.add(int(match["right"]))
    return ports


@check("server.firewall.rules", ("Tường lửa chặn mặc định, chỉ mở cổng đã khai báo",
                                 "Firewall denies by default and opens only declared ports"),
       CONVERGE)
def test_firewall_default_deny(host, record):
    out = host.check_output("nft -j list ruleset")
    record.cite("command", "nft -j list ruleset", out[:4000])
    chain, rules = _input_chain(json.loads(out))
    opened = _accepted_ports(rules)
    record.observed = {"policy": chain.get("policy"), "ports": sorted(opened)}
    record.expected = {"policy": "drop", "ports": sorted(expected_public_ports(host))}
    assert chain.get("policy") == "drop" and chain.get("hook") == "input"
    assert opened <= expected_public_ports(host)


@check("server.system.locale_time", ("Múi giờ Asia/Ho_Chi_Minh, có locale tiếng Việt UTF-8",
                                     "Time zone Asia/Ho_Chi_Minh, Vietnamese UTF-8 locale"),
       CONVERGE)
def test_locale_and_timezone(host, record):
    zone = host.check_output("timedatectl show -p Timezone --value")
    locales = host.check_output("locale -a").split()
    record.cite("command", "timedatectl show -p Timezone --value", zone)
    record.observed = {"timezone": zone, "locales": locales}
    record.expected = {"timezone": "Asia/Ho_Chi_Minh", "locales": ["vi_VN.utf8", "en_US.utf8"]}
    assert zone == "Asia/Ho_Chi_Minh"
    assert {"vi_VN.utf8", "en_US.utf8"} <= set(locales)


@check("server.journald.persistent", ("Nhật ký hệ thống được lưu bền vững",
                                      "The journal is kept on disk"), CONVERGE)
def test_journal_persistent(host, record):
    out = host.check_output("journalctl --header -n 0 2>/dev/null | grep -m1 '^File path' || true")
    record.cite("command", "journalctl --header", out)
    record.observed, record.expected = out, "a journal file under /var/log/journal"
    assert "/var/log/journal/" in out


@check("server.fail2ban.sshd", ("fail2ban bảo vệ SSH", "fail2ban guards sshd"), CONVERGE)
def test_fail2ban_sshd_jail(host, record):
    result = host.run("fail2ban-client status sshd")
    record.cite("command", "fail2ban-client status sshd", result.stdout or result.stderr)
    record.observed, record.expected = result.rc, 0
    assert result.rc == 0 and "Journal matches" in result.stdout


@check("server.apt.unattended_upgrades", ("Tự động cập nhật bản vá bảo mật",
                                          "Security updates are installed automatically"),
       CONVERGE)
def test_unattended_upgrades(host, record):
    out = host.check_output("apt-config dump APT::Periodic Unattended-Upgrade::Origins-Pattern")
    record.cite("command", "apt-config dump", out)
    record.observed = out.splitlines()
    record.expected = 'APT::Periodic::Unattended-Upgrade "1" and a security origin'
    assert 'APT::Periodic::Unattended-Upgrade "1";' in out
    assert "Debian-Security" in out
