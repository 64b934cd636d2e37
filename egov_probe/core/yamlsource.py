"""The one loader for every YAML and JSON file the project reads, with limits.

Whatever the file (policy, plan, inventory, mailbox settings, report, mailbox review), it is
read with a size limit, decoded as UTF-8 (a leading byte order mark is allowed and dropped, in
YAML and JSON alike), parsed with limits on nesting depth, YAML aliases and the length of
numbers, and every string checked for lone surrogates. Every refusal is an ``InputError`` that
names the file, the line (where the parser knows it) and the key. A YAML alias bomb is refused
after a few hundred aliases, long before it could grow; numbers are never echoed back.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import yaml

from .errors import InputError

KeyPath = tuple  # e.g. ("browsers", "chrome", "min_version")
# libyaml's parser when PyYAML was built with it (several times faster), else the pure one.
_COMPOSER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_NUMBER_TAGS = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class Limits:
    """How much a file may ask of the loader."""

    max_bytes: int = 4 * 1024 * 1024
    max_depth: int = 64
    max_aliases: int = 200
    max_nodes: int = 1_000_000
    max_number_chars: int = 40


DATA_LIMITS = Limits()  # policy, plan, inventory, settings
DOCUMENT_LIMITS = Limits(max_bytes=16 * 1024 * 1024)  # reports and mailbox reviews
COLLECTOR_LIMITS = Limits(max_bytes=64 * 1024 * 1024, max_nodes=4_000_000)  # a host's evidence


def size_text(n: float) -> str:
    """``16.0 MB``: a size as people read it."""
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{int(n)} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def read_limited(path: str | Path, limits: Limits = DATA_LIMITS, what: str = "file") -> bytes:
    """The bytes of ``path``, refused beyond ``limits.max_bytes`` (read no further than that)."""
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            raw = handle.read(limits.max_bytes + 1)
    except FileNotFoundError as exc:
        raise InputError(f"{what} not found", path=str(path)) from exc
    except IsADirectoryError as exc:
        raise InputError(f"expected a {what}, found a folder", path=str(path)) from exc
    except OSError as exc:
        raise InputError(f"cannot read {what}: {exc.strerror or exc}", path=str(path)) from exc
    check_size(len(raw), limits, str(path))
    return raw


def check_size(n: int, limits: Limits, name: str) -> None:
    if n > limits.max_bytes:
        raise InputError(f"larger than the limit of {size_text(limits.max_bytes)} for this kind of "
                         f"file", path=name)


def decode_text(raw: bytes, name: str) -> str:
    """UTF-8 text; a leading byte order mark is dropped (Notepad writes one)."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise InputError(f"not UTF-8 text (byte {exc.start})", path=name, line=line) from exc


# ---------------------------------------------------------------------------------- JSON


def load_json(path: str | Path, limits: Limits = DOCUMENT_LIMITS) -> Any:
    """Read and parse a JSON file within ``limits``."""
    return parse_json_bytes(read_limited(path, limits), str(path), limits)


def parse_json_bytes(raw: bytes, name: str, limits: Limits = DOCUMENT_LIMITS) -> Any:
    check_size(len(raw), limits, name)
    # Text decoded from UTF-8 holds no surrogate (the decoder refuses them): not searched again.
    return parse_json_text(decode_text(raw, name), name, limits, utf8=True)


def parse_json_text(text: str, name: str, limits: Limits = DOCUMENT_LIMITS,
                    utf8: bool = False) -> Any:
    """Parse JSON text: no NaN/Infinity, no huge numbers, bounded depth, no lone surrogates.
    ``utf8``: the text was decoded from UTF-8, so it holds no surrogate character itself."""
    overflowed: list[str] = []  # a number too large for a float (1e999) was read

    def number(kind: str):
        def parse(token: str):
            if len(token) > limits.max_number_chars:
                raise _NumberTooLong(len(token))
            if kind == "int":
                return int(token)
            value = float(token)
            if not math.isfinite(value):
                overflowed.append(token)
            return value
        return parse

    def constant(token: str):
        raise _NotJson(f"{token} is not a JSON number")

    try:
        data = json.loads(text, parse_int=number("int"), parse_float=number("float"),
                          parse_constant=constant)
    except json.JSONDecodeError as exc:
        raise InputError(f"not JSON: {exc.msg} (column {exc.colno})", path=name,
                         line=exc.lineno) from exc
    except _NumberTooLong as exc:
        raise InputError(f"a number of {exc.args[0]} characters: at most "
                         f"{limits.max_number_chars} are allowed", path=name) from exc
    except _NotJson as exc:
        raise InputError(f"not JSON: {exc.args[0]}", path=name) from exc
    except RecursionError as exc:
        raise InputError(f"nested deeper than {limits.max_depth} levels", path=name) from exc
    if overflowed or not _plainly_within(text, data, limits, utf8):
        check_plain_data(data, name, limits)
    return data


