"""The application servers (role egov_app)."""

from __future__ import annotations

from checks.catalog import CONVERGE, check
from checks.hostinfo import module_ports

APP = ("egov_app_servers",)
SANDBOX = {"NoNewPrivileges": "yes", "ProtectSystem": "strict", "ProtectHome": "yes",
           "PrivateTmp": "yes", "PrivateDevices": "yes"}


@check("server.app.sandbox", ("Dịch vụ phân hệ chạy cô lập, không quyền root",
                              "Module services run sandboxed, not as root"), CONVERGE, APP)
def test_units_sandboxed(host, record):
    seen = {}
    for name in module_ports(host):
        props = ",".join(["User", *SANDBOX])
        out = host.check_output(f"systemctl show egov-{name} -p {props}")
        record.cite("command", f"systemctl show egov-{name}", out)
        seen[name] = dict(line.split("=", 1) for line in out.splitlines())
    record.observed, record.expected = seen, {"User": "egov-<module>", **SANDBOX}
    assert seen
    for name, props in seen.items():
        assert props["User"] == f"egov-{name}"
        assert all(props[k] == v for k, v in SANDBOX.items())


def _per_module_file(host, record, pattern: str, describe) -> dict:
    """describe(host.file) for each module's file at pattern.format(name=...)."""
    seen = {name: describe(host.file(pattern.format(name=name))) for name in module_ports(host)}
    record.cite("file", pattern.format(name="*"), str(seen))
    record.observed = seen
    return seen


@check("server.app.secrets_private", ("Tệp bí mật chỉ root đọc được",
                                      "Environment files with secrets are readable by root only"),
       CONVERGE, APP)
def test_env_files_private(host, record):
    modes = _per_module_file(host, record, "/etc/egov/{name}.env",
                             lambda f: f"{f.user}:{f.group} {oct(f.mode)}" if f.exists else None)
    record.expected = "root:root 0o600"
    assert modes and all(m == "root:root 0o600" for m in modes.values())


@check("server.app.releases", ("Phân hệ chạy từ bản phát hành có liên kết current",
                               "Modules run from releases/<version> through current"),
       CONVERGE, APP)
def test_current_release_link(host, record):
    links = _per_module_file(host, record, "/opt/egov/{name}/current",
                             lambda f: f.linked_to if f.is_symlink else None)
    record.expected = "/opt/egov/<module>/releases/<version>"
    assert links and all(t and "/releases/" in t for t in links.values())
