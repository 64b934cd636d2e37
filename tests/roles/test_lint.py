"""The roles and the site playbook pass ansible-lint's production profile and yamllint."""

from __future__ import annotations

import subprocess

import pytest
from serverstack import BIN, ROOT

pytestmark = pytest.mark.servers

YAML_PATHS = ("roles", "playbooks/site.yml", "inventory/servers.yml", "inventory/group_vars",
              ".yamllint", ".ansible-lint")


def run(home, *cmd: str) -> subprocess.CompletedProcess:
    env = {"PATH": f"{BIN}:/usr/bin:/bin", "HOME": str(home), "NO_COLOR": "1",
           "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg")}
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600,
                          check=False, env=env)


def test_ansible_lint_production_profile(tmp_path):
    result = run(tmp_path, str(BIN / "ansible-lint"), "--profile", "production", "roles/",
                 "playbooks/site.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_yamllint_clean(tmp_path):
    result = run(tmp_path, str(BIN / "yamllint"), "--strict", *YAML_PATHS)
    assert result.returncode == 0, result.stdout + result.stderr
