"""The collector (role egov_collector): egov-probe serve on loopback, sandboxed, behind nginx."""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

from checks.catalog import CONVERGE, check
from checks.expected import baseline
from checks.hostinfo import host_address, host_vars
from checks.netprobe import http_request

COLLECTOR = ("egov_collector_servers",)
LOOPBACK = ("127.", "[::1]", "[::ffff:127.")
PROXY_ERRORS = (502, 503, 504)  # nginx could not reach the collector
NGINX_PAGE = "<center>nginx</center>"  # an answer nginx made itself (no location, no upstream)


def expected() -> dict:
    return baseline()["collector"]


def show(host, record, *props: str) -> dict[str, str]:
    unit = expected()["unit"]
    out = host.check_output(f"systemctl show {unit} -p {','.join(props)}")
    record.cite("command", f"systemctl show {unit} -p {','.join(props)}", out)
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def service_pids(host) -> list[str]:
    """The service's main process and its children (workers, if any)."""
    main = host.check_output(f"systemctl show {expected()['unit']} -p MainPID --value").strip()
    if main in ("", "0"):
        return []
    children = host.run(f"pgrep -P {main}").stdout.split()
    return [main, *children]


@check("server.collector.service", ("Dịch vụ thu thập báo cáo đang chạy, tự khởi động, không "
                                    "chạy bằng root", "The collector runs, is enabled, not as root"),
       ("Xem nhật ký: journalctl -u egov-collector; kiểm tra kết nối tới CSDL của kho.",
        "Read journalctl -u egov-collector; check the connection to the store's database."),
       COLLECTOR)
def test_collector_running(host, record):
    unit = expected()["unit"]
    props = show(host, record, "ActiveState", "UnitFileState", "User")
    record.observed = props
    record.expected = {"ActiveState": "active", "UnitFileState": "enabled",
                       "User": expected()["user"]}
    assert props.get("ActiveState") == "active", f"{unit} is {props.get('ActiveState')}"
    assert props.get("UnitFileState") == "enabled"
    assert props.get("User") == expected()["user"]


@check("server.collector.loopback_only", ("Dịch vụ thu thập chỉ nghe trên loopback (sau nginx)",
                                          "The collector listens on loopback only, behind nginx"),
       ("Chạy egov-probe serve với --listen 127.0.0.1:CỔNG; nginx (egov_proxy) lo TLS.",
        "Run egov-probe serve with --listen 127.0.0.1:PORT; nginx (egov_proxy) does TLS."),
       COLLECTOR)
def test_collector_loopback_only(host, record):
    pids = service_pids(host)
    out = record.cite("command", "ss -Htlnp", host.check_output("ss -Htlnp"))
    sockets = sorted({line.split()[3] for line in out.splitlines()
                      if any(f"pid={pid}," in line for pid in pids)})
    record.observed, record.expected = sockets, "only 127.0.0.1:<port> or [::1]:<port>"
    assert pids, "the collector has no running process"
    assert sockets, "the collector listens nowhere"
    assert all(s.startswith(LOOPBACK) for s in sockets), sockets


@check("server.collector.sandbox", ("Dịch vụ thu thập chạy cô lập như các phân hệ",
                                    "The collector is sandboxed like the core's modules"),
       CONVERGE, COLLECTOR)
def test_collector_sandboxed(host, record):
    wanted = expected()["sandbox"]
    props = show(host, record, *wanted)
    record.observed, record.expected = props, wanted
    assert {k: props.get(k) for k in wanted} == wanted


@check("server.collector.secrets_private", ("Mật khẩu kho và khóa phiên chỉ root đọc được, không "
                                            "nằm trên dòng lệnh",
                                            "The store's password and session secret are root-only, "
                                            "never on a command line"), CONVERGE, COLLECTOR)
def test_collector_secrets_private(host, record):
    env_file = host.file(expected()["env_file"])
    mode = f"{env_file.user}:{env_file.group} {oct(env_file.mode)}" if env_file.exists else None
    record.cite("file", env_file.path, mode)
    files = show(host, record, "EnvironmentFiles").get("EnvironmentFiles", "")
    lines = {pid: host.run(f"tr '\\0' ' ' < /proc/{pid}/cmdline").stdout
             for pid in service_pids(host)}
    record.cite("command", "/proc/<pid>/cmdline", json.dumps(lines))
    passwords = [url for line in lines.values() for url in re.findall(r"\S+://\S+", line)
                 if urlsplit(url).password is not None]
    record.observed = {"env_file": mode, "EnvironmentFiles": files, "passwords_on_command_line":
                       len(passwords)}
    record.expected = {"env_file": expected()["env_file_mode"],
                       "EnvironmentFiles": expected()["env_file"], "passwords_on_command_line": 0}
    assert mode == expected()["env_file_mode"]
    assert files.startswith(expected()["env_file"])
    assert lines and not passwords


def collector_name(host) -> str:
    name = host_vars(host).get("egov_stack_collector_server_name", "")
    return name if name and "{{" not in name else host_address(host)


def _stream_location(conf: str, server_name: str, path: str) -> str:
    """The body of `location <path>` inside the server block named server_name (nginx -T)."""
    for block in re.split(r"\n\s*server\s*\{", conf):
        if re.search(rf"server_name[^;]*\b{re.escape(server_name)}\b", block):
            found = re.search(rf"location\s+{re.escape(path)}\s*\{{([^}}]*)\}}", block)
            if found:
                return found.group(1)
    return ""


@check("server.collector.via_proxy", ("Proxy chuyển /v1/ và /events tới dịch vụ thu thập qua HTTPS",
                                      "The proxy passes /v1/ and /events to the collector over HTTPS"),
       ("Chạy lại playbook (egov_proxy_sites: site collector với stream_paths [/events]); "
        "xem journalctl -u egov-collector.",
        "Run the playbook again (egov_proxy_sites: the collector site with stream_paths "
        "[/events]); read journalctl -u egov-collector."), COLLECTOR)
def test_collector_through_proxy(host, record):
    name, address = collector_name(host), host_address(host)
    answers = {}
    for path in expected()["proxied_paths"]:
        method, body = ("POST", b"{}") if path.startswith("/v1/") else ("GET", None)
        status, headers, data = http_request(address, method, path, name, tls=True, body=body,
                                             headers={"Content-Type": "application/json"})
        answers[path] = {"status": status, "server": headers.get("server"),
                         "body": data.decode(errors="replace")[:200]}
        record.cite("network", f"{method} https://{name}{path}", status)
    conf = host.check_output("nginx -T 2>/dev/null")
    stream = _stream_location(conf, name, expected()["stream_path"])
    timeout = re.search(r"proxy_read_timeout\s+(\d+)s?;", stream)
    record.cite("command", f"nginx -T (location {expected()['stream_path']})", stream.strip())
    record.observed = {"answers": answers, "stream_location": " ".join(stream.split())}
    record.expected = {"answers": "the collector's own answers (no proxy error, no page of nginx)",
                       "stream_location": "proxy_buffering off; proxy_read_timeout >= "
                                          f"{expected()['stream_min_read_timeout_s']}s"}
    assert not [path for path, a in answers.items() if a["status"] in PROXY_ERRORS
                or NGINX_PAGE in a["body"]], answers
    enroll = answers["/v1/enroll"]
    assert 400 <= enroll["status"] < 500 and '"error"' in enroll["body"], enroll
    assert re.search(r"proxy_buffering\s+off;", stream), "the events stream is buffered"
    assert timeout and int(timeout.group(1)) >= expected()["stream_min_read_timeout_s"]
