"""Bind passwords: from an ansible-vault file, an environment variable or a prompt.

Never from the command line (it would show in the process list). A password is held in a
``Secret`` (``egov_probe.core.secret``) whose repr and str are masked, so it cannot reach a log
or a report by accident.
"""

from __future__ import annotations

import getpass
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping, Optional

from ..core.errors import InputError
from ..core.secret import Secret
from ..core.vault import use_vault_secrets

VAULT_PASSWORD_FILE_ENV = "ANSIBLE_VAULT_PASSWORD_FILE"
READ_PASSWORD_ENV = "EGOV_LDAP_BIND_PASSWORD"
WRITE_PASSWORD_ENV = "EGOV_LDAP_WRITE_PASSWORD"


@dataclass(frozen=True)
class PasswordSource:
    """Where one account's password comes from, in this order: vault, environment, prompt."""

    label: str                          # e.g. "read-only account cn=reader,..." for the prompt
    env_var: str                        # e.g. EGOV_LDAP_BIND_PASSWORD
    vault_file: Optional[Path] = None   # an ansible-vault vars file (whole file or !vault values)
    vault_key: Optional[str] = None     # the variable in it holding the password
    vault_password_file: Optional[Path] = None


def read_password(source: PasswordSource, environ: Mapping[str, str] = os.environ,
                  prompt: Callable[[str], str] = getpass.getpass) -> Secret:
    if source.vault_file is not None:
        return _from_vault(source, environ)
    if environ.get(source.env_var):
        return Secret(environ[source.env_var])
    if not sys.stdin.isatty():
        raise InputError(f"no password for the {source.label}: use --vault-file, the environment "
                         f"variable {source.env_var}, or run in a terminal to be asked",
                         field="password")
    value = prompt(f"Mật khẩu / password ({source.label}): ")
    if not value:
        raise InputError(f"empty password for the {source.label}", field="password")
    return Secret(value)


def _from_vault(source: PasswordSource, environ: Mapping[str, str]) -> Secret:
    from ansible.errors import AnsibleError
    from ansible.parsing.dataloader import DataLoader
    from ansible.parsing.vault import VaultSecret

    vault_file = str(source.vault_file)
    if not source.vault_key:
        raise InputError("--vault-key names the variable holding the password",
                         path=vault_file, field="--vault-key")
    secrets = [("default", VaultSecret(_vault_password(source, environ)))]
    loader = DataLoader()
    loader.set_vault_secrets(secrets)
    use_vault_secrets(secrets)
    try:
        data = loader.load_from_file(vault_file)
    except AnsibleError as exc:
        raise InputError(f"cannot open the vault file: {exc.message}", path=vault_file) from exc
    if not isinstance(data, dict) or source.vault_key not in data:
        raise InputError(f"the vault file has no variable {source.vault_key!r}", path=vault_file,
                         field=source.vault_key)
    return Secret(str(data[source.vault_key]))


def _vault_password(source: PasswordSource, environ: Mapping[str, str]) -> bytes:
    path = source.vault_password_file or environ.get(VAULT_PASSWORD_FILE_ENV)
    if not path:
        raise InputError(f"the vault needs its password: --vault-password-file or "
                         f"{VAULT_PASSWORD_FILE_ENV}", field="--vault-password-file")
    try:
        value = Path(path).read_bytes().strip()
    except OSError as exc:
        raise InputError(f"cannot read the vault password file: {exc.strerror}",
                         path=str(path)) from exc
    if not value:
        raise InputError("the vault password file is empty", path=str(path))
    return value
