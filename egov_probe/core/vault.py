"""Ansible vault secrets for the process: one place for the way ansible-core sets them."""

from __future__ import annotations


def use_vault_secrets(secrets: list) -> None:
    """Make ``secrets`` (``[(vault_id, VaultSecret)]``) the ones vaulted values decrypt with.

    ansible-core 2.19 decrypts a vaulted value lazily, with the process-wide
    ``VaultSecretsContext``, which a process may initialise only once: a later call (a second
    inventory, a mailbox vault file) replaces the context's secrets instead. Older releases
    have no such context and use the loader's own secrets only."""
    try:
        from ansible.parsing.vault import VaultSecretsContext
    except ImportError:  # ansible-core before 2.19
        return
    current = VaultSecretsContext.current(optional=True)
    if current is None:
        VaultSecretsContext.initialize(VaultSecretsContext(secrets))
    else:
        current.secrets = secrets
