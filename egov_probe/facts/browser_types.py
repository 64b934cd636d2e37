"""What a browser collector finds, whatever the operating system."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..core.model import Evidence

# Browser ids used in facts, policy and check ids, with their display names.
BROWSER_NAMES: dict[str, str] = {
    "chrome": "Google Chrome",
    "chromium": "Chromium",
    "edge": "Microsoft Edge",
    "firefox": "Mozilla Firefox",
    "firefox_esr": "Mozilla Firefox ESR",
    "coccoc": "Cốc Cốc",
    "ie": "Internet Explorer",
}


@dataclass(frozen=True)
class BrowserInstall:
    """One installed browser.

    ``scope`` is ``machine`` or ``user:<account>`` (account name, or SID when no name is known).
    ``version`` is the best version known: the executable's own (its file version on Windows,
    the version files beside it on Linux; never by running it) overrules a package or registry
    value; "" when nothing read tells it. ``evidence`` lists every source read, in order.
    """

    browser: str
    version: str
    scope: str = "machine"
    path: str | None = None
    arch: str | None = None
    evidence: tuple[Evidence, ...] = field(default_factory=tuple)

    @property
    def name(self) -> str:
        return BROWSER_NAMES[self.browser]

    def as_fact(self) -> dict:
        return {
            "browser": self.browser,
            "name": self.name,
            "version": self.version,
            "scope": self.scope,
            "path": self.path,
            "arch": self.arch,
            "evidence": [
                {"source": e.source, "location": e.location, "value": e.value} for e in self.evidence
            ],
        }
