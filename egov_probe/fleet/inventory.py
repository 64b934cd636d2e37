"""Hosts to audit, read through ansible-core's own inventory machinery.

InventoryManager and VariableManager give groups, ``--limit`` patterns, host and group
variables and vault-encrypted values exactly as ``ansible-playbook`` sees them; the vault
password comes the usual Ansible ways (``--vault-password-file``,
``ANSIBLE_VAULT_PASSWORD_FILE``, ``--ask-vault-pass``, vault ids).
"""

from __future__ import annotations

import re
import shlex
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Sequence

import yaml

from ..core.errors import InputError
from ..core.secret import Secret
from ..core.vault import use_vault_secrets
from .host import Endpoint, InventoryHost, WinrmSettings

_CONNECTIONS = {"ssh": "ssh", "paramiko": "ssh", "smart": "ssh", "winrm": "winrm"}
_WINRM_TRANSPORTS = ("ntlm", "kerberos", "credssp", "basic", "certificate", "plaintext", "ssl")


@dataclass(frozen=True)
class VaultOptions:
    password_files: tuple[str, ...] = ()
    vault_ids: tuple[str, ...] = ()
    ask: bool = False


# The group of inventory/servers.yml: servers are verified by checks/, never audited as workstations.
SERVER_GROUP = "provincial_servers"


def load_targets(sources: Sequence[Path], limit: Optional[str] = None,
                 vault: VaultOptions = VaultOptions(),
                 password: Optional[Secret] = None) -> list[InventoryHost]:
    """Every workstation of the inventory (within ``limit``), in inventory order: every host
    but the provincial servers."""
    for source in sources:
        _precheck(Path(source))
    from ansible import constants as C
    from ansible.cli import CLI
    from ansible.errors import AnsibleError
    from ansible.inventory.manager import InventoryManager
    from ansible.parsing.dataloader import DataLoader
    from ansible.plugins.loader import init_plugin_loader
    from ansible.vars.manager import VariableManager

    with warnings.catch_warnings():  # a second load in one process says so; harmless
        warnings.filterwarnings("ignore", message="AnsibleCollectionFinder has already")
        init_plugin_loader()
    loader = DataLoader()
    try:
        secrets = CLI.setup_vault_secrets(
            loader, list(vault.vault_ids or C.DEFAULT_VAULT_IDENTITY_LIST),
            vault_password_files=list(vault.password_files), ask_vault_pass=vault.ask,
            auto_prompt=False, initialize_context=False)
        loader.set_vault_secrets(secrets)
        use_vault_secrets(secrets)
        inventory = InventoryManager(loader=loader, sources=[str(s) for s in sources])
        if limit:
            inventory.subset(limit)
        hosts, servers = _workstations(inventory)
        variables = VariableManager(loader=loader, inventory=inventory)
        targets = [_target(host.name, variables.get_vars(host=host, include_hostvars=False),
                           loader, password) for host in hosts]
    except AnsibleError as exc:
        raise InputError(f"Ansible cannot read the inventory: {exc.message}",
                         path=",".join(str(s) for s in sources)) from exc
    if not targets:
        why = (f": left out as provincial servers (verified by checks/, docs/servers.md): "
               f"{', '.join(servers)}" if servers else "")
        raise InputError("no workstation matches" + (f" --limit {limit!r}" if limit else "") + why,
                         path=",".join(str(s) for s in sources), field="--limit" if limit else None)
    return targets


def _workstations(inventory: Any) -> tuple[list, list[str]]:
    """The inventory's hosts that are not provincial servers, and the names of those left out."""
    servers = set(inventory.get_hosts(SERVER_GROUP)) if SERVER_GROUP in inventory.groups else set()
    hosts = inventory.get_hosts("all")
    return [h for h in hosts if h not in servers], [h.name for h in hosts if h in servers]


def _precheck(source: Path) -> None:
    """A missing file or a YAML syntax error is named with its line (Ansible only warns)."""
    if not source.exists():
        raise InputError("inventory not found", path=str(source))
    files = sorted(source.rglob("*.y*ml")) if source.is_dir() else [source]
    for file in files:
        if file.suffix in (".yml", ".yaml"):
            _check_syntax(file)


def _check_syntax(file: Path) -> None:
    """YAML syntax only (tags such as ``!vault`` are Ansible's to construct)."""
    try:
        for _event in yaml.parse(file.read_text(encoding="utf-8"), Loader=yaml.SafeLoader):
            pass
    except UnicodeDecodeError as exc:
        raise InputError("not UTF-8 text", path=str(file)) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InputError(f"YAML syntax error: {getattr(exc, 'problem', None) or exc}",
                         path=str(file), line=mark.line + 1 if mark else None) from exc