# A JSON escape of a UTF-16 surrogate: the only way parsed JSON holds one (UTF-8 text cannot).
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _plainly_within(text: str, data: Any, limits: Limits, utf8: bool) -> bool:
    """Whether parsed JSON surely passes ``check_plain_data``, known at a fraction of its cost:
    no surrogate in the text or in an escape, no more characters than the values allowed (each
    value starts at a character of its own) and no value nested too deep (numbers too large for a
    float are told by the parser). When not sure, the caller walks it all and names the place of
    the problem."""
    if len(text) > limits.max_nodes or (not utf8 and _SURROGATE.search(text)) \
            or _SURROGATE_ESCAPE.search(text):
        return False
    level, depth = ([data] if isinstance(data, (dict, list)) else []), 0
    while level:  # the containers, one depth at a time
        if depth >= limits.max_depth and (depth > limits.max_depth or any(level)):
            return False
        deeper = []
        for value in level:
            for child in value.values() if type(value) is dict else value:
                if type(child) is dict or type(child) is list:
                    deeper.append(child)
        level, depth = deeper, depth + 1
    return True


class _NumberTooLong(Exception):
    pass


class _NotJson(Exception):
    pass


def check_plain_data(data: Any, name: str, limits: Limits,
                     lines: Optional[dict] = None) -> None:
    """Depth, size and text of parsed data, walked without recursion."""
    stack: list[tuple[Any, tuple]] = [(data, ())]
    nodes = 0
    while stack:
        value, key_path = stack.pop()
        nodes += 1
        if len(key_path) > limits.max_depth:
            raise _located(f"nested deeper than {limits.max_depth} levels", name, key_path,
                           lines)
        if nodes > limits.max_nodes:
            raise InputError(f"more than {limits.max_nodes} values", path=name)
        if isinstance(value, str):
            if _SURROGATE.search(value):
                raise _located("text holds a lone surrogate (\\ud800-\\udfff): not valid "
                               "Unicode", name, key_path, lines)
        elif isinstance(value, float) and not math.isfinite(value):
            raise _located("expected a finite number", name, key_path, lines)
        elif isinstance(value, dict):
            for key, child in value.items():
                if isinstance(key, str) and _SURROGATE.search(key):
                    raise _located("a key holds a lone surrogate (\\ud800-\\udfff): not valid "
                                   "Unicode", name, key_path, lines)
                stack.append((child, key_path + (key,)))
        elif isinstance(value, list):
            stack.extend((child, key_path + (i,)) for i, child in enumerate(value))


def _located(message: str, name: str, key_path: tuple, lines: Optional[dict]) -> InputError:
    shown = key_path[:8]
    field_name = ".".join(str(k)[:40] for k in shown) + ("…" if len(key_path) > 8 else "")
    line = None
    if lines:
        for end in range(len(key_path), -1, -1):
            line = lines.get(tuple(key_path[:end]))
            if line is not None:
                break
    return InputError(message, path=name, line=line, field=field_name or None)


# ---------------------------------------------------------------------------------- YAML


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


def load_yaml(path: str | Path, limits: Limits = DATA_LIMITS) -> YamlDocument:
    """Read and parse ``path`` within ``limits``; every problem is an InputError."""
    raw = read_limited(path, limits)
    return parse_yaml(decode_text(raw, str(path)), str(path), limits)


