"""The effective policy a judge reads: the file's defaults with one phase's and one unit's
overrides applied (``judge/policy.py`` loads, validates and resolves it). A value of its own,
light to import: the on-host network probe (``fleet/onhost.py``) builds one from the
controller's request without the loader, its YAML or its schema."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Policy:
    """An effective policy: the file's defaults with the overrides of one phase and unit applied."""

    policy_id: str
    version: int
    path: str
    sha256: str
    sections: dict

    def section(self, name: str) -> dict:
        return self.sections.get(name, {})

    def browser_rule(self, browser: str) -> dict:
        return self.section("browsers").get("rules", {}).get(browser, {"supported": False})