def _target(name: str, hostvars: dict, loader: Any, password: Optional[Secret]) -> InventoryHost:
    from ansible.template import Templar

    templar = Templar(loader=loader, variables=hostvars)

    def var(*keys: str, default: Any = None) -> Any:
        for key in keys:
            if key in hostvars and hostvars[key] is not None:
                return templar.template(hostvars[key])
        return default

    connection = _connection(name, str(var("ansible_connection", default="ssh")))
    secret = var("ansible_password", "ansible_ssh_pass", "ansible_ssh_password")
    winrm = _winrm_settings(name, var) if connection == "winrm" else WinrmSettings()
    default_port = (5986 if winrm.scheme == "https" else 5985) if connection == "winrm" else 22
    return InventoryHost(
        name=name,
        endpoint=Endpoint(str(var("ansible_host", "ansible_ssh_host", default=name)),
                          _int(name, "ansible_port", var("ansible_port", "ansible_ssh_port",
                                                          default=default_port)),
                          _text(var("ansible_user", "ansible_ssh_user"))),
        connection=connection,
        password=Secret(str(secret)) if secret is not None else password,
        key_file=_text(var("ansible_ssh_private_key_file", "ansible_private_key_file")),
        jump=proxy_jump(" ".join(str(var(k, default="")) for k in
                                 ("ansible_ssh_common_args", "ansible_ssh_extra_args"))),
        unit_id=_text(var("unit_id")),
        unit_phase=_int(name, "unit_phase", var("unit_phase")) if var("unit_phase") else None,
        officer=_text(var("officer")),
        winrm=winrm,
    )


def _connection(host: str, value: str) -> str:
    if value not in _CONNECTIONS:
        raise InputError(f"ansible_connection {value!r} is not supported by the fleet audit; "
                         f"expected one of {', '.join(_CONNECTIONS)}", field=host)
    return _CONNECTIONS[value]


def _winrm_settings(host: str, var: Any) -> WinrmSettings:
    transport = str(var("ansible_winrm_transport", default="ntlm")).split(",")[0].strip()
    if transport not in _WINRM_TRANSPORTS:
        raise InputError(f"ansible_winrm_transport {transport!r}; expected one of "
                         f"{', '.join(_WINRM_TRANSPORTS)}", field=host)
    validation = str(var("ansible_winrm_server_cert_validation", default="validate"))
    if validation not in ("validate", "ignore"):
        raise InputError(f"ansible_winrm_server_cert_validation {validation!r}; expected "
                         "validate or ignore", field=host)
    scheme = str(var("ansible_winrm_scheme", default="https"))
    encryption = str(var("ansible_winrm_message_encryption", default="auto"))
    if scheme == "http" and (transport not in ("ntlm", "kerberos", "credssp")
                             or encryption == "never"):
        raise InputError(f"plain HTTP with ansible_winrm_transport {transport!r} and message "
                         f"encryption {encryption!r} would send credentials and answers in "
                         "clear; expected https, or http with ntlm, kerberos or credssp "
                         "(their message encryption)", field=host)
    return WinrmSettings(
        transport=transport,
        scheme=scheme,
        path=str(var("ansible_winrm_path", default="/wsman")),
        cert_validation=validation == "validate",
        ca_trust_path=_text(var("ansible_winrm_ca_trust_path")),
        message_encryption=encryption)


def proxy_jump(ssh_args: str) -> Optional[Endpoint]:
    """The first hop of ``-J`` / ``-o ProxyJump=`` in ssh arguments as ``[user@]host[:port]``."""
    words = shlex.split(ssh_args)
    for index, word in enumerate(words):
        following = words[index + 1] if index + 1 < len(words) else ""
        value = None
        if word == "-J":
            value = following
        elif word.startswith("-o"):
            key, _, option = re.sub(r"\s*=\s*|\s+", " ", word[2:].strip() or following,
                                    count=1).partition(" ")
            value = option if key.lower() == "proxyjump" else None
        if value and value.lower() != "none":
            return _hop(value.split(",")[0].strip())
    return None


def _hop(text: str) -> Endpoint:
    text = text.removeprefix("ssh://")
    user, _, rest = text.rpartition("@")
    host, _, port = rest.partition(":")
    return Endpoint(host, int(port) if port.isdigit() else 22, user or None)


def _int(host: str, key: str, value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{key} must be a whole number, found {value!r}", field=host) from exc


def _text(value: Any) -> Optional[str]:
    return str(value) if value not in (None, "") else None
