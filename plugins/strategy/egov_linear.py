"""The strategy of the server playbooks: Ansible's linear strategy, run through Mitogen.

Without Mitogen, every task starts a fresh Python on the server and compiles Ansible's module
code there again (0.3 to 0.5 s a task on the test servers): a no-op rerun of playbooks/site.yml
is almost all of that. Mitogen keeps one interpreter per server for the whole run
(bench/bench_converge.py measures both). Play order, check mode, handlers and host key checking
are the linear strategy's.

When Mitogen cannot be loaded (not installed, or an Ansible it does not support) Ansible's own
linear strategy runs, with the pipelining and SSH multiplexing of ansible.cfg, and a warning
says so. EGOV_MITOGEN=0 in the environment chooses the plain linear strategy on purpose.
"""

from __future__ import annotations

import os

from ansible.plugins.loader import strategy_loader
from ansible.utils.display import Display

DOCUMENTATION = """
    name: egov_linear
    short_description: Ansible's linear strategy, run through Mitogen when it is installed
    description:
        - The linear strategy with Mitogen's connection handling, or the plain linear strategy
          when Mitogen is not installed or EGOV_MITOGEN=0.
    author: Nghe An e-government toolkit
"""


def mitogen_mixin(display: Display) -> type | None:
    """Mitogen's strategy mixin, or None (with a warning unless it was turned off on purpose)."""
    if os.environ.get("EGOV_MITOGEN", "1").strip().lower() in ("0", "no", "false", "off"):
        return None
    try:
        import ansible_mitogen.loaders  # noqa: F401  (checks the Ansible version it runs under)
        import ansible_mitogen.strategy
    except Exception as exc:  # ImportError, or AnsibleError for an Ansible it does not support
        display.warning(f"Mitogen is not usable here ({exc}): running Ansible's plain linear "
                        "strategy, which is correct but several times slower on reruns. "
                        "Install it with: pip install 'mitogen>=0.3.54,<0.4'")
        return None
    return ansible_mitogen.strategy.StrategyMixin


def _strategy_class() -> type:
    linear = strategy_loader.get("linear", class_only=True)
    mixin = mitogen_mixin(Display())
    if mixin is None:
        return linear
    return type("StrategyModule", (mixin, linear), {"__doc__": __doc__})


StrategyModule = _strategy_class()
