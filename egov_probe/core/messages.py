"""The catalogue of check titles and remedies (egov_probe/data/messages.yml)."""

from __future__ import annotations

import functools
from typing import Any

from .model import Text

MESSAGES_PREFIX = "messages"


@functools.lru_cache(maxsize=1)
def catalogue() -> dict[str, Any]:
    """Every ``data/messages*.yml`` merged (one file per area; a key may stand in one only).
    YAML is read here only: the on-host network probe gets the catalogue already parsed and
    never imports PyYAML (``fleet/onhost.py``)."""
    from importlib import resources

    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when PyYAML has it
    merged: dict[str, Any] = {}
    data = resources.files("egov_probe.data")
    for entry in sorted(data.iterdir(), key=lambda e: e.name):
        if entry.name.startswith(MESSAGES_PREFIX) and entry.name.endswith(".yml"):
            for key, value in (yaml.load(entry.read_text("utf-8"), Loader=loader) or {}).items():
                if key in merged:
                    raise ValueError(f"message key {key!r} is defined twice (in {entry.name})")
                merged[key] = value
    return merged


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return "?"


def text(key: str, part: str = "title", **values: Any) -> Text:
    """The Vietnamese and English text of ``key``'s ``part`` with placeholders filled."""
    entry = catalogue()[key][part]
    filled = _Blank({k: _show(v) for k, v in values.items()})
    return Text(vi=entry["vi"].format_map(filled), en=entry["en"].format_map(filled))


def _show(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
