"""Helpers of the role tests: the test release archives, the inventory and vault written for
the lab's containers, and running ansible-playbook as a sysadmin would."""

from __future__ import annotations

import io
import os
import re
import secrets
import shutil
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
APP_SOURCE = Path(__file__).with_name("testapp") / "egov_testapp.py"
SITE = ROOT / "playbooks" / "site.yml"
GROUPS = ("egov_db_servers", "egov_app_servers", "egov_proxy_servers", "egov_mail_relay_servers",
          "egov_collector_servers")
# Three servers: the database, the application (also the mail relay), and the proxy apart (also
# the collector, which listens on loopback behind it; its store on the database server).
SPLIT = {"egov-db": (GROUPS[0],), "egov-app": (GROUPS[1], GROUPS[3]),
         "egov-proxy": (GROUPS[2], GROUPS[4])}
ALL_IN_ONE = {"egov-one": GROUPS}
MODULES = (("docmgmt", 8081), ("onestop", 8082))
RECAP = re.compile(r"^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)"
                   r"\s+skipped=(\d+)\s+rescued=(\d+)\s+ignored=(\d+)", re.M)


def build_release(out_dir: Path, version: str, broken: bool = False) -> Path:
    """A release archive of the test module: the app, its VERSION, and BROKEN if asked."""
    archive = out_dir / f"egov_testapp-{version}.tar.gz"
    members = {"egov_testapp.py": APP_SOURCE.read_bytes(), "VERSION": f"{version}\n".encode()}
    if broken:
        members["BROKEN"] = b"this release fails its health check\n"
    with tarfile.open(archive, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o644
            tar.addfile(info, io.BytesIO(data))
    return archive


def module_entry(name: str, port: int, version: str, archive: Path) -> dict:
    return {"name": name, "version": version, "archive": str(archive), "port": port,
            "start_command": f"/usr/bin/python3 egov_testapp.py --name {name} --port {port}"
                             " --bind {{ egov_stack_app_bind }}",
            "health_path": "/healthz", "db_password": f"{{{{ vault_egov_{name}_db_password }}}}"}


@dataclass
class Stack:
    """An inventory directory for the lab's containers, with its vault and password file."""

    root: Path
    topology: dict[str, tuple[str, ...]]

    @property
    def inventory(self) -> Path:
        return self.root / "inventory"

    @property
    def vault_password_file(self) -> Path:
        return self.root / "vault-password"

    @property
    def group_vars(self) -> Path:
        return self.inventory / "group_vars" / "provincial_servers"

    def env(self) -> dict[str, str]:
        return {**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1",
                "ANSIBLE_VAULT_PASSWORD_FILE": str(self.vault_password_file),
                "ANSIBLE_INVENTORY": str(self.inventory), "PATH": f"{BIN}:{os.environ['PATH']}"}

    def playbook(self, *args: str, timeout: float = 900, playbook: Path = SITE,
                 extra_env: dict[str, str] | None = None) -> "PlaybookRun":
        cmd = [str(BIN / "ansible-playbook"), str(playbook), *args]
        proc = subprocess.run(cmd, cwd=ROOT, env={**self.env(), **(extra_env or {})},
                              capture_output=True, text=True, timeout=timeout, check=False)
        return PlaybookRun(proc.returncode, proc.stdout + proc.stderr)

    def set_release(self, version: str, broken: bool = False) -> None:
        """Point every module at a new release archive (the test override file)."""
        archive = build_release(self.root, version, broken)
        self.override(egov_stack_modules=[module_entry(n, p, version, archive)
                                          for n, p in MODULES])

    def override(self, **settings) -> dict:
        """Change variables of the test override file; returns what they were before."""
        overrides = yaml.safe_load((self.group_vars / "test.yml").read_text())
        before = {key: overrides.get(key) for key in settings}
        overrides.update(settings)
        _write_yaml(self.group_vars / "test.yml", {k: v for k, v in overrides.items()
                                                   if v is not None})
        return before

    def use_certificate(self, cert: Path, key: Path) -> dict:
        """The proxy serves the sysadmin's certificate; the key is kept vault-encrypted."""
        vaulted = self.root / f"{key.stem}.key.vault"
        subprocess.run([str(BIN / "ansible-vault"), "encrypt", "--output", str(vaulted), str(key)],
                       env=self.env(), check=True, capture_output=True)
        return self.override(egov_proxy_tls_mode="provided",
                             egov_proxy_tls_certificate_src=str(cert),
                             egov_proxy_tls_key_src=str(vaulted))


@dataclass(frozen=True)
class PlaybookRun:
    returncode: int
    output: str

    def recap(self) -> dict[str, dict[str, int]]:
        keys = ("ok", "changed", "unreachable", "failed", "skipped", "rescued", "ignored")
        return {m[0]: dict(zip(keys, map(int, m[1:]))) for m in RECAP.findall(self.output)}

    def total(self, key: str) -> int:
        return sum(host[key] for host in self.recap().values())

    def changed_tasks(self) -> list[str]:
        """Names of the tasks that reported a change (from the task headers before 'changed:')."""
        tasks, current = [], None
        for line in self.output.splitlines():
            if line.startswith("TASK [") or line.startswith("RUNNING HANDLER ["):
                current = line.split("[", 1)[1].rsplit("]", 1)[0]
            elif line.startswith("changed:") and current not in tasks:
                tasks.append(current)
        return tasks


def _write_yaml(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("---\n" + yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


def _hosts_yaml(lab, topology: dict[str, tuple[str, ...]]) -> dict:
    children: dict[str, dict] = {group: {"hosts": {}} for group in GROUPS}
    for name, groups in topology.items():
        for group in groups:
            children[group]["hosts"][name] = lab.host_vars(lab.containers[name])
    return {"provincial_servers": {"children": children}}


def _write_vault(stack: Stack) -> None:
    stack.vault_password_file.write_text(secrets.token_urlsafe(32) + "\n")
    stack.vault_password_file.chmod(0o600)
    secret_vars = {f"vault_egov_{name}_db_password": secrets.token_urlsafe(24)
                   for name, _port in MODULES}
    secret_vars["vault_egov_collector_db_password"] = secrets.token_urlsafe(24)
    secret_vars["vault_egov_collector_session_secret"] = secrets.token_urlsafe(48)
    secret_vars["vault_egov_mail_relay_sasl_user"] = "egov-notify@nghean.gov.vn"
    secret_vars["vault_egov_mail_relay_sasl_password"] = secrets.token_urlsafe(24)
    vault = stack.group_vars / "vault.yml"
    _write_yaml(vault, secret_vars)
    subprocess.run([str(BIN / "ansible-vault"), "encrypt", str(vault)], env=stack.env(),
                   check=True, capture_output=True)


def _test_overrides(lab, archive: Path) -> dict:
    """What a site would set in its own group_vars, sized for the test containers."""
    pubkey = lab.ssh_key.with_suffix(".pub").read_text().strip()
    return {
        "egov_stack_modules": [module_entry(n, p, "1.0.0", archive) for n, p in MODULES],
        "egov_stack_mail_relayhost": f"[{lab.net.gateway}]:587",
        "egov_app_packages": ["python3-psycopg2"],
        "egov_postgresql_memory_mb": 1024,
        "egov_base_admins": [{"name": "quantri", "comment": "Quản trị viên hệ thống",
                              "ssh_keys": [pubkey]}],
    }


def make_stack(lab, root: Path, topology: dict[str, tuple[str, ...]]) -> Stack:
    """Inventory + group_vars (the project's own, then the test overrides) + vault."""
    stack = Stack(root, topology)
    stack.group_vars.mkdir(parents=True)
    _write_yaml(stack.inventory / "hosts.yml", _hosts_yaml(lab, topology))
    shutil.copy(ROOT / "inventory/group_vars/provincial_servers/main.yml", stack.group_vars)
    archive = build_release(root, "1.0.0")
    _write_yaml(stack.group_vars / "test.yml", _test_overrides(lab, archive))
    _write_vault(stack)
    return stack


def issue_rsa(ca, stem: str, *names: str, bits: int = 3072):
    """A server certificate with an RSA key from the test CA (whose own key is EC)."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    from tests.servers.ca import Issued

    now = datetime.datetime.now(datetime.timezone.utc)
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
            .issuer_name(ca.name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=90))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]),
                           critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .sign(ca.key, hashes.SHA256()))
    folder = ca.folder
    cert_path, key_path = folder / f"{stem}.crt", folder / f"{stem}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return Issued(cert_path, key_path)
