"""The catalogue of check titles and remedies (egov_probe/data/messages.yml)."""

from __future__ import annotations

import functools
from importlib import resources
from typing import Any

import yaml

from ..model import Text

MESSAGES_FILE = "messages.yml"


@functools.lru_cache(maxsize=1)
def catalogue() -> dict[str, Any]:
    text = resources.files("egov_probe.data").joinpath(MESSAGES_FILE).read_text("utf-8")
    return yaml.safe_load(text)


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
