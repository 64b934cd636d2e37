"""The one YAML/JSON loader: limits, one error naming file, line and key; Hypothesis for the rest."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from egov_probe.core.errors import InputError
from egov_probe.core.yamlsource import (DOCUMENT_LIMITS, Limits, check_plain_data, load_json,
                                        load_yaml, parse_json_bytes, parse_json_text, parse_yaml)
from tests.test_hostile_input import BOMB

HYPOTHESIS = settings(max_examples=300, deadline=None, derandomize=True,
                      suppress_health_check=[HealthCheck.too_slow])


def test_an_alias_bomb_is_refused_naming_file_line_and_key(tmp_path):
    path = tmp_path / "bomb.yml"
    path.write_text(BOMB, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_yaml(path)
    assert caught.value.path == str(path) and caught.value.line is not None
    assert "YAML aliases" in caught.value.message and caught.value.field
    assert "*" in BOMB.splitlines()[caught.value.line - 1]  # the line where aliases are used


def test_a_few_aliases_are_fine_and_lines_are_where_they_are_used():
    doc = parse_yaml("base: &b {x: 1}\none: *b\ntwo:\n  - *b\n", "a.yml")
    assert doc.data["two"] == [{"x": 1}] and doc.line_of(("two", 0, "x")) == 4
    assert doc.line_of(("one", "x")) == 2 and doc.line_of(("base", "x")) == 1


@pytest.mark.parametrize("text,message,line", [
    ("a: &a [*a]\n", "nested deeper than 64 levels", 1),
    ("a:\n  ? [1, 2]\n  : x\n", "a key must be text or a number, found a list", 2),
    ("? {a: 1}\n: x\n", "a key must be text or a number, found a mapping", 1),
    ("a: 1\nb: " + "1" * 5000 + "\n", "a number of 5000 characters: at most 40 are allowed", 2),
    ("a: .nan\n", "expected a finite number, found .nan", 1),
    ("a: !!binary aGk=\n", "binary values (!!binary) are not supported here", 1),
    ("a: 2015-09-31\n", "invalid value '2015-09-31'", 1),
    ("a: 1\na: 2\n", "duplicate key 'a'", 2),
    ("a: [\n", "YAML syntax error", 2),
])
def test_hostile_yaml(text, message, line):
    with pytest.raises(InputError) as caught:
        parse_yaml(text, "x.yml")
    assert message in caught.value.message and caught.value.line == line
    assert caught.value.path == "x.yml" and "1111111111" not in str(caught.value)


@pytest.mark.parametrize("raw,message", [
    (b"[" * 100_000 + b"]" * 100_000, "nested deeper than"),
    (b"[" * 66 + b"]" * 66, "nested deeper than 64 levels"),
    (b'{"a": ' + b"1" * 5000 + b"}", "a number of 5000 characters"),
    (b'{"a": 1' + b"0" * 400 + b'.5}', "a number of 403 characters"),
    (b'{"a": 1e999}', "expected a finite number"),
    (b'{"a": NaN}', "NaN is not a JSON number"),
    (b'{"a": "\\ud800"}', "lone surrogate"),
    (b'{"\\udfff": 1}', "lone surrogate"),
    (b'{"a": \xff}', "not UTF-8"),
    (b'{"a": ', "not JSON"),
])
def test_hostile_json(raw, message):
    with pytest.raises(InputError) as caught:
        parse_json_bytes(raw, "r.json")
    assert message in caught.value.message and caught.value.path == "r.json"
    assert "11111111111" not in str(caught.value)


def test_a_byte_order_mark_is_dropped_in_yaml_and_json_alike(tmp_path):
    (tmp_path / "a.yml").write_bytes(b"\xef\xbb\xbfa: 1\n")
    (tmp_path / "a.json").write_bytes(b'\xef\xbb\xbf{"a": 1}')
    assert load_yaml(tmp_path / "a.yml").data == load_json(tmp_path / "a.json") == {"a": 1}


def test_size_limits_read_no_further_and_name_the_limit(tmp_path):
    big = tmp_path / "big.json"
    big.write_bytes(b"[" + b"1," * 600 + b"1]")
    with pytest.raises(InputError, match=r"big\.json: larger than the limit of 1\.0 KB"):
        load_json(big, Limits(max_bytes=1024))
    with pytest.raises(InputError, match="found a folder"):
        load_yaml(tmp_path)
    with pytest.raises(InputError, match="file not found"):
        load_yaml(tmp_path / "absent.yml")


def test_a_valid_surrogate_pair_is_one_character():
    assert parse_json_bytes(b'{"a": "\\ud83d\\ude00"}', "r.json") == {"a": "\U0001F600"}


JSON_DATA = st.recursive(
    st.none() | st.booleans() | st.integers(-10**30, 10**30) |
    st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=5) |
    st.dictionaries(st.text(max_size=8), children, max_size=5),
    max_leaves=30)


@HYPOTHESIS
@given(JSON_DATA)
def test_json_round_trips_whatever_the_layout(data):
    for text in (json.dumps(data), json.dumps(data, ensure_ascii=False, indent=2)):
        assert parse_json_bytes(text.encode("utf-8"), "r.json") == data


def _walked(text: str, limits: Limits) -> str:
    """What the full walk of the parsed text says (the reference for the quick check)."""
    try:
        check_plain_data(json.loads(text), "r.json", limits)
    except InputError as exc:
        return str(exc)
    return "ok"


def _parsed(text: str, limits: Limits) -> str:
    try:
        parse_json_text(text, "r.json", limits)
    except InputError as exc:
        return str(exc)
    return "ok"


SMALL = Limits(max_depth=3, max_nodes=12)


@pytest.mark.parametrize("text", [
    "[[[1]]]", "[[[[1]]]]", "[[[[]]]]", "[[[{}]]]", '{"a":{"b":{"c":1}}}', '{"a":{"b":{"c":{}}}}',
    '{"a":{"b":{"c":{"d":1}}}}', "[1,2,3,4,5,6,7,8,9,10,11]", "[1,2,3,4,5,6,7,8,9,10,11,12]",
    '["\\ud800"]', '["\\\\ud800"]', '["\\ud83d\\ude00"]', '{"\\udc00":1}', "1e999",
    "[1e999]", '"x"', "7", "[0.5, -1e308]",
])
def test_the_quick_check_of_parsed_json_says_what_the_full_walk_says(text):
    assert _parsed(text, SMALL) == _walked(text, SMALL)


JSON_SHAPES = st.recursive(
    st.sampled_from(["1", "1e999", '"a"', '"\\ud800"', '"\\ud83d\\ude00"', '"\\\\udc00"', "null"]),
    lambda children: st.lists(children, max_size=4).map(lambda xs: "[" + ",".join(xs) + "]") |
    st.lists(children, max_size=3).map(
        lambda xs: "{" + ",".join(f'"k{i}":{x}' for i, x in enumerate(xs)) + "}"),
    max_leaves=16)


@HYPOTHESIS
@given(JSON_SHAPES)
def test_any_parsed_json_is_judged_as_the_full_walk_judges_it(text):
    assert _parsed(text, SMALL) == _walked(text, SMALL)


@HYPOTHESIS
@given(st.binary(max_size=400))
def test_any_bytes_as_json_give_data_or_an_input_error_naming_the_file(raw):
    try:
        parse_json_bytes(raw, "r.json", DOCUMENT_LIMITS)
    except InputError as exc:
        assert exc.path == "r.json"


@HYPOTHESIS
@given(st.text(alphabet=st.sampled_from(list("ab:-[]{}&*!?|>'\"#\n ,.1\\u\t%@`")), max_size=200))
def test_any_yaml_text_gives_data_or_an_input_error_naming_the_file(text):
    try:
        parse_yaml(text, "p.yml")
    except InputError as exc:
        assert exc.path == "p.yml"


@HYPOTHESIS
@given(st.text(max_size=200))
def test_any_unicode_text_as_yaml_gives_data_or_an_input_error(text):
    try:
        parse_yaml(text, "p.yml")
    except InputError as exc:
        assert exc.path == "p.yml"