def parse_yaml(text: str, name: str, limits: Limits = DATA_LIMITS) -> YamlDocument:
    if len(text.encode("utf-8", "surrogatepass")) > limits.max_bytes:
        check_size(limits.max_bytes + 1, limits, name)
    text = text.removeprefix("\ufeff")
    try:
        node = yaml.compose(text, Loader=_COMPOSER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise InputError(f"YAML syntax error: {problem}", path=name, line=line) from exc
    except RecursionError as exc:
        raise InputError(f"nested deeper than {limits.max_depth} levels", path=name) from exc
    doc = YamlDocument(path=name, data=None)
    if node is not None:
        doc.data = _Builder(doc, limits).build(node, ())
    return doc


class _Builder:
    """Turns composed YAML nodes into plain data, noting each key's line, within limits."""

    def __init__(self, doc: YamlDocument, limits: Limits) -> None:
        self.doc = doc
        self.limits = limits
        self.constructor = yaml.SafeLoader("")
        self.seen: set[int] = set()
        self.aliases = 0
        self.nodes = 0

    def build(self, node: yaml.Node, key_path: KeyPath, parent_line: int = 1,
              alias_line: Optional[int] = None) -> Any:
        """Plain data of ``node``. Inside an alias's expansion, lines are the alias's own
        (``alias_line``, where ``*name`` was written), not the anchor's."""
        if alias_line is None and isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) \
                and id(node) in self.seen:
            alias_line = parent_line
        line = alias_line if alias_line is not None else node.start_mark.line + 1
        self._count(node, key_path, line)
        self.doc.lines.setdefault(key_path, line)
        if isinstance(node, yaml.MappingNode):
            return self.mapping(node, key_path, alias_line)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, key_path + (i,), line, alias_line)
                    for i, item in enumerate(node.value)]
        return self.scalar(node, key_path)

    def _count(self, node: yaml.Node, key_path: KeyPath, line: int) -> None:
        self.nodes += 1
        if len(key_path) > self.limits.max_depth:
            raise self._error(node, key_path, f"nested deeper than {self.limits.max_depth} "
                                              f"levels (or an alias that refers to itself)", line)
        if self.nodes > self.limits.max_nodes:
            raise self._error(node, key_path, f"more than {self.limits.max_nodes} values", line)
        if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)):
            if id(node) in self.seen:  # an alias: the same node again
                self.aliases += 1
                if self.aliases > self.limits.max_aliases:
                    raise self._error(node, key_path, f"more than {self.limits.max_aliases} "
                                      f"uses of YAML aliases (*name): refused, as an alias "
                                      f"bomb would be", line)
            self.seen.add(id(node))

    def _error(self, node: yaml.Node, key_path: KeyPath, message: str,
               line: Optional[int] = None) -> InputError:
        shown = ".".join(str(k)[:40] for k in key_path[:8])
        return InputError(message, path=self.doc.path, line=line or node.start_mark.line + 1,
                          field=shown or None)

    def scalar(self, node: yaml.Node, key_path: KeyPath) -> Any:
        if node.tag in _NUMBER_TAGS and len(node.value) > self.limits.max_number_chars:
            raise self._error(node, key_path, f"a number of {len(node.value)} characters: at "
                                              f"most {self.limits.max_number_chars} are allowed")
        try:
            value = self.constructor.construct_object(node, deep=True)
        except (ValueError, TypeError, OverflowError, yaml.YAMLError) as exc:
            shown = node.value if len(str(node.value)) <= 60 else str(node.value)[:60] + "…"
            raise self._error(node, key_path, f"invalid value {shown!r}: "
                                              f"{str(exc)[:200]}") from exc
        if isinstance(value, str) and _SURROGATE.search(value):
            raise self._error(node, key_path, "text holds a lone surrogate (\\ud800-\\udfff): "
                                              "not valid Unicode")
        if isinstance(value, float) and not math.isfinite(value):
            raise self._error(node, key_path, f"expected a finite number, found {node.value}")
        if isinstance(value, bytes):
            raise self._error(node, key_path, "binary values (!!binary) are not supported here")
        return value

    def mapping(self, node: yaml.MappingNode, key_path: KeyPath,
                alias_line: Optional[int] = None) -> dict:
        result: dict = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise self.doc.error(key_path, "YAML merge keys (<<) are not supported here")
            if not isinstance(key_node, yaml.ScalarNode):
                kind = "a mapping" if isinstance(key_node, yaml.MappingNode) else "a list"
                raise self._error(key_node, key_path, f"a key must be text or a number, "
                                                      f"found {kind}")
            key = self.scalar(key_node, key_path)
            if isinstance(key, (list, dict, set)):
                raise self._error(key_node, key_path, "a key must be text or a number")
            child = key_path + (key,)
            if key in result:
                raise InputError(f"duplicate key {str(key)[:60]!r}", path=self.doc.path,
                                 line=key_node.start_mark.line + 1,
                                 field=".".join(map(str, child)))
            key_line = alias_line if alias_line is not None else key_node.start_mark.line + 1
            self.doc.lines[child] = key_line
            result[key] = self.build(value_node, child, key_line, alias_line)
        return result
