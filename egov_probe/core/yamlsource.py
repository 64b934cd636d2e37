"""YAML loading that remembers the line of every key, for error messages that name it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import InputError

KeyPath = tuple  # e.g. ("browsers", "chrome", "min_version")
# libyaml's parser when PyYAML was built with it (several times faster), else the pure one.
_COMPOSER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass
class YamlDocument:
    """Plain data from a YAML file, with the line (1-based) of each key path."""

    path: str
    data: Any
    lines: dict[KeyPath, int] = field(default_factory=dict)

    def line_of(self, key_path: KeyPath) -> int | None:
        """The line of ``key_path``, or of its nearest parent that has one."""
        for end in range(len(key_path), -1, -1):
            line = self.lines.get(tuple(key_path[:end]))
            if line is not None:
                return line
        return None

    def error(self, key_path: KeyPath, message: str) -> InputError:
        return InputError(message, path=self.path, line=self.line_of(key_path),
                          field=".".join(str(k) for k in key_path) or None)


def load_yaml(path: str | Path) -> YamlDocument:
    """Parse ``path``; syntax errors become InputError with file and line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise InputError("file not found", path=str(path)) from exc
    except UnicodeDecodeError as exc:
        raise InputError("not UTF-8 text", path=str(path)) from exc
    return parse_yaml(text, str(path))


def parse_yaml(text: str, name: str) -> YamlDocument:
    try:
        node = yaml.compose(text, Loader=_COMPOSER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise InputError(f"YAML syntax error: {problem}", path=name, line=line) from exc
    doc = YamlDocument(path=name, data=None)
    if node is not None:
        doc.data = _Builder(doc).build(node, ())
    return doc


class _Builder:
    """Turns composed YAML nodes into plain data, noting each key's line."""

    def __init__(self, doc: YamlDocument) -> None:
        self.doc = doc
        self.constructor = yaml.SafeLoader("")

    def build(self, node: yaml.Node, key_path: KeyPath) -> Any:
        self.doc.lines.setdefault(key_path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            return self.mapping(node, key_path)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, key_path + (i,)) for i, item in enumerate(node.value)]
        return self.scalar(node, key_path)

    def scalar(self, node: yaml.Node, key_path: KeyPath) -> Any:
        try:
            return self.constructor.construct_object(node, deep=True)
        except (ValueError, yaml.YAMLError) as exc:  # e.g. 2015-09-31: a day that does not exist
            raise InputError(f"invalid value {node.value!r}: {exc}", path=self.doc.path,
                             line=node.start_mark.line + 1,
                             field=".".join(map(str, key_path)) or None) from exc

    def mapping(self, node: yaml.MappingNode, key_path: KeyPath) -> dict:
        result: dict = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise self.doc.error(key_path, "YAML merge keys (<<) are not supported here")
            key = self.scalar(key_node, key_path)
            child = key_path + (key,)
            if key in result:
                raise InputError(f"duplicate key {key!r}", path=self.doc.path,
                                 line=key_node.start_mark.line + 1, field=".".join(map(str, child)))
            self.doc.lines[child] = key_node.start_mark.line + 1
            result[key] = self.build(value_node, child)
        return result
