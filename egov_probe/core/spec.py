"""A small declarative checker for YAML data files (policy, plan): types, keys, values.

Every error names the file, the line and the key, and says what was expected.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Optional

from .yamlsource import KeyPath, YamlDocument

# A value check returns None when the value is fine, else what was expected.
ValueCheck = Callable[[Any], Optional[str]]

_TYPE_NAMES = {bool: "true/false", int: "a whole number", float: "a number", str: "text",
               list: "a list", dict: "a mapping"}


@dataclass(frozen=True)
class Spec:
    """What one value must be.

    ``keys`` fixes the keys of a mapping; ``values`` describes every value of a mapping with
    free keys (then ``key_check`` judges the keys); ``items`` describes list items.
    """

    types: tuple = (dict,)
    required: bool = False
    keys: Optional[dict] = None
    values: Optional["Spec"] = None
    key_check: Optional[ValueCheck] = None
    items: Optional["Spec"] = None
    check: Optional[ValueCheck] = None
    nullable: bool = False


def expect(doc: YamlDocument, value: Any, spec: Spec, key_path: KeyPath = (),
           *, partial: bool = False) -> None:
    """Raise InputError at the first way ``value`` breaks ``spec``.

    With ``partial`` (overrides), required keys may be absent.
    """
    if value is None and spec.nullable:
        return
    if not _has_type(value, spec.types):
        wanted = " or ".join(_TYPE_NAMES.get(t, t.__name__) for t in spec.types)
        raise doc.error(key_path, f"expected {wanted}, found {_describe(value)}")
    if spec.check is not None:
        problem = spec.check(value)
        if problem:
            raise doc.error(key_path, problem)
    if isinstance(value, dict):
        _expect_mapping(doc, value, spec, key_path, partial)
    if isinstance(value, list) and spec.items is not None:
        for index, item in enumerate(value):
            expect(doc, item, spec.items, key_path + (index,), partial=partial)


def _expect_mapping(doc: YamlDocument, value: dict, spec: Spec, key_path: KeyPath,
                    partial: bool) -> None:
    if spec.keys is not None:
        for key in value:
            if key not in spec.keys:
                known = ", ".join(sorted(map(str, spec.keys)))
                raise doc.error(key_path + (key,), f"unknown key; expected one of: {known}")
        if not partial:
            for key, child in spec.keys.items():
                if child.required and key not in value:
                    raise doc.error(key_path, f"missing required key '{key}'")
        for key, child_value in value.items():
            expect(doc, child_value, spec.keys[key], key_path + (key,), partial=partial)
    elif spec.values is not None:
        for key, child_value in value.items():
            if spec.key_check is not None:
                problem = spec.key_check(key)
                if problem:
                    raise doc.error(key_path + (key,), problem)
            expect(doc, child_value, spec.values, key_path + (key,), partial=partial)


def _has_type(value: Any, types: tuple) -> bool:
    if isinstance(value, bool):
        return bool in types
    if isinstance(value, int) and float in types:
        return True
    return isinstance(value, types)


def _describe(value: Any) -> str:
    if value is None:
        return "nothing"
    return f"{_TYPE_NAMES.get(type(value), type(value).__name__)} ({value!r})"


def one_of(*choices: Any) -> ValueCheck:
    def check(value: Any) -> Optional[str]:
        return None if value in choices else f"expected one of {', '.join(map(str, choices))}"
    return check


def at_least(minimum: float) -> ValueCheck:
    def check(value: Any) -> Optional[str]:
        return None if value >= minimum else f"expected a number >= {minimum}, found {value}"
    return check


def between(low: float, high: float) -> ValueCheck:
    def check(value: Any) -> Optional[str]:
        return None if low <= value <= high else \
            f"expected a number from {low} to {high}, found {value}"
    return check
