"""The server playbooks' strategy (plugins/strategy/egov_linear.py): Mitogen when it loads, and
Ansible's plain linear strategy, with a warning, when it does not."""

from __future__ import annotations

import subprocess
import sys

import pytest
import yaml
from serverstack import ROOT

pytestmark = pytest.mark.servers

PLUGIN = ROOT / "plugins" / "strategy" / "egov_linear.py"
# Loads the plugin as Ansible does (by path) and prints the classes its strategy is built on.
PROBE = """
import importlib.util, sys
for name in sys.argv[2:]:
    sys.modules[name] = None  # this import fails, as if the package were missing
spec = importlib.util.spec_from_file_location("egov_linear", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
print(" ".join(f"{c.__module__}.{c.__name__}" for c in module.StrategyModule.__mro__))
"""


def strategy_bases(*missing: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", PROBE, str(PLUGIN), *missing],
                          env={"PATH": "/usr/bin:/bin", "HOME": "/nonexistent", **env},
                          capture_output=True, text=True, timeout=120, check=True)


def test_site_plays_run_the_project_strategy():
    plays = yaml.safe_load((ROOT / "playbooks" / "site.yml").read_text())
    assert len(plays) >= 6
    assert [play.get("strategy") for play in plays] == ["egov_linear"] * len(plays), \
        [play["name"] for play in plays if play.get("strategy") != "egov_linear"]
    assert "strategy_plugins = plugins/strategy" in (ROOT / "ansible.cfg").read_text()


def test_mitogen_runs_the_linear_strategy_when_installed():
    result = strategy_bases()
    assert "ansible_mitogen.strategy.StrategyMixin" in result.stdout
    assert "ansible.plugins.strategy.linear.StrategyModule" in result.stdout
    assert "Mitogen" not in result.stderr


@pytest.mark.parametrize("value", ["0", "no", "off"])
def test_egov_mitogen_off_chooses_the_plain_linear_strategy_quietly(value):
    result = strategy_bases(EGOV_MITOGEN=value)
    assert "ansible_mitogen" not in result.stdout
    assert result.stdout.startswith("ansible.plugins.strategy.linear.StrategyModule")
    assert "Mitogen" not in result.stderr


def test_without_mitogen_the_plain_linear_strategy_runs_and_says_so():
    result = strategy_bases("ansible_mitogen", "ansible_mitogen.loaders")
    assert result.stdout.startswith("ansible.plugins.strategy.linear.StrategyModule")
    assert "Mitogen is not usable here" in result.stderr
    assert "pip install" in result.stderr
