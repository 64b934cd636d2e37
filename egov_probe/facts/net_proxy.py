"""Which proxy, if any, carries a request: environment variables or Windows WinINET settings.

WinINET keeps a user's settings under ``HKU\\<SID>\\Software\\Microsoft\\Windows\\CurrentVersion\\
Internet Settings``: ``ProxyEnable`` (1 = on), ``ProxyServer`` (``host:port`` for every protocol,
or ``http=host:port;https=host:port``), ``ProxyOverride`` (``;``-separated patterns, ``<local>``
= names without a dot) and ``AutoConfigURL`` (a PAC script). The probe does not run PAC scripts:
it reports the URL and goes direct.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from typing import Mapping, Optional

from .winsource import WindowsSource, fold, join_path

INTERNET_SETTINGS = r"Software\Microsoft\Windows\CurrentVersion\Internet Settings"


@dataclass(frozen=True)
class ProxySettings:
    """Proxies per scheme, the names that bypass them, a PAC URL, and where they were read."""

    proxies: Mapping[str, str]
    bypass: tuple[str, ...] = ()
    pac_url: Optional[str] = None
    source: str = "none"

    def proxy_for(self, scheme: str, host: str) -> Optional[str]:
        """The proxy URL for ``scheme://host``, or None to go direct."""
        proxy = self.proxies.get(scheme) or self.proxies.get("all")
        if not proxy or any(_bypassed(pattern, host) for pattern in self.bypass):
            return None
        return proxy if "://" in proxy else f"http://{proxy}"

    def as_dict(self) -> dict:
        return {"source": self.source,
                "proxies": {k: redact(v) for k, v in self.proxies.items()},
                "bypass": list(self.bypass), "pac_url": self.pac_url}


NO_PROXY = ProxySettings(proxies={})


def redact(proxy: str) -> str:
    """A proxy URL without its user name and password (``http://***@host:port``)."""
    scheme, sep, rest = proxy.rpartition("://")
    if "@" not in rest:
        return proxy
    return f"{scheme}{sep}***@{rest.rsplit('@', 1)[1]}"


def _bypassed(pattern: str, host: str) -> bool:
    pattern, host = pattern.strip().lower(), host.lower()
    if not pattern:
        return False
    if pattern == "<local>":
        return "." not in host
    if pattern == "*":
        return True
    if "*" in pattern or "?" in pattern:
        return fnmatch.fnmatchcase(host, pattern)
    pattern = pattern.lstrip(".")
    return host == pattern or host.endswith("." + pattern)


def from_environment(environ: Mapping[str, str]) -> ProxySettings:
    """``http_proxy``/``https_proxy``/``all_proxy`` and ``no_proxy`` (lower case wins)."""
    def get(name: str) -> Optional[str]:
        return environ.get(name) or environ.get(name.upper())

    proxies = {scheme: value for scheme in ("http", "https", "all")
               if (value := get(f"{scheme}_proxy"))}
    bypass = tuple(p.strip() for p in (get("no_proxy") or "").split(",") if p.strip())
    return ProxySettings(proxies, bypass, source="environment" if proxies else "none")


def from_wininet(source: WindowsSource, hive_root: str) -> ProxySettings:
    """The WinINET settings of the user whose hive is at ``HKU\\<hive_root>``."""
    path = join_path(hive_root, INTERNET_SETTINGS)
    location = f"HKU\\{path}"
    pac = source.value("HKU", path, "AutoConfigURL")
    pac_url = pac if isinstance(pac, str) and pac else None
    if source.value("HKU", path, "ProxyEnable") != 1:
        return ProxySettings({}, pac_url=pac_url, source=location if pac_url else "none")
    server = source.value("HKU", path, "ProxyServer")
    override = source.value("HKU", path, "ProxyOverride")
    bypass = tuple(p for p in str(override or "").split(";") if p.strip())
    return ProxySettings(_wininet_servers(str(server or "")), bypass, pac_url, location)


def _wininet_servers(text: str) -> dict[str, str]:
    if "=" not in text:
        return {"all": text.strip()} if text.strip() else {}
    found = {}
    for part in text.split(";"):
        scheme, _, address = part.partition("=")
        if address.strip():
            found[scheme.strip().lower()] = address.strip()
    return found


def windows_user_proxy(source: WindowsSource, environ: Mapping[str, str]) -> ProxySettings:
    """The WinINET settings of the user running the probe (the profile at %USERPROFILE%)."""
    home = fold(environ.get("USERPROFILE", ""))
    for profile in source.profiles():
        if fold(profile.path) == home and profile.loaded:
            return from_wininet(source, profile.sid)
    return NO_PROXY
